"""The price of certainty on a peaked day: the optimiser at several confidences against stationary
Erlang A, judged on replications none of them saw.

    python benchmarks/bench_peaked_day.py --jobs 2

One in-house pool open 07:00-21:00 in 30-minute intervals, two peaks (about 200 and 140 calls/h),
exponential handle 300 s and patience 300 s; targets 80% within 20 s and at most 5% abandoned in
every open interval (28 intervals x 2 targets). Staffings: each interval's own stationary Erlang A
figure (the optimiser's warm start), and ``bposim optimise --per-interval`` at one-sided confidence
0.5, 0.8 and 0.95 per (target, interval), and 0.95 for all 56 together (``--simultaneous``,
Bonferroni). Each search: 6 replications of 5 days, seed 2. Each staffing is then simulated on seed
99 (6 replications of 5 days) and judged there: agent-hours a day, (target, interval) pairs whose
fresh mean misses, whose marginal 95% bound misses, and the Bonferroni lower bound of how sure it is
that all 56 are met at once. Also the wall time of each search (whole search, 2 processes).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.optimise.evaluate import Evaluation, evaluate  # noqa: E402
from experiments.optimise.output import joint_sure_frac  # noqa: E402
from experiments.optimise.search import Problem, optimise  # noqa: E402
from experiments.optimise.targets import parse_target  # noqa: E402
from experiments.optimise.warm import warm_start  # noqa: E402
from experiments.running.executors import make_executor  # noqa: E402
from models.loading import scenario_from_dict  # noqa: E402
from models.scenario import Scenario  # noqa: E402
from models.settings import RunSettings  # noqa: E402


def peaked_day() -> Scenario:
    hours = np.arange(48) / 2
    profile = [round(float(20 + 180 * np.exp(-((x - 11) / 3) ** 2) + 120 * np.exp(-((x - 16) / 2.5) ** 2)), 1)
               for x in hours]
    return scenario_from_dict({
        "name": "peaked-day", "interval_min": 30, "service_level_s": 20.0,
        "demand": [{"name": "c", "profile_per_h": profile, "handle": {"dist": "exponential", "mean_s": 300.0},
                    "patience": {"dist": "exponential", "mean_s": 300.0}, "route": ["a"]}],
        "pools": [{"name": "a", "kind": "inhouse", "location": "local", "agents": 10, "wage_per_h": 10.0,
                   "open_h": [7, 21]}]}, source="peaked-day")


def describe(label: str, ev: Evaluation, seconds: float | None) -> str:
    hours = sum(a for a in ev.staffing["a"][14:42]) * 0.5
    mean_miss = sum(not e.mean_met for e in ev.estimates)
    bound_miss = sum(not e.met for e in ev.estimates)
    took = "" if seconds is None else f"{seconds:6.1f}"
    return (f"{label:<28} {hours:8.1f} {mean_miss:10d} {bound_miss:11d} "
            f"{100 * joint_sure_frac(ev.estimates):10.1f} {took:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    scn = peaked_day()
    targets = (parse_target("sl_frac>=0.8", scn), parse_target("abandon_frac<=0.05", scn))
    settings = RunSettings(reps=6, days=5, warmup_h=0, seed=2, keep_calls=False)
    fresh = dataclasses.replace(settings, seed=99)
    runs = [("optimised, 0.5 each", 0.5, False), ("optimised, 0.8 each", 0.8, False),
            ("optimised, 0.95 each", 0.95, False), ("optimised, 0.95 all together", 0.95, True)]
    with make_executor(args.jobs) as executor:
        staffings = [("stationary Erlang A", warm_start(scn, ("a",), targets, True, 2000), None)]
        for label, confidence, joint in runs:
            start = time.perf_counter()
            problem = Problem(scn, targets, ("a",), settings, True, confidence, simultaneous=joint)
            outcome = optimise(problem, executor)
            staffings.append((label, outcome.staffing, time.perf_counter() - start))
        judged = evaluate(scn, [s for _, s, _ in staffings], targets, fresh, executor, True)
    print(f"{'staffing':<28} {'agent-h':>8} {'mean miss':>10} {'bound miss':>11} {'joint sure%':>10} {'search s':>8}")
    for (label, _, seconds), ev in zip(staffings, judged, strict=True):
        print(describe(label, ev, seconds))


if __name__ == "__main__":
    main()
