"""The staffing estimator against the truth: a simulated day with known agents per interval.

    python benchmarks/staffing_estimate.py --days 5 --seed 1

Simulates a 24-hour line whose agents per quarter-hour are known (a quiet night, a morning
ramp, two busy peaks with abandonment, a light evening), gives the answered calls agent ids as a
longest-idle-agent switch would (experiments/calibrate/agent_ids.py), estimates the agents from
the log with every method of experiments/calibrate/staffing.py, and prints each method's error
against the truth per half hour, by load level (the half hour's occupancy: busy / staffed time).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.calibrate.agent_ids import log_with_agents  # noqa: E402
from experiments.calibrate.staffing import METHODS, estimate_staffing_by_date  # noqa: E402
from models.loading import scenario_from_dict  # noqa: E402
from models.scenario import Scenario  # noqa: E402
from models.settings import RunSettings  # noqa: E402
from sim.replication import simulate  # noqa: E402

HANDLE_S = 240.0
#: calls per hour and agents per hour of the day (each hour is four quarter-hours)
RATES = [4, 3, 2, 2, 2, 4, 10, 40, 120, 200, 240, 250, 230, 210, 230, 250, 220, 160, 110, 80, 50, 30, 15, 8]
AGENTS = [2, 2, 2, 2, 2, 2, 3, 5, 10, 15, 16, 16, 17, 16, 16, 16, 15, 12, 9, 7, 6, 4, 3, 2]
LOAD_LEVELS = [0.0, 0.3, 0.6, 0.85, np.inf]
LOAD_LABELS = ["light (<0.3)", "medium (0.3-0.6)", "busy (0.6-0.85)", "heavy (>=0.85)"]


def truth_scenario(rates: list[float] = RATES, agents: list[int] = AGENTS, away_frac: float = 0.0) -> Scenario:
    """The known line: lognormal handle (mean 240 s, cv 1), exponential patience (mean 300 s).

    ``away_frac`` > 0: in every second quarter-hour that share of the agents (rounded) does other
    work (off the phones): they are in the log in one quarter and absent from it in the next, so
    presence alone counts them all the half hour; the truth is the half hour's mean.
    """
    quarters = [[a, a - int(a * away_frac + 0.5)] for a in agents for _ in range(2)]
    data = {"name": "truth", "interval_min": 15, "service_level_s": 20.0,
            "demand": [{"name": "c", "profile_per_h": [r for r in rates for _ in range(4)], "route": ["p"],
                        "handle": {"dist": "lognormal", "mean_s": HANDLE_S, "cv": 1.0},
                        "patience": {"dist": "exponential", "mean_s": 300.0}}],
            "pools": [{"name": "p", "kind": "inhouse", "agents": [a for pair in quarters for a in pair],
                       "wage_per_h": 10.0}]}
    return scenario_from_dict(data, source="truth.toml")


def absence_scenario(away_frac: float, absence_min: int, seed: int = 0,
                     rates: list[float] = RATES, agents: list[int] = AGENTS) -> Scenario:
    """The known line with random absences: in 5-minute intervals, each block of ``absence_min``
    minutes has Binomial(agents, away_frac) agents away (breaks, other work), the same every day."""
    rng = np.random.default_rng(seed)
    per_block, blocks_per_h = absence_min // 5, 60 // absence_min
    slots = [a - int(rng.binomial(a, away_frac)) for a in agents for _ in range(blocks_per_h)]
    data = {"name": "truth", "interval_min": 5, "service_level_s": 20.0,
            "demand": [{"name": "c", "profile_per_h": [r for r in rates for _ in range(12)], "route": ["p"],
                        "handle": {"dist": "lognormal", "mean_s": HANDLE_S, "cv": 1.0},
                        "patience": {"dist": "exponential", "mean_s": 300.0}}],
            "pools": [{"name": "p", "kind": "inhouse", "wage_per_h": 10.0,
                       "agents": [a for a in slots for _ in range(per_block)]}]}
    return scenario_from_dict(data, source="absence.toml")


def measure(scenario: Scenario, days: float, seed: int, gap_min: float = 15.0) -> pd.DataFrame:
    """Per (method, date, interval): estimated and true agents and the offered load per agent."""
    rep = simulate(scenario, RunSettings(reps=1, seed=seed, days=days), 0)
    assert rep.calls is not None
    log = log_with_agents(rep.calls, rep.intervals, scenario.interval_s)
    half_hour = rep.intervals["start_s"] // 1800
    truth = rep.intervals.groupby(half_hour).agg(available_n=("available_n", "mean"), busy_s=("busy_s", "sum"),
                                                 staffed_s=("staffed_s", "sum"))
    frames = []
    for method in METHODS:
        est = estimate_staffing_by_date(log, 30, method, gap_min)
        n = min(len(est), len(truth))
        frames.append(pd.DataFrame({
            "method": method, "date": est["date"].to_numpy()[:n],
            "interval_start_h": est["interval_start_h"].to_numpy()[:n],
            "estimated_n": est["agents"].to_numpy()[:n], "true_n": truth["available_n"].to_numpy()[:n],
            "load_per_agent_frac": (truth["busy_s"] / truth["staffed_s"]).to_numpy()[:n]}))
    return pd.concat(frames, ignore_index=True)


def error_by_load(frame: pd.DataFrame) -> pd.DataFrame:
    """Bias and mean absolute error of each method, in agents and relative to the truth, by load
    level (busy time / staffed time of the interval)."""
    level = pd.cut(frame["load_per_agent_frac"], LOAD_LEVELS, labels=LOAD_LABELS, right=False)
    err = frame["estimated_n"] - frame["true_n"]
    return (frame.assign(level=level, error_n=err, abs_error_n=err.abs(), rel_error_frac=err / frame["true_n"],
                         abs_rel_error_frac=(err / frame["true_n"]).abs())
            .groupby(["method", "level"], observed=True)
            .agg(intervals_n=("error_n", "size"), true_mean_n=("true_n", "mean"), bias_n=("error_n", "mean"),
                 mae_n=("abs_error_n", "mean"), bias_frac=("rel_error_frac", "mean"),
                 mare_frac=("abs_rel_error_frac", "mean"))
            .reset_index())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gap-min", type=float, default=15.0)
    parser.add_argument("--away-frac", type=float, default=0.0, help="share of agents on other work every other quarter")
    parser.add_argument("--absence-min", type=int, help="instead: random absences of this many minutes (5, 10, 15, "
                                                        "20, 30 or 60), each agent away with --away-frac")
    args = parser.parse_args()
    scenario = (truth_scenario(away_frac=args.away_frac) if args.absence_min is None
                else absence_scenario(args.away_frac, args.absence_min, args.seed))
    table = error_by_load(measure(scenario, args.days, args.seed, args.gap_min))
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
