"""What shift planning leaves behind (with ``bposim optimise --per-interval`` on pools with shifts).

- ``shifts.csv``: one row per shift used: ``pool``, ``template`` (0-based index into the pool's
  ``shifts``), ``start_h``, ``length_h``, ``break_min``, ``agents`` (heads on it every open day);
- ``shift_coverage.csv``: one row per (pool, interval of the day): ``interval``, ``start_h``,
  ``open`` (the pool opens then on some weekday), ``required_n`` (the search's per-interval
  agents, 0 where closed), ``planned_n`` (the requirement after repairs), ``covered_n`` (agents
  of the plan taking calls), ``on_break_n`` (agents of the plan on their paid break), ``excess_n``
  (``covered_n - required_n`` where open, else 0).

Per open day, paid hours = required hours + excess + breaks + hours worked while closed, each of
them ``sum(column) * interval_h`` (``format_shifts`` prints the split).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments.optimise.shifts import PoolPlan, ShiftOutcome
from experiments.running.files import write_csv
from models.shifts import hh_mm

SHIFT_COLUMNS = ["pool", "template", "start_h", "length_h", "break_min", "agents"]
COVERAGE_COLUMNS = ["pool", "interval", "start_h", "open", "required_n", "planned_n", "covered_n", "on_break_n",
                    "excess_n"]


def shifts_table(shifted: ShiftOutcome) -> pd.DataFrame:
    """Every shift of every plan, one row each."""
    rows = [[name, k, s.start_h, s.length_h, s.break_min, s.agents]
            for name, plan in shifted.plans.items() for k, s in plan.shifts]
    return pd.DataFrame(rows, columns=SHIFT_COLUMNS)


def coverage_table(shifted: ShiftOutcome, interval_min: int) -> pd.DataFrame:
    """Per pool and interval of the day: required, planned, covered, on break, excess."""
    rows = []
    for name, plan in shifted.plans.items():
        for i, is_open in enumerate(plan.open_):
            excess = plan.covered[i] - plan.required[i] if is_open else 0
            rows.append([name, i, i * interval_min / 60.0, is_open, plan.required[i], plan.planned[i],
                         plan.covered[i], plan.on_break[i], excess])
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def write_shift_outputs(shifted: ShiftOutcome, out: Path) -> None:
    """Write shifts.csv and shift_coverage.csv in ``out`` (each atomically)."""
    write_csv(shifts_table(shifted), out / "shifts.csv")
    write_csv(coverage_table(shifted, shifted.scenario.interval_min), out / "shift_coverage.csv")


def hours_split(plan: PoolPlan, interval_min: int) -> dict[str, float]:
    """Agent-hours per open day: ``paid``, ``required`` (open intervals), and what the paid hours
    hold beyond it: ``excess`` (covered above the requirement while open), ``breaks`` (paid) and
    ``closed`` (worked while the pool is closed)."""
    h = interval_min / 60.0
    return {"paid": plan.paid_h_per_day(),
            "required": h * sum(r for r, o in zip(plan.required, plan.open_, strict=True) if o),
            "excess": h * sum(c - r for c, r, o in zip(plan.covered, plan.required, plan.open_, strict=True) if o),
            "breaks": h * sum(plan.on_break),
            "closed": h * sum(c for c, o in zip(plan.covered, plan.open_, strict=True) if not o)}


def format_shifts(shifted: ShiftOutcome) -> str:
    """One paragraph per planned pool: its shifts and paid hours against the requirement's."""
    interval_min = shifted.scenario.interval_min
    lines = []
    for name, plan in shifted.plans.items():
        split = hours_split(plan, interval_min)
        more = 100.0 * (split["paid"] / split["required"] - 1.0) if split["required"] > 0 else float("nan")
        agents = sum(s.agents for s in plan.plan)
        lines.append(f"shifts of {name}: {agents} agents on {len(plan.shifts)} shift(s): "
                     + ", ".join(f"{s.agents} x {hh_mm(s.start_h)}+{s.length_h:g}h" for s in plan.plan))
        lines.append(f"  paid {split['paid']:.1f} agent-h per open day against {split['required']:.1f} h of the "
                     f"per-interval requirement ({more:+.1f}%): {split['excess']:.1f} h covered above it, "
                     f"{split['breaks']:.1f} h of paid breaks, {split['closed']:.1f} h while closed")
    return "\n".join(lines)
