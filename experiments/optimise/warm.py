"""A first staffing from queueing theory: Erlang A (M/M/c+M), interval by interval.

Each varied pool is treated as its own stationary queue in each interval of the day, fed by the
calls routed to it first (all of a call type's calls for the first pool of its ``route``, its share
for a ``split``), at the interval's rate averaged over the weekdays the search judges, inflated by repeat contacts
(1 / ``resolution_frac``: every unresolved contact comes back), with the pool's mean handle time
(after its ``handle_factor``) and the call types' mean patience, both taken exponential. The
smallest agents that meet every target the pool is judged by (its own and the overall ones) are
then scheduled up for shrinkage. Overflow, redials, non-exponential times and the carry-over
between intervals are left to the simulation that follows: this is only where the search starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from experiments.optimise.evaluate import Staffing
from experiments.optimise.targets import OVERALL, Target
from models.erlang import QueueMetrics, queue_metrics
from models.pools import Pool
from models.scenario import Scenario

_FIELD = {"sl_frac": "service_level_frac", "asa_s": "asa_s", "abandon_frac": "abandon_frac",
          "occupancy_frac": "occupancy_frac"}


def warm_start(scenario: Scenario, vary: Sequence[str], targets: Sequence[Target], per_interval: bool,
               max_agents: int, weekdays: Sequence[int] = range(7)) -> Staffing:
    """Erlang A staffing of each varied pool, per interval of the day (flat at the busiest
    interval's figure when not ``per_interval``), at least one agent while open.

    ``weekdays``: the days (0 = Monday) whose weekday factors the rates are averaged over: the
    days the search judges (see :func:`measured_weekdays`), every weekday by default.
    """
    out = {}
    for name in vary:
        pool = scenario.pool(name)
        rates, handle, patience = _offered(scenario, pool, weekdays)
        judged = [t for t in targets if t.pool in (name, OVERALL)]
        needed = [_agents(r, handle, patience, judged, scenario.service_level_s, max_agents) if r > 0 else 1
                  for r in rates]
        available = needed if per_interval else [max(needed)] * len(needed)
        out[name] = tuple(_scheduled(a, pool) for a in available)
    return out


def measured_weekdays(warmup_h: float, days: float) -> list[int]:
    """The weekdays (0 = Monday, day 0 of a run is a Monday) of the days a run of ``days`` days
    measures after a warm-up of ``warmup_h`` hours (every weekday if none is whole)."""
    first, last = math.floor(warmup_h / 24.0), math.ceil(days) - 1
    return sorted({d % 7 for d in range(first, last + 1)}) or list(range(7))


def _offered(scenario: Scenario, pool: Pool, weekdays: Sequence[int]) -> tuple[np.ndarray, float, float | None]:
    """Rate per interval of the day (calls/s), mean handle (s) and mean patience (s, None if never)."""
    rates = np.zeros(scenario.intervals_per_day)
    weights, handles, patiences = [], [], []
    for ct in scenario.demand:
        share = _first_share(ct.route, ct.split, pool.name)
        if share == 0:
            continue
        factor = float(np.mean([ct.weekday_factors[d % 7] for d in weekdays]))
        rate = np.asarray(ct.rates_per_h) * factor * share / 3600.0
        rates += rate / max(pool.resolution_frac, 1e-3)
        weights.append(float(rate.sum()))
        handles.append(ct.mean_handle_s * pool.handle_factor)
        patiences.append(ct.patience.mean_s)
    if not weights or sum(weights) == 0:
        return rates, 1.0, None
    handle = float(np.average(handles, weights=weights))
    patience = float(np.average(patiences, weights=weights)) if all(map(math.isfinite, patiences)) else None
    return rates, handle, patience


def _first_share(route: tuple[str, ...], split: tuple[tuple[str, float], ...], name: str) -> float:
    """The share of a call type's calls offered first to pool ``name``."""
    if route:
        return 1.0 if route[0] == name else 0.0
    return sum(frac for pool, frac in split if pool == name)


def _agents(rate: float, handle: float, patience: float | None, targets: Sequence[Target], threshold_s: float,
            max_agents: int) -> int:
    """Smallest agents (at most ``max_agents``) whose Erlang A metrics meet every target."""
    c = max(1, math.floor(rate * handle) if patience is not None else math.floor(rate * handle) + 1)
    while c < max_agents and not all(_meets(queue_metrics(rate, handle, c, threshold_s, patience), t)
                                     for t in targets):
        c += 1
    return c


def _meets(metrics: QueueMetrics, target: Target) -> bool:
    return target.met_by(getattr(metrics, _FIELD[target.metric]))


def _scheduled(available: int, pool: Pool) -> int:
    """Fewest scheduled agents whose available agents after the pool's shrinkage reach ``available``."""
    n = available
    while pool.available(n) < available:
        n += 1
    return n
