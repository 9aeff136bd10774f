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

from experiments.budget.plan import (
    MonthPlan,
    escalated_scenario,
    escalation_factor,
    planned_scenario,
    sample_settings,
)
from experiments.results.pricing import INVOICE_COLUMNS, invoices_table, labour_table
from experiments.results.quality import quality_table
from models.billing import BILLING_MONTH_S
from models.pools import Pool
from models.scenario import Scenario
from sim.replication import Replication, simulate
from sim.usage import USAGE_COLUMNS

#: the scaled counts of a pool's month, from the intervals and the contacts tables
COUNTS = ("offered_n", "answered_n")
CONTACT_COUNTS = ("resolved_n", "lost_n", "redial_n", "repeat_n", "wait_s")
#: what a BPO pool's sampled usage holds (summed over its billing months and scaled)
USAGE_COUNTS = tuple(c for c in USAGE_COLUMNS if c not in ("rep", "pool", "client", "month"))
#: the invoice columns of a month (docs/results.md, ``invoices``); its counts come from COUNTS
INVOICE_LINES = tuple(c for c in INVOICE_COLUMNS if c not in ("rep", "pool", "client", "own_client", "month",
                                                              "month_frac", "paid_h", "answered_n", "resolved_n"))
MONEY = ("labour_cost", "invoice_cost", "overhead_cost", "quality_cost", "total_cost")
#: invoice columns that are measurements, not money: NaN on an in-house pool's row
NOT_MONEY = ("sla_frac", "asa_s", "abandon_frac", "resolution_frac")


def budget_month(scenario: Scenario, plan: MonthPlan, seed: int) -> pd.DataFrame:
    """Simulate, scale and price one (replication, month) of ``scenario``: one row per pool."""
    month = planned_scenario(scenario, plan)
    replication = simulate(month, sample_settings(plan, seed), plan.sim_rep)
    return month_rows(month, plan, replication)


def month_rows(scenario: Scenario, plan: MonthPlan, sampled: Replication) -> pd.DataFrame:
    """The rows of one month from the replication that sampled it (``scenario``: the month's)."""
    counts = scaled_counts(scenario, sampled, plan.scale)
    invoices = month_invoices(scenario, plan, sampled.usage)
    invoices = invoices[invoices["own_client"]].set_index("pool")  # ours: the client's budget
    rows = []
    for pool in scenario.pools:
        row: dict[str, Any] = _plan_columns(plan) | {"pool": pool.name, "kind": pool.kind}
        row |= counts.loc[pool.name].to_dict()
        if pool.contract is not None:
            row["escalation_factor"] = escalation_factor(pool.contract, plan.month)
            row |= invoices.loc[pool.name, list(INVOICE_LINES)].to_dict()
        else:  # in-house (wages are not escalated), or serving other clients only: no invoice of ours
            row["escalation_factor"] = 1.0
            row |= {name: math.nan if name in NOT_MONEY else 0.0 for name in INVOICE_LINES}
        row["overhead_cost"] = overhead_cost(pool, plan.month)
        row["total_cost"] = row["labour_cost"] + row["invoice_cost"] + row["overhead_cost"] + row["quality_cost"]
        rows.append(row)
    return pd.DataFrame(rows).astype({"tier_n": "int64"})


def scaled_counts(scenario: Scenario, sampled: Replication, scale: float) -> pd.DataFrame:
    """Per pool (index): offered and answered calls, contacts resolved, lost, redialled, repeated,
    seconds waited, paid hours, labour cost and the cost of poor service of the sampled days × ``scale``;
    the calls and contacts of the scenario's own client's call types only (as ``pool_runs`` counts
    them: with another client's call types, from the contacts rows of ours)."""
    names = pd.Index([p.name for p in scenario.pools], name="pool")
    intervals = sampled.intervals.assign(pool=sampled.intervals["pool"].astype(str))
    contacts = sampled.contacts.assign(pool=sampled.contacts["pool"].astype(str))
    others = [ct.name for ct in scenario.demand if ct.client]
    if others:
        contacts = contacts[~contacts["call_type"].astype(str).isin(others)]
    calls = contacts if others else intervals  # one client: the intervals' counts, as before
    parts = [calls.groupby("pool")[list(COUNTS)].sum(),
             contacts.groupby("pool")[list(CONTACT_COUNTS)].sum(),
             labour_table(intervals, scenario).set_index("pool")[["paid_h", "labour_cost"]],
             quality_table(contacts, scenario).set_index("pool")[["quality_cost"]]]
    return pd.concat([part.reindex(names) for part in parts], axis=1).fillna(0.0).astype(float) * scale


def month_invoices(scenario: Scenario, plan: MonthPlan, usage: pd.DataFrame) -> pd.DataFrame:
    """The month's invoice of every BPO pool (results/pricing.py's ``invoices`` rows): its sampled
    usage summed over billing months, × ``plan.scale``, priced as one whole month (``month_frac`` 1)
    under the contracts escalated to the month. Counts stay fractional; only the wrap-up minutes
    count whole answered calls (``minutes_of``), a difference below one call's wrap-up."""
    counts = usage.groupby(["pool", "client"], sort=False)[list(USAGE_COUNTS)].sum() * plan.scale
    whole = counts.reset_index().assign(rep=plan.rep, month=0)
    return invoices_table(whole, escalated_scenario(scenario, plan.month), 0.0, BILLING_MONTH_S)


def _plan_columns(plan: MonthPlan) -> dict[str, Any]:
    return {"rep": plan.rep, "month": plan.month, "calendar_month": plan.calendar_month, "label": plan.label,
            "days_n": plan.days_n, "sampled_days_n": plan.sampled_days_n, "scale": plan.scale,
            "forecast_factor": plan.forecast_factor, "forecast_error": plan.forecast_error,
            "volume_factor": plan.volume_factor}


def overhead_cost(pool: Pool, month: int) -> float:
    """The pool's fixed cost in budget month ``month``: ``overhead_per_month`` every calendar month,
    plus ``transition_cost / amortise_months`` while the transition is amortised (a part month pro rata)."""
    share = min(1.0, max(0.0, pool.amortise_months - month))
    return pool.overhead_per_month + pool.transition_cost / pool.amortise_months * share
