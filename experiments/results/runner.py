"""Run points (or one scenario) for their replications, price them, and return the one :class:`Result`.

The same (seed, rep) gives the same arrivals in every scenario (common random numbers), so
:meth:`Result.paired_differences` measures a difference between two scenarios from the
per-replication pairs, with a much tighter interval than two separate intervals would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from experiments.results.folder import write_results
from experiments.results.meta import build_meta
from experiments.results.pricing import priced_tables
from experiments.results.result import Result
from experiments.results.tables import TABLES, concat_tables, points_frame, with_ids
from experiments.running.executors import Executor, make_executor
from experiments.running.store import ResultStore
from experiments.running.tasks import Task, run_tasks
from experiments.study.points import SweepPoint
from models.scenario import Scenario, Staffing
from models.settings import RunSettings
from sim.replication import Replication


def as_points(what: Scenario | Sequence[SweepPoint]) -> list[SweepPoint]:
    """Points to run: a scenario is a batch of one point, its own option (id = its name)."""
    if isinstance(what, Scenario):
        return [SweepPoint(what.name, what.name, what)]
    return list(what)


def run(what: Scenario | Sequence[SweepPoint], settings: RunSettings, executor: Executor | None = None,
        out: Path | None = None, progress: bool | None = None, name: str = "") -> Result:
    """Simulate ``settings.reps`` replications of every point (or of one scenario) and price them.

    A point with a vendor-staffed pool not planned yet is first planned by the vendor, on its own
    replications (experiments/optimise/vendor.py); the Result's points are the planned ones, its
    meta records the points as asked (so that a results folder's points rebuild from their files).

    ``executor``: where tasks run (default: a process per core, closed at the end; an executor
    passed in is left open). ``out``: a folder where each finished task is saved at once and the
    final tables at the end; a run in a folder that holds the same points resumes it
    (StoreMismatchError if it holds others). ``progress``: a progress bar on stderr (default: when
    stderr is a terminal). ``name`` labels the run in the folder and the meta record.
    """
    from experiments.optimise.vendor import needs_plan, vendor_staffed  # here: the optimiser runs through run()

    asked = as_points(what)
    goals = any(p.goal is not None for p in asked)
    own = executor is None and (needs_plan(asked) or goals)
    executor = make_executor() if own else executor
    try:
        planned = vendor_staffed(asked, settings, executor)
        points, optimised, found = _equal_service(planned, settings, executor, progress)
        store = ResultStore.open(Path(out), points, settings, name) if out is not None else None
        done, counts = run_tasks(points, settings, executor, store, progress, label=name or "tasks")
    finally:
        if own and executor is not None:
            executor.close()
    result = assemble(points, settings, _by_point(done, len(points), settings.reps))
    result.meta = build_meta(asked, settings, name, counts, staffing=found)
    result.optimised = optimised
    if out is not None:
        write_results(result, Path(out))
    return result


def _equal_service(points: list[SweepPoint], settings: RunSettings, executor: Executor | None,
                   progress: bool | None) -> tuple[list[SweepPoint], pd.DataFrame | None, dict[str, Staffing]]:
    """Points of equal-service studies staffed by the optimiser (experiments/optimise/study.py),
    the ``optimised`` table and the staffing found per scenario id (none without such studies)."""
    if not any(p.goal is not None for p in points):
        return points, None, {}
    from experiments.optimise.study import equal_service

    assert executor is not None  # run() makes one when there are goals
    return equal_service(points, settings, executor, progress)


def _by_point(done: Mapping[Task, Replication], n_points: int, reps: int) -> list[list[Replication]]:
    return [[done[(i, rep)] for rep in range(reps)] for i in range(n_points)]


def assemble(what: Scenario | Sequence[SweepPoint], settings: RunSettings,
             replications: Sequence[Sequence[Replication]]) -> Result:
    """The priced Result of finished replications (one list, in replication order, per point)."""
    points = as_points(what)
    info = points_frame(points)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    for i, (point, reps) in enumerate(zip(points, replications, strict=True)):
        tables = {"intervals": pd.concat([r.intervals for r in reps], ignore_index=True),
                  "usage": pd.concat([r.usage for r in reps], ignore_index=True),
                  "contacts": pd.concat([r.contacts for r in reps], ignore_index=True)}
        if settings.keep_calls:
            tables["calls"] = pd.concat([r.calls for r in reps], ignore_index=True)
        tables |= priced_tables(point.scenario, settings, tables["intervals"], tables["usage"], tables["contacts"])
        for name, table in tables.items():
            parts[name].append(with_ids(table, info, i))
    tables = {name: concat_tables(frames) if frames else None for name, frames in parts.items()}
    return Result(points, settings, **tables)
