"""Experiments: the points of a sweep × replications on an executor, priced, ids on every row.

A task is one (point, replication). Tasks run on any executor and in any order; their results are
put back in (point order, replication) before anything is assembled, and every random draw is
addressed by (seed, rep, stream), so the tables are bit-identical whatever the executor and the
number of workers. With ``out``, each finished task is saved at once (experiments/store.py) and a
second run with the same sweep loads the saved tasks instead of computing them again.

The same (seed, rep) gives the same arrivals in every scenario (common random numbers), so
:meth:`ExperimentResult.paired_differences` measures a difference between two scenarios from the
per-replication pairs, with a much tighter interval than two separate intervals would give.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.executors import Executor, ProcessExecutor, SerialExecutor
from experiments.meta import build_meta
from experiments.progress import Progress
from experiments.run import ALL_POOLS, RUN_METRICS, assemble
from experiments.storage import write_csv, write_json, write_parquet
from experiments.store import ResultStore
from experiments.summary import confidence_interval, summarize_frame
from experiments.sweep import SweepPoint, param_paths, param_value
from models.fields import suggest
from models.settings import RunSettings
from sim.replication import Replication, check_settings, simulate

ID_COLUMNS = ["scenario_id", "option", "study"]
TABLES = ("calls", "intervals", "usage", "invoices", "pool_runs", "runs")
STAT_COLUMNS = ["reps_n", "mean", "sd", "ci_low", "ci_high"]


@dataclass
class ExperimentResult:
    """Every table of an experiment; each row carries ``scenario_id, option, study`` and one column
    per swept path (named by the path), then the columns of docs/results.md.

    Attributes:
        points: the scenarios, in order.
        settings: the run settings shared by all points.
        calls: one row per call (None with ``keep_calls=False``).
        intervals, usage, invoices, pool_runs, runs: as for a single scenario.
        meta: versions, settings, each point's digest and what was loaded or computed.
    """

    points: list[SweepPoint]
    settings: RunSettings
    calls: pd.DataFrame | None
    intervals: pd.DataFrame
    usage: pd.DataFrame
    invoices: pd.DataFrame
    pool_runs: pd.DataFrame
    runs: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def param_columns(self) -> list[str]:
        """The swept dotted paths, one column each."""
        return param_paths(self.points)

    def point(self, scenario_id: str) -> SweepPoint:
        """The point with this id (ValueError naming the closest id if none)."""
        for point in self.points:
            if point.scenario_id == scenario_id:
                return point
        ids = tuple(p.scenario_id for p in self.points)
        raise ValueError(f"no scenario {scenario_id!r}{suggest(scenario_id, ids)}")

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Per point, pool (and ``all``) and metric: ``reps_n, mean, sd, ci_low, ci_high``."""
        pools, totals = _by_point(self.pool_runs), _by_point(self.runs)
        info = points_frame(self.points)
        parts = []
        for i, point in enumerate(self.points):
            frame = pd.concat([pools[point.scenario_id], totals[point.scenario_id].assign(pool=ALL_POOLS)])
            part = summarize_frame(frame, "pool", RUN_METRICS, level).rename(columns={"group": "pool"})
            parts.append(_with_ids(part, info, i))
        return concat_tables(parts)

    def paired_differences(self, baseline_id: str, metrics: Sequence[str] | None = None,
                           pool: str = ALL_POOLS, level: float = 0.95) -> pd.DataFrame:
        """Per other point and metric: mean, sd and CI of (point − baseline) over paired reps.

        Replication r of every point saw the same arrivals (common random numbers), so the
        differences rep by rep vary far less than the metrics themselves. Pairs where the metric is
        undefined on either side are left out (``reps_n`` counts the pairs used). ``pool`` is a
        pool name or ``all``.
        """
        self.point(baseline_id)
        metrics = list(metrics or RUN_METRICS)
        unknown = [m for m in metrics if m not in RUN_METRICS]
        if unknown:
            raise ValueError(f"unknown metric {unknown[0]!r}{suggest(unknown[0], tuple(RUN_METRICS))}")
        frame = self.runs if pool == ALL_POOLS else self.pool_runs[self.pool_runs["pool"] == pool]
        per_point = {sid: part.set_index("rep")[metrics] for sid, part in _by_point(frame).items()}
        base = per_point.get(baseline_id)
        if base is None:
            raise ValueError(f"baseline {baseline_id!r} has no pool {pool!r}")
        info = points_frame(self.points)
        parts = []
        for i, point in enumerate(self.points):
            if point.scenario_id == baseline_id or point.scenario_id not in per_point:
                continue
            diff = per_point[point.scenario_id].sub(base).dropna(how="all")
            rows = []
            for metric in metrics:
                values = diff[metric].to_numpy(dtype=float)
                mean, sd, low, high = confidence_interval(values, level)
                rows.append([baseline_id, pool, metric, int((~np.isnan(values)).sum()), mean, sd, low, high])
            part = pd.DataFrame(rows, columns=["baseline_id", "pool", "metric", *STAT_COLUMNS])
            parts.append(_with_ids(part, info, i))
        if not parts:
            return pd.DataFrame(columns=[*info.columns, "baseline_id", "pool", "metric", *STAT_COLUMNS])
        return concat_tables(parts)


# ---------------------------------------------------------------- tables with ids

def points_frame(points: Sequence[SweepPoint]) -> pd.DataFrame:
    """One row per point: ``scenario_id, option, study`` (categorical) and one column per swept path."""
    frame = pd.DataFrame({column: _in_order([getattr(p, column) for p in points]) for column in ID_COLUMNS})
    for path in param_paths(points):
        frame[path] = pd.Series([param_value(p, path) for p in points])
    return frame


