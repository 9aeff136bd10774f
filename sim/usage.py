"""What each BPO pool did per billing month: the quantities its contract bills, no prices.

Per (pool, month): answered calls, billing increments of their billed times (handle or talk time,
as the pool's contract's ``billing_basis`` says, under its own increment), and the two counts of
the pool's SLA service level: calls last offered to the pool that were answered or abandoned, and
those of them answered within the SLA threshold of reaching the pool. Pricing
(experiments/results/pricing.py) turns these into invoices.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from models.billing import month_count, month_of
from models.invoicing import billed_increments
from models.scenario import Scenario
from sim.outcomes import ABANDONED, ANSWERED

USAGE_COLUMNS = ["rep", "pool", "month", "answered_n", "billed_increments_n", "sla_offered_n", "sla_met_n"]


def usage_counts(arrays: dict[str, np.ndarray], scenario: Scenario, warmup_s: float,
                 horizon_s: float) -> np.ndarray:
    """Counts of shape (pools, months, 4): answered, billing increments, SLA offered, SLA met."""
    months = month_count(warmup_s, horizon_s)
    out = np.zeros((len(scenario.pools), months, 4))
    keep = arrays["arrival_s"] >= warmup_s
    month = month_of(arrays["arrival_s"][keep], warmup_s, months)
    outcome, pool, last = arrays["outcome"][keep], arrays["pool"][keep], arrays["last_pool"][keep]
    for p, spec in enumerate(scenario.pools):
        if spec.contract is None:
            continue
        answered = (outcome == ANSWERED) & (pool == p)
        increments = np.zeros(len(month))
        billed_s = arrays[f"{spec.contract.billing_basis}_s"][keep][answered]
        increments[answered] = billed_increments(billed_s, spec.contract)
        offered = (last == p) & ((outcome == ANSWERED) | (outcome == ABANDONED))
        threshold = spec.contract.sla.threshold_s if spec.contract.sla else np.inf
        met = answered & (arrays["pool_wait_s"][keep] <= threshold)
        for k, weights in enumerate((answered, increments, offered, met)):
            out[p, :, k] = np.bincount(month, weights=weights.astype(float), minlength=months)
    return out


def usage_frame(counts: np.ndarray, scenario: Scenario, rep: int) -> pd.DataFrame:
    """The usage table of one replication from its counts (BPO pools only, every month)."""
    rows = [[rep, spec.name, m, *counts[p, m]]
            for p, spec in enumerate(scenario.pools) if spec.contract is not None
            for m in range(counts.shape[1])]
    frame = pd.DataFrame(rows, columns=USAGE_COLUMNS)
    return frame.astype({name: np.int64 for name in USAGE_COLUMNS if name != "pool"} | {"pool": object})


def usage_table(arrays: dict[str, np.ndarray], scenario: Scenario, rep: int, warmup_s: float,
                horizon_s: float) -> pd.DataFrame:
    """Usage of every BPO pool, one row per (pool, month), months with no call included."""
    return usage_frame(usage_counts(arrays, scenario, warmup_s, horizon_s), scenario, rep)


def usage_from_calls(calls: pd.DataFrame, scenario: Scenario, warmup_s: float, horizon_s: float) -> pd.DataFrame:
    """The usage table recomputed from a saved calls table (e.g. under other contracts)."""
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
        }
        if "talk_s" in part:  # needed by a contract with billing_basis = "talk"
            arrays["talk_s"] = part["talk_s"].to_numpy()
        frames.append(usage_table(arrays, scenario, int(rep), warmup_s, horizon_s))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=USAGE_COLUMNS)


def _codes(column: pd.Series, names: list[str], codes: Iterable[int]) -> np.ndarray:
    """Integer codes of a categorical or string column: ``names[i]`` -> ``codes[i]``, else -1."""
    position = pd.Index(names).get_indexer(column.astype(str))
    lookup = np.append(np.asarray(list(codes), dtype=np.int64), -1)
    coded: np.ndarray = lookup[position]
    return coded
