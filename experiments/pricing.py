"""Money, computed after the run from its tables, so one simulation can be re-priced many times.

- in-house pools: scheduled agent-hours × wage_per_h × burden;
- BPO pools: one invoice per billing month (30 simulated days from the end of the warm-up) under
  the pool's contract: pro-rated monthly fee, billed minutes of the calls it answered, the floor,
  and an SLA credit when the pool's service level of that month misses the target.

The pool's SLA service level counts the calls last offered to the pool (not blocked, not
unfinished): answered by it within ``threshold_s`` of being offered to it (``pool_wait_s``) over
all of them.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pandas as pd

from models.contracts import BILLING_MONTH_S, Contract, billed_minutes, invoice
from models.scenario import Scenario

INVOICE_COLUMNS = ["rep", "pool", "month", "month_frac", "billed_min", "fixed_cost", "usage_cost",
                   "floor_cost", "credit_cost", "invoice_cost", "sla_frac"]


def billing_months(warmup_s: float, horizon_s: float) -> list[float]:
    """Fractions of a 30-day month covered by each billing month of the measured period."""
    measured = horizon_s - warmup_s
    n = max(1, math.ceil(measured / BILLING_MONTH_S - 1e-9))
    return [min(1.0, (measured - m * BILLING_MONTH_S) / BILLING_MONTH_S) for m in range(n)]


def pool_invoices(calls: pd.DataFrame, pool: str, contract: Contract, reps: list[int],
                  warmup_s: float, horizon_s: float) -> pd.DataFrame:
    """Invoices of one BPO pool, one row per (rep, billing month)."""
    month = ((calls["arrival_s"].to_numpy() - warmup_s) // BILLING_MONTH_S).astype(np.int64)
    fracs = billing_months(warmup_s, horizon_s)
    offered = (calls["last_pool"] == pool).to_numpy() & calls["outcome"].isin(["answered", "abandoned"]).to_numpy()
    answered = (calls["pool"] == pool).to_numpy() & (calls["outcome"] == "answered").to_numpy()
    rep = calls["rep"].to_numpy()
    rows = []
    for r in reps:
        in_rep = rep == r
        for m, frac in enumerate(fracs):
            sel = in_rep & (month == m)
            rows.append(_invoice_row(calls, contract, r, pool, m, frac, sel & answered, sel & offered))
    return pd.DataFrame(rows, columns=INVOICE_COLUMNS)


def _invoice_row(calls: pd.DataFrame, contract: Contract, rep: int, pool: str, month: int,
                 frac: float, answered: np.ndarray, offered: np.ndarray) -> list:
    minutes = billed_minutes(calls["handle_s"].to_numpy()[answered], contract)
    sl = None
    if contract.sla is not None and offered.any():
        met = answered & (calls["pool_wait_s"].to_numpy() <= contract.sla.threshold_s)
        sl = float(met.sum() / offered.sum())
    lines = invoice(contract, minutes, frac, sl)
    return [rep, pool, month, frac, lines.billed_min, lines.fixed_cost, lines.usage_cost,
            lines.floor_cost, lines.credit_cost, lines.invoice_cost, lines.service_level_frac]


def invoices_table(calls: pd.DataFrame, scenario: Scenario, reps: list[int], warmup_s: float,
                   horizon_s: float) -> pd.DataFrame:
    """Invoices of every BPO pool of ``scenario`` (empty table if it has none)."""
    frames = [pool_invoices(calls, p.name, p.contract, reps, warmup_s, horizon_s)
              for p in scenario.pools if p.contract is not None]
    if not frames:
        return pd.DataFrame(columns=INVOICE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def labour_table(intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Labour cost per (rep, pool) of the in-house pools: paid (scheduled) hours × wage × burden."""
    hours = intervals["scheduled_n"] * (scenario.interval_s / 3600.0)
    frame = intervals.assign(paid_h=hours).groupby(["rep", "pool"], observed=True, as_index=False)["paid_h"].sum()
    rate = {p.name: p.wage_per_h * p.burden if p.kind == "inhouse" else 0.0 for p in scenario.pools}
    frame["labour_cost"] = frame["paid_h"] * frame["pool"].map(rate).astype(float)
    return frame


def pool_costs(intervals: pd.DataFrame, invoices: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per (rep, pool): labour_cost, vendor_cost and total_cost."""
    costs = labour_table(intervals, scenario)
    vendor = invoices.groupby(["rep", "pool"], as_index=False)["invoice_cost"].sum()
    vendor = vendor.rename(columns={"invoice_cost": "vendor_cost"})
    costs = costs.merge(vendor, on=["rep", "pool"], how="left")
    costs["vendor_cost"] = costs["vendor_cost"].fillna(0.0)
    costs["total_cost"] = costs["labour_cost"] + costs["vendor_cost"]
    return costs


def reprice_pools(scenario: Scenario, **changes: dict) -> Scenario:
    """A copy of ``scenario`` whose pools get new field values: ``offshore={"contract": c}``."""
    from dataclasses import replace
    pools = tuple(replace(p, **changes.get(p.name, {})) for p in scenario.pools)
    unknown = set(changes) - {p.name for p in scenario.pools}
    if unknown:
        raise KeyError(f"no pool named {', '.join(sorted(unknown))}")
    return replace(scenario, pools=pools)


def contract_dict(contract: Contract) -> dict:
    """A contract as plain data (for meta and reports)."""
    return asdict(contract)
