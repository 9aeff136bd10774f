"""Faults, tried for real: a sweep killed with SIGKILL at random moments, Dask workers killed
mid-sweep, output folders on a full or a read-only filesystem, damaged task files.

Nothing under test is mocked. ``bposim`` runs as a subprocess (``python -m experiments.cli``, the
function the console script calls); kills are SIGKILL sent to those processes at moments found by
watching the output folder (SIGSTOP first where a moment must be confirmed: the frozen process
cannot move on while the folder is inspected); the Dask clusters are real scheduler and worker
processes on 127.0.0.1; the full filesystem is a real tmpfs that is filled up, the read-only one a
real read-only bind mount (both need root and mount(2): the tests say so and skip where mounting is
not allowed). Every case and what a user sees is listed in docs/robustness.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.results.tables import TABLES

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "experiments" / "scenarios"
FIXTURES = ROOT / "tests" / "data" / "fixtures"  # a fixed copy of the old bundled option (see its header)
PREFIX = "bposim: error: "
TIMEOUT_S = 180
LINUX_PROC = Path("/proc/self/stat").exists()
needs_proc = pytest.mark.skipif(not LINUX_PROC, reason="needs Linux /proc to watch and stop processes")

#: 4 scenarios x 8 replications = 32 tasks of 6 hours each (about 0.1 s of computing per task).
SWEEP = """
name = "faults"
options = ["{base}/all_inhouse.toml"]
reps = 8
days = 0.25
warmup_h = 1
[grid]
"demand.support.calls_per_h" = [300, 400, 500, 540]
"""
REPS, VOLUMES = 8, 4
TOTAL = REPS * VOLUMES
#: the seed of the random kill moments (a failure names the plan it ran).
KILL_SEED = 20240611


# --------------------------------------------------------------------------- helpers


def write_sweep(path: Path) -> Path:
    path.write_text(SWEEP.format(base=FIXTURES.as_posix()), encoding="utf-8")
    return path


def done_json(out: Path) -> dict[Path, bytes]:
    """Each finished task's done.json (by task folder) and its bytes."""
    return {p.parent: p.read_bytes() for p in (out / "tasks").glob("*/rep-*/done.json")}


def count_done(out: Path) -> int:
    try:
        return sum(1 for _ in (out / "tasks").glob("*/rep-*/done.json"))
    except OSError:  # a folder vanished while it was listed
        return 0


def unfinished_task_folders(out: Path) -> list[Path]:
    """Task folders that hold files but no done.json: a task being saved, or one cut short."""
    try:
        return [d for d in (out / "tasks").glob("*/rep-*")
                if not (d / "done.json").exists() and any(d.iterdir())]
    except OSError:
        return []


def temp_files(folder: Path) -> list[Path]:
    """Leftover temporary files (``.NAME.XXXXXXXX.tmp``, as experiments/storage.py names them)."""
    return sorted(folder.rglob(".*.tmp"))


def root_temp_files(out: Path, *, manifest: bool = True) -> list[str]:
    try:
        names = [e.name for e in os.scandir(out)]
    except OSError:
        return []
    return [n for n in names if n.startswith(".") and n.endswith(".tmp")
            and (manifest or not n.startswith(".manifest.json."))]


def broken_done_tasks(out: Path) -> list[str]:
    """Tasks marked done whose files do not match the sha256 sums in their done.json."""
    broken = []
    for done in (out / "tasks").glob("*/rep-*/done.json"):
        sums = json.loads(done.read_text(encoding="utf-8"))["files"]
        for name, digest in sums.items():
            file = done.parent / name
            if not file.is_file() or hashlib.sha256(file.read_bytes()).hexdigest() != digest:
                broken.append(f"{done.parent.relative_to(out)}/{name}")
    return broken


def files_and_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_results(out: Path, reference: Path) -> None:
    """Every final table equal to the uninterrupted run's, exactly (pandas), and summary.csv byte-equal."""
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"),
                                      pd.read_parquet(reference / f"{name}.parquet"), check_exact=True, obj=name)
    assert (out / "summary.csv").read_bytes() == (reference / "summary.csv").read_bytes()


def tasks_meta(out: Path) -> dict:
    return json.loads((out / "meta.json").read_text(encoding="utf-8"))["tasks"]


