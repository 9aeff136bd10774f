"""Tests of the ``bposim`` command line (experiments/cli.py).

The real console script runs as a subprocess for a few cases where the process matters (exit
status, what reaches stderr, tracebacks, files on disk): bad scenario files, a short run with
``--out``, an output folder that cannot be made, ``erlang``. Starting it costs about 2.5 s of
imports, so these few subprocesses are started together by one module fixture and run in parallel;
each test waits for its own. Every other case calls ``experiments.cli.main`` in-process, which is
exactly what the console script calls.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import erlang
from models.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "experiments" / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"
BASE_TEXT = BASELINE.read_text(encoding="utf-8")
DATA = Path(__file__).resolve().parent / "data"
PREFIX = "bposim: error: "

TIMEOUT_S = 120


def bposim_command() -> list[str]:
    """The installed console script next to this interpreter, else on PATH, else ``python -m``."""
    exe = shutil.which("bposim", path=str(Path(sys.executable).parent)) or shutil.which("bposim")
    return [exe] if exe else [sys.executable, "-m", "experiments.cli"]


def edited(*pairs: tuple[str, str], text: str = BASE_TEXT) -> str:
    """``text`` (default: baseline.toml's) with each (old, new) replaced; each old must occur once."""
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


class Jobs:
    """Subprocesses started together; ``jobs[name]`` waits for one and returns its output."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._procs: dict[str, subprocess.Popen] = {}
        self._done: dict[str, Done] = {}

    def start(self, name: str, *args: str | Path) -> None:
        self._procs[name] = subprocess.Popen(
            [*bposim_command(), *map(str, args)], cwd=self.cwd, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "100"})

    def __getitem__(self, name: str) -> Done:
        if name not in self._done:
            out, err = self._procs[name].communicate(timeout=TIMEOUT_S)
            self._done[name] = Done(self._procs[name].returncode, out, err)
        return self._done[name]

    def stop(self) -> None:
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


@dataclass
class Setup:
    root: Path
    bad: dict[str, tuple[Path, str]]  # job name -> (scenario file, expected message)
    results: Path  # a pre-existing results folder
    results_before: dict[str, bytes]
    out: Path
    blocked_out: Path


# Bad scenario files run through the real script: (job, edit, expected message after the path).
BAD_FILES = {
    "bad_syntax": (("interval_min = 30", "interval_min = = 30"),
                   "TOML syntax error: Invalid value (at line 3, column 16)"),
    "bad_wage": (("wage_per_h = 24.0", "wage_per_h = -3"), "pools[0].wage_per_h: must be > 0, got -3"),
}
BAD_ROUTE = (('route = ["inhouse", "offshore"]', 'route = ["inhouse", "ofshore"]'),
             "demand[0].route[1]: unknown pool 'ofshore' (did you mean 'offshore'?); pools are inhouse, offshore")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cli")
    jobs = Jobs(root)
    bad = {}
    for name, (change, message) in BAD_FILES.items():
        path = root / f"{name}.toml"
        path.write_text(edited(change), encoding="utf-8")
        bad[name] = (path, message)
        jobs.start(name, "check", path)
    # A results folder from an earlier run; a later run on a bad scenario must leave it untouched.
    results = root / "results"
    results.mkdir()
    (results / "notes.txt").write_bytes(b"do not touch\n\x00\xff")
    (results / "summary.csv").write_text("pool,metric,mean\nall,sl_frac,0.8\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in results.iterdir()}
    route_bad = root / "bad_route.toml"
    route_bad.write_text(edited(BAD_ROUTE[0]), encoding="utf-8")
    bad["bad_route_run"] = (route_bad, BAD_ROUTE[1])
    jobs.start("bad_route_run", "run", route_bad, "--reps", "1", "--days", "0.5", "--out", results)
    # A good run, an output folder that cannot be made, the Erlang calculator.
    out = root / "out"
    jobs.start("run_ok", "run", BASELINE, "--reps", "2", "--days", "0.5", "--out", out)
    (root / "file.txt").write_text("a regular file\n", encoding="utf-8")
    blocked_out = root / "file.txt" / "out"
    jobs.start("out_under_file", "run", BASELINE, "--reps", "1", "--days", "0.0625", "--out", blocked_out)
    jobs.start("erlang_agents", "erlang", "--calls-per-h", "540", "--handle-s", "300", "--agents", "50",
               "--patience-s", "600")
    try:
        yield jobs, Setup(root, bad, results, before, out, blocked_out)
    finally:
        jobs.stop()


def assert_one_error_line(done: Done, *needles: str) -> str:
    """Exit status 2, exactly one stderr line starting with the prefix, no traceback anywhere."""
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(PREFIX), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def run_main(capsys: pytest.CaptureFixture, *args: str | Path) -> Done:
    """``bposim *args`` in this process: what the console script calls, without its 2.5 s start-up."""
    from experiments.cli import main  # slow import (pandas, scipy): only once the subprocesses run

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    return Done(code, out, err)


# --------------------------------------------------------------------------- subprocess: bad files


@pytest.mark.parametrize("name", [*BAD_FILES, "bad_route_run"])
def test_bad_scenario_file_is_one_line_and_exit_2(setup, name: str):
    jobs, s = setup
    path, message = s.bad[name]
    line = assert_one_error_line(jobs[name], str(path))
    assert line == f"{PREFIX}{path}: {message}"


def test_failed_run_leaves_existing_results_untouched(setup):
    jobs, s = setup
    assert jobs["bad_route_run"].returncode == 2
    after = {p.name: p.read_bytes() for p in s.results.iterdir()}
    assert after == s.results_before  # same files, byte for byte, nothing added


# --------------------------------------------------------------------------- check, run


def test_check_baseline(capsys):
    done = run_main(capsys, "check", BASELINE)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (f"{BASELINE}: ok: 'retail-support', 1 call type(s), pools inhouse (inhouse, local), "
                           "offshore (bpo, offshore)\n")


def test_run_prints_a_table_per_pool_and_total(setup):
    jobs, _ = setup
    done = jobs["run_ok"]
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("retail-support: 2 replication(s) of 0.5 day(s)")
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["pool", "offered"])
    assert [line.split()[0] for line in lines[header + 1:header + 4]] == ["inhouse", "offshore", "all"]
    assert lines[header].split() == ["pool", "offered", "SL", "%", "ASA", "s", "aband", "%", "occ", "%",
                                     "cost/call", "resolved", "cost/resolved", "cost/month", "quality/month",
                                     "with", "quality/month"]


CALLS_COLUMNS = ["rep", "call_id", "call_type", "arrival_s", "outcome", "pool", "wait_s", "handle_s", "is_repeat"]
RUNS_COLUMNS = ["rep", "offered_n", "answered_n", "abandoned_n", "blocked_n", "sl_frac", "asa_s", "abandon_frac",
                "occupancy_frac", "labour_cost", "vendor_cost", "total_cost", "cost_per_call"]
INVOICES_COLUMNS = ["rep", "pool", "month", "billed_min", "fixed_cost", "usage_cost", "credit_cost", "invoice_cost"]


def test_run_writes_readable_tables(setup):
    jobs, s = setup
    assert jobs["run_ok"].returncode == 0
    names = {p.name for p in s.out.iterdir()}
    assert {"calls.parquet", "intervals.parquet", "runs.parquet", "invoices.parquet", "summary.csv",
            "meta.json"} <= names
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]  # no temp files left behind
    calls = pd.read_parquet(s.out / "calls.parquet")
    runs = pd.read_parquet(s.out / "runs.parquet")
    invoices = pd.read_parquet(s.out / "invoices.parquet")
    intervals = pd.read_parquet(s.out / "intervals.parquet")
    summary = pd.read_csv(s.out / "summary.csv")
    meta = json.loads((s.out / "meta.json").read_text(encoding="utf-8"))
    assert set(CALLS_COLUMNS) <= set(calls.columns)
    assert set(RUNS_COLUMNS) <= set(runs.columns)
    assert set(INVOICES_COLUMNS) <= set(invoices.columns)
    assert {"rep", "pool"} <= set(intervals.columns)
    assert {"pool", "metric", "mean", "ci_low", "ci_high"} <= set(summary.columns)
    # Two replications, everywhere.
    assert sorted(runs["rep"]) == [0, 1]
    assert set(calls["rep"]) == set(intervals["rep"]) == set(invoices["rep"]) == {0, 1}
    assert set(invoices["pool"]) == {"offshore"}  # only the BPO pool gets an invoice
    assert set(summary["pool"]) == {"inhouse", "offshore", "all"}
    # The tables agree with each other: offered calls per replication = rows of the calls table.
    first_contacts = calls.groupby("rep").size()
    assert list(runs.sort_values("rep")["offered_n"]) == list(first_contacts.sort_index())
    # A run's costs are sums over its pools: total = sum(labour_i + vendor_i) against sum(labour_i) +
    # sum(vendor_i), a few roundings of ~1.1e-16 relative of these positive amounts: 1e-12 relative
    # (a cent is ~1e-6 relative to the ~10,000 of a half day here).
    np.testing.assert_allclose(runs["total_cost"], runs["labour_cost"] + runs["vendor_cost"], rtol=1e-12, atol=0)
    # meta names the scenario by the digest of what was run.
    assert meta["settings"]["reps"] == 2 and meta["settings"]["days"] == 0.5
    assert meta["scenarios"]["retail-support"]["hash"] == load_scenario(BASELINE).digest()


# --------------------------------------------------------------------------- bad values, output folder


def test_reps_zero_exits_2_without_traceback(capsys):
    done = run_main(capsys, "run", BASELINE, "--reps", "0", "--days", "0.5")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "argument --reps: must be >= 1, got 0" in done.stderr.splitlines()[-1]


def test_reps_zero_is_one_line(capsys):
    done = run_main(capsys, "run", BASELINE, "--reps", "0", "--days", "0.5")
    assert_one_error_line(done, "--reps", "must be >= 1, got 0")


def test_days_not_a_whole_number_of_intervals(capsys):
    done = run_main(capsys, "run", BASELINE, "--reps", "1", "--days", "0.01")
    line = assert_one_error_line(done, "days", "30-minute intervals")
    assert line == f"{PREFIX}days: must be a whole number of 30-minute intervals (a multiple of 0.0208333), got 0.01"


def test_output_folder_under_a_regular_file(setup):
    jobs, s = setup
    line = assert_one_error_line(jobs["out_under_file"], str(s.blocked_out))
    assert line == f"{PREFIX}{s.blocked_out}: cannot write results there (Not a directory)"
    assert (s.root / "file.txt").read_text(encoding="utf-8") == "a regular file\n"


# --------------------------------------------------------------------------- erlang


def parse_erlang(stdout: str) -> dict[str, str]:
    """``{label: first value}`` of the ``bposim erlang`` lines, e.g. ``{"P(wait)": "0.2796"}``."""
    out = {}
    for line in stdout.splitlines():
        label, value = line[:20].strip(), line[20:].split()[0]
        out[label] = value
    return out


def expected_erlang(m: erlang.QueueMetrics) -> dict[str, str]:
    return {"agents": str(m.servers), "load": f"{m.load_erlangs:.3f}", "P(wait)": f"{m.p_wait_frac:.4f}",
            "service level": f"{m.service_level_frac:.4f}", "ASA": f"{m.asa_s:.2f}",
            "abandonment": f"{m.abandon_frac:.4f}", "blocked": f"{m.blocked_frac:.4f}",
            "occupancy": f"{m.occupancy_frac:.4f}"}


def test_erlang_figures_match_queue_metrics(setup):
    jobs, _ = setup
    done = jobs["erlang_agents"]
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    m = erlang.queue_metrics(540 / 3600, 300.0, 50, 20.0, 600.0)
    assert parse_erlang(done.stdout) == expected_erlang(m)
    assert "answered within 20 s / offered" in done.stdout


def test_erlang_target_gives_the_smallest_staffing(capsys):
    done = run_main(capsys, "erlang", "--calls-per-h", "540", "--handle-s", "300", "--target-sl", "0.8",
                    "--patience-s", "600")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    figures = parse_erlang(done.stdout)
    c = int(figures["agents"])
    meets = erlang.queue_metrics(540 / 3600, 300.0, c, 20.0, 600.0)
    assert meets.service_level_frac >= 0.8
    assert erlang.queue_metrics(540 / 3600, 300.0, c - 1, 20.0, 600.0).service_level_frac < 0.8
    assert figures == expected_erlang(meets)


# --------------------------------------------------------------------------- more cases, in-process


@pytest.mark.parametrize("path", [*sorted(SCENARIOS.glob("*.toml")), DATA / "features.toml"], ids=lambda p: p.stem)
def test_check_every_bundled_scenario(capsys, path: Path):
    done = run_main(capsys, "check", path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"{path}: ok: ")


@pytest.mark.parametrize(("change", "message"), [
    (("calls_per_h = 540", "calls_per_h = nan"), "demand[0].calls_per_h: must be a finite number, got nan"),
    (("agents = 40", "agents = 0"), "pools[0].agents: must have at least one agent in some interval, got 0 everywhere"),
    (("per_minute = 0.55", "per_minutes = 0.55"),
     "pools[1].contract.per_minutes: unknown key (did you mean 'per_minute'?); allowed keys: billing_basis, billing_increment_s, "
     "escalation_per_year_frac, included_min, min_monthly, monthly_fee, per_call, per_hour, per_minute, per_resolved, sla, "
     "sla_bonus_cap_frac, sla_cap_frac, tiers, tiers_mode, wrap_min_per_call"),
    (('route = ["inhouse", "offshore"]', "split = { inhouse = 0.5, offshore = 0.4 }"),
     "demand[0].split: fractions must sum to 1, got 0.9"),
    (("interval_min = 30", "interval_min = 50"),
     "interval_min: must divide a day of 1440 minutes (e.g. 15, 30, 60), got 50"),
    (('calls_per_h = 540', 'profile_csv = "nowhere.csv"'), "demand[0].profile_csv: file not found: {dir}/nowhere.csv"),
])
@pytest.mark.parametrize("command", ["check", "run"])
def test_bad_file_in_process(capsys, tmp_path: Path, change, message: str, command: str):
    path = tmp_path / "s.toml"
    path.write_text(edited(change), encoding="utf-8")
    args = ["--reps", "1", "--days", "0.5", "--out", tmp_path / "out"] if command == "run" else []
    done = run_main(capsys, command, path, *args)
    assert done.returncode == 2
    assert done.stderr == f"{PREFIX}{path}: {message.replace('{dir}', str(tmp_path))}\n"
    assert done.stdout == ""
    assert not (tmp_path / "out").exists()


def test_missing_scenario_file(capsys, tmp_path: Path):
    done = run_main(capsys, "run", tmp_path / "nope.toml")
    assert (done.returncode, done.stderr) == (2, f"{PREFIX}{tmp_path / 'nope.toml'}: file not found\n")


@pytest.mark.parametrize(("args", "tail"), [
    (["--days", "-1"], "argument --days: must be a finite number >= 0, got '-1'"),
    (["--days", "nan"], "argument --days: must be a finite number >= 0, got 'nan'"),
    (["--reps", "two"], "argument --reps: must be a whole number, got 'two'"),
    (["--warmup-h", "x"], "argument --warmup-h: must be a number, got 'x'"),
])
def test_bad_values_refused_by_argparse(capsys, args, tail: str):
    done = run_main(capsys, "run", BASELINE, *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr == f"{PREFIX}bposim run: {tail} (see bposim run --help)\n"


@pytest.mark.parametrize(("args", "line"), [
    (["--days", "0"], "days: must be > 0, got 0"),
    (["--days", "0.5", "--warmup-h", "12"], "warmup_h: must be shorter than the horizon (0.5 days = 12 h), got 12"),
    (["--days", "0.5", "--warmup-h", "20"], "warmup_h: must be shorter than the horizon (0.5 days = 12 h), got 20"),
    (["--days", "0.5", "--warmup-h", "0.1"],
     "warmup_h: must be a whole number of 30-minute intervals (a multiple of 0.5), got 0.1"),
])
def test_bad_horizon_in_process(capsys, args, line: str):
    done = run_main(capsys, "run", BASELINE, "--reps", "1", *args)
    assert (done.returncode, done.stderr, done.stdout) == (2, f"{PREFIX}{line}\n", "")


def test_negative_seed_is_a_usage_error(capsys):
    done = run_main(capsys, "run", BASELINE, "--reps", "1", "--days", "0.0625", "--seed", "-1")
    assert done.returncode == 2
    assert done.stderr.startswith(PREFIX) and "--seed" in done.stderr


@pytest.mark.parametrize(("args", "line"), [
    (["--calls-per-h", "0", "--handle-s", "300", "--agents", "5"], "--calls-per-h and --handle-s must be > 0"),
    (["--calls-per-h", "540", "--handle-s", "300", "--target-sl", "1.5"], "--target-sl must be between 0 and 1, got 1.5"),
    (["--calls-per-h", "540", "--handle-s", "300", "--agents", "40"],
     "unstable queue: load 45 erlangs >= 40 servers; M/M/c without patience or lines has no steady state "
     "(add servers, patience or lines)"),
    (["--calls-per-h", "540", "--handle-s", "300", "--target-sl", "0.8", "--patience-s", "600", "--lines", "30"],
     "no staffing <= 30 agents reaches service level 0.8 within 20.0 s (load 45 erlangs)"),
])
def test_erlang_bad_values(capsys, args, line: str):
    done = run_main(capsys, "erlang", *args)
    assert (done.returncode, done.stderr) == (2, f"{PREFIX}{line}\n")


@pytest.mark.parametrize("extra", [[], ["--lines", "60"], ["--patience-s", "120", "--threshold-s", "30"]],
                         ids=["erlang_c", "lines", "erlang_a_t30"])
def test_erlang_target_in_process(capsys, extra: list[str]):
    done = run_main(capsys, "erlang", "--calls-per-h", "540", "--handle-s", "300", "--target-sl", "0.8", *extra)
    assert done.returncode == 0, done.stderr
    figures = parse_erlang(done.stdout)
    c = int(figures["agents"])
    opts = dict(zip(extra[::2], extra[1::2], strict=True))
    threshold = float(opts.get("--threshold-s", 20))
    patience = float(opts["--patience-s"]) if "--patience-s" in opts else None
    lines = int(opts["--lines"]) if "--lines" in opts else None

    def sl(agents: int) -> float:
        return erlang.queue_metrics(0.15, 300.0, agents, threshold, patience, lines).service_level_frac

    assert sl(c) >= 0.8
    try:
        assert sl(c - 1) < 0.8
    except ValueError:  # Erlang C: c - 1 agents cannot carry the load of 45 erlangs at all
        assert patience is None and lines is None and c - 1 <= 45
    assert figures == expected_erlang(erlang.queue_metrics(0.15, 300.0, c, threshold, patience, lines))
