"""The Anonymous Bank backtest (January and February 1999): a scenario built by hand from the log,
with the staffing estimated from its agent column, against what happened.

    python benchmarks/backtest_bank.py LOG.csv --out outputs/backtest_bank --reps 10 --jobs 2

LOG.csv: the bank's two months as a tidy call log (docs/calibrate.md; ``bposim convert
anonymous-bank`` once merged). Writes DIR/bank.toml (the hand-built scenario: per weekday a call
type with its own 30-minute profile, lognormal handle by moments, exponential patience by its
censored maximum likelihood: all waits / abandonments) and prints, for all days and for Sunday to
Thursday (the bank's working week), each staffing method's relative error of abandonment and ASA
per month, with the scenario's demand and with each date's observed volume.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.calibrate import backtest as bt  # noqa: E402
from experiments.calibrate.log import read_call_log  # noqa: E402
from experiments.calibrate.staffing import GAP_MIN, METHODS, estimate_staffing_by_date  # noqa: E402
from experiments.running.executors import make_executor  # noqa: E402
from models.loading import scenario_from_dict  # noqa: E402
from models.scenario import Scenario  # noqa: E402

INTERVAL_MIN = 30
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def hand_built(log: pd.DataFrame, staffing: pd.DataFrame, interval_min: int = INTERVAL_MIN, handle: str = "lognormal",
               handle_scale: float = 1.0) -> dict[str, Any]:
    """The scenario as a TOML-like dict: arrivals per weekday and interval, handle, patience, agents.

    ``handle``: ``lognormal`` (by moments) or ``empirical`` (20,000 handle times resampled from the
    log, zeros as 0.5 s); ``handle_scale`` multiplies the mean (a sensitivity check).
    """
    per_day = 1440 // interval_min
    dates = log["arrival"].dt.normalize()
    slot = (log["arrival"].dt.hour * 60 + log["arrival"].dt.minute) // interval_min
    demand = []
    answered = log[log["outcome"] == "answered"]
    mean, sd = answered["handle_s"].mean() * handle_scale, answered["handle_s"].std() * handle_scale
    dist: dict[str, Any] = {"dist": "lognormal", "mean_s": round(float(mean), 2), "cv": round(float(sd / mean), 4)}
    if handle == "empirical":
        sample = answered["handle_s"].sample(min(20000, len(answered)), random_state=1) * handle_scale
        dist = {"dist": "empirical", "values_s": [max(float(v), 0.5) for v in sample]}
    patience_s = log["wait_s"].sum() / max((log["outcome"] == "abandoned").sum(), 1)
    for w, name in enumerate(DAYS):
        on = dates.dt.day_of_week == w
        n_dates = dates[on].nunique()
        if n_dates == 0:
            continue
        counts = np.bincount(slot[on], minlength=per_day) / n_dates
        demand.append({"name": name, "profile_per_h": [round(float(c) * 60 / interval_min, 4) for c in counts],
                       "weekday_factors": [1.0 if d == w else 0.0 for d in range(7)], "handle": dist,
                       "patience": {"dist": "exponential", "mean_s": round(float(patience_s), 2)}, "route": ["agents"]})
    agents = staffing.groupby("interval_start_h")["agents"].mean()
    return {"name": "anonymous_bank_1999", "interval_min": interval_min, "service_level_s": 20.0, "demand": demand,
            "pools": [{"name": "agents", "kind": "inhouse", "wage_per_h": 10.0,
                       "agents": [int(a + 0.5) for a in agents]}]}


def two_classes(log: pd.DataFrame, staffing: pd.DataFrame, **options: Any) -> dict[str, Any]:
    """:func:`hand_built` for the bank's priority 0 and its priorities 1-2 separately (each its own
    profile, handle and patience), priority 0 served first (needs a ``priority`` column)."""
    if "priority" not in log.columns:
        raise SystemExit("--two-classes needs a 'priority' column in the log")
    fast = hand_built(log[log["priority"] == 0], staffing, **options)
    slow = hand_built(log[log["priority"] != 0], staffing, **options)
    for data, suffix, rank in ((fast, "_p0", 1), (slow, "_p12", 0)):
        for ct in data["demand"]:
            ct["name"] += suffix
            ct["priority"] = rank
    return dict(fast, demand=fast["demand"] + slow["demand"])


def _toml(data: dict[str, Any]) -> str:
    """A minimal TOML writer for :func:`hand_built`'s dict (tables inline)."""
    def value(v: object) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return f'"{v}"' if isinstance(v, str) else repr(v)
    lines = [f"{k} = {value(v)}" for k, v in data.items() if not isinstance(v, list) or k not in ("demand", "pools")]
    for key in ("demand", "pools"):
        for table in data[key]:
            lines += ["", f"[[{key}]]", *(f"{k} = {value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def run_one(log: pd.DataFrame, scenario: Scenario, method: str, match: bool, reps: int, seed: int,
            jobs: int, gap_min: float = GAP_MIN) -> pd.DataFrame:
    observed = bt.observed_counts(log, scenario.interval_min, scenario.service_level_s)
    staffing = estimate_staffing_by_date(log, scenario.interval_min, method, gap_min)
    with make_executor(jobs) as executor:
        counts = bt.simulate_backtest(bt.Backtest(scenario, observed, staffing, match), reps, seed, executor)
    return bt.summarise(observed, counts)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--out", type=Path, default=Path("outputs/backtest_bank"))
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--gap-min", type=float, default=GAP_MIN, help="the estimator's short gap (min)")
    parser.add_argument("--interval-min", type=int, default=INTERVAL_MIN, help="profile and staffing interval")
    parser.add_argument("--handle", choices=["lognormal", "empirical"], default="lognormal")
    parser.add_argument("--handle-scale", type=float, default=1.0, help="multiply the handle times (sensitivity)")
    parser.add_argument("--two-classes", action="store_true", help="priority 0 and priorities 1-2 as two classes")
    parser.add_argument("--fit-month", help="build the scenario's demand, handle and patience from this month only "
                                            "(YYYY-MM): the other month is then out of sample")
    args = parser.parse_args()
    full = read_call_log(args.log)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for days, log in (("all days", full), ("Sun-Thu", full[full["arrival"].dt.day_of_week.isin([6, 0, 1, 2, 3])])):
        fit = log if args.fit_month is None else log[log["arrival"].dt.strftime("%Y-%m") == args.fit_month]
        options = {"interval_min": args.interval_min, "handle": args.handle, "handle_scale": args.handle_scale}
        build = two_classes if args.two_classes else hand_built
        data = build(fit, estimate_staffing_by_date(log, args.interval_min), **options)
        (args.out / f"bank_{days.replace(' ', '_')}.toml").write_text(_toml(data), encoding="utf-8")
        scenario = scenario_from_dict(data, source="bank.toml")
        for method in args.methods.split(","):
            for match in (False, True):
                table = run_one(log, scenario, method, match, args.reps, args.seed, args.jobs, args.gap_min)
                rows.append(table.assign(days=days, staffing=method, volume="observed" if match else "scenario"))
                print(f"{days}, {method}, volume {'observed' if match else 'scenario'}:", file=sys.stderr)
    result = pd.concat(rows, ignore_index=True)
    result.to_csv(args.out / "backtest_bank.csv", index=False)
    short = result[result["metric"].isin(["abandon_frac", "asa_s"])]
    pivot = short.pivot_table(index=["days", "staffing", "volume"], columns=["metric", "period"],
                              values="rel_error_frac")
    with pd.option_context("display.width", 220, "display.max_columns", 30, "display.precision", 3):
        print(pivot)
        print(short[short["staffing"] == "presence_queue"][["days", "volume", "period", "metric", "observed",
                                                            "predicted_mean", "predicted_low", "predicted_high",
                                                            "rel_error_frac"]].to_string(index=False))


if __name__ == "__main__":
    main()
