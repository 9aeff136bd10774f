"""The result tables, once: their names, id columns and metrics, and tables with point ids.

Every table of a :class:`~experiments.results.result.Result` carries, in front, the point's
``scenario_id, option, study`` (categorical, in point order) and one column per swept dotted path,
then the columns of docs/results.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from experiments.study.points import SweepPoint, param_paths, param_value

#: The tables of a result, in the order they are written.
TABLES = ("calls", "intervals", "usage", "contacts", "invoices", "clients", "vendor", "pool_runs", "runs")
#: Columns naming the point of every row.
ID_COLUMNS = ["scenario_id", "option", "study"]
#: The ``pool`` of rows that total every pool.
ALL_POOLS = "all"
#: Metrics summarised per point and pool (per replication values in ``pool_runs`` and ``runs``).
RUN_METRICS = ["offered_n", "answered_n", "abandoned_n", "blocked_n", "sl_frac", "asa_s",
               "abandon_frac", "p_wait_frac", "occupancy_frac", "labour_cost", "vendor_cost",
               "total_cost", "cost_per_call", "monthly_cost", "resolved_n", "quality_cost",
               "total_with_quality_cost", "cost_per_resolved", "monthly_quality_cost",
               "monthly_total_with_quality_cost"]
#: Statistics of a summary row.
STAT_COLUMNS = ["reps_n", "mean", "sd", "ci_low", "ci_high"]


def points_frame(points: Sequence[SweepPoint]) -> pd.DataFrame:
    """One row per point: ``scenario_id, option, study`` (categorical) and one column per swept path."""
    frame = pd.DataFrame({column: in_order([getattr(p, column) for p in points]) for column in ID_COLUMNS})
    for path in param_paths(points):
        frame[path] = pd.Series([param_value(p, path) for p in points])
    return frame


def in_order(values: list[str]) -> pd.Categorical:
    """Categorical whose categories are in order of first appearance (not sorted)."""
    return pd.Categorical(values, categories=list(dict.fromkeys(values)))


def with_ids(table: pd.DataFrame, info: pd.DataFrame, i: int) -> pd.DataFrame:
    """``table`` with row ``i`` of ``info`` (a point's ids and parameters) in front."""
    ids = info.iloc[np.full(len(table), i)].reset_index(drop=True)
    return pd.concat([ids, table.reset_index(drop=True)], axis=1)


def id_columns(frame: pd.DataFrame) -> list[str]:
    """The id and parameter columns of a table with ids: everything before its first own column."""
    params = [c for c in frame.columns if "." in c]
    return [c for c in ID_COLUMNS if c in frame.columns] + params


def points_info(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per point (ids and parameters), in order, as carried by a runs table."""
    columns = id_columns(runs)
    return runs[columns].drop_duplicates("scenario_id").reset_index(drop=True)


def by_point(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each point, by scenario id."""
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


def last_part(path: str) -> str:
    """``pools.inhouse.agents`` -> ``agents``."""
    return path.rsplit(".", 1)[-1]


def shared_columns(frame: pd.DataFrame, paths: Sequence[str],
                   name: Callable[[str], str] = last_part) -> list[tuple[str, list[str]]]:
    """(label, paths) of the parameter columns of a printed table: paths that end alike
    (``pools.inhouse.agents``, ``pools.offshore.agents``) share one column, labelled by that end,
    when no row of ``frame`` sets two of them; any other path is a column labelled ``name(path)``."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(last_part(path), []).append(path)
    columns: list[tuple[str, list[str]]] = []
    for label, group in groups.items():
        if len(group) > 1 and (frame[group].notna().sum(axis=1) <= 1).all():
            columns.append((label, group))
        else:
            columns += [(name(path), [path]) for path in group]
    return columns
