"""Printing a result's summary and writing its tables to a folder."""

from __future__ import annotations

import math
from pathlib import Path

from experiments.experiment import ExperimentResult
from experiments.run import ALL_POOLS, ScenarioResult
from experiments.sweep import SweepPoint, param_paths, param_value
from experiments.storage import write_csv, write_json, write_parquet

#: (metric, label, format of the mean, scale) of the printed summary.
PRINTED = [
    ("offered_n", "offered", "{:,.0f}", 1),
    ("sl_frac", "SL %", "{:.1f}", 100),
    ("asa_s", "ASA s", "{:.1f}", 1),
    ("abandon_frac", "aband %", "{:.2f}", 100),
    ("occupancy_frac", "occ %", "{:.1f}", 100),
    ("cost_per_call", "cost/call", "{:.3f}", 1),
    ("monthly_cost", "cost/month", "{:,.0f}", 1),
]


def cell(mean: float, low: float, high: float, fmt: str, scale: float) -> str:
    if math.isnan(mean):
        return "-"
    text = fmt.format(mean * scale)
    if not math.isnan(low):
        text += " ±" + fmt.format((high - low) / 2 * scale)
    return text


def format_summary(result: ScenarioResult) -> str:
    """A plain-text table: one row per pool and the total, mean ± 95% CI half-width."""
    summary = result.summary()
    settings = result.settings
    head = (f"{result.scenario.name}: {settings.reps} replication(s) of {settings.days:g} day(s), "
            f"warm-up {settings.warmup_h:g} h, seed {settings.seed}; "
            f"SL = answered within {result.scenario.service_level_s:g} s; costs in {result.scenario.currency}, "
            f"mean ± 95% CI half-width")
    rows = [["pool", *[label for _, label, _, _ in PRINTED]]]
    for pool, part in summary.groupby("pool", sort=False):
        by_metric = part.set_index("metric")
        rows.append([str(pool)] + [cell(by_metric.at[m, "mean"], by_metric.at[m, "ci_low"],
                                         by_metric.at[m, "ci_high"], fmt, scale)
                                   for m, _, fmt, scale in PRINTED])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    return "\n".join([head, "", *lines])


def write_result(result: ScenarioResult, out: Path) -> None:
    """Write every table of ``result`` to ``out`` (Parquet, CSV summary, JSON meta), atomically each."""
    out = Path(out)
    if result.calls is not None:
        write_parquet(result.calls, out / "calls.parquet")
    write_parquet(result.intervals, out / "intervals.parquet")
    write_parquet(result.runs, out / "runs.parquet")
    write_parquet(result.pool_runs, out / "pool_runs.parquet")
    write_parquet(result.usage, out / "usage.parquet")
    write_parquet(result.invoices, out / "invoices.parquet")
    write_csv(result.summary(), out / "summary.csv")
    write_json(result.meta, out / "meta.json")


#: Columns of the sweep table: every PRINTED metric but offered and occupancy.
SWEEP_PRINTED = [row for row in PRINTED if row[0] not in ("offered_n", "occupancy_frac")]


def _param_columns(points: list[SweepPoint]) -> list[tuple[str, list[str]]]:
    """(label, paths) of the printed parameter columns: paths that end alike (``pools.inhouse.agents``,
    ``pools.offshore.agents``) share one column named by that end when no scenario has two of them."""
    groups: dict[str, list[str]] = {}
    for path in param_paths(points):
        groups.setdefault(path.rsplit(".", 1)[-1], []).append(path)
    columns = []
    for label, paths in groups.items():
        shared = all(sum(param_value(p, path) is not None for path in paths) <= 1 for p in points)
        columns += [(label, paths)] if shared else [(path, [path]) for path in paths]
    return columns


def _paramcell(point: SweepPoint, paths: list[str]) -> str:
    values = [v for v in (param_value(point, path) for path in paths) if v is not None]
    if not values:
        return "-"
    return f"{values[0]:g}" if isinstance(values[0], float) else str(values[0])


def format_sweep_summary(result: ExperimentResult, name: str = "") -> str:
    """One row per scenario (all pools): option, study, parameters, mean ± 95% CI half-width."""
    summary = result.summary()
    summary = summary[summary["pool"] == ALL_POOLS]
    settings = result.settings
    currencies = sorted({p.scenario.currency for p in result.points})
    head = (f"{name or 'sweep'}: {len(result.points)} scenario(s), {settings.reps} replication(s) of "
            f"{settings.days:g} day(s), warm-up {settings.warmup_h:g} h, seed {settings.seed}; "
            f"all pools; costs in {', '.join(currencies)}, mean ± 95% CI half-width")
    columns = _param_columns(result.points)
    studies = any(p.study for p in result.points)
    rows = [["option", *(["study"] if studies else []), *(label for label, _ in columns),
             *(label for _, label, _, _ in SWEEP_PRINTED)]]
    by_point = {sid: part.set_index("metric")
                for sid, part in summary.groupby("scenario_id", observed=True, sort=False)}
    for point in result.points:
        metrics = by_point[point.scenario_id]
        rows.append([point.option, *([point.study] if studies else []),
                     *(_paramcell(point, paths) for _, paths in columns),
                     *(cell(metrics.at[m, "mean"], metrics.at[m, "ci_low"], metrics.at[m, "ci_high"], fmt, scale)
                       for m, _, fmt, scale in SWEEP_PRINTED)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    return "\n".join([head, "", *lines])
