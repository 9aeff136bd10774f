"""The budget's shortcut against a full simulation: what sampling 7 days a month costs in accuracy.

    python benchmarks/bench_budget.py --months 3 --reps 20 --jobs 2

Runs the same budget twice, same seed (so the same forecast errors and, for the first sampled
days, the same calls): once with the shortcut (``--days-per-month 7``: 7 days measured after the
3-day warm-up, scaled to the month) and once ``full`` (every day of each calendar month). Reports,
per month and for the term, the median and 95th percentile of the total bill and of the invoices
under both, their difference (absolute and %), the difference's bootstrap standard error (paired:
replications resampled together), the mean paired difference per (replication, month) with its
standard error, the spread (sd over replications) under both, and each run's wall time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.budget.run import run_budget  # noqa: E402
from experiments.budget.tables import per_rep_month  # noqa: E402
from experiments.running.executors import make_executor  # noqa: E402
from models.loading import load_scenario  # noqa: E402

OFFSHORE = ROOT / "experiments" / "scenarios" / "offshore_bpo.toml"
BOOTSTRAP = 2000


def timed(scenario_path: Path, sample: str, months: int, reps: int, seed: int, jobs: int) -> tuple[pd.DataFrame, float]:
    """The per-(rep, month) sums of a budget and its wall time (s)."""
    scenario = load_scenario(scenario_path)
    start = time.perf_counter()
    with make_executor(jobs, tasks=months * reps) as executor:
        rows = run_budget(scenario, months, reps, sample, seed, executor, progress=False)
    return per_rep_month(rows), time.perf_counter() - start


def _stats(values: np.ndarray) -> np.ndarray:
    """Median and P95 along axis 0 (replications)."""
    return np.array([np.percentile(values, 50, axis=0), np.percentile(values, 95, axis=0)])


def compare(short: pd.DataFrame, full: pd.DataFrame, column: str, labels: list[str]) -> pd.DataFrame:
    """Median and P95 of ``column`` per month and for the term under both runs, the difference and
    its paired bootstrap standard error."""
    a = short.pivot(index="rep", columns="month", values=column).to_numpy()
    b = full.pivot(index="rep", columns="month", values=column).to_numpy()
    a, b = np.column_stack([a, a.sum(axis=1)]), np.column_stack([b, b.sum(axis=1)])
    rng = np.random.default_rng(2026)
    picks = rng.integers(0, len(a), size=(BOOTSTRAP, len(a)))
    boot = np.array([_stats(a[p]) - _stats(b[p]) for p in picks])
    rows = []
    for k, label in enumerate([*labels, "term"]):
        for s, stat in enumerate(("median", "p95")):
            sa, sb = _stats(a)[s, k], _stats(b)[s, k]
            se = boot[:, s, k].std(ddof=1)
            rows.append({"period": label, "stat": stat, "sample_7": sa, "full": sb, "diff": sa - sb,
                         "diff_pct": 100 * (sa - sb) / sb, "se_diff": se, "se_pct": 100 * se / sb,
                         "sd_7": a[:, k].std(ddof=1), "sd_full": b[:, k].std(ddof=1),
                         "sd_ratio": a[:, k].std(ddof=1) / b[:, k].std(ddof=1)})
    paired = a - b
    for k, label in enumerate([*labels, "term"]):
        se = paired[:, k].std(ddof=1) / np.sqrt(len(paired))
        rows.append({"period": label, "stat": "mean paired diff", "diff": paired[:, k].mean(),
                     "diff_pct": 100 * paired[:, k].mean() / b[:, k].mean(), "se_diff": se,
                     "se_pct": 100 * se / b[:, k].mean()})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", type=Path, default=OFFSHORE)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    short, t_short = timed(args.scenario, "7", args.months, args.reps, args.seed, args.jobs)
    full, t_full = timed(args.scenario, "full", args.months, args.reps, args.seed, args.jobs)
    calendar = load_scenario(args.scenario).calendar
    labels = [f"m{m}" for m in range(args.months)] if calendar is None else [calendar.label(m) for m in range(args.months)]
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    for column in ("total_cost", "invoice_cost"):
        print(f"\n{column}: 7-day sample against full months, {args.reps} replications, seed {args.seed}")
        print(compare(short, full, column, labels).round({"diff_pct": 2, "se_pct": 2, "sd_ratio": 2}).to_string(
            index=False, float_format=lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"))
    print(f"\nwall time on {args.jobs} process(es): 7-day sample {t_short:.1f} s, full months {t_full:.1f} s "
          f"(x{t_full / t_short:.2f}); {args.months} months x {args.reps} replications")
    return 0


if __name__ == "__main__":
    sys.exit(main())