def proc_state(pid: int) -> str:
    """The state letter of process ``pid`` (R, S, T, Z...), or "" if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def descendants(pid: int) -> set[int]:
    """Processes started by ``pid``, their children and so on (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def wait_gone(pids: set[int], timeout: float = 20.0) -> set[int]:
    """Wait for ``pids`` to end; returns those still running after ``timeout``."""
    deadline = time.monotonic() + timeout
    alive = {p for p in pids if proc_state(p) not in ("", "Z")}
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = {p for p in alive if proc_state(p) not in ("", "Z")}
    return alive


class Cli:
    """One ``bposim`` subprocess; stdout and stderr go to files (a frozen process never blocks a pipe)."""

    def __init__(self, logs: Path, name: str, *args: str | Path, group: bool = False) -> None:
        """``group``: in a process group of its own, as a shell runs a job (for Ctrl-C)."""
        logs.mkdir(parents=True, exist_ok=True)
        self.stdout_path, self.stderr_path = logs / f"{name}.out", logs / f"{name}.err"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", *map(str, args)], cwd=ROOT,
                                         stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=group)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait(self, timeout: float = TIMEOUT_S) -> tuple[int, str, str]:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.stop()
        return code, self.stdout_path.read_text(), self.stderr_path.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def freeze(pid: int) -> None:
    """SIGSTOP ``pid`` and wait until it is really stopped (delivery is asynchronous)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while proc_state(pid) not in ("T", "t", "", "Z"):
        assert time.monotonic() < deadline, "the process did not stop"
        time.sleep(0.0002)


def pause_when(cli: Cli, out: Path, ready: Callable[[Path], bool], action: Callable[[], object],
               timeout: float = TIMEOUT_S) -> bool:
    """Freeze ``cli`` as soon as ``ready(out)``, call ``action()``, let it go on. False if it ended first."""
    deadline = time.monotonic() + timeout
    while cli.proc.poll() is None:
        assert time.monotonic() < deadline, "the awaited moment never came"
        if ready(out):
            freeze(cli.pid)
            try:
                action()
            finally:
                os.kill(cli.pid, signal.SIGCONT)
            return True
        time.sleep(0.0005)
    return False


def kill_when(cli: Cli, out: Path, ready: Callable[[Path], bool],
              confirm: Callable[[Path], bool] | None = None, timeout: float = TIMEOUT_S) -> bool:
    """SIGKILL ``cli`` as soon as ``ready(out)``. With ``confirm``, freeze it first and kill it only if
    ``confirm(out)`` still holds on the frozen process, else let it go on and keep watching.

    Returns True once killed (its worker processes have ended too), False if it ended by itself.
    """
    deadline = time.monotonic() + timeout
    while True:
        if cli.proc.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the awaited moment never came"
        if ready(out):
            if confirm is not None:
                freeze(cli.pid)
                if not confirm(out):
                    os.kill(cli.pid, signal.SIGCONT)
                    continue
            workers = descendants(cli.pid)
            os.kill(cli.pid, signal.SIGKILL)
            cli.proc.wait(timeout=30)
            assert cli.proc.returncode == -signal.SIGKILL
            assert not wait_gone(workers), "worker processes outlived the killed sweep"
            return True
        time.sleep(0.0005)


# --------------------------------------------------------------------------- the uninterrupted run


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sweep file and the folder of an uninterrupted run (in this process, --jobs 1)."""
    root = tmp_path_factory.mktemp("faults")
    sweep = write_sweep(root / "sweep.toml")
    assert main(["sweep", str(sweep), "--jobs", "1", "--out", str(root / "reference")]) == 0
    return sweep, root / "reference"


@pytest.fixture(scope="module", autouse=True)
def unreachable_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, str, Path]]:
    """``bposim sweep --scheduler`` at a loopback port where nothing listens. It takes the 20 s connect
    timeout, so it is started with the module and left to run; the last test waits for it."""
    root = tmp_path_factory.mktemp("no-scheduler")
    with socket.socket() as probe:  # a free port: bound, then released
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    cli = Cli(root, "no-scheduler", "sweep", write_sweep(root / "sweep.toml"), "--scheduler", address,
              "--out", root / "out")
    yield cli, address, root / "out"
    cli.stop()


# --------------------------------------------------------------------------- 1. killed at random moments


@dataclass
class Kill:
    kind: str  # "after N tasks", "while saving a task", "while writing the final tables"
    jobs: int
    done_before: int  # tasks done when this run started
    done_after: int  # tasks done when it was killed
    root_temps: list[str]  # temporary files in the output folder right after the kill
    unfinished: list[str]  # task folders cut short (files, no done.json)
    broken: list[str]  # tasks marked done whose files do not match: must stay empty
    finals: list[str]  # final tables present right after the kill


@dataclass
class KilledSweep:
    plan: list[tuple[str, int | None, int]]
    kills: list[Kill] = field(default_factory=list)
    resume: tuple[int, str, str] = (0, "", "")
    again: tuple[int, str, str] = (0, "", "")
    done_before_resume: dict[Path, bytes] = field(default_factory=dict)
    done_after_resume: dict[Path, bytes] = field(default_factory=dict)
    mtimes_after_resume: dict[Path, int] = field(default_factory=dict)
    mtimes_after_again: dict[Path, int] = field(default_factory=dict)
    temps_after_resume: list[Path] = field(default_factory=list)
    done_lost: list[Path] = field(default_factory=list)
    out: Path = Path()


def kill_plan(rng: random.Random) -> list[tuple[str, int | None, int]]:
    """(kind, tasks done, --jobs) of each run: three kills after a random number of finished tasks, one
    while a task is being saved (at a random place among them; on 2 local processes, whose workers
    go on computing while the frozen main process is inspected), one while the final tables are
    written. The other runs compute in-process (a pool of processes takes seconds to start)."""
    counts = sorted(rng.sample(range(1, TOTAL - 6), 3))
    plan: list[tuple[str, int | None, int]] = [("after", k, 1) for k in counts]
    plan.insert(rng.randrange(len(plan) + 1), ("saving", None, 2))
    return [*plan, ("final", None, 1)]


FINALS = [f"{name}.parquet" for name in TABLES] + ["summary.csv", "meta.json"]


