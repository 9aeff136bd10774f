"""The budget's summary (``budget.csv``) and the fan chart's bands, from the ``budget_months`` rows.

Per budget month and for the whole term (``year`` for 12 months, else ``total``): median and 95th
percentile over replications of each money column summed over pools (the term: each replication's
months summed first), the mean of the total, and how often a minimum, an SLA credit or a tier other
than the usual one binds on some BPO pool (NaN when no contract has one). Percentiles are numpy's
default (linear interpolation between order statistics).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from experiments.budget.month import MONEY
from models.scenario import Scenario

#: statistics over replications: column prefix -> percentile
PERCENTILES = {"median": 50.0, "p95": 95.0}
#: bands of the fan chart: (low, high) percentiles, widest first, and the median
FAN_BANDS = ((5.0, 95.0), (25.0, 75.0))
#: the binding frequencies: column -> (flag of a replication's month, what a contract needs for it)
FLAGS = ("floor_binds_frac", "sla_credit_frac", "tier_moves_frac")


def per_rep_month(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (rep, month): the money summed over pools and the month's flags (True/False):
    a minimum topped up, an SLA credit earned, a tier other than the month's usual one (the tier most
    replications end in), each on some BPO pool."""
    keys = ["rep", "month"]
    out = rows.groupby(keys, sort=True)[list(MONEY)].sum()
    bpo = rows[rows["kind"] == "bpo"].copy()
    bpo["floor_binds"] = bpo["floor_cost"] > 0
    bpo["sla_credit"] = bpo["credit_cost"] < 0
    tiered = bpo["tier_n"] > 0
    usual = bpo[tiered].groupby(["month", "pool"])["tier_n"].agg(lambda tiers: tiers.mode().min())
    bpo["tier_moves"] = tiered & (bpo["tier_n"] != bpo.set_index(["month", "pool"]).index.map(usual).to_numpy())
    flags = bpo.groupby(keys)[["floor_binds", "sla_credit", "tier_moves"]].any()
    return out.join(flags).fillna(dict.fromkeys(flags.columns, False)).reset_index()


def budget_table(rows: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``budget.csv``: one row per budget month, then the term's row."""
    months = per_rep_month(rows)
    plan = rows.drop_duplicates("month").set_index("month").sort_index()
    applies = _applies(scenario)
    out = []
    for month, part in months.groupby("month", sort=True):
        info = plan.loc[month]
        out.append({"period": info["label"], "month": month, "calendar_month": info["calendar_month"],
                    "days_n": info["days_n"], "forecast_factor": info["forecast_factor"]}
                   | _stats(part, applies))
    term = months.groupby("rep")[list(MONEY)].sum()
    flags = months[["floor_binds", "sla_credit", "tier_moves"]]
    out.append({"period": "year" if len(plan) == 12 else "total", "month": pd.NA, "calendar_month": pd.NA,
                "days_n": int(plan["days_n"].sum()), "forecast_factor": math.nan}
               | _stats(term.join(flags.groupby(months["rep"]).mean()), applies))
    return pd.DataFrame(out).astype({"month": "Int64", "calendar_month": "Int64", "days_n": "int64"})


def _applies(scenario: Scenario) -> dict[str, bool]:
    """Which binding frequencies mean something: some contract has a minimum, an SLA, tiers."""
    contracts = [p.contract for p in scenario.pools if p.contract is not None]
    return {"floor_binds_frac": any(c.min_monthly > 0 for c in contracts),
            "sla_credit_frac": any(c.terms for c in contracts),
            "tier_moves_frac": any(c.tiers for c in contracts)}


def _stats(part: pd.DataFrame, applies: dict[str, bool]) -> dict[str, float]:
    """Statistics over the replications of ``part`` (one row per replication)."""
    stats: dict[str, float] = {"reps_n": len(part)}
    for column in MONEY:
        values = part[column].to_numpy(float)
        stats |= {f"{name}_{column}": float(np.percentile(values, q)) for name, q in PERCENTILES.items()}
    stats["mean_total_cost"] = float(part["total_cost"].mean())
    for column, flag in zip(FLAGS, ("floor_binds", "sla_credit", "tier_moves"), strict=True):
        stats[column] = float(part[flag].astype(float).mean()) if applies[column] else math.nan
    return stats


def fan_table(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per budget month: ``label`` and the percentiles 5, 25, 50, 75, 95 of ``column`` summed over
    pools, over replications (columns ``p5`` ... ``p95``)."""
    months = per_rep_month(rows)
    labels = rows.drop_duplicates("month").set_index("month")["label"]
    qs = sorted({q for band in FAN_BANDS for q in band} | {50.0})
    table = months.groupby("month")[column].agg([(f"p{q:g}", lambda v, q=q: float(np.percentile(v, q))) for q in qs])
    return table.join(labels).reset_index()
