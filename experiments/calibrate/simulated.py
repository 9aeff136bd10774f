"""Call logs simulated by bposim: its ``calls`` table (docs/results.md) in the tidy log format, for
round-trip checks of the calibration (a log from known parameters must calibrate back to them).

The calls table says which attempts belong to one contact (``contact_id``) but not which call a
repeat comes back for (a repeat is a new contact). Given the scenario and the seed, that link is
rebuilt exactly: the engine (sim/engine.py, ``_repeat``) draws the k-th repeat delay of pool p, in
order of the service ends of unresolved calls at p, from the stream (seed, rep, REPEATS, pool)
(sim/draws.py), and a repeat arrives at the end + that delay (when before the horizon). Every
repeat in the table must be found that way, or the function raises: a change in the engine makes
it fail loudly rather than link calls wrongly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.scenario import Scenario
from sim import streams
from sim.draws import Draws

MATCH_S = 1e-6  # predicted and recorded repeat arrivals agree to rounding


def calls_to_log(calls: pd.DataFrame, start: str | pd.Timestamp = "2024-01-01", scenario: Scenario | None = None,
                 seed: int | None = None, rep: int = 0, horizon_s: float | None = None) -> pd.DataFrame:
    """The tidy call log of one replication's ``calls`` table (a run with no warm-up).

    ``start``: the date-time of simulated time 0 (a Monday, as day 0 of a run is). Blocked and
    unfinished calls are left out (they never reached the agents' queue, or have no outcome yet);
    ``talk_s`` and ``acw_s`` only when the scenario splits handle time into them.
    Every contact is one customer (``customer_id`` ``c<contact_id>``); with ``scenario`` and
    ``seed`` (and the run's ``horizon_s``, seconds), a repeat is the customer of the unresolved call
    it comes back for (else a new one).
    """
    rows = calls[calls["rep"] == rep] if "rep" in calls.columns else calls
    start = pd.Timestamp(start)
    if start.day_of_week != 0:
        raise ValueError(f"start: simulated day 0 is a Monday, got {start:%A %Y-%m-%d}")
    customer = rows["contact_id"].to_numpy(np.int64).copy()
    if scenario is not None and seed is not None:
        if horizon_s is None:
            raise ValueError("horizon_s: needed with scenario and seed (repeats after it are not generated)")
        customer = _customers(rows, scenario, seed, rep, horizon_s)
    keep = rows["outcome"].isin(["answered", "abandoned"]).to_numpy()
    rows, customer = rows[keep], customer[keep]
    answered = (rows["outcome"] == "answered").to_numpy()
    handle = rows["handle_s"].to_numpy(float)
    talk = rows["talk_s"].to_numpy(float)
    columns = {
        "arrival": start + pd.to_timedelta(rows["arrival_s"].to_numpy(float), unit="s"),
        "outcome": np.where(answered, "answered", "abandoned"),
        "wait_s": rows["wait_s"].to_numpy(float),
        "handle_s": np.where(answered, handle, np.nan),
        "talk_s": np.where(answered, talk, np.nan),
        "acw_s": np.where(answered, handle - talk, np.nan),
        "call_type": rows["call_type"].astype(str).to_numpy(),
        "customer_id": pd.Series(customer).map(lambda c: f"c{c}").to_numpy(),
    }
    if np.allclose(handle[answered], talk[answered]):  # the scenario gives handle only: no talk/acw split
        del columns["talk_s"], columns["acw_s"]
    log = pd.DataFrame(columns)
    return log.sort_values("arrival", kind="stable").reset_index(drop=True)


def _customers(rows: pd.DataFrame, scenario: Scenario, seed: int, rep: int, horizon_s: float) -> np.ndarray:
    """Each call's customer: its contact's, and for a repeat contact the customer it repeats for."""
    call_id = rows["call_id"].to_numpy(np.int64)
    contact = dict(zip(call_id, rows["contact_id"].to_numpy(np.int64), strict=True))
    parent = _repeat_parents(rows, scenario, seed, rep, horizon_s)
    customer: dict[int, int] = {}
    for cid in call_id:  # call ids grow with creation: a parent is settled before its repeat
        head = contact[cid]
        customer[cid] = customer[head] if head != cid else customer.get(parent.get(cid, -1), cid)
    return np.array([customer[c] for c in call_id], dtype=np.int64)


def _repeat_parents(rows: pd.DataFrame, scenario: Scenario, seed: int, rep: int, horizon_s: float) -> dict[int, int]:
    """call_id of each repeat -> call_id of the unresolved call it comes back for."""
    repeats = rows[rows["is_repeat"].to_numpy(bool) & (rows["attempt"].to_numpy() == 1)]
    arrivals = repeats["arrival_s"].to_numpy(float)
    order = np.argsort(arrivals)
    arrivals, repeat_ids = arrivals[order], repeats["call_id"].to_numpy(np.int64)[order]
    unresolved = rows[(rows["outcome"] == "answered").to_numpy() & ~rows["resolved"].to_numpy(bool)]
    parents: dict[int, int] = {}
    for p, pool in enumerate(scenario.pools):
        served = unresolved[unresolved["pool"].astype(str) == pool.name]
        end = (served["arrival_s"] + served["wait_s"] + served["handle_s"]).to_numpy(float)
        ends = np.argsort(end, kind="stable")
        delays = Draws(pool.repeat_after, streams.stream(seed, rep, streams.REPEATS, streams.name_key(pool.name), 0))
        for i in ends:
            at = end[i] + delays.next()
            if at >= horizon_s:
                continue
            j = int(np.searchsorted(arrivals, at - MATCH_S))
            if j >= len(arrivals) or abs(arrivals[j] - at) > MATCH_S:
                raise ValueError(f"repeat of call {served['call_id'].iloc[i]} (pool {p}) expected at {at:.6f} s "
                                 "not found: the engine's repeat draws changed (sim/engine.py)")
            parents[int(repeat_ids[j])] = int(served["call_id"].iloc[i])
    if len(parents) != len(arrivals):
        raise ValueError(f"{len(arrivals) - len(parents)} repeats without the call they come back for")
    return parents