@pytest.fixture(scope="module")
def killed_sweep(reference, tmp_path_factory: pytest.TempPathFactory) -> KilledSweep:
    """The sweep killed with SIGKILL at five moments, run again after each, then once more."""
    sweep, _ = reference
    root = tmp_path_factory.mktemp("killed")
    out, logs = root / "out", root / "logs"
    record = KilledSweep(kill_plan(random.Random(KILL_SEED)), out=out)
    for n, (kind, k, jobs) in enumerate(record.plan):
        before = count_done(out) if out.exists() else 0
        previous = done_json(out) if out.exists() else {}
        cli = Cli(logs, f"kill{n}", "sweep", sweep, "--jobs", jobs, "--out", out)
        try:
            if kind == "after":
                target = max(k, before + 1)
                killed = kill_when(cli, out, lambda o, target=target: count_done(o) >= target)
                label = f"after {target} tasks"
            elif kind == "saving":
                killed = kill_when(cli, out, lambda o: bool(unfinished_task_folders(o)),
                                   confirm=lambda o: bool(unfinished_task_folders(o)))
                label = "while saving a task"
            else:
                killed = kill_when(cli, out, lambda o: bool(root_temp_files(o, manifest=False)),
                                   confirm=lambda o: bool(root_temp_files(o, manifest=False)))
                label = "while writing the final tables"
        finally:
            cli.stop()
        assert killed, f"run {n} ({kind}) ended before its kill; plan {record.plan}: {cli.stderr_path.read_text()}"
        after = done_json(out)
        record.done_lost += [p for p, data in previous.items() if after.get(p) != data]
        record.kills.append(Kill(label, jobs, before, len(after), root_temp_files(out),
                                 [str(d.relative_to(out)) for d in unfinished_task_folders(out)],
                                 broken_done_tasks(out), [f for f in FINALS if (out / f).exists()]))
    record.done_before_resume = done_json(out)
    record.resume = Cli(logs, "resume", "sweep", sweep, "--jobs", "1", "--out", out).wait()
    record.done_after_resume = done_json(out)
    record.temps_after_resume = temp_files(out)
    record.mtimes_after_resume = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    # once more, in this process (what the console script calls, without its 3 s of imports)
    capture = tmp_path_factory.mktemp("again")
    with open(capture / "out", "w+") as o, open(capture / "err", "w+") as e, \
            contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        code = main(["sweep", str(sweep), "--jobs", "1", "--out", str(out)])
    record.again = (code, (capture / "out").read_text(), (capture / "err").read_text())
    record.mtimes_after_again = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    return record


@pytest.mark.slow
@needs_proc
def test_a_sweep_killed_at_random_moments_resumes_to_the_uninterrupted_tables(killed_sweep, reference):
    rec, (_, ref) = killed_sweep, reference
    kinds = [k.kind for k in rec.kills]
    assert any(k.startswith("after") for k in kinds) and "while saving a task" in kinds
    assert kinds[-1] == "while writing the final tables"
    # each kill left the folder in a resumable state: no task marked done with a damaged file ...
    assert all(k.broken == [] for k in rec.kills), rec.kills
    # ... the kill while saving really cut a task short, the last one really cut a final table short
    saving = next(k for k in rec.kills if k.kind == "while saving a task")
    assert saving.unfinished, saving
    final = rec.kills[-1]
    assert final.done_after == TOTAL and final.root_temps, final
    # the kills came at different moments
    assert [k.done_after for k in rec.kills] == sorted(k.done_after for k in rec.kills)
    assert len({k.done_after for k in rec.kills}) >= 4, rec.kills
    assert not rec.done_lost, "a task finished before a kill was lost or changed by a later run"
    code, stdout, stderr = rec.resume
    assert (code, stderr) == (0, ""), stderr  # no warning: nothing was found broken
    assert f"0 task(s) computed on 1 process (in-process), {TOTAL} loaded" in stdout
    assert rec.done_after_resume == rec.done_before_resume
    assert_same_results(rec.out, ref)


@pytest.mark.slow
@needs_proc
def test_after_the_kills_no_task_folder_keeps_a_temporary_file(killed_sweep):
    assert [p for p in killed_sweep.temps_after_resume if "tasks" in p.parts] == []
    assert sorted(p.name for p in (killed_sweep.out / "tasks").glob("*/rep-*/*")) == sorted(
        name for _ in range(TOTAL)
        for name in ("calls.parquet", "contacts.parquet", "done.json", "intervals.parquet", "usage.parquet"))


@pytest.mark.slow
@needs_proc
def test_after_the_kills_the_output_folder_keeps_no_temporary_file(killed_sweep):
    assert killed_sweep.kills[-1].root_temps  # there was one right after the kill
    assert killed_sweep.temps_after_resume == []


@pytest.mark.slow
@needs_proc
def test_running_a_finished_sweep_again_computes_nothing_and_touches_no_task(killed_sweep, reference):
    code, stdout, stderr = killed_sweep.again
    assert (code, stderr) == (0, ""), stderr
    assert f"0 task(s) computed on 1 process (in-process), {TOTAL} loaded" in stdout
    tasks = {p: t for p, t in killed_sweep.mtimes_after_again.items() if "tasks" in p.parts}
    assert tasks == {p: t for p, t in killed_sweep.mtimes_after_resume.items() if "tasks" in p.parts}
    assert len(tasks) == 5 * TOTAL  # calls, intervals, usage, contacts, done.json
    assert_same_results(killed_sweep.out, reference[1])


@pytest.mark.parametrize("content", [b"", b'{\n  "format": 1,\n  "kind": "bposim-sw'], ids=["empty", "partial"])
def test_a_sweep_killed_while_writing_its_manifest_can_be_run_again(reference, tmp_path, capsys, content):
    # The folder exactly as that kill leaves it: mkstemp's file (empty, or cut short), nothing else.
    sweep, ref = reference
    out = tmp_path / "out"
    out.mkdir()
    (out / ".manifest.json.q8c1zt0e.tmp").write_bytes(content)
    code = main(["sweep", str(sweep), "--jobs", "1", "--out", str(out)])
    _, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    assert_same_results(out, ref)


