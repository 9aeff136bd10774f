"""Shifts of in-house agents: the templates a planner may use, a plan of agents per shift, and
the agents a plan puts to work in each interval of the day.

- A shift starts on an interval boundary of the day and lasts ``length_h``, a whole number of
  intervals. It is treated **cyclically on the day**: a 22:00 start of 8 h covers 22:00-24:00 and
  00:00-06:00 of the same daily pattern (each day's early hours are worked by the shift that
  started the evening before, which is the same shift every day).
- **Break model.** An agent of a shift with ``break_min`` > 0 takes no calls for
  ``b = ceil(break_min / interval_min)`` whole intervals in the middle of the shift: they begin
  ``(L - b) // 2`` intervals after its start (``L``: the shift's intervals). 8 h from 06:00 with a
  30-minute break, 30-minute intervals: L = 16, b = 1, off 09:30-10:00. With 60-minute intervals
  a 30-minute break takes the whole hour (rounded up: never fewer agents than the plan claims).
- **Breaks are paid**: a shift's paid hours are its ``length_h``, break included, so a plan's paid
  hours per open day are ``sum(agents * length_h)``. Pay is counted on the day a shift starts,
  on the pool's ``open_days`` only (experiments/results/pricing.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.pools import Pool

_EPS = 1e-9


@dataclass(frozen=True)
class ShiftTemplate:
    """A kind of shift a planner may use.

    Attributes:
        length_h: Length of the shift, break included (h, > 0 and <= 24).
        starts_h: Allowed start times (h of the day, in [0, 24), on interval boundaries).
        break_min: Paid break in the middle of the shift (min, >= 0 and < the length).
    """

    length_h: float
    starts_h: tuple[float, ...]
    break_min: float = 0.0


@dataclass(frozen=True)
class Shift:
    """Agents on one shift, every day the pool is open.

    Attributes:
        start_h: Start (h of the day, in [0, 24), on an interval boundary).
        length_h: Length, break included (h).
        break_min: Paid break in the middle of the shift (min).
        agents: Agents working this shift (heads, >= 0).
    """

    start_h: float
    length_h: float
    break_min: float = 0.0
    agents: int = 0

    def working(self, interval_min: int) -> np.ndarray:
        """Whether an agent of this shift takes calls in each interval of the day (bool array)."""
        return working_mask(self.start_h, self.length_h, self.break_min, interval_min)


def intervals_in(hours: float, interval_min: int) -> int:
    """Whole intervals of ``interval_min`` minutes in ``hours`` (rounded to the nearest)."""
    return round(hours * 60.0 / interval_min)


def on_boundary(hours: float, interval_min: int) -> bool:
    """Whether ``hours`` is a whole number of intervals of ``interval_min`` minutes."""
    return abs(hours * 60.0 / interval_min - intervals_in(hours, interval_min)) < 1e-6


def break_intervals(break_min: float, interval_min: int) -> int:
    """Intervals an agent is off for a break of ``break_min`` minutes (rounded up, 0 if none)."""
    return math.ceil(break_min / interval_min - _EPS) if break_min > 0 else 0


def working_mask(start_h: float, length_h: float, break_min: float, interval_min: int) -> np.ndarray:
    """Intervals of the day (bool array, cyclic) in which an agent of the shift takes calls:
    the shift's intervals from its start, less its break (see the module's docstring)."""
    per_day = 1440 // interval_min
    start, length = intervals_in(start_h, interval_min), intervals_in(length_h, interval_min)
    off = break_intervals(break_min, interval_min)
    begin = (length - off) // 2
    offsets = [j for j in range(length) if not begin <= j < begin + off]
    mask = np.zeros(per_day, dtype=bool)
    mask[[(start + j) % per_day for j in offsets]] = True
    return mask


def break_mask(start_h: float, length_h: float, break_min: float, interval_min: int) -> np.ndarray:
    """Intervals of the day (bool array) in which an agent of the shift is on its break."""
    per_day = 1440 // interval_min
    start, length = intervals_in(start_h, interval_min), intervals_in(length_h, interval_min)
    off = break_intervals(break_min, interval_min)
    begin = (length - off) // 2
    mask = np.zeros(per_day, dtype=bool)
    mask[[(start + j) % per_day for j in range(begin, begin + off)]] = True
    return mask


def coverage(plan: Sequence[Shift], interval_min: int) -> tuple[int, ...]:
    """Agents taking calls in each interval of the day under ``plan`` (breaks left out)."""
    total = np.zeros(1440 // interval_min, dtype=np.int64)
    for shift in plan:
        total += shift.agents * shift.working(interval_min)
    return tuple(int(a) for a in total)


def paid_hours_per_day(plan: Sequence[Shift]) -> float:
    """Paid agent-hours of one open day under ``plan``: sum of agents × length (breaks paid)."""
    return float(sum(s.agents * s.length_h for s in plan))


def pay_by_start(plan: Sequence[Shift], interval_min: int) -> np.ndarray:
    """Paid agent-hours of the shifts starting in each interval of the day (float array)."""
    pay = np.zeros(1440 // interval_min)
    for shift in plan:
        pay[intervals_in(shift.start_h, interval_min) % len(pay)] += shift.agents * shift.length_h
    return pay


def shift_problem(start_h: float, length_h: float, break_min: float, interval_min: int) -> tuple[str, str] | None:
    """What is wrong with a shift in a day of ``interval_min``-minute intervals, as (field,
    message), or None. Start and length must be on interval boundaries (no rounding: a plan says
    exactly when agents work); the break must leave some interval to work."""
    if not 0 < length_h <= 24:
        return "length_h", f"must be > 0 and <= 24 hours, got {length_h:g}"
    if not on_boundary(length_h, interval_min):
        return "length_h", f"must be a whole number of {interval_min}-minute intervals, got {length_h:g} h"
    if not 0 <= start_h < 24:
        return "start_h", f"must be >= 0 and < 24, got {start_h:g}"
    if not on_boundary(start_h, interval_min):
        return "start_h", f"must be on a {interval_min}-minute interval boundary, got {start_h:g}"
    if not 0 <= break_min < length_h * 60:
        return "break_min", f"must be >= 0 and < the shift's {length_h * 60:g} minutes, got {break_min:g}"
    if break_intervals(break_min, interval_min) >= intervals_in(length_h, interval_min):
        return "break_min", (f"leaves no interval to work: {break_min:g} min rounds up to whole "
                             f"{interval_min}-minute intervals, the whole {length_h:g} h shift")
    return None


def open_intervals(pool: Pool, interval_min: int) -> np.ndarray:
    """Intervals of the day (bool array) in which ``pool`` is open on some day of the week."""
    hours = np.arange(1440 // interval_min) * interval_min / 60.0
    return np.array([any(pool.is_open(day, float(h)) for day in range(7)) for h in hours], dtype=bool)


def template_shifts(templates: Sequence[ShiftTemplate]) -> list[tuple[int, Shift]]:
    """Every (template index, shift with 0 agents) a planner may use, in the templates' order."""
    return [(k, Shift(start, t.length_h, t.break_min)) for k, t in enumerate(templates) for start in t.starts_h]


def uncoverable(templates: Sequence[ShiftTemplate], open_: np.ndarray, interval_min: int) -> list[int]:
    """Open intervals of the day that no shift of ``templates`` works in (indices)."""
    worked = np.zeros(len(open_), dtype=bool)
    for _, shift in template_shifts(templates):
        worked |= shift.working(interval_min)
    return [int(i) for i in np.flatnonzero(open_ & ~worked)]


def clock(interval: int, interval_min: int) -> str:
    """``"05:30"``: the start of an interval of the day."""
    return hh_mm(interval * interval_min / 60.0)


def hh_mm(hours: float) -> str:
    """``"05:30"`` for 5.5 hours (to the minute)."""
    minutes = round(hours * 60.0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
