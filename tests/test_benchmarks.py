"""The benchmark scripts run (on a tiny workload); their figures are measured on demand, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench_engine.py"


def _child(calls: int, *flags: str) -> dict:
    out = subprocess.run([sys.executable, str(BENCH), "--child", "bposim", "--calls", str(calls), *flags],
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_engine_benchmark_runs_on_a_tiny_workload():
    out = subprocess.run([sys.executable, str(BENCH), "--calls", "3000", "--pairs", "1"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    assert "ratio bposim/yardstick" in out and "Erlang A" in out
    for label in ("P(wait)", "ASA s", "abandon", "SL 20 s"):
        assert label in out


@pytest.mark.slow
def test_memory_stays_flat_without_the_calls_table():
    # Issue 4/5: with --no-calls, peak memory for 1M and for 10M calls differs by less than 50 MiB.
    # Peak RSS of a fresh process, measured above what its imports take.
    small, large = _child(1_000_000, "--no-calls"), _child(10_000_000, "--no-calls")
    assert large["calls"] > 9.9e6
    assert large["growth_mib"] - small["growth_mib"] < 50, (small, large)


def test_sweep_benchmark_runs_on_a_tiny_workload():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_sweep.py"), "--rounds", "1",
                          "--days", "0.0625"], capture_output=True, text=True, check=True, timeout=600).stdout
    assert "speed-up (median of rounds)" in out


def test_budget_benchmark_runs_on_a_tiny_workload(tmp_path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text('name = "tiny"\ninterval_min = 60\n[[demand]]\nname = "c"\ncalls_per_h = 10\n'
                        'handle = { dist = "exponential", mean_s = 120 }\nroute = ["v"]\n[[pools]]\nname = "v"\n'
                        'kind = "bpo"\nagents = 1\ncontract = { per_minute = 0.5 }\n')
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_budget.py"), "--scenario", str(scenario),
                          "--months", "2", "--reps", "3", "--jobs", "1"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    assert "mean paired diff" in out and "wall time on 1 process(es)" in out and "term" in out
