"""Money, computed after the run from its tables, so one simulation can be re-priced many times.

- in-house pools: scheduled agent-hours × wage_per_h × burden;
- BPO pools: one invoice per billing month (30 simulated days from the end of the warm-up) under
  the pool's contract: pro-rated monthly fee, billed minutes of the calls it answered, the floor,
  and an SLA credit when the pool's service level of that month misses the target.

The quantities billed come from the ``usage`` table of the run (sim/usage.py). The pool's SLA
service level counts the calls last offered to the pool (not blocked, not unfinished): answered by
it within ``threshold_s`` of being offered to it (``pool_wait_s``) over all of them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from models.billing import billing_months
from models.contracts import invoice, minutes_of
from models.scenario import Scenario

INVOICE_COLUMNS = ["rep", "pool", "month", "month_frac", "billed_min", "fixed_cost", "usage_cost",
                   "floor_cost", "credit_cost", "invoice_cost", "sla_frac"]


def invoices_table(usage: pd.DataFrame, scenario: Scenario, warmup_s: float, horizon_s: float) -> pd.DataFrame:
    """One invoice per row of the usage table (rep, BPO pool, month) under ``scenario``'s contracts."""
    fracs = billing_months(warmup_s, horizon_s)
    rows = []
    for row in usage.itertuples(index=False):
        contract = scenario.pool(row.pool).contract
        minutes = minutes_of(float(row.billed_increments_n), int(row.answered_n), contract)
        sl = row.sla_met_n / row.sla_offered_n if contract.sla is not None and row.sla_offered_n > 0 else None
        lines = invoice(contract, minutes, fracs[row.month], sl)
        rows.append([row.rep, row.pool, row.month, fracs[row.month], lines.billed_min, lines.fixed_cost,
                     lines.usage_cost, lines.floor_cost, lines.credit_cost, lines.invoice_cost,
                     lines.service_level_frac])
    frame = pd.DataFrame(rows, columns=INVOICE_COLUMNS)
    return frame.astype({name: (np.int64 if name in ("rep", "month") else float)
                         for name in INVOICE_COLUMNS if name != "pool"})


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
    pools = tuple(replace(p, **changes.get(p.name, {})) for p in scenario.pools)
    unknown = set(changes) - {p.name for p in scenario.pools}
    if unknown:
        raise KeyError(f"no pool named {', '.join(sorted(unknown))}")
    return replace(scenario, pools=pools)
