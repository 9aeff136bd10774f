"""SimPy's event calendar, reached directly: the one module that touches SimPy's private parts.

The engine (sim/engine.py) schedules millions of events, so it skips SimPy's public ``Event`` and
``Process`` machinery and works on the calendar itself, which in SimPy 4 is:

- ``Environment._queue``: a heap of ``(time, priority, event id, event)`` tuples, popped by
  ``Environment.step`` in that order (the monotone event id makes ties deterministic);
- ``Environment._eid``: the counter that numbers events;
- ``Environment._now``: the current time, set by ``step`` from the popped entry;
- ``step`` then calls each of the event's ``callbacks`` with the event, and raises if the event's
  ``_ok`` is false.

Everything that relies on this layout lives here; pyproject pins ``simpy<5`` (tested with 4.1.2).
A change of layout would fail loudly: the exact event logs of tests/test_engine.py and the
queueing-theory checks of tests/test_theory.py run through this module.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import Any, cast

import simpy
from simpy.events import NORMAL

_push = heapq.heappush


class Tick:
    """A slim SimPy event: already triggered, one callback list, any value (e.g. a call id)."""

    __slots__ = ("_value", "callbacks")
    _ok = True

    def __init__(self, callbacks: list[Callable[[Tick], None]], value: Any) -> None:
        self.callbacks = callbacks  # may be shared: SimPy only reads an event's list, then drops it
        self._value = value

    @property
    def value(self) -> Any:
        return self._value


class Calendar:
    """An ``Environment`` and direct access to its event heap.

    Attributes:
        env: the SimPy environment (run it with ``env.run``; read the time with ``env.now``).
    """

    __slots__ = ("_heap", "at", "env")

    def __init__(self) -> None:
        self.env = simpy.Environment()
        # SimPy types its heap entries as holding an Event; ours also hold Ticks, which step() treats alike.
        heap = cast(list[tuple[float, int, int, Any]], self.env._queue)
        ids: Iterator[int] = self.env._eid
        self._heap = heap

        def at(time: float, callbacks: list[Callable[[Tick], None]], value: Any) -> None:
            """Schedule a :class:`Tick` carrying ``value`` at absolute ``time`` (s)."""
            _push(heap, (time, NORMAL, next(ids), Tick(callbacks, value)))

        #: ``at(time, callbacks, value)``: a closure, the cheapest call on the engine's hot path.
        self.at = at

    def next_time(self) -> float:
        """Time of the next scheduled event (the calendar is never empty while the engine runs)."""
        return self._heap[0][0]

    def advance(self, time: float) -> None:
        """Move the clock to ``time``, which must not pass the next scheduled event."""
        self.env._now = time

    def ticks(self) -> Iterator[Tick]:
        """Every scheduled :class:`Tick` (in heap order, not time order)."""
        for entry in self._heap:
            if type(entry[3]) is Tick:
                yield entry[3]