@needs_proc
def test_ctrl_c_stops_a_sweep_with_one_line_and_it_resumes(reference, tmp_path, capsys):
    """Ctrl-C in a terminal: SIGINT to the whole foreground job; here in-process (--jobs 1), see
    test_ctrl_c_on_a_process_pool_never_hangs for a pool of processes."""
    sweep, ref = reference
    out = tmp_path / "out"
    cli = Cli(tmp_path, "ctrl-c", "sweep", sweep, "--jobs", "1", "--out", out, group=True)
    try:
        wait_for(lambda: count_done(out) >= 5 or cli.proc.poll() is not None, "5 tasks done")
        workers = descendants(cli.pid)
        os.killpg(cli.pid, signal.SIGINT)
        code, stdout, stderr = cli.wait(60)
    finally:
        cli.stop()
    assert (code, stderr) == (130, "bposim: interrupted\n")
    assert not wait_gone(workers), "worker processes outlived the interrupted sweep"
    done = count_done(out)
    assert 5 <= done < TOTAL and broken_done_tasks(out) == [] and temp_files(out) == []
    assert main(["sweep", str(sweep), "--jobs", "1", "--out", str(out)]) == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == "" and f"{TOTAL - done} task(s) computed on 1 process (in-process), {done} loaded" in stdout
    assert_same_results(out, ref)


#: the seed of the Ctrl-C moments of the pool test (a failure names the trial and its moment).
CTRL_C_SEED = 20250301
CTRL_C_TRIALS = 20
#: An interrupted sweep normally ends within about a second of Ctrl-C (its workers are killed, not
#: waited for). Waiting 30 s, some 30 times that, leaves room for a loaded 2-core machine; a command
#: still running then is hung (the hang this guards against never ended by itself).
INTERRUPTED_S = 30


def ctrl_c_moments(rng: random.Random) -> list[tuple[int, float]]:
    """(tasks done, then seconds) of each trial: a quarter while the pool starts (0 tasks done: from
    the moment manifest.json exists, up to 1.5 s later), the others after 1 to TOTAL - 6 finished
    tasks plus up to 0.1 s (so the sweep, which has 6 tasks and its final tables left, is still
    running)."""
    return [(0, rng.uniform(0, 1.5)) if t % 4 == 0 else (rng.randint(1, TOTAL - 6), rng.uniform(0, 0.1))
            for t in range(CTRL_C_TRIALS)]


@pytest.mark.slow
@needs_proc
@pytest.mark.xfail(strict=False, reason="known, rare: a Ctrl-C is still lost now and then (the sweep ends "
                   "normally, exit 0; seen once in about 80 trials after the forkserver fix); never a hang. "
                   "See docs/robustness.md")
def test_ctrl_c_on_a_process_pool_never_hangs(reference, tmp_path, capsys):
    """Ctrl-C (SIGINT to the whole job, workers included) during `bposim sweep --jobs 2`, 20 times at
    moments drawn by a seeded RNG, from the pool's start to the last tasks: each run ends at once
    with 'bposim: interrupted' alone and exit status 130, no worker process outlives it, no task is
    left marked done with a damaged file; the last folder resumes to the uninterrupted tables.

    A Ctrl-C that lands inside the atomic write of a task file, between the creation of its
    temporary file and the guarded write (experiments/storage.py), leaves that temporary file in
    the task's folder; the task has no done.json, so it is computed again on resume, and saving it
    removes the leftover. Such folders are resumed too, and checked clean."""
    sweep, ref = reference
    plan = ctrl_c_moments(random.Random(CTRL_C_SEED))
    resumed: list[Path] = []
    for trial, (tasks, delay) in enumerate(plan):
        out = tmp_path / f"out{trial}"
        what = f"trial {trial}: Ctrl-C {delay:.3f} s after {tasks} task(s) done; plan {plan}"
        cli = Cli(tmp_path, f"ctrl-c-{trial}", "sweep", sweep, "--jobs", "2", "--out", out, group=True)
        family: set[int] = set()
        try:
            if tasks:
                wait_for(lambda out=out, tasks=tasks, cli=cli: count_done(out) >= tasks or cli.proc.poll() is not None,
                         f"{tasks} tasks done")
            else:
                wait_for(lambda out=out, cli=cli: (out / "manifest.json").exists() or cli.proc.poll() is not None, "the manifest")
            time.sleep(delay)
            assert cli.proc.poll() is None, f"{what}: the sweep ended before its Ctrl-C: {cli.stderr_path.read_text()}"
            family = descendants(cli.pid)
            os.killpg(cli.pid, signal.SIGINT)
            deadline = time.monotonic() + INTERRUPTED_S
            while cli.proc.poll() is None and time.monotonic() < deadline:
                family |= descendants(cli.pid)  # workers started after the signal count too
                time.sleep(0.005)
            assert cli.proc.poll() is not None, f"{what}: hung (still running {INTERRUPTED_S} s after Ctrl-C)"
            code, stdout, stderr = cli.wait()
        finally:
            cli.stop()
        assert (code, stderr) == (130, "bposim: interrupted\n"), what
        assert not wait_gone(family), f"{what}: processes outlived the interrupted sweep"
        assert broken_done_tasks(out) == [], what
        if temp_files(out):  # Ctrl-C inside an atomic write (see the docstring): only in unfinished tasks
            assert all(not (p.parent / "done.json").exists() for p in temp_files(out)), what
            resumed.append(out)
    # the last folder, and every folder where Ctrl-C left a temporary file, resume to the same tables
    for folder in dict.fromkeys([*resumed, out]):
        done = count_done(folder)
        assert main(["sweep", str(sweep), "--jobs", "1", "--out", str(folder)]) == 0
        stdout, stderr = capsys.readouterr()
        assert stderr == "" and f"{TOTAL - done} task(s) computed on 1 process (in-process), {done} loaded" in stdout
        assert temp_files(folder) == []
        assert_same_results(folder, ref)


