"""What an optimisation leaves behind: the optimised scenario, every evaluation, and a summary.

- ``optimised.toml``: the scenario with the staffing found, a valid scenario file runnable as it is;
- ``evaluations.csv``: one row per (evaluation, target, interval): phase, seed, the varied pools'
  agents, the estimate, its bound, whether met, the cost and whether the staffing was feasible;
- ``summary.csv``: per target and interval, on the fresh replications of the re-check: mean,
  bound and how sure it is that the target is met.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import tomli_w

from experiments.optimise.evaluate import WHOLE, Estimate, Evaluation, Staffing, staffed
from experiments.optimise.search import Outcome, Problem
from experiments.running.files import write_bytes, write_csv
from models.dumping import scenario_to_dict
from models.scenario import Scenario

EVALUATION_COLUMNS = ["evaluation", "phase", "seed", "agents", "target", "interval", "mean", "bound", "met",
                      "sure_frac", "cost_mean", "feasible"]
SUMMARY_COLUMNS = ["target", "interval", "mean", "bound", "met", "sure_frac"]


def agents_text(staffing: Staffing) -> str:
    """``"a=12; b=3 3 4 ..."``: each varied pool's agents (one number when flat)."""
    parts = []
    for name, agents in staffing.items():
        flat = len(set(agents)) == 1
        parts.append(f"{name}={agents[0]}" if flat else f"{name}={' '.join(map(str, agents))}")
    return "; ".join(parts)


def evaluations_table(outcome: Outcome) -> pd.DataFrame:
    """Every evaluation of the search and the re-checks, one row per estimate."""
    rows = [[k, phase, seed, agents_text(ev.staffing), *_estimate_row(e), ev.cost_mean, ev.feasible]
            for k, (phase, seed, ev) in enumerate(outcome.log) for e in ev.estimates]
    return pd.DataFrame(rows, columns=EVALUATION_COLUMNS)


def summary_table(recheck: Evaluation) -> pd.DataFrame:
    """Each target's estimate on the fresh replications of the (last) re-check."""
    return pd.DataFrame([_estimate_row(e) for e in recheck.estimates], columns=SUMMARY_COLUMNS)


def _estimate_row(e: Estimate) -> list[object]:
    interval = "whole" if e.interval == WHOLE else str(e.interval)
    return [e.target.text, interval, e.mean, e.bound, e.met, e.sure_frac]


def write_outputs(problem: Problem, outcome: Outcome, out: Path, scenario: Scenario | None = None) -> None:
    """Write optimised.toml (``scenario``, default: the problem's with the staffing found),
    evaluations.csv and summary.csv in ``out`` (each atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    scenario = staffed(problem.scenario, outcome.staffing) if scenario is None else scenario
    write_bytes(tomli_w.dumps(scenario_to_dict(scenario)).encode(), out / "optimised.toml")
    write_csv(evaluations_table(outcome), out / "evaluations.csv")
    write_csv(summary_table(outcome.recheck), out / "summary.csv")


def format_outcome(outcome: Outcome) -> str:
    """The staffing found, its cost, and each target on the fresh replications (how sure it is met)."""
    lines = [f"staffing: {agents_text(outcome.staffing)}",
             f"cost (mean per measured period, search replications): {outcome.searched.cost_mean:,.2f}",
             "", "on fresh replications (seed the search never saw):"]
    for e in outcome.recheck.estimates:
        where = "" if e.interval == WHOLE else f" interval {e.interval}"
        verdict = "met" if e.met else ("mean meets it" if e.mean_met else "MISSED")
        lines.append(f"  {e.target.text}{where}: {e.mean:.4g} (bound {e.bound:.4g}), {verdict}, "
                     f"sure {100 * e.sure_frac:.1f}%")
    joint = joint_sure_frac(outcome.recheck.estimates)
    if len(outcome.recheck.estimates) > 1 and joint == joint:
        lines.append(f"  all {len(outcome.recheck.estimates)} together: at least {100 * joint:.1f}% sure "
                     "(Bonferroni: 1 - the sum of each one's doubt)")
    return "\n".join(lines)


def joint_sure_frac(estimates: tuple[Estimate, ...]) -> float:
    """A lower bound of how sure it is that every estimate's target is met at once: 1 minus the
    sum of each one's doubt (1 - sure_frac), at least 0 (Bonferroni; nan if any is nan)."""
    return max(0.0, 1.0 - sum(1.0 - e.sure_frac for e in estimates))
