"""Resumable results (experiments/store.py): a sweep killed with SIGKILL and run again ends with the
tables of an uninterrupted run, computing only the tasks that had not finished; a folder of another
sweep is refused; a corrupted task file is recomputed, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.results.tables import TABLES
from experiments.running.store import ResultStore, manifest
from experiments.study.points import expand
from models.loading import load_scenario
from models.settings import RunSettings
from sim.replication import simulate

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "data" / "fixtures"  # a fixed copy of the old bundled option (see its header)
PREFIX = "bposim: error: "

#: 4 scenarios x 10 replications = 40 tasks of a day each.
SWEEP = """
name = "resume"
options = ["{base}/all_inhouse.toml"]
reps = 10
days = 1
warmup_h = 1
[grid]
"demand.support.calls_per_h" = {volumes}
"""
VOLUMES = [300, 400, 500, 540]
TOTAL = len(VOLUMES) * 10


def write_sweep(path: Path, volumes=VOLUMES) -> Path:
    path.write_text(SWEEP.format(base=SCENARIOS.as_posix(), volumes=volumes), encoding="utf-8")
    return path


def bposim(capsys: pytest.CaptureFixture, *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def done_files(out: Path) -> dict[Path, tuple[int, bytes]]:
    """Each finished task's done.json with its mtime and content."""
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / "tasks").glob("*/rep-*/done.json")}


def tasks_meta(out: Path) -> dict:
    return json.loads((out / "meta.json").read_text(encoding="utf-8"))["tasks"]