#: A sweep stopped by a dead worker normally ends within about 2 s of the kill (the other worker is
#: killed at once; nothing is waited for). Waiting 60 s, some 30 times that, leaves room for a
#: loaded 2-core machine; a sweep still running then is hung (the hang this guards against never
#: ends by itself), and the test fails.
HANG_S = 60


def stack(pid: int) -> str:
    """The kernel stack of process ``pid`` (Linux, root), or "" if it cannot be read."""
    try:
        return Path(f"/proc/{pid}/stack").read_text()
    except OSError:
        return ""


def sending_to_a_pipe(pid: int) -> bool:
    """True while ``pid`` is blocked writing into a full pipe (a result waiting to be read)."""
    return "pipe_write" in stack(pid)


def pool_workers(pid: int) -> list[int]:
    """The local pool workers of the sweep ``pid``: its descendants forked by the forkserver."""
    family = descendants(pid)
    parents = {p: int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]) for p in family
               if proc_state(p)}
    return sorted(p for p, parent in parents.items() if parent != pid and parent in family)


@pytest.fixture(scope="module")
def pool_worker_killed(reference, tmp_path_factory: pytest.TempPathFactory):
    """A sweep on 2 local processes, one of whose workers is SIGKILLed (as the kernel's out-of-memory
    killer does) in the window where the pool used to hang: the main process is inside the writing
    of a finished task (frozen there with SIGSTOP) and the worker is blocked half-way through
    sending its own result (80 to 140 kB, more than a pipe's 64 KiB buffer, so the worker waits for
    the main process to read the rest). Then the same command again, in this process."""
    if not stack(os.getpid()):
        pytest.skip("needs /proc/PID/stack (Linux, root) to see a worker blocked sending its result")
    sweep, _ = reference
    root = tmp_path_factory.mktemp("pool-worker")
    out = root / "out"
    cli = Cli(root, "pool", "sweep", sweep, "--jobs", "2", "--out", out)
    victim: list[tuple[int, list[int]]] = []

    def kill_a_worker_mid_send() -> None:
        # the main process is frozen while a task folder is half written: nothing reads the results
        workers = pool_workers(cli.pid)
        assert len(workers) == 2, workers
        wait_for(lambda: any(map(sending_to_a_pipe, workers)), "a worker blocked sending its result", 30)
        pid = next(p for p in workers if sending_to_a_pipe(p))
        os.kill(pid, signal.SIGKILL)
        assert not wait_gone({pid}, 10)
        victim.append((pid, workers))

    try:
        wait_for(lambda: count_done(out) >= 3 or cli.proc.poll() is not None, "3 tasks done")
        assert cli.proc.poll() is None, cli.stderr_path.read_text()
        family = descendants(cli.pid)
        assert pause_when(cli, out, lambda o: bool(unfinished_task_folders(o)), kill_a_worker_mid_send)
        assert victim, "no worker was killed"
        try:
            killed: tuple[int, str, str] | None = cli.wait(HANG_S)
        except subprocess.TimeoutExpired:  # hung (it is killed then; its workers follow it)
            killed = None
    finally:
        cli.stop()
    leftovers = wait_gone(family)
    saved = count_done(out)
    broken, temps = broken_done_tasks(out), temp_files(out)
    capture = root / "again"
    capture.mkdir()
    with open(capture / "out", "w+") as o, open(capture / "err", "w+") as e, \
            contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        code = main(["sweep", str(sweep), "--jobs", "1", "--out", str(out)])
    again = (code, (capture / "out").read_text(), (capture / "err").read_text())
    return killed, leftovers, saved, broken, temps, again, out


@needs_proc
def test_a_local_worker_killed_mid_sweep_loses_no_saved_task_and_the_sweep_resumes(pool_worker_killed, reference):
    _killed, leftovers, saved, broken, temps, again, out = pool_worker_killed
    assert not leftovers, "processes outlived the sweep"
    assert 3 <= saved < TOTAL and broken == [] and temps == []
    code, stdout, stderr = again
    assert (code, stderr) == (0, ""), stderr
    assert f"{TOTAL - saved} task(s) computed on 1 process (in-process), {saved} loaded" in stdout
    assert_same_results(out, reference[1])


@needs_proc
def test_a_local_worker_killed_mid_sweep_is_one_line_exit_2(pool_worker_killed):
    killed = pool_worker_killed[0]
    assert killed is not None, f"the sweep hung after its worker was killed (still running after {HANG_S} s)"
    line = one_error_line(killed)
    assert "worker" in line


# --------------------------------------------------------------------------- 4. damaged task files


