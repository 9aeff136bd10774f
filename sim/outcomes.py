"""Outcome codes of a call, as stored by the engine (``int8``) and named in the calls table."""

WAITING, ANSWERED, ABANDONED, BLOCKED, UNFINISHED = 0, 1, 2, 3, 4

#: Names by code; a finished run has only codes 1..4. ANSWERED is set when service starts.
OUTCOMES = ("waiting", "answered", "abandoned", "blocked", "unfinished")
