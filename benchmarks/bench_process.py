"""Whole-process speed: ``bposim run`` on the reference workload against the idiomatic SimPy
yardstick run as a script, each a fresh process, interleaved, timed from start to exit.

    python benchmarks/bench_process.py --days 39 --pairs 3

This counts everything a user waits for: interpreter start, imports (pandas, SciPy, ...), the
simulation, the tables, pricing, the printed summary. The yardstick process imports numpy and
SimPy, draws its numbers in numpy batches and simulates the same number of calls (the expected
arrivals of ``--days`` days at 540 calls/h: 505,440 for 39 days). The engine-only comparison is
benchmarks/bench_engine.py.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CALLS_PER_DAY = 540 * 24


def _yardstick_command(n_calls: int, seed: int) -> list[str]:
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import yardstick; "
            f"print(yardstick.run_yardstick({n_calls}, {seed}))")
    return [sys.executable, "-c", code]


def _bposim_command(days: float, seed: int) -> list[str]:
    return [sys.executable, "-m", "experiments.cli", "run", str(HERE / "reference.toml"), "--reps", "1",
            "--days", f"{days:g}", "--seed", str(seed), "--no-calls", "--jobs", "1"]


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=39.0, help="simulated days (default 39: about 505,000 calls)")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved (yardstick, bposim) pairs")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    n_calls = round(args.days * CALLS_PER_DAY)
    yard, ours = [], []
    for pair in range(args.pairs):
        yard.append(_time(_yardstick_command(n_calls, args.seed + pair)))
        ours.append(_time(_bposim_command(args.days, args.seed + pair)))
        print(f"pair {pair}: yardstick {yard[-1]:6.2f} s, bposim run {ours[-1]:6.2f} s, "
              f"ratio {yard[-1] / ours[-1]:.2f}", flush=True)
    ratios = [y / b for y, b in zip(yard, ours, strict=True)]
    print(f"\n{n_calls:,} calls; median whole process: yardstick {statistics.median(yard):.2f} s, "
          f"bposim run {statistics.median(ours):.2f} s; ratio (median of pairs) {statistics.median(ratios):.2f} "
          f"(pairs: {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
