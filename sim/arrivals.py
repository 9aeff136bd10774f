"""First-contact calls of one replication, drawn in numpy batches before the run.

Arrivals are a Poisson process whose rate is constant within each interval (per call type: the
daily profile × weekday factor × that day's busyness factor). Within an interval the count is
Poisson and the times are uniform, which is exact for a piecewise-constant rate and skips no
interval. Each call type draws from its own streams, so its calls are the same in every scenario
that gives it the same rates (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.demand import CallType
from models.scenario import Scenario
from sim import streams


@dataclass(frozen=True)
class FirstContacts:
    """Per-call arrays of the first contacts, sorted by arrival (ties by call type order)."""

    arrival_s: np.ndarray
    call_type: np.ndarray   # index into scenario.demand
    handle_s: np.ndarray    # base handle time, before a pool's handle_factor
    patience_s: np.ndarray
    u_split: np.ndarray     # uniform(0,1) used by split routing
    u_resolve: np.ndarray   # uniform(0,1); resolved iff < the serving pool's resolution_frac

    def __len__(self) -> int:
        return len(self.arrival_s)


def interval_rates_per_s(call_type: CallType, n_days: int, rng_daily: np.random.Generator) -> np.ndarray:
    """Rate (calls/s) of every interval of ``n_days`` days, daily noise included."""
    return np.concatenate([call_type.day_rates_per_s(d) * call_type.daily_factor(rng_daily)
                           for d in range(n_days)])


def arrival_times(rates_per_s: np.ndarray, interval_s: float, horizon_s: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Sorted Poisson arrival times (s) in [0, horizon_s) for per-interval rates."""
    n = int(math.ceil(horizon_s / interval_s - 1e-9))
    starts = np.arange(n) * interval_s
    lengths = np.minimum(interval_s, horizon_s - starts)
    counts = rng.poisson(rates_per_s[:n] * lengths)
    times = np.repeat(starts, counts) + rng.random(counts.sum()) * np.repeat(lengths, counts)
    times.sort()
    return times


def first_contacts(scenario: Scenario, seed: int, rep: int, horizon_s: float) -> FirstContacts:
    """Draw every first-contact call of replication ``rep`` for the horizon."""
    n_days = int(math.ceil(horizon_s / 86400 - 1e-9))
    parts = []
    for index, ct in enumerate(scenario.demand):
        key = streams.name_key(ct.name)
        rates = interval_rates_per_s(ct, n_days, streams.stream(seed, rep, streams.DAILY, key))
        times = arrival_times(rates, scenario.interval_s, horizon_s,
                              streams.stream(seed, rep, streams.ARRIVALS, key))
        n = len(times)
        parts.append((
            times, np.full(n, index, dtype=np.int32),
            ct.handle.sample(streams.stream(seed, rep, streams.HANDLE, key), n),
            ct.patience.sample(streams.stream(seed, rep, streams.PATIENCE, key), n),
            streams.stream(seed, rep, streams.SPLIT, key).random(n),
            streams.stream(seed, rep, streams.RESOLUTION, key).random(n),
        ))
    columns = [np.concatenate(col) for col in zip(*parts)]
    order = np.argsort(columns[0], kind="stable")
    return FirstContacts(*(col[order] for col in columns))
