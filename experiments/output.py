"""Printing a result's summary and writing its tables to a folder."""

from __future__ import annotations

import math
from pathlib import Path

from experiments.run import ScenarioResult
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


def _cell(mean: float, low: float, high: float, fmt: str, scale: float) -> str:
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
        rows.append([str(pool)] + [_cell(by_metric.at[m, "mean"], by_metric.at[m, "ci_low"],
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
