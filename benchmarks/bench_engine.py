"""Engine speed and memory: bposim against the idiomatic SimPy yardstick, interleaved.

    python benchmarks/bench_engine.py --calls 1000000 --pairs 3

Each run is a fresh subprocess (so peak memory is its own); runs alternate yardstick, bposim,
yardstick, bposim, ... and the speed ratio is the median over pairs. Both models' outputs are
printed next to the exact Erlang A values of the reference workload (benchmarks/reference.toml).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bposim(n_calls: int, seed: int, keep_calls: bool) -> dict[str, float]:
    from models.loading import load_scenario
    from models.settings import RunSettings
    from sim.replication import simulate

    scenario = load_scenario(HERE / "reference.toml")
    hours = max(1, round(n_calls / scenario.demand[0].rates_per_h[0]))
    rep = simulate(scenario, RunSettings(reps=1, seed=seed, days=hours / 24, keep_calls=keep_calls), 0)
    totals = rep.intervals.sum(numeric_only=True)
    offered = totals["offered_n"]
    return {"calls": float(offered), "p_wait": totals["queued_n"] / offered,
            "asa_s": totals["wait_answered_s"] / totals["answered_n"],
            "abandon": totals["abandoned_n"] / offered, "sl": totals["answered_in_sl_n"] / offered}


def child(model: str, n_calls: int, seed: int, keep_calls: bool) -> None:
    """Run one model once and print a JSON line: calls/s, memory, outputs."""
    import yardstick

    import sim.replication  # noqa: F401
    base = _rss_mib()
    start = time.perf_counter()
    out = yardstick.run_yardstick(n_calls, seed) if model == "yardstick" else _bposim(n_calls, seed, keep_calls)
    seconds = time.perf_counter() - start
    out.update(model=model, seconds=seconds, calls_per_s=out["calls"] / seconds,
               base_mib=base, peak_mib=_peak_mib(), growth_mib=_peak_mib() - base)
    print(json.dumps(out))


def _spawn(model: str, n_calls: int, seed: int, keep_calls: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", model, "--calls", str(n_calls), "--seed", str(seed)]
    if not keep_calls:
        cmd.append("--no-calls")
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _theory() -> dict[str, float]:
    from models import erlang
    m = erlang.queue_metrics(9 / 60, 300.0, 50, 20.0, mean_patience_s=600.0)
    return {"p_wait": m.p_wait_frac, "asa_s": m.asa_s, "abandon": m.abandon_frac, "sl": m.service_level_frac}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000, help="arrivals per run (default 1,000,000)")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved (yardstick, bposim) pairs")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-calls", action="store_true", help="bposim without the per-call table")
    parser.add_argument("--child", choices=["yardstick", "bposim"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.calls, args.seed, not args.no_calls)
        return 0
    runs = []
    for pair in range(args.pairs):
        for model in ("yardstick", "bposim"):
            runs.append(_spawn(model, args.calls, args.seed + pair, not args.no_calls))
            r = runs[-1]
            print(f"pair {pair} {model:9s} {r['calls']:>10,.0f} calls {r['seconds']:7.2f} s "
                  f"{r['calls_per_s']:>10,.0f} calls/s  peak {r['peak_mib']:6.0f} MiB "
                  f"(+{r['growth_mib']:.0f} over imports)", flush=True)
    _report(runs)
    return 0


def _report(runs: list[dict]) -> None:
    yard = [r for r in runs if r["model"] == "yardstick"]
    ours = [r for r in runs if r["model"] == "bposim"]
    ratios = [b["calls_per_s"] / y["calls_per_s"] for y, b in zip(yard, ours, strict=True)]
    print(f"\nmedian calls/s: yardstick {statistics.median(r['calls_per_s'] for r in yard):,.0f}, "
          f"bposim {statistics.median(r['calls_per_s'] for r in ours):,.0f}; "
          f"ratio bposim/yardstick (median of pairs) {statistics.median(ratios):.2f} "
          f"(pairs: {', '.join(f'{x:.2f}' for x in ratios)})")
    print(f"peak memory growth (median): yardstick {statistics.median(r['growth_mib'] for r in yard):.0f} MiB, "
          f"bposim {statistics.median(r['growth_mib'] for r in ours):.0f} MiB")
    theory = _theory()
    print(f"\n{'output':10s} {'Erlang A':>10s} {'yardstick':>10s} {'bposim':>10s}")
    for key, label in (("p_wait", "P(wait)"), ("asa_s", "ASA s"), ("abandon", "abandon"), ("sl", "SL 20 s")):
        print(f"{label:10s} {theory[key]:10.4f} {statistics.mean(r[key] for r in yard):10.4f} "
              f"{statistics.mean(r[key] for r in ours):10.4f}")


if __name__ == "__main__":
    sys.exit(main())