def _in_order(values: list[str]) -> pd.Categorical:
    """Categorical whose categories are in order of first appearance (not sorted)."""
    return pd.Categorical(values, categories=list(dict.fromkeys(values)))


def _with_ids(table: pd.DataFrame, info: pd.DataFrame, i: int) -> pd.DataFrame:
    """``table`` with point ``i``'s id and parameter columns in front."""
    ids = info.iloc[np.full(len(table), i)].reset_index(drop=True)
    return pd.concat([ids, table.reset_index(drop=True)], axis=1)


def _by_point(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(sid): part for sid, part in frame.groupby("scenario_id", observed=True, sort=False)}


def concat_tables(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate tables row-wise; a column categorical in all of them stays categorical, with the
    union of their categories in order of appearance. Empty tables are skipped (but one is kept)."""
    kept = [f for f in frames if len(f)] or list(frames[:1])
    if len(kept) == 1:
        return kept[0].reset_index(drop=True)
    for column in kept[0].columns:
        dtypes = [f[column].dtype for f in kept if column in f]
        if len(dtypes) == len(kept) and all(isinstance(d, pd.CategoricalDtype) for d in dtypes):
            union = list(dict.fromkeys(c for d in dtypes for c in d.categories))
            kept = [f if list(f[column].cat.categories) == union
                    else f.assign(**{column: f[column].cat.set_categories(union)}) for f in kept]
    # infer_objects: a cost column that is object-typed in one table (an empty invoice table of a
    # scenario without BPO pools) must not make the whole column object-typed.
    return pd.concat(kept, ignore_index=True).infer_objects()


# ---------------------------------------------------------------- running

def _check(points: Sequence[SweepPoint], settings: RunSettings) -> None:
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
            raise ValueError(f"{point.scenario_id}: {exc}") from None


def default_executor(tasks: int) -> Executor:
    """A process per core (at most one per task); in this process for a single task."""
    jobs = min(os.cpu_count() or 1, tasks)
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)


def run_experiment(points: Iterable[SweepPoint], settings: RunSettings, executor: Executor | None = None,
                   out: Path | None = None, progress: bool | None = None, name: str = "") -> ExperimentResult:
    """Simulate ``settings.reps`` replications of every point and price them.

    ``executor``: where tasks run (default: a process per core, closed at the end; an executor
    passed in is left open). ``out``: a folder where each finished task is saved at once and the
    final tables at the end; a run in a folder that holds the same sweep resumes it
    (StoreMismatchError if it holds another). ``progress``: draw a progress bar on stderr (default:
    when stderr is a terminal). ``name`` labels the sweep in the manifest and meta.
    """
    points = list(points)
    _check(points, settings)
    store = ResultStore.open(Path(out), points, settings, name) if out is not None else None
    tasks = [(i, rep) for i in range(len(points)) for rep in range(settings.reps)]
    done = _load_saved(store, points, tasks) if store is not None else {}
    pending = [task for task in tasks if task not in done]
    runner = default_executor(len(pending)) if executor is None else executor
    bar = Progress(len(tasks), len(done), label=name or "tasks", enabled=progress)
    try:
        args = [(points[i].scenario, settings, rep) for i, rep in pending]
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
    bar.note("pricing and assembling the tables" + (f", then writing them to {out}" if out is not None else ""))
    result = _assemble(points, settings, done)
    result.meta = experiment_meta(points, settings, name, len(tasks), len(pending), store, runner)
    if out is not None:
        write_experiment(result, Path(out))
    return result


def _load_saved(store: ResultStore, points: list[SweepPoint],
                tasks: list[tuple[int, int]]) -> dict[tuple[int, int], Replication]:
    """The tasks already saved in ``store`` (broken ones are dropped there, to be recomputed)."""
    done = {}
    for i, rep in tasks:
        saved = store.load(points[i], rep)
        if saved is not None:
            done[(i, rep)] = saved
    return done


def _assemble(points: list[SweepPoint], settings: RunSettings,
              done: dict[tuple[int, int], Replication]) -> ExperimentResult:
    """Priced tables of every point, in point order, replications in order."""
    info = points_frame(points)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    for i, point in enumerate(points):
        reps = [done.pop((i, rep)) for rep in range(settings.reps)]
        priced = assemble(point.scenario, settings, reps)
        for name in TABLES:
            table = getattr(priced, name)
            if table is not None:
                parts[name].append(_with_ids(table, info, i))
    tables = {name: concat_tables(frames) if frames else None for name, frames in parts.items()}
    return ExperimentResult(points, settings, **tables)


def experiment_meta(points: Sequence[SweepPoint], settings: RunSettings, name: str, total: int,
                    computed: int, store: ResultStore | None, executor: Executor) -> dict[str, Any]:
    """Versions and settings (as for one scenario), each point, and what this run computed."""
    meta = build_meta([], settings)
    meta["sweep"] = name
    meta["scenarios"] = {p.scenario_id: {"option": p.option, "study": p.study, "params": p.params,
                                         "hash": p.scenario.digest(), "source": p.scenario.source,
                                         "currency": p.scenario.currency} for p in points}
    meta["tasks"] = {"total": total, "computed": computed, "loaded": store.loaded if store else 0,
                     "recomputed": [list(r) for r in store.recomputed] if store else [],
                     "executor": executor.description}
    meta["settings"] = asdict(settings)
    return meta


def write_experiment(result: ExperimentResult, out: Path) -> None:
    """The final tables (Parquet, CSV summary, JSON meta) in ``out``, each atomically."""
    for name in TABLES:
        table = getattr(result, name)
        if table is not None:
            write_parquet(table, out / f"{name}.parquet")
    write_csv(result.summary(), out / "summary.csv")
    write_json(result.meta, out / "meta.json")
