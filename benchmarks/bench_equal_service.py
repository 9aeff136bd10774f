"""The equal-service searches of the bundled study: wall time and simulated days.

    python benchmarks/bench_equal_service.py --jobs 2 [--repeat 1]

Loads experiments/sweeps/inhouse_vs_bpo.toml and runs, for its equal-service study (3 options x 5
volumes, 80% within 20 s in every half hour), the 15 searches on the project's executor, exactly as
``bposim sweep`` does before it runs the points (experiments/optimise/study.py). Prints per point
the staffing found (agent-hours per day), the evaluations and simulated days of its search and
how sure the fresh re-check is; then the wall time (median over ``--repeat``), counted around the
whole of it (executor start included), and the total simulated days. The searches only: the
study's reported run (120 tasks of 10 days) is timed by benchmarks/bench_sweep.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.optimise.study import equal_service  # noqa: E402
from experiments.running.executors import make_executor  # noqa: E402
from experiments.study.sweep_file import load_sweep  # noqa: E402

SWEEP = ROOT / "experiments" / "sweeps" / "inhouse_vs_bpo.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    sweep = load_sweep(SWEEP)
    points = [p for p in sweep.points if p.goal is not None]
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        with make_executor(args.jobs, tasks=len(points)) as executor:
            _, table, _ = equal_service(points, sweep.settings(), executor, progress=None)
        times.append(time.perf_counter() - start)
    shown = table[["option", "scenario_id", "agent_h_per_day", "evaluations_n", "simulated_days",
                   "recheck_min_sure_frac", "recheck_means_met"]].copy()
    shown["scenario_id"] = shown["scenario_id"].str.extract(r"calls_per_h=(\d+)")[0]
    print(shown.rename(columns={"scenario_id": "calls_per_h"}).to_string(index=False))
    print(f"\n{len(points)} searches, {int(table['evaluations_n'].sum())} staffings evaluated, "
          f"{table['simulated_days'].sum():,.0f} simulated days (replications x days, warm-up included)")
    print(f"wall time on {args.jobs} process(es): median {statistics.median(times):.1f} s over {len(times)} "
          f"run(s): {', '.join(f'{t:.1f}' for t in times)}")


if __name__ == "__main__":
    main()
