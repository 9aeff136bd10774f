"""Sweep speed: the same 40-task sweep with --jobs 1 and --jobs 2, interleaved.

    python benchmarks/bench_sweep.py --rounds 3

40 tasks = the baseline scenario at 8 in-house staffing levels × 5 replications of 7 days (about
90,000 calls each). Each run is a fresh process running the real CLI (`bposim sweep`) into a new
folder, so pool start-up and writing the task files are included, as a user would see them.
The speed-up is the median over rounds of time(jobs 1) / time(jobs 2).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SWEEP = """name = "bench-40"
options = ["{base}"]
reps = 5
days = {days}
[grid]
"pools.inhouse.agents" = [36, 37, 38, 39, 40, 41, 42, 43]
"""


def _run(sweep: Path, jobs: int, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "experiments.cli", "sweep", str(sweep), "--jobs", str(jobs),
                    "--no-calls", "--out", str(out)], check=True, capture_output=True, cwd=HERE.parent)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--days", type=float, default=7.0, help="horizon of each task (default 7)")
    args = parser.parse_args(argv)
    base = HERE.parent / "experiments" / "scenarios" / "baseline.toml"
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "bench.toml"
        sweep.write_text(SWEEP.format(base=base, days=args.days))
        times: dict[int, list[float]] = {1: [], 2: []}
        for r in range(args.rounds):
            for jobs in (1, 2):
                times[jobs].append(_run(sweep, jobs, Path(tmp) / f"out-{r}-{jobs}"))
                print(f"round {r} --jobs {jobs}: {times[jobs][-1]:6.1f} s", flush=True)
    ratios = [a / b for a, b in zip(times[1], times[2], strict=True)]
    print(f"\nmedian: --jobs 1 {statistics.median(times[1]):.1f} s, --jobs 2 {statistics.median(times[2]):.1f} s; "
          f"speed-up (median of rounds) {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
