"""One (replication, month) of a budget: simulate its sample of days, scale it to the month, price it.

The task an executor runs (:func:`budget_month`) returns one row per pool (the ``budget_months``
table, docs/budget.md): the plan's factors, the scaled counts, hours and minutes, and the money.
Counts, paid hours, billed minutes and the cost of poor service of the sampled days are multiplied
by ``days / sampled_days``; the invoice is then priced as one whole calendar month (``month_frac``
1: the fee, included minutes, tier bounds and minimum are per month) under the escalated contract.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from experiments.budget.plan import MonthPlan, escalated, escalation_factor, planned_scenario, sample_settings
from experiments.results.pricing import labour_table
from experiments.results.quality import quality_table
from models.contracts import Contract
from models.invoicing import invoice, minutes_of
from models.pools import Pool
from models.scenario import Scenario
from sim.replication import Replication, simulate

#: the scaled counts of a pool's month (from the intervals and contacts tables)
COUNTS = ("offered_n", "answered_n")
CONTACT_COUNTS = ("lost_n", "redial_n", "repeat_n", "wait_s")
INVOICE_LINES = ("billed_min", "fixed_cost", "usage_cost", "floor_cost", "credit_cost", "invoice_cost")
MONEY = ("labour_cost", "invoice_cost", "overhead_cost", "quality_cost", "total_cost")


def budget_month(scenario: Scenario, plan: MonthPlan, seed: int) -> pd.DataFrame:
    """Simulate, scale and price one (replication, month) of ``scenario``: one row per pool."""
    month = planned_scenario(scenario, plan)
    replication = simulate(month, sample_settings(plan, seed), plan.sim_rep)
    return month_rows(month, plan, replication)


def month_rows(scenario: Scenario, plan: MonthPlan, sampled: Replication) -> pd.DataFrame:
    """The rows of one month from the replication that sampled it (``scenario``: the month's)."""
    scale = plan.scale
    counts = sampled.intervals.groupby("pool", observed=True)[list(COUNTS)].sum()
    labour = labour_table(sampled.intervals, scenario).set_index("pool")
    contacts = sampled.contacts.groupby("pool", observed=True)[list(CONTACT_COUNTS)].sum()
    quality = quality_table(sampled.contacts, scenario).set_index("pool")["quality_cost"]
    usage = sampled.usage.groupby("pool")[["answered_n", "billed_increments_n", "sla_offered_n", "sla_met_n"]].sum()
    rows = []
    for pool in scenario.pools:
        row: dict[str, Any] = _plan_columns(plan) | {"pool": pool.name, "kind": pool.kind}
        row |= {name: float(counts.at[pool.name, name]) * scale if pool.name in counts.index else 0.0
                for name in COUNTS}
        row["paid_h"] = float(labour.at[pool.name, "paid_h"]) * scale
        row["labour_cost"] = float(labour.at[pool.name, "labour_cost"]) * scale
        row |= _invoice_columns(pool, usage.loc[pool.name] if pool.name in usage.index else None, plan)
        row["overhead_cost"] = overhead_cost(pool, plan.month)
        row |= {name: float(contacts.at[pool.name, name]) * scale if pool.name in contacts.index else 0.0
                for name in CONTACT_COUNTS}
        row["quality_cost"] = float(quality.get(pool.name, 0.0)) * scale
        row["total_cost"] = row["labour_cost"] + row["invoice_cost"] + row["overhead_cost"] + row["quality_cost"]
        rows.append(row)
    return pd.DataFrame(rows)


def _plan_columns(plan: MonthPlan) -> dict[str, Any]:
    return {"rep": plan.rep, "month": plan.month, "calendar_month": plan.calendar_month, "label": plan.label,
            "days_n": plan.days_n, "sampled_days_n": plan.sampled_days_n, "scale": plan.scale,
            "forecast_factor": plan.forecast_factor, "forecast_error": plan.forecast_error,
            "volume_factor": plan.volume_factor}


def _invoice_columns(pool: Pool, usage: pd.Series | None, plan: MonthPlan) -> dict[str, Any]:
    """The month's invoice of a BPO pool (zeros for an in-house pool): escalation, lines, SLA, tier."""
    if pool.contract is None:
        return {"escalation_factor": 1.0} | dict.fromkeys(INVOICE_LINES, 0.0) | {"sla_frac": math.nan, "tier": -1}
    factor = escalation_factor(pool.contract, plan.month)
    contract = escalated(pool.contract, factor)
    answered, increments, offered, met = (0.0, 0.0, 0.0, 0.0) if usage is None else (
        float(usage["answered_n"]), float(usage["billed_increments_n"]), float(usage["sla_offered_n"]),
        float(usage["sla_met_n"]))
    minutes = minutes_of(increments, int(answered), contract) * plan.scale
    service_level = met / offered if contract.sla is not None and offered > 0 else None
    lines = invoice(contract, minutes, 1.0, service_level)
    return {"escalation_factor": factor} | {name: getattr(lines, name) for name in INVOICE_LINES} | {
        "sla_frac": lines.service_level_frac, "tier": tier_of(contract, minutes)}


def tier_of(contract: Contract, billed_min: float) -> int:
    """The tier (0, 1, ...) a whole month's billed minutes end in, after the included minutes
    (tier ``i`` holds billable minutes in ``(bound[i-1], bound[i]]``); -1 for a contract without tiers."""
    billable = max(0.0, billed_min - contract.included_min)
    for i, tier in enumerate(contract.tiers):
        if tier.up_to_min is None or billable <= tier.up_to_min:
            return i
    return -1


def overhead_cost(pool: Pool, month: int) -> float:
    """The pool's fixed cost in budget month ``month``: ``overhead_per_month`` every calendar month,
    plus ``transition_cost / amortise_months`` while the transition is amortised (a part month pro rata)."""
    share = min(1.0, max(0.0, pool.amortise_months - month))
    return pool.overhead_per_month + pool.transition_cost / pool.amortise_months * share
