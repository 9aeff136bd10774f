"""Routing: which pools a call may go to, in which order, and when.

``route = [a, b, ...]`` with ``overflow_after_s = d``: the call waits for ``a``; after waiting d
seconds ``b`` may take it too, after 2d the next, and so on (d = 0: every pool at once, a free
agent taken in route order). Pools closed when the call arrives (no scheduled agents by their
opening window) are skipped; if every pool of the route is closed the call waits for the first.
``split = {a = 0.7, b = 0.3}``: each call goes to one pool drawn with these fractions.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from models.demand import CallType
from models.pools import Pool
from models.scenario import Scenario

WEEK_S = 7 * 86400.0


@dataclass(frozen=True)
class CallTypeRouting:
    """Routing of one call type, precomputed for every interval of the week."""

    overflow_s: float
    stages_by_week_interval: tuple[tuple[int, ...], ...]  # route: open pools in order
    split_pools: tuple[int, ...] = ()
    split_cum: tuple[float, ...] = ()

    def static_stages(self) -> tuple[int, ...] | None:
        """The stages if they never change over the week (no split, no closing pool), else None."""
        table = self.stages_by_week_interval
        if self.split_pools or any(stages != table[0] for stages in table):
            return None
        return table[0]

    def stages(self, week_interval: int, u_split: float) -> tuple[int, ...]:
        """Pools (indices) in stage order for a call arriving in ``week_interval``."""
        if self.split_pools:
            i = min(bisect.bisect_right(self.split_cum, u_split), len(self.split_pools) - 1)
            return (self.split_pools[i],)
        return self.stages_by_week_interval[week_interval]


def build_routing(scenario: Scenario) -> tuple[CallTypeRouting, ...]:
    """Routing tables of every call type of ``scenario``."""
    return tuple(_call_type_routing(scenario, ct) for ct in scenario.demand)


def _call_type_routing(scenario: Scenario, ct: CallType) -> CallTypeRouting:
    if ct.split:  # pools split 0 left out: never drawn, not even past a sum of fractions short of 1
        split = [(name, frac) for name, frac in ct.split if frac > 0]
        pools = tuple(scenario.pool_index(name) for name, _ in split)
        cum = tuple(np.cumsum([frac for _, frac in split]).tolist())
        return CallTypeRouting(0.0, (), pools, cum)
    route = tuple(scenario.pool_index(name) for name in ct.route)
    n = scenario.intervals_per_day
    hours = scenario.interval_min / 60.0
    table = []
    for week_interval in range(7 * n):
        day, i = divmod(week_interval, n)
        open_ = tuple(p for p in route if _available(scenario.pools[p], day, i, hours) > 0)
        table.append(open_ or route[:1])
    return CallTypeRouting(ct.overflow_after_s, tuple(table))


def _available(pool: Pool, day: int, interval: int, hours: float) -> int:
    return pool.available(pool.scheduled(day, interval, hours))


def reached_only_late(scenario: Scenario) -> tuple[str, ...]:
    """Pools that every call reaches only after waiting longer than the service-level threshold.

    Such a pool's own service level is 0 by construction (a call it answers has waited at least
    k × ``overflow_after_s`` > ``service_level_s``), not because it serves badly: say so where it
    is shown. A pool no call type reaches is not listed.
    """
    earliest: dict[int, float] = {}
    for ct, routing in zip(scenario.demand, build_routing(scenario), strict=True):
        stages_lists: list[tuple[int, ...]] = [(p,) for p in routing.split_pools]
        stages_lists += [] if stages_lists else list(routing.stages_by_week_interval)
        for stages in stages_lists:
            for k, p in enumerate(stages):
                earliest[p] = min(earliest.get(p, float("inf")), k * ct.overflow_after_s)
    return tuple(scenario.pools[p].name for p, wait in sorted(earliest.items()) if wait > scenario.service_level_s)