def damage(out: Path) -> dict[Path, str]:
    """Damage one task in each way; returns each damaged task folder and the reason expected for it."""
    folders = sorted((out / "tasks").glob("*/rep-*"))
    rng = random.Random(7)
    picked = rng.sample(folders, 7)
    damaged: dict[Path, str] = {}

    def cut(folder: Path, name: str, size: Callable[[int], int], reason: str) -> None:
        file = folder / name
        data = file.read_bytes()
        file.write_bytes(data[:size(len(data))])
        damaged[folder] = reason

    cut(picked[0], "calls.parquet", lambda n: n // 2, "calls.parquet does not match its checksum")
    cut(picked[1], "intervals.parquet", lambda n: 0, "intervals.parquet does not match its checksum")
    cut(picked[2], "done.json", lambda n: 0, "done.json cannot be read")
    # one bit flipped, somewhere in the data pages of the file
    flipped = picked[3] / "usage.parquet"
    data = bytearray(flipped.read_bytes())
    data[rng.randrange(8, len(data) - 8)] ^= 1 << rng.randrange(8)
    flipped.write_bytes(bytes(data))
    damaged[picked[3]] = "usage.parquet does not match its checksum"
    # files intact, but done.json's checksum of one of them is wrong
    done = json.loads((picked[4] / "done.json").read_text(encoding="utf-8"))
    done["files"]["intervals.parquet"] = hashlib.sha256(b"something else").hexdigest()
    (picked[4] / "done.json").write_text(json.dumps(done), encoding="utf-8")
    damaged[picked[4]] = "intervals.parquet does not match its checksum"
    # done.json that no longer lists one of the files
    done = json.loads((picked[5] / "done.json").read_text(encoding="utf-8"))
    del done["files"]["calls.parquet"]
    (picked[5] / "done.json").write_text(json.dumps(done), encoding="utf-8")
    damaged[picked[5]] = "calls.parquet does not match its checksum"
    # a file replaced by the same file of another task (both valid Parquet)
    other = next(f for f in folders if f not in picked)
    shutil.copyfile(other / "intervals.parquet", picked[6] / "intervals.parquet")
    damaged[picked[6]] = "intervals.parquet does not match its checksum"
    return damaged


def test_damaged_task_files_are_recomputed_with_a_warning_never_used(reference, tmp_path, capsys):
    sweep, ref = reference
    out = tmp_path / "out"
    shutil.copytree(ref, out)
    damaged = damage(out)
    # a damaged final table is no problem either: final tables are always written anew
    runs = out / "runs.parquet"
    runs.write_bytes(runs.read_bytes()[:200])
    code = main(["sweep", str(sweep), "--jobs", "1", "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0
    assert f"{len(damaged)} task(s) computed on 1 process (in-process), {TOTAL - len(damaged)} loaded" in stdout
    warnings = stderr.splitlines()
    assert len(warnings) == len(damaged), stderr
    meta = tasks_meta(out)
    assert meta["computed"] == len(damaged) and len(meta["recomputed"]) == len(damaged)
    for line, (sid, rep, reason) in zip(warnings, meta["recomputed"], strict=True):
        assert line == f"bposim: warning: {sid} rep {rep}: {reason}; recomputed"
    found = {(sid, rep): reason for sid, rep, reason in meta["recomputed"]}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    folder_of = {p["scenario_id"]: p["folder"] for p in manifest["points"]}
    for folder, expected in damaged.items():
        sid = next(s for s, f in folder_of.items() if f == folder.parent.name)
        reason = found[(sid, int(folder.name.split("-")[1]))]
        assert reason.startswith(expected), (folder, reason)
    assert broken_done_tasks(out) == [] and temp_files(out) == []
    assert_same_results(out, ref)


@pytest.mark.parametrize("source", ["other_rep", "other_scenario"])
def test_a_task_folder_holding_another_tasks_files_is_recomputed(reference, tmp_path, capsys, source):
    sweep, ref = reference
    out = tmp_path / "out"
    shutil.copytree(ref, out)
    points = sorted((out / "tasks").iterdir())
    target = points[0] / "rep-0003"
    origin = points[0] / "rep-0004" if source == "other_rep" else points[1] / "rep-0003"
    shutil.rmtree(target)
    shutil.copytree(origin, target)
    code = main(["sweep", str(sweep), "--jobs", "1", "--out", str(out)])
    _, stderr = capsys.readouterr()
    assert code == 0
    assert tasks_meta(out)["computed"] == 1 and "rep 3" in stderr
    assert_same_results(out, ref)


# --------------------------------------------------------------------------- 2. Dask workers killed


def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT_S, step: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


def busy_worker(client, pids: dict[str, int]) -> tuple[str, int] | None:
    """A worker that is computing a task right now (per the scheduler), and its pid."""
    for address, keys in client.processing().items():
        if keys and address in pids:
            return address, pids[address]
    return None


@pytest.mark.slow
@needs_proc
def test_a_dask_worker_killed_mid_sweep_is_replaced_and_the_tables_are_unchanged(reference, tmp_path):
    """LocalCluster of two worker processes (each under a nanny in this process): SIGKILL one while
    it computes; its nanny starts a new one, the scheduler reschedules the lost tasks."""
    distributed = pytest.importorskip("distributed")
    sweep, ref = reference
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        before = client.run(os.getpid)
        cli = Cli(tmp_path, "dask", "sweep", sweep, "--scheduler", cluster.scheduler_address, "--out", out)
        try:
            wait_for(lambda: cli.proc.poll() is not None
                     or (count_done(out) >= 6 and busy_worker(client, before) is not None), "a busy worker")
            assert cli.proc.poll() is None, "the sweep ended before a worker could be killed"
            _address, pid = busy_worker(client, before)
            done_at_kill = count_done(out)
            os.kill(pid, signal.SIGKILL)
            code, stdout, stderr = cli.wait()
        finally:
            cli.stop()
        wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, "the nanny to replace the worker", 60, 0.05)
        after = client.run(os.getpid)
    assert done_at_kill < TOTAL, "the sweep was over before the kill"
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert f"{TOTAL} task(s) computed on Dask scheduler at {cluster.scheduler_address}, 0 loaded" in stdout
    assert pid not in after.values() and len(after) == 2  # the killed worker is gone, a new one took its place
    assert broken_done_tasks(out) == [] and temp_files(out) == []
    assert_same_results(out, ref)


@pytest.fixture(scope="module")
def longer_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """As :func:`reference`, with tasks of a whole day (about 0.4 s each instead of 0.1 s): the
    killer below watches the scheduler between tasks, and 32 tasks of 0.1 s on two workers could
    end before it saw a busy worker twice (it did once, on a loaded machine)."""
    root = tmp_path_factory.mktemp("faults-longer")
    sweep = root / "sweep.toml"
    sweep.write_text(SWEEP.replace("days = 0.25", "days = 1").format(base=FIXTURES.as_posix()), encoding="utf-8")
    assert main(["sweep", str(sweep), "--jobs", "1", "--out", str(root / "reference")]) == 0
    return sweep, root / "reference"


@pytest.mark.slow
@needs_proc
def test_every_dask_worker_lost_mid_sweep_a_new_one_finishes_it(longer_reference, tmp_path):
    """`dask scheduler` and two `dask worker --no-nanny` processes (nothing restarts a killed one):
    SIGKILL one while it computes, then the other; the scheduler keeps the lost tasks until a new
    worker joins, which finishes the sweep with unchanged tables."""
    distributed = pytest.importorskip("distributed")
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    if dask is None:
        pytest.skip("the dask command is not installed")
    sweep, ref = longer_reference
    out, info = tmp_path / "out", tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        with open(tmp_path / f"dask-{len(started)}.log", "wb") as log:
            proc = subprocess.Popen([dask, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        started.append(proc)
        return proc

    def worker(name: str) -> subprocess.Popen:
        return start("worker", "--scheduler-file", str(info), "--nthreads", "1", "--no-nanny",
                     "--host", "127.0.0.1", "--name", name)

    kills: list[int] = []
    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info))
        wait_for(lambda: info.exists() and info.stat().st_size > 0, "the scheduler", 60, 0.05)
        workers = {p.pid: p for p in (worker("a"), worker("b"))}
        with distributed.Client(scheduler_file=str(info), timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler_info()["address"]
            pids = client.run(os.getpid)
            assert set(pids.values()) == set(workers)
            cli = Cli(tmp_path, "dask", "sweep", sweep, "--scheduler", address, "--out", out)
            try:
                for at_least in (4, 2):
                    goal = count_done(out) + at_least
                    wait_for(lambda cli=cli, goal=goal: cli.proc.poll() is not None
                             or (count_done(out) >= goal and busy_worker(client, pids) is not None), "a busy worker")
                    assert cli.proc.poll() is None, "the sweep ended before a worker could be killed"
                    addr, pid = busy_worker(client, pids)
                    workers[pid].kill()
                    workers[pid].wait()
                    del pids[addr]
                    kills.append(count_done(out))
                wait_for(lambda: not client.scheduler_info()["workers"], "the scheduler to see both workers gone")
                time.sleep(0.5)
                stalled = count_done(out)
                worker("c")
                code, stdout, stderr = cli.wait()
            finally:
                cli.stop()
            names = sorted(w["name"] for w in client.scheduler_info()["workers"].values())
    finally:
        for proc in reversed(started):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(started):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert kills[0] < kills[1] <= stalled < TOTAL, (kills, stalled)
    assert all(p.returncode == -signal.SIGKILL for p in started[1:3])
    assert names == ["c"]
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert f"{TOTAL} task(s) computed on Dask scheduler at {address}, 0 loaded" in stdout
    assert broken_done_tasks(out) == [] and temp_files(out) == []
    assert_same_results(out, ref)


# --------------------------------------------------------------------------- 3. full or read-only filesystem


def _can_mount(tmp: Path) -> str | None:
    """None if this process may mount filesystems, else why not."""
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        return "needs Linux mount(8)"
    if os.geteuid() != 0:
        return "needs root to mount a tmpfs and a read-only bind mount"
    probe = tmp / "probe"
    probe.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        return f"mount is not allowed here: {done.stderr.strip()}"
    subprocess.run(["umount", str(probe)], check=True)
    return None


@pytest.fixture(scope="module")
def mounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Path]]:
    """``mount(target, *options)``: mount(8) with these options on ``target``, unmounted at the end."""
    why = _can_mount(tmp_path_factory.mktemp("probe"))
    if why:
        pytest.skip(why)
    mounted: list[Path] = []

    def mount(target: Path, *options: str) -> Path:
        subprocess.run(["mount", *options, str(target)], check=True, capture_output=True)
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def fill(folder: Path) -> Path:
    """Fill the filesystem of ``folder`` up: a file that grows until the disk says ENOSPC."""
    filler = folder / "filler.bin"
    with open(filler, "ab", buffering=0) as f:
        for size in (1 << 16, 1 << 12, 1):  # the last partial pages too
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == 28, exc  # ENOSPC
    return filler


def one_error_line(result: tuple[int, str, str], *needles: str) -> str:
    code, stdout, stderr = result
    assert "Traceback" not in stdout + stderr, stderr
    assert code == 2, (code, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(PREFIX), stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.skipif(not LINUX_PROC, reason="needs Linux")
def test_a_read_only_output_folder_is_one_line_exit_2_and_results_stay_intact(reference, mounts, tmp_path):
    """A folder of finished results made read-only by a real read-only bind mount (root can't write)."""
    sweep, ref = reference
    results = tmp_path / "results"
    shutil.copytree(ref, results)
    before = files_and_bytes(results)
    mounts(results, "--bind", str(results))
    mounts(results, "-o", "remount,bind,ro", str(results))
    with pytest.raises(OSError) as err:  # a real read-only filesystem, even for root
        (results / "probe").write_bytes(b"x")
    assert err.value.errno == 30  # EROFS
    runs = {
        "same_sweep": Cli(tmp_path, "same", "sweep", sweep, "--jobs", "1", "--out", results),
        "more_reps": Cli(tmp_path, "more", "sweep", sweep, "--jobs", "1", "--reps", "9", "--out", results),
        "run_into": Cli(tmp_path, "run", "run", SCENARIOS / "baseline.toml", "--reps", "1", "--days", "0.25",
                        "--out", results),
        "run_below": Cli(tmp_path, "below", "run", SCENARIOS / "baseline.toml", "--reps", "1", "--days", "0.25",
                         "--out", results / "new"),
    }
    done = {name: cli.wait() for name, cli in runs.items()}
    for name in ("same_sweep", "more_reps", "run_into"):
        assert one_error_line(done[name]) == f"{PREFIX}{results}: cannot write results there (Read-only file system)"
    assert one_error_line(done["run_below"]) == (f"{PREFIX}{results / 'new'}: cannot write results there "
                                                 "(Read-only file system)")
    assert files_and_bytes(results) == before




@needs_proc
def test_a_full_disk_is_one_line_exit_2_and_results_stay_intact(reference, mounts, tmp_path):
    """A real tmpfs of 16 MiB holding finished results, filled up (a) before a run, (b) while a run
    saves its new tasks, (c) while it writes its final tables; then, with space freed, it resumes."""
    sweep, ref = reference
    disk = tmp_path / "disk"
    disk.mkdir()
    mounts(disk, "-t", "tmpfs", "-o", "size=16m", "tmpfs")
    results = disk / "results"
    shutil.copytree(ref, results)
    before = files_and_bytes(results)
    logs = tmp_path / "logs"

    # (a) full before the run (more replications asked for): the manifest cannot even be rewritten
    filler = fill(disk)
    line = one_error_line(Cli(logs, "a", "sweep", sweep, "--jobs", "1", "--reps", "9", "--out", results).wait())
    assert line == f"{PREFIX}{results / 'manifest.json'}: cannot write (No space left on device)"
    assert files_and_bytes(results) == before
    filler.unlink()

    # (b) the disk fills up while the sweep computes two more replications: right after the first new task
    cli = Cli(logs, "b", "sweep", sweep, "--jobs", "1", "--reps", "10", "--out", results)
    assert pause_when(cli, results, lambda o: count_done(o) > TOTAL, lambda: fill(disk)), "ended before"
    line = one_error_line(cli.wait(), f"{results / 'tasks'}", "cannot write (No space left on device)")
    assert re.fullmatch(rf"{re.escape(PREFIX + str(results))}/tasks/[^/]+/rep-00(08|09)/\w+\.parquet: "
                        r"cannot write \(No space left on device\)", line), line
    now = files_and_bytes(results)
    changed = [name for name, data in before.items() if now.get(name) != data]
    assert changed == ["manifest.json"]  # it records the 10 replications asked for; nothing else changed
    assert count_done(results) > TOTAL and broken_done_tasks(results) == [] and temp_files(results) == []
    filler.unlink()

    # (c) the disk fills up while the final tables are written (same sweep, everything loaded)
    cli = Cli(logs, "c", "sweep", sweep, "--jobs", "1", "--out", results)
    assert pause_when(cli, results, lambda o: bool(root_temp_files(o, manifest=False)), lambda: fill(disk))
    line = one_error_line(cli.wait(), "cannot write (", "No space left on device)")
    # pyarrow words it "Error writing bytes to file. Detail: [errno 28] No space left on device"
    assert re.fullmatch(rf"{re.escape(PREFIX + str(results))}/[a-z_]+\.(parquet|csv|json): cannot write "
                        r"\((Error writing bytes to file\. Detail: \[errno 28\] )?No space left on device\)",
                        line), line
    now = files_and_bytes(results)
    assert {name: now.get(name) for name in before} == before  # the earlier results, byte for byte
    assert broken_done_tasks(results) == [] and temp_files(results) == []
    filler.unlink()

    # space again: the same command finishes, computing nothing, with the uninterrupted run's tables
    code, stdout, stderr = Cli(logs, "d", "sweep", sweep, "--jobs", "1", "--out", results).wait()
    assert (code, stderr) == (0, ""), stderr
    assert f"0 task(s) computed on 1 process (in-process), {TOTAL} loaded" in stdout
    assert_same_results(results, ref)


# --------------------------------------------------------------------------- Dask scheduler unreachable


def test_an_unreachable_dask_scheduler_is_one_line_exit_2(unreachable_scheduler):
    cli, address, out = unreachable_scheduler
    line = one_error_line(cli.wait())
    assert line == (f"{PREFIX}cannot start Dask on {address}: Timed out trying to connect to {address} "
                    "after 20 s")
    assert not out.exists()  # nothing was written


# --------------------------------------------------------------------------- the docs page


def test_every_test_named_in_the_robustness_page_exists():
    """docs/robustness.md names the test behind each line; each must exist (the page stays true)."""
    page = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    named = set(re.findall(r"(tests/test_\w+\.py)::(\w+)", page))
    assert len(named) >= 20
    missing = [f"{file}::{name}" for file, name in sorted(named)
               if not re.search(rf"^def {name}\(", (ROOT / file).read_text(encoding="utf-8"), re.MULTILINE)]
    assert missing == []
