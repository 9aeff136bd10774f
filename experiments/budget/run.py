"""A budget's tasks on an executor: every (replication, month), in task order whatever finished first."""

from __future__ import annotations

import pandas as pd

from experiments.budget.month import budget_month
from experiments.budget.plan import month_plans
from experiments.running.executors import Executor, make_executor
from experiments.running.progress import Progress
from models.budget import BudgetCalendar
from models.scenario import Scenario


def run_budget(scenario: Scenario, months: int = 12, reps: int = 20, sample: str = "7", seed: int = 12345,
               executor: Executor | None = None, progress: bool | None = None) -> pd.DataFrame:
    """The ``budget_months`` table of ``scenario``: one row per (replication, month, pool).

    The scenario's ``[calendar]`` (defaults without one) sets the months' volumes;
    ``sample``: days measured per month, "7", "14", "21", "28" or "full". ``executor``: where the
    tasks run (default: a process per core, closed at the end; one passed in is left open).
    ``progress``: a bar on stderr (default: when stderr is a terminal).
    """
    plans = month_plans(scenario.calendar or BudgetCalendar(), months, reps, seed, sample)
    runner = make_executor(tasks=len(plans)) if executor is None else executor
    bar = Progress(len(plans), label="budget", enabled=progress)
    frames: list[pd.DataFrame | None] = [None] * len(plans)
    try:
        for k, rows in runner.run(budget_month, [(scenario, plan, seed) for plan in plans]):
            frames[k] = rows
            bar.advance()
    finally:
        bar.close()
        if executor is None:
            runner.close()
    return pd.concat(frames, ignore_index=True)
