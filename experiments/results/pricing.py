"""Money, computed after the run from its tables, so one simulation can be re-priced many times.

- in-house pools: paid agent-hours (scheduled, or a shift plan's) × wage_per_h × burden;
- BPO pools whose vendor wage is known, the vendor's side (not the client's cost): its scheduled
  agent-hours × its own wage_per_h × burden, and its margin, all its clients' invoices minus that
  labour (experiments/results/vendor.py has the vendor's table);
- BPO pools: one invoice per client and billing month (30 simulated days from the end of the
  warm-up) under the pool's contract with that client, for that client's calls only: pro-rated
  monthly fee, billed minutes of the calls it answered, its paid agent-hours (its share of them at
  a pool serving several clients), answered calls and resolved contacts at their prices, the
  floor, and SLA credits and bonuses on the month's measured metrics.

The quantities billed come from the ``usage`` table of the run (sim/usage.py). The client's costs
(``vendor_cost``, ``total_cost`` and every total) count the scenario's own client's invoices only;
another client's invoices are the vendor's revenue, not ours. The pool's SLA
service level counts the calls last offered to the pool (not blocked, not unfinished): answered by
it within ``threshold_s`` of being offered to it (``pool_wait_s``) over all of them.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from experiments.results.clients import clients_table
from experiments.results.quality import QUALITY_COLUMNS, add_quality, add_totals
from experiments.results.vendor import revenue, vendor_rates, vendor_table
from models.billing import billing_months
from models.contracts import Contract
from models.invoicing import invoice, minutes_of
from models.loading_clients import check_own_contracts
from models.metrics import COUNT_COLUMNS, add_rates
from models.pools import Pool
from models.quality import QualityCosts
from models.scenario import Scenario
from models.settings import RunSettings
from models.shifts import pay_by_start

#: the SLA metrics' measured values and the column of each one's credit or bonus
SLA_COST_COLUMNS = {"sl_frac": "sla_sl_cost", "asa_s": "sla_asa_cost", "abandon_frac": "sla_abandon_cost",
                    "resolution_frac": "sla_resolution_cost"}
INVOICE_COLUMNS = ["rep", "pool", "client", "own_client", "month", "month_frac", "billed_min", "paid_h", "answered_n",
                   "resolved_n",
                   "fixed_cost", "usage_cost", "hourly_cost", "calls_cost", "resolved_cost", "floor_cost",
                   "credit_cost", "bonus_cost", "invoice_cost", "tier_n", "sla_frac", "asa_s", "abandon_frac",
                   "resolution_frac", *SLA_COST_COLUMNS.values()]
_WHOLE = {"rep", "month", "answered_n", "resolved_n", "tier_n"}


def invoices_table(usage: pd.DataFrame, scenario: Scenario, warmup_s: float, horizon_s: float) -> pd.DataFrame:
    """One invoice per row of the usage table (rep, BPO pool, client, month) under ``scenario``'s
    contracts: the pool's ``contract`` for the scenario's own client, ``contracts.<client>`` for another."""
    fracs = billing_months(warmup_s, horizon_s)
    rows = []
    for row in usage.itertuples(index=False):
        client = "" if row.client == scenario.name else str(row.client)
        contract = scenario.pool(row.pool).contract_for(client)
        if contract is None:  # usage rows are made for a pool's clients only (sim/usage.py)
            raise ValueError(f"usage row of pool {row.pool!r} and client {row.client!r}, which has no contract there")
        minutes = minutes_of(float(row.billed_increments_n), int(row.answered_n), contract)
        measured = {"asa_s": _ratio(row.wait_answered_s, row.answered_n),
                    "abandon_frac": _ratio(row.abandoned_n, row.sla_offered_n),
                    "resolution_frac": _ratio(row.resolved_n, row.answered_n)}
        sl = _ratio(row.sla_met_n, row.sla_offered_n) if contract.sl_threshold_s is not None else None
        lines = invoice(contract, minutes, fracs[row.month], sl, paid_h=float(row.paid_h),
                        calls_n=float(row.answered_n), resolved_n=float(row.resolved_n), measured=measured)
        rows.append([row.rep, row.pool, row.client, not client, row.month, fracs[row.month], lines.billed_min,
                     row.paid_h, row.answered_n, row.resolved_n, lines.fixed_cost, lines.usage_cost,
                     lines.hourly_cost, lines.calls_cost, lines.resolved_cost, lines.floor_cost, lines.credit_cost,
                     lines.bonus_cost, lines.invoice_cost, lines.tier_n, lines.service_level_frac,
                     *(measured[name] for name in ("asa_s", "abandon_frac", "resolution_frac")),
                     *(lines.sla_by_metric.get(metric, 0.0) for metric in SLA_COST_COLUMNS)])
    frame = pd.DataFrame(rows, columns=INVOICE_COLUMNS)
    return frame.astype({name: (np.int64 if name in _WHOLE else float) for name in INVOICE_COLUMNS
                         if name not in ("pool", "client", "own_client")} | {"client": object, "own_client": bool})


def _ratio(part: float, whole: float) -> float:
    """``part / whole``, nan when ``whole`` is 0."""
    return float(part) / float(whole) if whole > 0 else math.nan


def labour_table(intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Labour cost per (rep, pool) of the in-house pools: paid hours × wage × burden. Paid hours
    are scheduled agents × interval length, or for a pool with a ``shift_plan`` the shifts' paid
    hours (models/shifts.py: breaks paid), counted in the interval each shift starts, on open days."""
    hours = intervals["scheduled_n"] * (scenario.interval_s / 3600.0)
    planned = [p for p in scenario.pools if p.shift_plan]
    if planned:
        hours = hours.astype(float).copy()
        for pool in planned:
            rows = (intervals["pool"] == pool.name).to_numpy()
            hours[rows] = shift_paid_hours(intervals[rows], pool, scenario.interval_min)
    frame = intervals.assign(paid_h=hours).groupby(["rep", "pool"], observed=True, as_index=False)["paid_h"].sum()
    rate = {p.name: p.wage_per_h * p.burden if p.kind == "inhouse" else 0.0 for p in scenario.pools}
    frame["labour_cost"] = frame["paid_h"] * frame["pool"].map(rate).astype(float)
    return frame


