"""What callers lived through, counted per (call type, pool): the quantities poor service is priced from.

Per (pool the call was last offered to, call type), over the calls arriving at or after the
warm-up: attempts offered and answered; contacts lost for good (an attempt abandoned or blocked
after which the caller did not try again); redial attempts (attempt 2, 3, ...); repeat contacts (the
first attempt of a contact caused by an unresolved one); seconds waited by every attempt;
contacts resolved (answered, and resolved by the answering pool); and, for each call type's (so each
client's) service as its callers see it, attempts answered within the scenario's
``service_level_s`` of arrival, attempts abandoned and the seconds the answered ones waited; attempts
blocked, unfinished and queued (as the intervals table counts them, sim/recorder.py: with these, the
intervals' counts of one client's call types, which pool_runs and runs hold at a pool serving several
clients). No money here: results/quality.py prices these counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.scenario import Scenario
from sim.outcomes import ABANDONED, ANSWERED, BLOCKED, UNFINISHED

#: counted per (pool, call type), in this order
COUNTS = ("offered_n", "answered_n", "lost_n", "redial_n", "repeat_n", "wait_s", "resolved_n",
          "answered_in_sl_n", "abandoned_n", "wait_answered_s", "blocked_n", "unfinished_n", "queued_n")


def resolved(arrays: dict[str, np.ndarray], resolution: np.ndarray) -> np.ndarray:
    """Which calls were answered and resolved (their draw below the answering pool's resolution)."""
    answered = arrays["outcome"] == ANSWERED
    frac = np.append(resolution, np.nan)[arrays["pool"]]  # pool -1 (not answered) -> NaN
    out: np.ndarray = answered & (arrays["u_res"] < frac)
    return out


def contact_counts(arrays: dict[str, np.ndarray], scenario: Scenario, warmup_s: float) -> np.ndarray:
    """Counts of shape (pools, call types, len(COUNTS)) of the calls arriving at or after ``warmup_s``."""
    n_pools, n_types = len(scenario.pools), len(scenario.demand)
    out = np.zeros((n_pools, n_types, len(COUNTS)))
    keep = arrays["arrival_s"] >= warmup_s
    if not keep.any():
        return out
    a = {name: column[keep] for name, column in arrays.items()}
    cell = a["last_pool"].astype(np.int64) * n_types + a["call_type"].astype(np.int64)
    outcome = a["outcome"]
    attempt, redialed = a["attempt"], a["redialed"].astype(bool)
    resolution = np.array([p.resolution_frac for p in scenario.pools])
    values = (np.ones(len(cell)), outcome == ANSWERED,
              ((outcome == ABANDONED) | (outcome == BLOCKED)) & ~redialed,
              attempt > 1, a["is_repeat"].astype(bool) & (attempt == 1), a["wait_s"], resolved(a, resolution),
              (outcome == ANSWERED) & (a["wait_s"] <= scenario.service_level_s), outcome == ABANDONED,
              np.where(outcome == ANSWERED, a["wait_s"], 0.0), outcome == BLOCKED, outcome == UNFINISHED,
              (outcome != BLOCKED) & (a["start_s"] != a["arrival_s"]))
    for k, weights in enumerate(values):
        out[:, :, k] = np.bincount(cell, weights=np.asarray(weights, dtype=float),
                                   minlength=n_pools * n_types).reshape(n_pools, n_types)
    return out


def contacts_frame(counts: np.ndarray, scenario: Scenario, rep: int) -> pd.DataFrame:
    """The ``contacts`` table of one replication: one row per (call type, pool), every pair."""
    rows = [[rep, ct.name, pool.name, *counts[p, c]]
            for c, ct in enumerate(scenario.demand) for p, pool in enumerate(scenario.pools)]
    frame = pd.DataFrame(rows, columns=["rep", "call_type", "pool", *COUNTS])
    return frame.astype({name: np.int64 for name in ("rep", *COUNTS) if name.endswith("_n") or name == "rep"}
                        | {"call_type": object, "pool": object})
