"""A pool's ``shifts`` (templates) and ``shift_plan`` read from its scenario table, and checked.

``shifts = [{ length_h = 8, starts_h = [6, 7, 8], break_min = 30 }, ...]``: the shifts the
optimiser may plan with (in-house pools only). ``shift_plan = [{ start_h = 6, length_h = 8,
break_min = 30, agents = 12 }, ...]``: agents per shift; the pool's ``agents`` per interval are then
derived from it (models/shifts.py's coverage), so a pool with a plan must not also give
``agents``. Every start and length must be on an interval boundary of the scenario (no rounding).
"""

from __future__ import annotations

from typing import Any

from models.fields import ScenarioError, Table, check_number
from models.pools import Pool
from models.shifts import Shift, ShiftTemplate, clock, open_intervals, shift_problem, uncoverable

_ONLY_INHOUSE = ("only in-house pools have shifts; a bpo pool's agents are the vendor's, "
                 "priced by its contract")


def read_shift_keys(t: Table, kind: str, interval_min: int,
                    max_agents: int) -> tuple[tuple[ShiftTemplate, ...], tuple[Shift, ...]]:
    """The pool's templates and plan (both empty when not given); ScenarioError if bad."""
    for key in ("shifts", "shift_plan"):
        if kind != "inhouse" and t.has(key):
            raise t.error(key, _ONLY_INHOUSE)
    templates = tuple(_read_template(item, interval_min) for item in _items(t, "shifts"))
    plan = tuple(_read_shift(item, interval_min, max_agents) for item in _items(t, "shift_plan"))
    if plan and t.has("agents"):
        raise t.error("agents", "a pool with a shift_plan takes its agents from the plan; give one of "
                                "agents or shift_plan, not both")
    if plan and not any(s.agents for s in plan):
        raise t.error("shift_plan", "must put at least one agent on a shift, got 0 everywhere")
    return templates, plan


def _items(t: Table, key: str) -> list[Table]:
    items = t.take_list(key, [], min_len=1)
    return [Table(item, t.source, f"{t.sub(key)}[{i}]") for i, item in enumerate(items)]


def _read_template(t: Table, interval_min: int) -> ShiftTemplate:
    length = t.take_float("length_h", low=0, low_open=True, high=24)
    starts = t.take_list("starts_h", min_len=1)
    break_min = t.take_float("break_min", 0.0, low=0)
    t.done()
    out = []
    for j, raw in enumerate(starts):
        start = _start(raw, f"{t.sub('starts_h')}[{j}]", t.source)
        _check(t, start, length, break_min, interval_min, start_path=f"starts_h[{j}]")
        out.append(start)
    if len(set(out)) != len(out):
        raise t.error("starts_h", f"must not list a start twice, got {starts!r}")
    return ShiftTemplate(length, tuple(out), break_min)


def _read_shift(t: Table, interval_min: int, max_agents: int) -> Shift:
    start = _start(t.raw("start_h"), t.sub("start_h"), t.source)
    shift = Shift(start, t.take_float("length_h", low=0, low_open=True, high=24),
                  t.take_float("break_min", 0.0, low=0), t.take_int("agents", low=0, high=max_agents))
    t.done()
    _check(t, shift.start_h, shift.length_h, shift.break_min, interval_min, start_path="start_h")
    return shift


def _start(raw: Any, path: str, source: str) -> float:
    start = check_number(raw, path, source, low=0, high=24)
    if start >= 24:
        raise ScenarioError(source, path, f"must be >= 0 and < 24, got {start:g}")
    return start


def _check(t: Table, start: float, length: float, break_min: float, interval_min: int, start_path: str) -> None:
    problem = shift_problem(start, length, break_min, interval_min)
    if problem is not None:
        field, message = problem
        raise t.error(start_path if field == "start_h" else field, message)


def check_shift_cover(t: Table, pool: Pool, interval_min: int) -> None:
    """Every interval in which ``pool`` opens must be worked by some shift of its templates."""
    if not pool.shifts:
        return
    missing = uncoverable(pool.shifts, open_intervals(pool, interval_min), interval_min)
    if missing:
        first = missing[0]
        raise t.error("shifts", f"no shift template works in {clock(first, interval_min)}-"
                                f"{clock(first + 1, interval_min)}, when the pool is open ({len(missing)} such "
                                "interval(s)); add a start or a longer template, or move the break")