def shift_paid_hours(rows: pd.DataFrame, pool: Pool, interval_min: int) -> np.ndarray:
    """Paid agent-hours of ``pool``'s shifts starting in each of its ``intervals`` rows (h): the
    plan's pay by start interval of the day, on the pool's open days (weekday of ``day``) only."""
    per_day = 1440 // interval_min
    pay = pay_by_start(pool.shift_plan, interval_min)[rows["interval"].to_numpy() % per_day]
    open_day = np.isin(rows["day"].to_numpy() % 7, pool.open_days)
    paid: np.ndarray = np.where(open_day, pay, 0.0)
    return paid


def pool_costs(intervals: pd.DataFrame, invoices: pd.DataFrame, scenario: Scenario, months: float) -> pd.DataFrame:
    """Per (rep, pool): labour_cost, vendor_cost (the scenario's own client's invoices), the vendor's
    labour and margin (BPO pools with a vendor wage), overhead_cost and total_cost (labour + vendor
    + overhead: the client's).

    ``months``: the measured period in 30-day months (overhead and amortised transition accrue
    per month).
    """
    costs = labour_table(intervals, scenario)
    ours = invoices[invoices["own_client"]] if "own_client" in invoices else invoices
    vendor = ours.groupby(["rep", "pool"], as_index=False)["invoice_cost"].sum()
    vendor = vendor.rename(columns={"invoice_cost": "vendor_cost"})
    costs = costs.merge(vendor, on=["rep", "pool"], how="left")
    costs["vendor_cost"] = costs["vendor_cost"].fillna(0.0)
    costs = add_vendor_labour(costs, scenario, revenue(invoices))
    fixed = {p.name: p.fixed_cost_per_month() * months for p in scenario.pools}
    costs["overhead_cost"] = costs["pool"].map(fixed).astype(float)
    costs["total_cost"] = costs["labour_cost"] + costs["vendor_cost"] + costs["overhead_cost"]
    return costs


def add_vendor_labour(costs: pd.DataFrame, scenario: Scenario, revenue: pd.DataFrame | None = None) -> pd.DataFrame:
    """``costs`` (per rep and pool, with ``paid_h`` and ``vendor_cost``) plus the vendor's side of a
    BPO pool whose vendor wage is known (:func:`vendor_rates`): ``vendor_labour_cost`` (its paid
    agent-hours × its own wage × burden, not billed to the client) and ``vendor_margin_cost`` (all
    its clients' invoices, ``revenue`` per (rep, pool) with ``revenue_cost``, or ``vendor_cost``
    without it, minus that labour); NaN for every other pool."""
    labour = costs["paid_h"] * costs["pool"].map(vendor_rates(scenario)).astype(float)
    income = costs["vendor_cost"]
    if revenue is not None:
        income = costs.merge(revenue, on=["rep", "pool"], how="left")["revenue_cost"].fillna(0.0).set_axis(costs.index)
    return costs.assign(vendor_labour_cost=labour, vendor_margin_cost=income - labour)



