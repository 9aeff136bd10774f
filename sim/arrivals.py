"""First-contact calls of one replication, drawn in numpy batches before the run.

Arrivals are a Poisson process whose rate is constant within each interval (per call type: the
daily profile × weekday factor × that day's busyness factor). Within an interval the count is
Poisson and the times are uniform, which is exact for a piecewise-constant rate and skips no
interval. Each call type draws from its own streams, so its calls are the same in every scenario
that gives it the same rates (common random numbers). Calls are drawn one day at a time, so a
long horizon never holds all its calls in memory at once, and the first days of a longer
horizon are the same calls as a shorter one's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields

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
    talk_s: np.ndarray      # base talk time (handle_s when the call type gives only handle)

    def __len__(self) -> int:
        return len(self.arrival_s)


class _CallTypeDraws:
    """The streams of one call type, consumed day by day (a batch split in days draws the same values)."""

    def __init__(self, call_type: CallType, index: int, seed: int, rep: int) -> None:
        key = streams.name_key(call_type.name)
        self.call_type, self.index = call_type, index
        self.arrivals, self.daily, self.handle, self.patience, self.split, self.resolution = (
            streams.stream(seed, rep, stream_id, key) for stream_id in
            (streams.ARRIVALS, streams.DAILY, streams.HANDLE, streams.PATIENCE, streams.SPLIT, streams.RESOLUTION))

    def day(self, day: int, interval_s: float, horizon_s: float) -> tuple[np.ndarray, ...]:
        """Arrays of the calls of ``day`` (arrival times sorted, clipped to the horizon)."""
        ct = self.call_type
        rates = ct.day_rates_per_s(day) * ct.daily_factor(self.daily)
        starts = day * 86400.0 + np.arange(len(rates)) * interval_s
        lengths = np.clip(horizon_s - starts, 0.0, interval_s)
        counts = self.arrivals.poisson(rates * lengths)
        times = np.repeat(starts, counts) + self.arrivals.random(counts.sum()) * np.repeat(lengths, counts)
        times.sort()
        n = len(times)
        talk, handle = ct.draw_handle(self.handle, n)
        return (times, np.full(n, self.index, dtype=np.int32), handle,
                ct.patience.sample(self.patience, n), self.split.random(n), self.resolution.random(n), talk)


def first_contact_days(scenario: Scenario, seed: int, rep: int, horizon_s: float) -> Iterator[FirstContacts]:
    """The first contacts of replication ``rep``, one block per simulated day (possibly empty)."""
    draws = [_CallTypeDraws(ct, i, seed, rep) for i, ct in enumerate(scenario.demand)]
    n_days = math.ceil(horizon_s / 86400 - 1e-9)
    for day in range(n_days):
        parts = [d.day(day, scenario.interval_s, horizon_s) for d in draws]
        columns = [np.concatenate(col) for col in zip(*parts, strict=True)]
        order = np.argsort(columns[0], kind="stable")
        yield FirstContacts(*(col[order] for col in columns))


def first_contacts(scenario: Scenario, seed: int, rep: int, horizon_s: float) -> FirstContacts:
    """Every first contact of replication ``rep`` in one block."""
    days = list(first_contact_days(scenario, seed, rep, horizon_s))
    return FirstContacts(*(np.concatenate(col) for col in zip(*(_columns(d) for d in days), strict=True)))


def _columns(calls: FirstContacts) -> tuple[np.ndarray, ...]:
    return tuple(getattr(calls, f.name) for f in fields(calls))
