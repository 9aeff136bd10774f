"""A pool's queue of waiting calls when call types have priorities (see sim/engine.py).

Without priorities the engine queues call ids in a plain ``deque`` per pool (first come, first
served). With them, each pool gets a :class:`ClassQueue`: one deque per priority class, served
highest class first, first come first served within a class. It offers the few deque operations the
engine uses (``append``, ``popleft``, truth, iteration), so the engine's code is the same for both;
the class of a call is read from its call type, so ``append`` takes only the call id.

Like the deques, a ClassQueue may hold calls that are no longer waiting (answered by another pool,
abandoned): the engine skips them when they come out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence


def class_ranks(priorities: Sequence[int]) -> list[int] | None:
    """Each call type's class rank (0 = served first), or ``None`` if all priorities are equal.

    Call types of equal priority share a class (one FCFS queue between them).
    """
    levels = sorted(set(priorities), reverse=True)
    if len(levels) < 2:
        return None
    rank = {level: i for i, level in enumerate(levels)}
    return [rank[p] for p in priorities]


class ClassQueue:
    """Waiting call ids of one pool, by priority class (highest first), FCFS within a class.

    ``ctype`` is the engine's per-call call-type array (changed in place, never replaced) and
    ``rank`` maps a call type to its class (from :func:`class_ranks`). Non-preemptive: a class
    only decides which waiting call an agent takes next.
    """

    __slots__ = ("_classes", "_ctype", "_n", "_rank")

    def __init__(self, rank: list[int], ctype: Sequence[int]) -> None:
        self._rank, self._ctype = rank, ctype
        self._classes: list[deque[int]] = [deque() for _ in range(max(rank) + 1)]
        self._n = 0

    def append(self, c: int) -> None:
        """Queue call ``c`` at the back of its class."""
        self._classes[self._rank[self._ctype[c]]].append(c)
        self._n += 1

    def popleft(self) -> int:
        """Remove and return the first call of the highest non-empty class."""
        for calls in self._classes:
            if calls:
                self._n -= 1
                return calls.popleft()
        raise IndexError("pop from an empty ClassQueue")

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[int]:
        """The queued ids in serving order (skipped ones included)."""
        for calls in self._classes:
            yield from calls

    def shifted(self, n: int) -> ClassQueue:
        """A copy in which every id k >= n becomes k - n and smaller ids are gone (see Engine._shift_ids)."""
        queue = ClassQueue(self._rank, self._ctype)
        queue._classes = [deque(c - n for c in calls if c >= n) for calls in self._classes]
        queue._n = sum(len(calls) for calls in queue._classes)
        return queue
