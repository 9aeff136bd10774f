"""The vendor's view of each BPO pool: the ``vendor`` table.

Per (rep, BPO pool): the agents the vendor paid for (its scheduled agent-hours, as an FTE contract
bills them, and their mean over the measured hours), how busy they were (occupancy = busy / staffed
available time, all clients' calls), its revenue (every client's invoices), its labour at its own
internal wage (paid hours × ``wage_per_h`` × ``burden`` of a vendor-staffed pool, or
``vendor_wage_per_h`` × ``vendor_burden`` of a client-staffed one; NaN when not given) and its
margin (revenue − labour; NaN with the labour). Money in the scenario's currency over the measured
period (warm-up excluded).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.scenario import Scenario
from models.settings import RunSettings

#: the columns of the ``vendor`` table (docs/results.md)
VENDOR_COLUMNS = ["rep", "pool", "clients_n", "paid_h", "paid_agents_n", "staffed_s", "busy_s", "occupancy_frac",
                  "answered_n", "revenue_cost", "own_client_cost", "labour_cost", "margin_cost", "margin_frac"]


def vendor_rates(scenario: Scenario) -> dict[str, float]:
    """The vendor's loaded labour rate (wage_per_h × burden, currency per paid agent-hour) of each
    BPO pool whose vendor wage is known (a vendor-staffed pool's, or ``vendor_wage_per_h``)."""
    return {p.name: p.wage_per_h * p.burden for p in scenario.pools if p.kind == "bpo" and p.wage_per_h > 0}


def revenue(invoices: pd.DataFrame) -> pd.DataFrame:
    """Per (rep, pool): ``revenue_cost``, every client's invoices added up (the vendor's income)."""
    frame = invoices.groupby(["rep", "pool"], as_index=False)["invoice_cost"].sum()
    return frame.rename(columns={"invoice_cost": "revenue_cost"})


def vendor_table(intervals: pd.DataFrame, invoices: pd.DataFrame, scenario: Scenario,
                 settings: RunSettings) -> pd.DataFrame:
    """The ``vendor`` table of one scenario's replications (one row per rep and BPO pool)."""
    bpo = [p.name for p in scenario.pools if p.kind == "bpo"]
    rows = intervals[intervals["pool"].astype(str).isin(bpo)]
    if rows.empty:
        return pd.DataFrame(columns=VENDOR_COLUMNS)
    frame = rows.assign(pool=rows["pool"].astype(str), paid_h=rows["scheduled_n"] * (scenario.interval_s / 3600.0))
    frame = frame.groupby(["rep", "pool"], sort=False, as_index=False)[
        ["paid_h", "staffed_s", "busy_s", "answered_n"]].sum()
    frame["clients_n"] = frame["pool"].map({p.name: len(p.clients) for p in scenario.pools}).astype(np.int64)
    frame["paid_agents_n"] = frame["paid_h"] / ((settings.horizon_s - settings.warmup_s) / 3600.0)
    frame["occupancy_frac"] = frame["busy_s"] / frame["staffed_s"].where(frame["staffed_s"] > 0)
    frame = frame.merge(revenue(invoices), on=["rep", "pool"], how="left")
    ours = invoices[invoices["own_client"]].groupby(["rep", "pool"], as_index=False)["invoice_cost"].sum()
    frame = frame.merge(ours.rename(columns={"invoice_cost": "own_client_cost"}), on=["rep", "pool"], how="left")
    frame = frame.fillna({"revenue_cost": 0.0, "own_client_cost": 0.0})
    frame["labour_cost"] = frame["paid_h"] * frame["pool"].map(vendor_rates(scenario)).astype(float)
    frame["margin_cost"] = frame["revenue_cost"] - frame["labour_cost"]
    frame["margin_frac"] = frame["margin_cost"] / frame["revenue_cost"].where(frame["revenue_cost"] > 0)
    return frame[VENDOR_COLUMNS].astype({"rep": np.int64, "answered_n": np.int64})
