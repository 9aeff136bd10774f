"""Turns per-call arrays into the tidy ``calls``, ``intervals`` and ``usage`` tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.metrics import COUNT_COLUMNS, add_rates
from models.scenario import Scenario
from sim.contacts import COUNTS as CONTACT_COUNTS
from sim.contacts import contact_counts, contacts_frame, resolved
from sim.outcomes import ABANDONED, ANSWERED, BLOCKED, OUTCOMES, UNFINISHED
from sim.usage import paid_hours, usage_counts, usage_frame


def _categorical(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8 if len(names) < 127 else np.int16, copy=False),
                                     categories=names)


def calls_table(arrays: dict[str, np.ndarray], scenario: Scenario, rep: int, warmup_s: float) -> pd.DataFrame:
    """The ``calls`` table: one row per call arriving at or after the warm-up.

    Columns are taken without copies where they can be (the table may share memory with ``arrays``).
    """
    keep = arrays["arrival_s"] >= warmup_s
    take = slice(None) if keep.all() else keep
    names = [p.name for p in scenario.pools]
    pool = arrays["pool"][take]
    columns = {
        "rep": np.full(int(keep.sum()), rep, dtype=np.int32),
        "call_id": arrays["call_id"][take],
        "call_type": _categorical(arrays["call_type"][take], [ct.name for ct in scenario.demand]),
        "arrival_s": arrays["arrival_s"][take],
        "outcome": _categorical(arrays["outcome"][take] - 1, list(OUTCOMES[1:])),
        "pool": _categorical(np.where(pool < 0, len(names), pool), [*names, ""]),
        "wait_s": arrays["wait_s"][take],
        "handle_s": arrays["handle_s"][take],
        "talk_s": arrays["talk_s"][take],
        "is_repeat": arrays["is_repeat"][take],
        "last_pool": _categorical(arrays["last_pool"][take], names),
        "pool_wait_s": arrays["pool_wait_s"][take],
        "contact_id": arrays["contact_id"][take],
        "attempt": arrays["attempt"][take],
        "redialed": arrays["redialed"][take],
        "resolved": resolved(arrays, np.array([p.resolution_frac for p in scenario.pools]))[take],
    }
    return pd.DataFrame(columns, copy=False)


def busy_by_interval(pool: np.ndarray, start: np.ndarray, end: np.ndarray, n_pools: int,
                     n_intervals: int, interval_s: float) -> np.ndarray:
    """Busy agent-seconds per (pool, interval) of services [start, end), clipped to the intervals."""
    horizon = n_intervals * interval_s
    end = np.minimum(end, horizon)
    keep = (pool >= 0) & (start < end)
    pool, start, end = pool[keep].astype(np.int64), start[keep], end[keep]
    first = (start // interval_s).astype(np.int64)
    last = np.minimum(((end - 1e-9) // interval_s).astype(np.int64), n_intervals - 1)
    busy = np.zeros(n_pools * n_intervals)
    offset = 0
    while len(first):
        k = first + offset
        seg = np.minimum(end, (k + 1) * interval_s) - np.maximum(start, k * interval_s)
        busy += np.bincount(pool * n_intervals + k, weights=seg, minlength=busy.size)
        more = last > k
        pool, start, end, first, last = pool[more], start[more], end[more], first[more], last[more]
        offset += 1
    return busy.reshape(n_pools, n_intervals)


def _count(index: np.ndarray, mask: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    w = None if weights is None else weights[mask]
    return np.bincount(index[mask], weights=w, minlength=size)


def interval_counts(arrays: dict[str, np.ndarray], n_pools: int, n_intervals: int, interval_s: float,
                    sl_threshold_s: float) -> dict[str, np.ndarray]:
    """Call counts per (pool, interval) by arrival interval and the pool the call was last offered to."""
    k = (arrays["arrival_s"] // interval_s).astype(np.int64)
    inside = k < n_intervals
    index = (arrays["last_pool"].astype(np.int64) * n_intervals + k)[inside]
    outcome = arrays["outcome"][inside]
    wait = arrays["wait_s"][inside]
    answered = outcome == ANSWERED
    size = n_pools * n_intervals
    counts = {
        "offered_n": _count(index, np.ones_like(answered), size),
        "answered_n": _count(index, answered, size),
        "answered_in_sl_n": _count(index, answered & (wait <= sl_threshold_s), size),
        "abandoned_n": _count(index, outcome == ABANDONED, size),
        "blocked_n": _count(index, outcome == BLOCKED, size),
        "unfinished_n": _count(index, outcome == UNFINISHED, size),
        "queued_n": _count(index, (outcome != BLOCKED) & (arrays["start_s"][inside] != arrays["arrival_s"][inside]), size),
        "wait_answered_s": _count(index, answered, size, wait),
    }
    return {name: v.reshape(n_pools, n_intervals) for name, v in counts.items()}


class Aggregates:
    """Interval counts, busy time and vendor usage of settled calls, summed batch by batch."""

    def __init__(self, scenario: Scenario, n_intervals: int, warmup_s: float, horizon_s: float) -> None:
        self.scenario, self.n_intervals = scenario, n_intervals
        self.warmup_s, self.horizon_s = warmup_s, horizon_s
        shape = (len(scenario.pools), n_intervals)
        self.counts = {name: np.zeros(shape) for name in COUNT_COLUMNS}
        self.busy_s = np.zeros(shape)
        self.usage = usage_counts(_NO_CALLS, scenario, warmup_s, horizon_s)
        self.contacts = np.zeros((len(scenario.pools), len(scenario.demand), len(CONTACT_COUNTS)))

    def add(self, arrays: dict[str, np.ndarray]) -> None:
        """Add settled calls (as from :meth:`CallStore.views`)."""
        scenario, n = self.scenario, self.n_intervals
        counts = interval_counts(arrays, len(scenario.pools), n, scenario.interval_s, scenario.service_level_s)
        for name, values in counts.items():
            self.counts[name] += values
        self.busy_s += busy_by_interval(arrays["pool"], arrays["start_s"], arrays["start_s"] + arrays["handle_s"],
                                        len(scenario.pools), n, scenario.interval_s)
        self.usage += usage_counts(arrays, scenario, self.warmup_s, self.horizon_s)
        self.contacts += contact_counts(arrays, scenario, self.warmup_s)

    def intervals_table(self, rep: int, scheduled: np.ndarray, available: np.ndarray,
                        staffed_s: np.ndarray) -> pd.DataFrame:
        """The ``intervals`` table: one row per (interval, pool) from the warm-up to the horizon."""
        scenario, n = self.scenario, self.n_intervals
        n_pools, length = len(scenario.pools), scenario.interval_s
        k = np.tile(np.arange(n), n_pools)
        columns = {
            "rep": np.full(n * n_pools, rep, dtype=np.int64), "interval": k, "start_s": k * length,
            "day": k // scenario.intervals_per_day, "pool": np.repeat([p.name for p in scenario.pools], n),
            "scheduled_n": scheduled[:, :n].ravel(), "available_n": available[:, :n].ravel(),
            "staffed_s": staffed_s.ravel(), "busy_s": self.busy_s.ravel(),
        }
        for name in COUNT_COLUMNS:
            values = self.counts[name].ravel()
            columns[name] = values if name.endswith("_s") else values.astype(np.int64)
        frame = pd.DataFrame(columns)
        return add_rates(frame[frame["start_s"] >= self.warmup_s].reset_index(drop=True))

    def contacts_table(self, rep: int) -> pd.DataFrame:
        """The ``contacts`` table: per (call type, pool), what callers lived through (sim/contacts.py)."""
        return contacts_frame(self.contacts, self.scenario, rep)

    def usage_table(self, rep: int, scheduled: np.ndarray) -> pd.DataFrame:
        """The ``usage`` table (sim/usage.py); ``scheduled``: agents per (pool, interval), as for intervals."""
        n, n_pools = self.n_intervals, len(self.scenario.pools)
        paid = paid_hours(np.repeat(np.arange(n_pools), n), np.tile(np.arange(n) * self.scenario.interval_s, n_pools),
                          scheduled[:, :n].ravel(), self.scenario, self.warmup_s, self.horizon_s)
        return usage_frame(self.usage, paid, self.scenario, rep)


_NO_CALLS = {name: np.zeros(0) for name in ("arrival_s", "handle_s", "talk_s", "pool_wait_s", "u_res")} | {
    name: np.zeros(0, dtype=np.int16) for name in ("outcome", "pool", "last_pool", "call_type")}
