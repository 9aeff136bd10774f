"""Agent ids for a simulated calls table, and a simulated run as a tidy call log with an ``agent``
column: the known truth the staffing estimator (experiments/calibrate/staffing.py) is measured on.

The engine counts a pool's busy agents against its available agents; it keeps no agent identity
(a pool's agents are interchangeable, so the calls do not depend on who serves them). Identities
are given afterwards, exactly as a switch with named agents would have given them: agent k of a
pool is on duty in an interval when k < the pool's available agents then; each answered call goes,
at its start, to the longest-idle on-duty agent who is free (longest-idle-agent routing, the usual
ACD rule). The engine starts a call only when busy < available, so such an agent always exists;
an agent whose interval ended finishes the call in hand and leaves.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd


def assign_agents(start_s: np.ndarray, end_s: np.ndarray, available: np.ndarray, interval_s: float) -> np.ndarray:
    """Agent index (0..) of each service [start_s, end_s) of one pool (s), ``available``: agents per
    interval from time 0. Raises ValueError if a service finds no free on-duty agent."""
    order = np.lexsort((end_s, start_s))
    agent = np.full(len(start_s), -1, dtype=np.int64)
    size = int(available.max(initial=0))
    free_since = [-np.inf] * size          # when each agent last became free (-inf: never served)
    busy_until = [0.0] * size
    ending: list[tuple[float, int]] = []    # (end, agent) of services in progress
    busy = [False] * size
    for i in order:
        t = start_s[i]
        while ending and ending[0][0] <= t:
            _, a = heapq.heappop(ending)
            busy[a] = False
            free_since[a] = busy_until[a]
        k = min(int(t // interval_s), len(available) - 1)
        on_duty = [a for a in range(int(available[k])) if not busy[a]]
        if not on_duty:
            raise ValueError(f"no free agent on duty for the service starting at {t:g} s")
        a = min(on_duty, key=lambda j: (free_since[j], j))
        agent[i], busy[a], busy_until[a] = a, True, end_s[i]
        heapq.heappush(ending, (end_s[i], a))
    return agent


def log_with_agents(calls: pd.DataFrame, intervals: pd.DataFrame, interval_s: float,
                    start: str = "2024-01-01") -> pd.DataFrame:
    """One replication's ``calls`` (with its ``intervals``) as a tidy call log with an ``agent`` column.

    Calls answered or abandoned only (blocked and unfinished calls never reached an agent's queue
    in the log's sense). ``start``: the date of simulated time 0 (a Monday, as day 0 of a run).
    ``agent`` is ``"<pool>:<index>"``.
    """
    kept = calls[calls["outcome"].isin(["answered", "abandoned"])]
    agent = pd.Series("", index=kept.index, dtype=object)
    for pool, group in intervals.groupby("pool", sort=False):
        served = kept[(kept["pool"] == pool) & (kept["outcome"] == "answered")]
        if served.empty:
            continue
        begin = (served["arrival_s"] + served["wait_s"]).to_numpy()
        available = group.sort_values("interval")["available_n"].to_numpy()
        first = int(group["interval"].min())
        available = np.r_[np.zeros(first, dtype=available.dtype), available]
        index = assign_agents(begin, begin + served["handle_s"].to_numpy(), available, interval_s)
        agent[served.index] = [f"{pool}:{a}" for a in index]
    origin = pd.Timestamp(start)
    return pd.DataFrame({
        "arrival": origin + pd.to_timedelta(kept["arrival_s"].to_numpy(), unit="s"),
        "outcome": kept["outcome"].astype(str).to_numpy(),
        "wait_s": kept["wait_s"].to_numpy(dtype=float),
        "handle_s": np.where(kept["outcome"] == "answered", kept["handle_s"], np.nan),
        "agent": agent.where(agent != "").to_numpy(),
    }).sort_values("arrival", kind="stable").reset_index(drop=True)
