"""The cheapest set of shifts covering a per-interval requirement: an integer program (HiGHS).

Variables: ``x_s`` >= 0 integer, the agents on shift ``s``, one per (template, start). Minimise the
paid hours ``sum_s x_s * length_h(s)`` (one wage per pool, so paid hours are the cost; breaks are
paid, models/shifts.py) subject to, in every interval ``i`` of the day with a requirement
``r_i`` > 0, ``sum_s a_is * x_s >= r_i``, where ``a_is`` is 1 when an agent of shift ``s`` takes
calls in interval ``i`` (cyclic on the day, break left out). This is the classic set-covering
staffing model (Dantzig 1954); HiGHS solves it exactly (``mip_rel_gap`` 0) in well under a second
for a day of 15-minute intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from models.shifts import Shift, ShiftTemplate, clock, template_shifts

TIME_LIMIT_S = 60.0


def cheapest_shifts(required: Sequence[int], templates: Sequence[ShiftTemplate],
                    interval_min: int) -> tuple[tuple[int, Shift], ...]:
    """(template index, shift with its agents > 0) of the cheapest plan whose coverage meets
    ``required`` (agents per interval of the day; 0 where nothing is needed). ValueError if some
    required interval is worked by no shift of ``templates``, or if the solver fails."""
    candidates = template_shifts(templates)
    counts = cheapest_counts(required, [s for _, s in candidates], interval_min)
    return tuple((k, replace(s, agents=int(n))) for (k, s), n in zip(candidates, counts, strict=True) if n > 0)


def cheapest_counts(required: Sequence[int], shifts: Sequence[Shift], interval_min: int) -> np.ndarray:
    """Agents per shift (int array, in the order of ``shifts``) of least paid hours whose
    coverage meets ``required`` in every interval."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    need = np.asarray(required, dtype=float)
    if not shifts or need.max(initial=0.0) <= 0:
        return np.zeros(len(shifts), dtype=np.int64)
    cover = np.array([s.working(interval_min) for s in shifts], dtype=float).T  # intervals x shifts
    rows = need > 0
    bare = np.flatnonzero(rows & (cover.sum(axis=1) == 0))
    if bare.size:
        raise ValueError(f"no shift works in {clock(int(bare[0]), interval_min)}, where agents are required")
    cost = np.array([s.length_h for s in shifts], dtype=float)
    result = milp(cost, integrality=np.ones(len(shifts)), bounds=Bounds(0, need.max()),
                  constraints=LinearConstraint(cover[rows], lb=need[rows], ub=np.inf),
                  options={"mip_rel_gap": 0.0, "time_limit": TIME_LIMIT_S})
    if result.x is None:
        raise ValueError(f"the shift integer program found no plan: {result.message}")
    counts: np.ndarray = np.round(result.x).astype(np.int64)
    return counts
