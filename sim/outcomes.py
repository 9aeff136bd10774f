"""Outcome codes of a call, as stored by the engine (``int8``) and named in the calls table."""

WAITING, ANSWERED, ABANDONED, BLOCKED, UNFINISHED, IN_SERVICE = 0, 1, 2, 3, 4, 5

#: Names by code; a finished run has only codes 1..4.
OUTCOMES = ("waiting", "answered", "abandoned", "blocked", "unfinished")
