"""Running one scenario for several replications and assembling its priced tables."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from experiments.pricing import invoices_table, pool_costs
from experiments.summary import summarize_frame
from models.metrics import COUNT_COLUMNS, add_rates
from models.scenario import Scenario
from models.settings import RunSettings
from sim.replication import Replication, simulate
from sim.usage import usage_from_calls

RUN_METRICS = ["offered_n", "answered_n", "abandoned_n", "blocked_n", "sl_frac", "asa_s",
               "abandon_frac", "p_wait_frac", "occupancy_frac", "labour_cost", "vendor_cost",
               "total_cost", "cost_per_call", "monthly_cost"]
ALL_POOLS = "all"


@dataclass
class ScenarioResult:
    """Every table of one scenario's replications (see docs/results.md for the columns)."""

    scenario: Scenario
    settings: RunSettings
    calls: pd.DataFrame | None
    intervals: pd.DataFrame
    usage: pd.DataFrame
    invoices: pd.DataFrame
    pool_runs: pd.DataFrame
    runs: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Mean, sd and CI per pool (and ``all``) and metric."""
        frame = pd.concat([self.pool_runs, self.runs.assign(pool=ALL_POOLS)], ignore_index=True)
        return summarize_frame(frame, "pool", RUN_METRICS, level).rename(columns={"group": "pool"})


def run_scenario(scenario: Scenario, settings: RunSettings) -> ScenarioResult:
    """Simulate ``settings.reps`` replications of ``scenario`` one after another and price them."""
    reps = [simulate(scenario, settings, rep) for rep in range(settings.reps)]
    return assemble(scenario, settings, reps)


def assemble(scenario: Scenario, settings: RunSettings, reps: list[Replication]) -> ScenarioResult:
    """Priced tables from finished replications."""
    calls = pd.concat([r.calls for r in reps], ignore_index=True) if settings.keep_calls else None
    intervals = pd.concat([r.intervals for r in reps], ignore_index=True)
    usage = pd.concat([r.usage for r in reps], ignore_index=True)
    return _priced(scenario, settings, calls, intervals, usage)


def _priced(scenario: Scenario, settings: RunSettings, calls: pd.DataFrame | None,
            intervals: pd.DataFrame, usage: pd.DataFrame) -> ScenarioResult:
    invoices = invoices_table(usage, scenario, settings.warmup_s, settings.horizon_s)
    pool_runs, runs = run_tables(intervals, invoices, scenario, settings)
    return ScenarioResult(scenario, settings, calls, intervals, usage, invoices, pool_runs, runs)


def _without_money(scenario: Scenario) -> Scenario:
    pools = tuple(replace(p, wage_per_h=0.0, burden=1.0, contract=None) for p in scenario.pools)
    return replace(scenario, pools=pools, currency="", name="", source="")


def reprice(result: ScenarioResult, scenario: Scenario) -> ScenarioResult:
    """The same simulated calls priced under ``scenario``'s wages, burdens, contracts and currency.

    Nothing is simulated again; ``scenario`` must differ from the simulated one only in money
    (ValueError otherwise), e.g. built with :func:`experiments.pricing.reprice_pools`.
    """
    if _without_money(scenario) != _without_money(result.scenario):
        raise ValueError("reprice: the scenario differs in more than wages, burdens and contracts; simulate it instead")
    usage = result.usage
    if _billing_rules(scenario) == _billing_rules(result.scenario):
        pass  # the same quantities are billed: only their prices change
    elif result.calls is not None:
        usage = usage_from_calls(result.calls, scenario, result.settings.warmup_s, result.settings.horizon_s)
    else:
        raise ValueError("reprice: new billing increments, wrap minutes or SLA thresholds need the calls table "
                         "(run without --no-calls)")
    return _priced(scenario, result.settings, result.calls, result.intervals, usage)


def _billing_rules(scenario: Scenario) -> list:
    """What the usage table depends on: each contract's increment, wrap minutes and SLA threshold."""
    return [(p.contract.billing_increment_s, p.contract.wrap_min_per_call,
             p.contract.sla.threshold_s if p.contract.sla else None) if p.contract else None
            for p in scenario.pools]


def run_tables(intervals: pd.DataFrame, invoices: pd.DataFrame, scenario: Scenario,
               settings: RunSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (rep, pool) and per rep: counts, rates and costs."""
    sums = ["staffed_s", "busy_s", *COUNT_COLUMNS]
    by_pool = intervals.groupby(["rep", "pool"], observed=True, sort=False, as_index=False)[sums].sum()
    by_pool = add_rates(by_pool).merge(pool_costs(intervals, invoices, scenario), on=["rep", "pool"])
    totals = by_pool.groupby("rep", as_index=False)[[*sums, "labour_cost", "vendor_cost", "total_cost"]].sum()
    totals = add_rates(totals)
    measured_days = (settings.horizon_s - settings.warmup_s) / 86400.0
    for frame in (by_pool, totals):
        frame["cost_per_call"] = frame["total_cost"] / frame["answered_n"].where(frame["answered_n"] > 0)
        frame["monthly_cost"] = frame["total_cost"] * (30.0 / measured_days)
    return by_pool, totals
