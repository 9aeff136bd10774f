"""Turns the engine's per-call lists into the tidy ``calls`` and ``intervals`` tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.metrics import COUNT_COLUMNS, add_rates
from models.scenario import Scenario
from sim.engine import Engine
from sim.outcomes import ABANDONED, ANSWERED, BLOCKED, OUTCOMES, UNFINISHED


def call_arrays(engine: Engine, end_s: float) -> dict[str, np.ndarray]:
    """Per-call numpy arrays of a finished engine (every call, warm-up included)."""
    arrival = np.frombuffer(engine.arrival)
    outcome = np.frombuffer(engine.outcome, dtype=np.int8)
    start = np.frombuffer(engine.start)
    deadline = np.frombuffer(engine.deadline)
    wait = np.where(np.isnan(start), np.minimum(deadline, end_s), start) - arrival
    wait[outcome == BLOCKED] = 0.0
    offer = np.frombuffer(engine.offer)
    pool_wait = np.where(np.isnan(start), np.minimum(deadline, end_s), start) - offer
    pool_wait[outcome == BLOCKED] = 0.0
    return {
        "call_id": np.arange(len(arrival), dtype=np.int64),
        "call_type": np.frombuffer(engine.ctype, dtype=np.int16),
        "arrival_s": arrival,
        "outcome": outcome,
        "pool": np.frombuffer(engine.pool, dtype=np.int16),
        "wait_s": wait,
        "handle_s": np.frombuffer(engine.handle),
        "is_repeat": np.arange(len(arrival)) >= engine.n_first,
        "last_pool": np.frombuffer(engine.last_pool, dtype=np.int16),
        "pool_wait_s": pool_wait,
        "start_s": start,
    }


def _categorical(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int16), categories=names)


def calls_table(arrays: dict[str, np.ndarray], scenario: Scenario, rep: int, warmup_s: float) -> pd.DataFrame:
    """The ``calls`` table: one row per call arriving at or after the warm-up."""
    keep = arrays["arrival_s"] >= warmup_s
    names = [p.name for p in scenario.pools]
    n_pools = len(names)
    pool = arrays["pool"][keep]
    frame = pd.DataFrame({
        "rep": np.full(int(keep.sum()), rep, dtype=np.int32),
        "call_id": arrays["call_id"][keep],
        "call_type": _categorical(arrays["call_type"][keep], [ct.name for ct in scenario.demand]),
        "arrival_s": arrays["arrival_s"][keep],
        "outcome": _categorical(arrays["outcome"][keep] - 1, list(OUTCOMES[1:])),
        "pool": _categorical(np.where(pool < 0, n_pools, pool), names + [""]),
        "wait_s": arrays["wait_s"][keep],
        "handle_s": arrays["handle_s"][keep],
        "is_repeat": arrays["is_repeat"][keep],
        "last_pool": _categorical(arrays["last_pool"][keep], names),
        "pool_wait_s": arrays["pool_wait_s"][keep],
    })
    return frame


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


def intervals_table(engine: Engine, arrays: dict[str, np.ndarray], rep: int, warmup_s: float) -> pd.DataFrame:
    """The ``intervals`` table: one row per (interval, pool) from the warm-up to the horizon."""
    scenario, n, length = engine.scenario, engine.n_intervals, engine.interval_s
    n_pools = len(scenario.pools)
    counts = interval_counts(arrays, n_pools, n, length, scenario.service_level_s)
    busy = busy_by_interval(arrays["pool"], arrays["start_s"], arrays["start_s"] + arrays["handle_s"],
                            n_pools, n, length)
    k = np.tile(np.arange(n), n_pools)
    columns = {
        "rep": np.full(n * n_pools, rep, dtype=np.int64),
        "interval": k,
        "start_s": k * length,
        "day": k // scenario.intervals_per_day,
        "pool": np.repeat([p.name for p in scenario.pools], n),
        "scheduled_n": engine.scheduled[:, :n].ravel(),
        "available_n": engine.available[:, :n].ravel(),
        "staffed_s": engine.staffed.staffed_s.ravel(),
        "busy_s": busy.ravel(),
    }
    for name in COUNT_COLUMNS:
        values = counts[name].ravel()
        columns[name] = values if name.endswith("_s") else values.astype(np.int64)
    frame = pd.DataFrame(columns)
    return add_rates(frame[frame["start_s"] >= warmup_s].reset_index(drop=True))
