"""A budget's folder (``budget_months.parquet``, ``budget.csv``, ``fan.png``, ``meta.json``) and its
text table for the command line."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.budget.fan import fan_png
from experiments.budget.plan import WARMUP_DAYS
from experiments.results.meta import git_commit, versions
from experiments.running.files import write_bytes, write_csv, write_json, write_parquet
from models.budget import MONTH_NAMES
from models.scenario import Scenario

FILES = ("budget_months.parquet", "budget.csv", "fan.png", "meta.json")


def budget_meta(scenario: Scenario, settings: dict[str, Any], executor: str) -> dict[str, Any]:
    """How a budget was made: its settings, the scenario (hash, file, currency), the calendar used,
    where it ran, versions and commit."""
    calendar = scenario.calendar
    return {"budget": settings | {"warmup_days": WARMUP_DAYS},
            "scenario": {"name": scenario.name, "source": scenario.source, "hash": scenario.digest(),
                         "currency": scenario.currency},
            "calendar": asdict(calendar) if calendar is not None else None,
            "executor": executor, "versions": versions(), "git_commit": git_commit()}


def write_budget(out: Path, rows: pd.DataFrame, table: pd.DataFrame, scenario: Scenario,
                 meta: dict[str, Any]) -> None:
    """Every file of a budget in ``out``, each atomically; the figure is drawn before anything is written."""
    png = fan_png(rows, scenario.currency, scenario.name)
    out = Path(out)
    write_parquet(rows, out / "budget_months.parquet")
    write_csv(table, out / "budget.csv")
    write_bytes(png, out / "fan.png")
    write_json(meta, out / "meta.json")


def calendar_line(scenario: Scenario) -> str:
    """One line saying which calendar the budget uses (the defaults when the scenario has none)."""
    where = Path(scenario.source).name or scenario.name
    calendar = scenario.calendar
    if calendar is None:
        return f"{where} has no [calendar]: flat months, no growth, no forecast error (the defaults)"
    factors = calendar.monthly_factors
    return (f"calendar of {where}: from {MONTH_NAMES[calendar.start_month - 1]}, seasonal factors "
            f"{min(factors):g} to {max(factors):g}, growth {calendar.growth_per_year_frac:+.1%} a year, "
            f"forecast error cv {calendar.forecast_cv:.1%}")


def format_budget(table: pd.DataFrame, currency: str) -> str:
    """The total bill per month and for the term, median and P95, and how often anything binds."""
    lines = [f"{'month':<8}{'median':>16}{'P95':>16}   total bill ({currency}: labour + invoices + overhead + "
             "cost of poor service)"]
    for row in table.itertuples(index=False):
        if pd.isna(row.month):
            lines.append("-" * 40)
        lines.append(f"{row.period:<8}{row.median_total_cost:>16,.0f}{row.p95_total_cost:>16,.0f}")
    term = table.iloc[-1]
    lines.append("")
    lines.append(f"{term['period']}: invoices median {term['median_invoice_cost']:,.0f}, P95 "
                 f"{term['p95_invoice_cost']:,.0f}; over {int(term['reps_n'])} replications")
    lines.append("share of months where " + "; ".join(_binding(term[column], text) for column, text in (
        ("floor_binds_frac", "a minimum binds"), ("sla_credit_frac", "an SLA credit is earned"),
        ("tier_moves_frac", "a tier other than the month's usual one applies"))))
    return "\n".join(lines)


def _binding(value: float, text: str) -> str:
    return f"{text}: {value:.0%}" if not math.isnan(value) else f"{text}: – (no contract has one)"
