"""A budget's tasks on an executor: every (replication, month), in task order whatever finished first."""

from __future__ import annotations

import pandas as pd

from experiments.budget.month import budget_month
from experiments.budget.plan import WARMUP_DAYS, month_plans
from experiments.optimise import vendor
from experiments.running.executors import Executor, make_executor
from experiments.running.progress import Progress
from models.budget import BudgetCalendar
from models.scenario import Scenario
from models.settings import RunSettings


def run_budget(scenario: Scenario, months: int = 12, reps: int = 20, sample: str = "7", seed: int = 12345,
               executor: Executor | None = None, progress: bool | None = None) -> pd.DataFrame:
    """The ``budget_months`` table of ``scenario``: one row per (replication, month, pool).

    The scenario's ``[calendar]`` (defaults without one) sets the months' volumes;
    ``sample``: days measured per month, "7", "14", "21", "28" or "full". ``executor``: where the
    tasks run (default: a process per core, closed at the end; one passed in is left open).
    ``progress``: a bar on stderr (default: when stderr is a terminal). Vendor-staffed pools are
    planned once, at the scenario's own volume (:func:`vendor_planned`), and then scaled with the
    forecast like every other pool's agents.
    """
    plans = month_plans(scenario.calendar or BudgetCalendar(), months, reps, seed, sample)
    runner = make_executor(tasks=len(plans)) if executor is None else executor
    bar = Progress(len(plans), label="budget", enabled=progress)
    frames: list[pd.DataFrame | None] = [None] * len(plans)
    try:
        scenario = vendor_planned(scenario, reps, seed, plans[0].sampled_days_n, runner)
        for k, rows in runner.run(budget_month, [(scenario, plan, seed) for plan in plans]):
            frames[k] = rows
            bar.advance()
    finally:
        bar.close()
        if executor is None:
            runner.close()
    return pd.concat(frames, ignore_index=True)


def vendor_planned(scenario: Scenario, reps: int, seed: int, days: int, executor: Executor) -> Scenario:
    """``scenario`` with its vendor-staffed pools planned by the vendor at the scenario's own volume
    (the year's average month), on replications of a sampled month (``days`` after the warm-up)."""
    if all(p.planned for p in scenario.pools):
        return scenario
    settings = RunSettings(reps=reps, seed=seed, days=WARMUP_DAYS + days, warmup_h=WARMUP_DAYS * 24.0,
                           keep_calls=False)
    return vendor.plan(scenario, settings, executor)
