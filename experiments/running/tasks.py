"""Tasks: every (point, replication) of a run, on an executor, each saved to the store as it finishes.

A task is one replication of one point. Tasks run on any executor and in any order; their results
are returned by (point index, replication), so nothing downstream depends on the executor, the
number of workers or the order in which tasks finished. Settings are checked once per point, here,
before anything runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from experiments.running.executors import Executor, make_executor
from experiments.running.progress import Progress
from experiments.running.store import ResultStore
from experiments.study.points import SweepPoint
from models.settings import RunSettings
from sim.replication import Replication, check_settings, simulate

Task = tuple[int, int]
"""(point index, replication)."""


@dataclass(frozen=True)
class TaskCounts:
    """What a run did: tasks in all, computed now, loaded from the store, where they ran, and the
    saved tasks found broken and computed again ``(scenario_id, rep, reason)``."""

    total: int
    computed: int
    loaded: int
    executor: str
    recomputed: tuple[tuple[str, int, str], ...] = ()


def check_points(points: Sequence[SweepPoint], settings: RunSettings) -> None:
    """ValueError (one line) if there is no point, an id appears twice, or the settings do not fit."""
    if not points:
        raise ValueError("no scenarios to run")
    seen: set[str] = set()
    for point in points:
        if point.scenario_id in seen:
            raise ValueError(f"scenario id {point.scenario_id!r} appears twice")
        seen.add(point.scenario_id)
        try:
            check_settings(point.scenario, settings)
        except ValueError as exc:
            raise ValueError(f"{point.scenario_id}: {exc}" if len(points) > 1 else str(exc)) from None


def run_tasks(points: Sequence[SweepPoint], settings: RunSettings, executor: Executor | None = None,
              store: ResultStore | None = None, progress: bool | None = None,
              label: str = "tasks") -> tuple[dict[Task, Replication], TaskCounts]:
    """Every replication of every point: loaded from ``store`` when saved there, else computed.

    ``executor``: where tasks run (default: a process per core, closed at the end; one passed in
    is left open). ``progress``: a progress bar on stderr (default: when stderr is a terminal).
    """
    check_points(points, settings)
    tasks = [(i, rep) for i in range(len(points)) for rep in range(settings.reps)]
    done = _load_saved(store, points, tasks) if store is not None else {}
    pending = [task for task in tasks if task not in done]
    runner = make_executor(tasks=len(pending)) if executor is None else executor
    bar = Progress(len(tasks), len(done), label=label, enabled=progress)
    try:
        args = [(points[i].scenario, settings, rep, False) for i, rep in pending]
        for k, replication in runner.run(simulate, args):
            i, rep = pending[k]
            if replication.rep != rep:
                raise RuntimeError(f"executor returned replication {replication.rep} for task {rep}")
            if store is not None:
                store.save(points[i], replication)
            done[(i, rep)] = replication
            bar.advance()
    finally:
        bar.close()
        if executor is None:
            runner.close()
    loaded = len(tasks) - len(pending)
    broken = tuple(store.recomputed) if store is not None else ()
    return done, TaskCounts(len(tasks), len(pending), loaded, runner.description, broken)


def _load_saved(store: ResultStore, points: Sequence[SweepPoint], tasks: list[Task]) -> dict[Task, Replication]:
    """The tasks already saved in ``store`` (broken ones are dropped there, to be recomputed)."""
    done = {}
    for i, rep in tasks:
        saved = store.load(points[i], rep)
        if saved is not None:
            done[(i, rep)] = saved
    return done
