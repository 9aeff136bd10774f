"""A Result as plain text for the command line: one row per pool (one scenario) or per scenario (a sweep).

Numbers are ``mean ± 95% confidence half-width`` over replications, the same cells as the report's.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import pandas as pd

from experiments.results.result import Result
from experiments.results.tables import ALL_POOLS, points_info, shared_columns
from models.scenario import Scenario
from sim.routing import reached_only_late

#: (metric, label, format spec of the mean, scale) of the printed summary.
PRINTED = [
    ("offered_n", "offered", ",.0f", 1),
    ("sl_frac", "SL %", ".1f", 100),
    ("asa_s", "ASA s", ".1f", 1),
    ("abandon_frac", "aband %", ".2f", 100),
    ("occupancy_frac", "occ %", ".1f", 100),
    ("cost_per_call", "cost/call", ".3f", 1),
    ("resolved_n", "resolved", ",.0f", 1),
    ("cost_per_resolved", "cost/resolved", ".3f", 1),
    ("monthly_cost", "cost/month", ",.0f", 1),
    ("monthly_quality_cost", "quality/month", ",.0f", 1),
    ("monthly_total_with_quality_cost", "with quality/month", ",.0f", 1),
]
#: Columns of the sweep table: every printed metric but counts and occupancy.
SWEEP_PRINTED = [row for row in PRINTED if row[0] not in ("offered_n", "occupancy_frac", "resolved_n")]
MISSING = "–"


def number(value: object, spec: str, scale: float = 1.0) -> str:
    """``value × scale`` formatted with ``spec`` (e.g. ``",.0f"``), or an en dash when missing."""
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
        return MISSING
    return format(float(value) * scale, spec)


def plus_minus(mean: object, low: object, high: object, spec: str, scale: float = 1.0) -> str:
    """``mean ± half-width`` of a symmetric interval; just the mean when the interval is missing."""
    text = number(mean, spec, scale)
    if MISSING not in (text, number(low, spec), number(high, spec)):
        text += f" ± {number((float(high) - float(low)) / 2, spec, scale)}"  # type: ignore[arg-type]
    return text


def _cells(metrics: pd.DataFrame, printed: list[tuple[str, str, str, int]]) -> list[str]:
    return [plus_minus(metrics.at[m, "mean"], metrics.at[m, "ci_low"], metrics.at[m, "ci_high"], spec, scale)
            for m, _, spec, scale in printed]


def _lines(rows: list[list[str]]) -> list[str]:
    """Rows as aligned text: first column left, the others right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
            for row in rows]


def _head(result: Result, what: str, scope: str) -> str:
    """``what, N replication(s) of D day(s), ...; scope; costs in ..., mean ± 95% CI half-width``."""
    settings = result.settings
    scenarios = (result.meta.get("scenarios") or {}).values()
    currencies = sorted({str(info["currency"]) for info in scenarios if info.get("currency")})
    return (f"{what}{settings.reps} replication(s) of {settings.days:g} day(s), warm-up {settings.warmup_h:g} h, "
            f"seed {settings.seed}; {scope}costs in {', '.join(currencies) or 'the scenario currency'}, "
            "mean ± 95% CI half-width")


def format_pools(result: Result) -> str:
    """One scenario's summary: one row per pool and the total."""
    summary = result.summary()
    point = result.points[0] if result.points else None
    threshold = f"SL = answered within {point.scenario.service_level_s:g} s; " if point else ""
    head = _head(result, f"{result.scenario_ids[0]}: ", threshold)
    rows = [["pool", *[label for _, label, _, _ in PRINTED]]]
    for pool, part in summary.groupby("pool", sort=False, observed=True):
        rows.append([str(pool), *_cells(part.set_index("metric"), PRINTED)])
    return "\n".join([head, "", *_lines(rows), *_late_pools_note(point.scenario if point else None)])