def assert_same_results(out: Path, reference: Path) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"),
                                      pd.read_parquet(reference / f"{name}.parquet"), check_exact=True, obj=name)
    assert (out / "summary.csv").read_bytes() == (reference / "summary.csv").read_bytes()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sweep file and the folder of an uninterrupted run (in this process, --jobs 1)."""
    root = tmp_path_factory.mktemp("resume")
    sweep = write_sweep(root / "sweep.toml")
    code = main(["sweep", str(sweep), "--jobs", "1", "--out", str(root / "reference")])
    assert code == 0
    return sweep, root / "reference"


def descendants(pid: int) -> set[int]:
    """Processes started by ``pid``, their children and so on (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find worker processes")
def test_a_sweep_killed_midway_resumes_to_the_uninterrupted_tables(reference, tmp_path, capsys):
    sweep, ref = reference
    out = tmp_path / "out"
    command = [sys.executable, "-m", "experiments.cli", "sweep", str(sweep), "--jobs", "2", "--out", str(out)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while (len(done_files(out)) if out.exists() else 0) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no task finished in time"
            time.sleep(0.02)
        workers = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the workers notice that their parent is gone and end (within a second or two)
    deadline = time.monotonic() + 15
    while running(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(workers), "worker processes outlived the killed sweep"

    finished = done_files(out)
    assert 3 <= len(finished) < TOTAL
    assert not (out / "runs.parquet").exists()
    code, stdout, err = bposim(capsys, "sweep", sweep, "--jobs", "2", "--out", out)
    assert (code, err) == (0, ""), err
    assert f"{TOTAL - len(finished)} task(s) computed on 2 local processes, {len(finished)} loaded" in stdout
    assert tasks_meta(out) | {"executor": ""} == {"total": TOTAL, "computed": TOTAL - len(finished),
                                                  "loaded": len(finished), "recomputed": [], "executor": ""}
    after = done_files(out)
    assert len(after) == TOTAL
    assert all(after[path] == before for path, before in finished.items())  # finished tasks untouched
    assert_same_results(out, ref)


def test_running_again_loads_everything_and_changes_nothing(reference, tmp_path, capsys):
    sweep, ref = reference
    out = tmp_path / "again"
    shutil.copytree(ref, out)
    before = done_files(out)
    code, _stdout, err = bposim(capsys, "sweep", sweep, "--jobs", "1", "--out", out)
    assert (code, err) == (0, "")
    assert tasks_meta(out)["loaded"] == TOTAL and tasks_meta(out)["computed"] == 0
    assert done_files(out) == before
    assert_same_results(out, ref)


@pytest.mark.parametrize("change", ["grid", "seed", "days", "no-calls", "scenario"])
def test_another_sweep_in_the_same_folder_is_refused(reference, tmp_path, capsys, change):
    sweep, ref = reference
    out = tmp_path / "out"
    shutil.copytree(ref, out)
    args: list[str | Path] = ["--jobs", "1", "--out", out]
    other = tmp_path / "other.toml"
    if change == "grid":
        sweep = write_sweep(other, [300, 400, 500, 600])
    elif change == "seed":
        args += ["--seed", "7"]
    elif change == "days":
        args += ["--days", "2"]
    elif change == "no-calls":
        args += ["--no-calls"]
    else:  # the same ids, but a base scenario that changed since
        scenario = tmp_path / "all_inhouse.toml"
        text = (SCENARIOS / "all_inhouse.toml").read_text()
        scenario.write_text(text.replace("wage_per_h = 24.0", "wage_per_h = 25.0"))
        other.write_text(sweep.read_text().replace(f"{SCENARIOS.as_posix()}/all_inhouse.toml", scenario.as_posix()))
        sweep = other
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, stdout, err = bposim(capsys, "sweep", sweep, *args)
    assert code == 2 and stdout == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"{PREFIX}{out}: holds the results of another sweep: "), err
    expected = {"grid": "scenario 'all-inhouse|demand.support.calls_per_h=600' is new",
                "seed": "seed was 12345 there, 7 now", "days": "days was 1.0 there, 2.0 now",
                "no-calls": "keep_calls was True there, False now",
                "scenario": "scenario 'all-inhouse|demand.support.calls_per_h=300' has changed"}[change]
    assert expected in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # nothing touched


def test_a_folder_with_other_files_is_refused(reference, tmp_path, capsys):
    sweep, _ = reference
    (tmp_path / "notes.txt").write_text("mine\n")
    code, _stdout, err = bposim(capsys, "sweep", sweep, "--out", tmp_path)
    assert code == 2
    assert err == (f"{PREFIX}{tmp_path}: exists and is not a bposim sweep folder (no manifest.json); "
                   "choose a new or empty folder\n")


def corrupt(out: Path) -> dict[str, str]:
    """Damage five tasks in five ways; returns each task folder's expected reason."""
    folders = sorted((out / "tasks").glob("*/rep-*"))
    damaged = {}
    truncated = folders[0] / "intervals.parquet"
    truncated.write_bytes(truncated.read_bytes()[:100])
    damaged[folders[0]] = "intervals.parquet does not match its checksum"
    flipped = folders[7] / "usage.parquet"
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    damaged[folders[7]] = "does not match its checksum"
    (folders[13] / "calls.parquet").unlink()
    damaged[folders[13]] = "calls.parquet cannot be read"
    # garbage whose checksum is right: the file must still fail to parse
    garbage = b"PAR1 this is not a parquet file PAR1"
    (folders[21] / "usage.parquet").write_bytes(garbage)
    done = json.loads((folders[21] / "done.json").read_text())
    done["files"]["usage.parquet"] = hashlib.sha256(garbage).hexdigest()
    (folders[21] / "done.json").write_text(json.dumps(done))
    damaged[folders[21]] = "usage.parquet cannot be parsed"
    (folders[30] / "done.json").write_text("{not json")
    damaged[folders[30]] = "done.json cannot be read"
    return damaged


def test_corrupted_task_files_are_recomputed_not_used(reference, tmp_path, capsys):
    sweep, ref = reference
    out = tmp_path / "out"
    shutil.copytree(ref, out)
    damaged = corrupt(out)
    code, _stdout, err = bposim(capsys, "sweep", sweep, "--jobs", "1", "--out", out)
    assert code == 0
    meta = tasks_meta(out)
    assert meta["computed"] == len(damaged) and meta["loaded"] == TOTAL - len(damaged)
    warnings = err.splitlines()
    assert len(warnings) == len(damaged) and all(w.startswith("bposim: warning: ") for w in warnings)
    for (_sid, rep, reason), folder in zip(meta["recomputed"], sorted(damaged), strict=True):
        assert folder.name == f"rep-{rep:04d}" and damaged[folder] in reason, (reason, damaged[folder])
    assert_same_results(out, ref)


def test_more_replications_reuse_the_finished_ones(tmp_path, capsys):
    sweep = write_sweep(tmp_path / "sweep.toml", [300, 400])
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    small = ["--days", "0.25", "--warmup-h", "0", "--jobs", "1"]
    assert bposim(capsys, "sweep", sweep, *small, "--reps", "2", "--out", out)[0] == 0
    assert bposim(capsys, "sweep", sweep, *small, "--reps", "3", "--out", out)[0] == 0
    assert tasks_meta(out) | {"executor": ""} == {"total": 6, "loaded": 4, "computed": 2, "recomputed": [],
                                                  "executor": ""}
    assert bposim(capsys, "sweep", sweep, *small, "--reps", "3", "--out", fresh)[0] == 0
    assert_same_results(out, fresh)


def test_the_store_gives_back_exactly_what_it_saved(tmp_path):
    points = expand(load_scenario(SCENARIOS / "all_inhouse.toml"), grid={"lines": [60]})
    settings = RunSettings(reps=1, days=0.25)
    store = ResultStore.open(tmp_path, points, settings)
    replication = simulate(points[0].scenario, settings, 0)
    assert store.load(points[0], 0) is None
    store.save(points[0], replication)
    loaded = store.load(points[0], 0)
    for name in ("calls", "intervals", "usage"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(replication, name), check_exact=True)
    assert (loaded.rep, loaded.end_s) == (replication.rep, replication.end_s)
    saved = json.loads((tmp_path / "manifest.json").read_text())
    assert saved == json.loads(json.dumps(manifest(points, settings)))
    assert saved["points"][0]["digest"] == points[0].scenario.digest()
