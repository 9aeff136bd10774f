"""Known faults of the command line, each closed: one line and exit status 2, never a hang or a traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "experiments" / "scenarios" / "baseline.toml"
PREFIX = "bposim: error: "


def bposim(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command line in a fresh process (``timeout``: generous, a hang fails the test)."""
    return subprocess.run([sys.executable, "-m", "experiments.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def small_sweep(folder: Path, days: float = 0.25) -> Path:
    path = folder / "small.toml"
    path.write_text(f'name = "small"\noptions = ["{BASELINE}"]\nreps = 1\ndays = {days}\n'
                    '[grid]\n"pools.inhouse.agents" = [40]\n', encoding="utf-8")
    return path


def test_bposim_run_checks_its_output_folder_before_simulating(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = bposim("run", BASELINE, "--reps", "1", "--days", "1", "--out", blocker / "results")
    assert (done.returncode, done.stdout) == (2, "")  # nothing simulated, no summary printed
    assert done.stderr == f"{PREFIX}{blocker / 'results'}: cannot write results there (Not a directory)\n"


def test_bposim_report_of_a_sweep_file_with_bad_settings_is_one_line(tmp_path):
    sweep = small_sweep(tmp_path, days=0.01)
    done = bposim("report", sweep, "--results", tmp_path / "results", "--out", tmp_path / "report")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"{PREFIX}days: must be a whole number of 30-minute intervals "
                           "(a multiple of 0.0208333), got 0.01\n")
    assert not (tmp_path / "results").exists() and not (tmp_path / "report").exists()


def test_a_dask_scheduler_without_workers_is_one_line_after_the_timeout(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        start = time.monotonic()
        done = bposim("sweep", small_sweep(tmp_path), "--scheduler", address, "--dask-timeout", "2",
                      "--out", tmp_path / "out")
        elapsed = time.monotonic() - start
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"{PREFIX}no Dask worker joined {address} within 2 s; start workers "
                           f"(dask worker {address}) or wait longer with --dask-timeout\n")
    # It gave up after the 2 s asked for, not at once and not at the 60 s default (start-up of the
    # process and of the client takes a few seconds on a busy 2-core machine: 40 s is far from both).
    assert 2 <= elapsed < 40
    assert not (tmp_path / "out").exists()