def _late_pools_note(scenario: Scenario | None) -> list[str]:
    """A line under the table for each pool whose SL is 0 by construction (see sim.routing)."""
    if scenario is None:
        return []
    return [f"SL of {name} is 0 by construction: calls reach it only after waiting longer than "
            f"{scenario.service_level_s:g} s (overflow_after_s); its callers' service is in the total row."
            for name in reached_only_late(scenario)]


def format_scenarios(result: Result, name: str = "") -> str:
    """A sweep's summary: one row per scenario (all pools): option, study, parameters, metrics."""
    summary = result.summary()
    summary = summary[summary["pool"] == ALL_POOLS]
    info = points_info(result.runs)
    head = _head(result, f"{name or 'sweep'}: {len(info)} scenario(s), ", "all pools; ")
    columns = shared_columns(info, result.param_columns)
    studies = info["study"].astype(str).ne("").any()
    rows = [["option", *(["study"] if studies else []), *(label for label, _ in columns),
             *(label for _, label, _, _ in SWEEP_PRINTED)]]
    by_point = {sid: part.set_index("metric") for sid, part in summary.groupby("scenario_id", observed=True, sort=False)}
    for row in info.to_dict("records"):
        values = [_param_cell(row, paths) for _, paths in columns]
        rows.append([str(row["option"]), *([str(row["study"])] if studies else []), *values,
                     *_cells(by_point[row["scenario_id"]], SWEEP_PRINTED)])
    return "\n".join([head, "", *_lines(rows)])


#: (column, label, format spec) of the printed offers table; money per 30-day month
OFFERS_PRINTED = [("invoice_monthly_mean", "invoice/month", ",.0f"), ("credit_monthly_mean", "credits/month", ",.0f"),
                  ("cost_per_resolved_mean", "cost/resolved", ".3f")]


def format_offers(result: Result, offers: pd.DataFrame, name: str) -> str:
    """The offers table (experiments/results/offers.py): one row per offer, scenario and pool with
    monthly cost ± 95% half-width, its 95th percentile over replications, the pool's invoice and
    credits, cost per resolved contact and the total with the cost of poor service."""
    several = offers["scenario_id"].nunique() > 1
    varying = [p for p in result.param_columns if p in offers and offers[p].nunique(dropna=False) > 1]
    columns = shared_columns(offers, varying, lambda path: ".".join(path.split(".")[-2:]))
    what = name if several else f"{name} on {offers['scenario_id'].iat[0]}"
    head = _head(result, f"{what}: {offers['offer'].nunique() - 1} offer(s) and the contracts as simulated, ",
                 "money per 30-day month; ")
    ids = [c for c in ("option", "study") if offers[c].astype(str).nunique() > 1]
    scenario = ids if several and (ids or columns) else ["scenario_id"] if several else []
    rows = [["offer", *scenario, *(label for label, _ in columns), "pool", "cost/month", "p95/month",
             *(label for _, label, _ in OFFERS_PRINTED), "with quality/month"]]
    for row in offers.to_dict("records"):
        rows.append([str(row["offer"]), *(str(row[c]) for c in scenario),
                     *(_param_cell(row, paths) for _, paths in columns), str(row["pool"]),
                     plus_minus(row["monthly_cost_mean"], row["monthly_cost_ci_low"], row["monthly_cost_ci_high"],
                                ",.0f"),
                     number(row["monthly_cost_p95"], ",.0f"),
                     *(number(row[column], spec) for column, _, spec in OFFERS_PRINTED),
                     plus_minus(row["total_with_quality_monthly_mean"], row["total_with_quality_monthly_ci_low"],
                                row["total_with_quality_monthly_ci_high"], ",.0f")])
    return "\n".join([head, "", *_lines(rows)])


def _param_cell(row: dict[str, Any], paths: list[str]) -> str:
    values = [row[p] for p in paths if row.get(p) is not None and not (isinstance(row[p], float) and math.isnan(row[p]))]
    if not values:
        return "-"
    return f"{values[0]:g}" if isinstance(values[0], float) else str(values[0])