def reprice_pools(scenario: Scenario, **changes: dict[str, Any]) -> Scenario:
    """A copy of ``scenario`` whose pools get new field values: ``offshore={"contract": c}``
    (ScenarioError, a ValueError, if our calls would reach a BPO pool left without ``contract``)."""
    pools = tuple(replace(p, **changes.get(p.name, {})) for p in scenario.pools)
    unknown = set(changes) - {p.name for p in scenario.pools}
    if unknown:
        raise KeyError(f"no pool named {', '.join(sorted(unknown))}")
    repriced = replace(scenario, pools=pools)
    check_own_contracts(repriced)
    return repriced


def run_tables(intervals: pd.DataFrame, invoices: pd.DataFrame, contacts: pd.DataFrame, scenario: Scenario,
               settings: RunSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (rep, pool) and per rep: counts, rates, costs and the cost of poor service
    (``pool_runs`` and ``runs``)."""
    sums = ["staffed_s", "busy_s", *COUNT_COLUMNS]
    by_pool = intervals.groupby(["rep", "pool"], observed=True, sort=False, as_index=False)[sums].sum()
    if len(scenario.clients) > 1:
        by_pool = _own_counts(by_pool, contacts, scenario)
    measured_days = (settings.horizon_s - settings.warmup_s) / 86400.0
    by_pool = add_rates(by_pool).merge(pool_costs(intervals, invoices, scenario, measured_days / 30.0),
                                       on=["rep", "pool"])
    by_pool = add_quality(by_pool, contacts, scenario)
    money = ["labour_cost", "vendor_cost", "overhead_cost", "total_cost", *QUALITY_COLUMNS]
    totals = add_rates(by_pool.groupby("rep", as_index=False)[[*sums, *money]].sum())
    per_month = 30.0 / measured_days
    for frame in (by_pool, totals):
        frame["cost_per_call"] = frame["total_cost"] / frame["answered_n"].where(frame["answered_n"] > 0)
        frame["monthly_cost"] = frame["total_cost"] * per_month
        add_totals(frame, per_month)
    return by_pool, totals


def _own_counts(by_pool: pd.DataFrame, contacts: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``by_pool`` (per rep and pool, the intervals' sums) with its call counts (COUNT_COLUMNS) those
    of the scenario's own call types only, from the contacts table (the same counts per call type:
    sim/contacts.py); staffed and busy time stay the pool's."""
    lacking = [name for name in COUNT_COLUMNS if name not in contacts]
    if lacking:
        raise ValueError(f"the contacts table has no {', '.join(lacking)} (written by an older bposim), which the "
                         "counts of the scenario's own calls at a pool serving several clients need; run it again")
    ours = [ct.name for ct in scenario.demand if not ct.client]
    mine = contacts[contacts["call_type"].astype(str).isin(ours)].assign(pool=lambda f: f["pool"].astype(str))
    counts = mine.groupby(["rep", "pool"])[list(COUNT_COLUMNS)].sum()
    keys = pd.MultiIndex.from_arrays([by_pool["rep"], by_pool["pool"].astype(str)])
    own = counts.reindex(keys, fill_value=0).set_axis(by_pool.index)
    return by_pool.assign(**{name: own[name].astype(by_pool[name].dtype) for name in COUNT_COLUMNS})


def priced_tables(scenario: Scenario, settings: RunSettings, intervals: pd.DataFrame,
                  usage: pd.DataFrame, contacts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The money tables of one scenario's replications: ``invoices``, ``clients``, ``vendor``,
    ``pool_runs`` and ``runs``."""
    invoices = invoices_table(usage, scenario, settings.warmup_s, settings.horizon_s)
    pool_runs, runs = run_tables(intervals, invoices, contacts, scenario, settings)
    return {"invoices": invoices, "clients": clients_table(usage, invoices),
            "vendor": vendor_table(intervals, invoices, scenario, settings), "pool_runs": pool_runs, "runs": runs}


def without_money(scenario: Scenario) -> Scenario:
    """``scenario`` with every wage, burden, contract, quality cost, currency and name blanked (what the run saw)."""
    pools = tuple(replace(p, wage_per_h=0.0, burden=1.0, contract=None,
                          contracts=tuple((client, Contract()) for client, _ in p.contracts))
                  for p in scenario.pools)
    demand = tuple(replace(ct, quality=()) for ct in scenario.demand)
    return replace(scenario, pools=pools, demand=demand, quality=QualityCosts(), currency="", name="", source="")


def billing_rules(scenario: Scenario) -> list[tuple[float, float, float | None, str] | None]:
    """What the usage table depends on: each contract's increment, wrap minutes, SLA threshold and
    basis, the pool's own client's first, then its other clients'."""
    return [(c.billing_increment_s, c.wrap_min_per_call, c.sl_threshold_s, c.billing_basis) if c else None
            for p in scenario.pools for c in (p.contract, *(c for _, c in p.contracts))]
