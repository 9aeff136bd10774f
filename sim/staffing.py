"""Staffing: agents available per pool and interval, and the agent time actually staffed.

Agents change at interval boundaries. A call in service at a shift change is finished by its
agent, who stays on past the shift: ``staffed_s`` integrates max(available, busy) over time, so
busy time never exceeds staffed time and the overtime shows where it happened.
"""

from __future__ import annotations

import numpy as np

from models.scenario import Scenario


def schedule_matrix(scenario: Scenario, n_intervals: int) -> tuple[np.ndarray, np.ndarray]:
    """Scheduled and available agents, shape (pools, intervals), from interval 0 (a Monday, 00:00)."""
    per_day = scenario.intervals_per_day
    hours = scenario.interval_min / 60.0
    scheduled = np.zeros((len(scenario.pools), n_intervals), dtype=np.int64)
    available = np.zeros_like(scheduled)
    for p, pool in enumerate(scenario.pools):
        for k in range(min(n_intervals, 7 * per_day)):
            day, i = divmod(k, per_day)
            scheduled[p, k] = pool.scheduled(day, i, hours)
            available[p, k] = pool.available(scheduled[p, k])
        week = 7 * per_day
        for k in range(week, n_intervals):
            scheduled[p, k] = scheduled[p, k - week]
            available[p, k] = available[p, k - week]
    return scheduled, available


class StaffedTime:
    """Integrates each pool's staffed agent-seconds, max(available, busy), per interval."""

    def __init__(self, n_pools: int, n_intervals: int, interval_s: float) -> None:
        self.staffed_s = np.zeros((n_pools, n_intervals))
        self.interval_s = interval_s
        self._excess = [0] * n_pools          # busy - available when positive (agents on overtime)
        self._since = [0.0] * n_pools         # time of the last change of _excess
        self._area = [0.0] * n_pools          # overtime agent-seconds in the current interval

    def excess_changed(self, pool: int, now: float, excess: int) -> None:
        """Record that busy - available is now ``excess`` (only call when it was or is positive)."""
        self._area[pool] += self._excess[pool] * (now - self._since[pool])
        self._excess[pool] = max(0, excess)
        self._since[pool] = now

    def close_interval(self, pool: int, interval: int, now: float, available: int) -> None:
        """End ``interval`` (at time ``now``) for ``pool``, which had ``available`` agents in it."""
        self.excess_changed(pool, now, self._excess[pool])
        if interval < self.staffed_s.shape[1]:
            self.staffed_s[pool, interval] = available * self.interval_s + self._area[pool]
        self._area[pool] = 0.0
