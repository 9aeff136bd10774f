"""Equal-service studies: each point of a study with a :class:`~experiments.optimise.goal.Goal` is
staffed by the optimiser to the goal's targets before it is run, so options are compared at the
same service (issue 11, item 4).

One task per point runs the whole search for that point in one process (the search's own
evaluations run serially there), so points spread over the executor's workers, locally or on Dask,
and the answer does not depend on where it ran: each search uses the run's seed plus
:data:`~experiments.optimise.goal.SEARCH_SEED_OFFSET` (never the seed of the replications then
reported) and its re-checks the seeds after that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from experiments.optimise.evaluate import WHOLE, staffed
from experiments.optimise.goal import SEARCH_SEED_OFFSET, Goal
from experiments.optimise.output import agents_text
from experiments.optimise.search import NoStaffing, Outcome, Problem, optimise
from experiments.optimise.shifts import plan_shifts
from experiments.optimise.targets import parse_targets
from experiments.running.executors import Executor, SerialExecutor
from experiments.running.progress import Progress
from experiments.study.points import SweepPoint
from models.scenario import Scenario, Staffing
from models.settings import RunSettings

#: one row per (point, varied pool) in ``optimised.csv`` (docs/results.md)
OPTIMISED_COLUMNS = ["scenario_id", "option", "study", "pool", "agents", "agent_h_per_day", "goal",
                     "evaluations_n", "simulated_days", "recheck_worst_target", "recheck_worst_mean",
                     "recheck_min_sure_frac", "recheck_means_met"]


@dataclass(frozen=True)
class PointOutcome:
    """What the search found for one point: its staffing and a few facts about the search."""

    staffing: dict[str, tuple[int, ...]]
    evaluations_n: int
    simulated_days: float
    worst: tuple[str, float, float, bool]
    """(target and interval, fresh mean, min sure_frac, every fresh mean met) on the last re-check."""
    scenario: Scenario
    """The point's scenario with that staffing (and the shift plans of pools with shift templates)."""


def problem_of(point: SweepPoint, goal: Goal, seed: int) -> Problem:
    """The optimisation problem of ``point`` under ``goal``, searched on ``seed``."""
    targets, vary = parse_targets(goal.targets, goal.vary or None, point.scenario, label="target",
                                  per_interval=goal.per_interval)
    settings = RunSettings(reps=goal.reps, seed=seed, days=goal.days, warmup_h=goal.warmup_h, keep_calls=False)
    return Problem(point.scenario, targets, vary, settings, goal.per_interval, goal.confidence, goal.max_agents,
                   simultaneous=goal.simultaneous)


def optimise_point(point: SweepPoint, goal: Goal, seed: int) -> PointOutcome:
    """Run the search for one point, serially in this process (a worker's task)."""
    problem = problem_of(point, goal, seed)
    try:
        with SerialExecutor() as executor:
            outcome = optimise(problem, executor, progress=False)
            shifted = plan_shifts(problem, outcome, executor) if goal.per_interval else None
    except NoStaffing as exc:
        raise NoStaffing(f"{point.scenario_id}: {exc}") from None
    scenario = staffed(point.scenario, outcome.staffing) if shifted is None else shifted.scenario
    outcome = outcome if shifted is None else shifted.outcome
    measured = problem.settings.reps * problem.settings.days
    return PointOutcome(dict(outcome.staffing), len(outcome.log), measured * len(outcome.log), _worst(outcome),
                        scenario)


def _worst(outcome: Outcome) -> tuple[str, float, float, bool]:
    estimates = outcome.recheck.estimates
    if not estimates:
        return ("", math.nan, math.nan, True)
    worst = min(estimates, key=lambda e: 2.0 if math.isnan(e.sure_frac) else e.sure_frac)  # nan: 1 replication
    where = "" if worst.interval == WHOLE else f" interval {worst.interval}"
    return (f"{worst.target.text}{where}", worst.mean, worst.sure_frac, all(e.mean_met for e in estimates))


def equal_service(points: Sequence[SweepPoint], settings: RunSettings, executor: Executor,
                  progress: bool | None = None) -> tuple[list[SweepPoint], pd.DataFrame, dict[str, Staffing]]:
    """The points with every goal's point staffed by the optimiser, the ``optimised`` table and
    the staffing found (the varied pools' agents) by scenario id (not for points whose pools got
    shift plans: those are not rebuilt from their files by ``read_results``).

    With ``per_interval``, varied in-house pools with shift templates get the cheapest covering
    shifts, checked and repaired by simulation (experiments/optimise/shifts.py), as ``bposim
    optimise`` does; the point is then paid by its shifts.

    Points without a goal are returned as they are. ``progress``: a bar of the points being
    optimised on stderr (None: when stderr is a terminal).
    """
    todo = [i for i, p in enumerate(points) if p.goal is not None]
    seed = settings.seed + SEARCH_SEED_OFFSET
    tasks = [(points[i], points[i].goal, seed) for i in todo]
    found: dict[int, PointOutcome] = {}
    bar = Progress(len(tasks), label="equal-service staffing", enabled=progress)
    try:
        for k, outcome in executor.run(optimise_point, tasks):
            found[todo[k]] = outcome
            bar.advance()
    finally:
        bar.close()
    out = list(points)
    rows = []
    for i, outcome in sorted(found.items()):
        point = points[i]
        out[i] = replace(point, scenario=outcome.scenario)
        rows += _rows(point, outcome)
    staffing: dict[str, Staffing] = {points[i].scenario_id: outcome.staffing for i, outcome in found.items()
                                     if not any(p.shift_plan for p in outcome.scenario.pools)}
    return out, pd.DataFrame(rows, columns=OPTIMISED_COLUMNS), staffing


def _rows(point: SweepPoint, outcome: PointOutcome) -> list[list[object]]:
    interval_h = point.scenario.interval_s / 3600.0
    assert point.goal is not None
    return [[point.scenario_id, point.option, point.study, name, agents_text({name: agents}),
             sum(agents) * interval_h, point.goal.text, outcome.evaluations_n, outcome.simulated_days,
             *outcome.worst] for name, agents in outcome.staffing.items()]
