"""What each BPO pool did per billing month: the quantities its contract bills, no prices.

Per (pool, month): answered calls, billing increments of their billed times (handle or talk time,
as the pool's contract's ``billing_basis`` says, under its own increment), the calls last offered
to the pool that were answered or abandoned (the SLA's offered calls), those answered within the
SLA threshold of reaching the pool, those abandoned, the contacts it answered and resolved, the
seconds its answered calls waited at it, and its paid (scheduled) agent-hours. Pricing
(experiments/results/pricing.py) turns these into invoices.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from models.billing import month_count, month_of
from models.invoicing import billed_increments
from models.scenario import Scenario
from sim.contacts import resolved
from sim.outcomes import ABANDONED, ANSWERED

#: counted from the calls, in this order in :func:`usage_counts`' last axis
CALL_COUNTS = ["answered_n", "billed_increments_n", "sla_offered_n", "sla_met_n", "abandoned_n", "resolved_n",
               "wait_answered_s"]
USAGE_COLUMNS = ["rep", "pool", "month", *CALL_COUNTS, "paid_h"]


def usage_counts(arrays: dict[str, np.ndarray], scenario: Scenario, warmup_s: float,
                 horizon_s: float) -> np.ndarray:
    """Counts of shape (pools, months, len(CALL_COUNTS)), in the order of :data:`CALL_COUNTS`.

    ``arrays`` holds per-call columns as from CallStore.views, with ``resolved`` (bool) or the
    ``u_res`` draws it is derived from.
    """
    months = month_count(warmup_s, horizon_s)
    out = np.zeros((len(scenario.pools), months, len(CALL_COUNTS)))
    keep = arrays["arrival_s"] >= warmup_s
    month = month_of(arrays["arrival_s"][keep], warmup_s, months)
    outcome, pool, last = arrays["outcome"][keep], arrays["pool"][keep], arrays["last_pool"][keep]
    wait = arrays["pool_wait_s"][keep]
    if "resolved" in arrays:
        solved = arrays["resolved"][keep]
    else:
        solved = resolved(arrays, np.array([p.resolution_frac for p in scenario.pools]))[keep]
    for p, spec in enumerate(scenario.pools):
        if spec.contract is None:
            continue
        answered = (outcome == ANSWERED) & (pool == p)
        increments = np.zeros(len(month))
        billed_s = arrays[f"{spec.contract.billing_basis}_s"][keep][answered]
        increments[answered] = billed_increments(billed_s, spec.contract)
        abandoned = (last == p) & (outcome == ABANDONED)
        threshold = spec.contract.sl_threshold_s
        met = answered & (wait <= (np.inf if threshold is None else threshold))
        weights = (answered, increments, answered | abandoned, met, abandoned, answered & solved,
                   np.where(answered, wait, 0.0))
        for k, values in enumerate(weights):
            out[p, :, k] = np.bincount(month, weights=values.astype(float), minlength=months)
    return out


def paid_hours(pool: np.ndarray, start_s: np.ndarray, scheduled_n: np.ndarray, scenario: Scenario,
               warmup_s: float, horizon_s: float) -> np.ndarray:
    """Paid agent-hours of shape (pools, months): scheduled agents × interval length, by the
    billing month of each interval's start (intervals starting before the warm-up's end left out).

    Args:
        pool: Pool index of each (interval, pool) row.
        start_s: Start of each row's interval (s).
        scheduled_n: Agents scheduled (paid) in each row's interval.
    """
    months = month_count(warmup_s, horizon_s)
    keep = start_s >= warmup_s
    month = month_of(start_s[keep], warmup_s, months)
    index = pool[keep].astype(np.int64) * months + month
    hours = scheduled_n[keep] * (scenario.interval_s / 3600.0)
    totals = np.bincount(index, weights=hours.astype(float), minlength=len(scenario.pools) * months)
    return totals.reshape(len(scenario.pools), months)


def usage_frame(counts: np.ndarray, paid_h: np.ndarray, scenario: Scenario, rep: int) -> pd.DataFrame:
    """The usage table of one replication from its call counts and paid hours (BPO pools only, every month)."""
    rows = [[rep, spec.name, m, *counts[p, m], paid_h[p, m]]
            for p, spec in enumerate(scenario.pools) if spec.contract is not None
            for m in range(counts.shape[1])]
    frame = pd.DataFrame(rows, columns=USAGE_COLUMNS)
    floats = {"wait_answered_s", "paid_h"}
    return frame.astype({name: float if name in floats else np.int64 for name in USAGE_COLUMNS if name != "pool"}
                        | {"pool": object})


def usage_from_calls(calls: pd.DataFrame, intervals: pd.DataFrame, scenario: Scenario, warmup_s: float,
                     horizon_s: float) -> pd.DataFrame:
    """The usage table recomputed from a saved calls table and intervals table (e.g. under other contracts)."""
    names = [p.name for p in scenario.pools]
    frames = []
    for rep, part in calls.groupby("rep", sort=True):
        arrays = {
            "arrival_s": part["arrival_s"].to_numpy(),
            "outcome": _codes(part["outcome"], ["answered", "abandoned"], [ANSWERED, ABANDONED]),
            "pool": _codes(part["pool"], names, range(len(names))),
            "last_pool": _codes(part["last_pool"], names, range(len(names))),
            "handle_s": part["handle_s"].to_numpy(),
            "pool_wait_s": part["pool_wait_s"].to_numpy(),
            "resolved": part["resolved"].to_numpy(dtype=bool),
        }
        if "talk_s" in part:  # needed by a contract with billing_basis = "talk"
            arrays["talk_s"] = part["talk_s"].to_numpy()
        counts = usage_counts(arrays, scenario, warmup_s, horizon_s)
        own = intervals[intervals["rep"] == rep]
        paid = paid_hours(_codes(own["pool"], names, range(len(names))), own["start_s"].to_numpy(dtype=float),
                          own["scheduled_n"].to_numpy(dtype=float), scenario, warmup_s, horizon_s)
        frames.append(usage_frame(counts, paid, scenario, int(rep)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=USAGE_COLUMNS)


def _codes(column: pd.Series, names: list[str], codes: Iterable[int]) -> np.ndarray:
    """Integer codes of a categorical or string column: ``names[i]`` -> ``codes[i]``, else -1."""
    position = pd.Index(names).get_indexer(column.astype(str))
    lookup = np.append(np.asarray(list(codes), dtype=np.int64), -1)
    coded: np.ndarray = lookup[position]
    return coded
