"""Executors (experiments/executors.py): a sweep gives bit-identical tables in this process, in a
local process pool and on a real Dask cluster (two worker processes on the loopback interface).

Results are put back in (point, replication) order whatever order the tasks finish in, and every
random draw is addressed by (seed, rep, stream), so nothing may differ, not even in the last bit.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.results.runner import run
from experiments.results.tables import TABLES
from experiments.running.executors import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from experiments.study.points import expand
from models.loading import load_scenario
from models.settings import RunSettings

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "experiments" / "scenarios"

#: 2 options x 3 volumes x 2 thresholds = 12 scenarios, x 4 replications = 48 tasks of 6 hours.
SETTINGS = RunSettings(reps=4, days=0.25, warmup_h=1.0)
SWEEP_TOML = """
name = "determinism"
options = ["{base}/baseline.toml", "{base}/local_bpo.toml"]
reps = 4
days = 0.25
warmup_h = 1
[grid]
"demand.support.calls_per_h" = [300, 540, 700]
[zip]
"service_level_s" = [20, 30]
"""


def points():
    options = [load_scenario(SCENARIOS / "baseline.toml"), load_scenario(SCENARIOS / "local_bpo.toml")]
    return expand(options, grid={"demand.support.calls_per_h": [300, 540, 700]},
                  zipped={"service_level_s": [20, 30]})


def assert_same_tables(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    pd.testing.assert_frame_equal(a.summary(), b.summary(), check_exact=True, obj="summary")


@pytest.fixture(scope="module")
def serial():
    pts = points()
    assert len(pts) * SETTINGS.reps >= 40
    return run(pts, SETTINGS, executor=SerialExecutor())


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


def test_serial_tables_are_complete(serial):
    assert serial.runs["scenario_id"].nunique() == 12
    assert len(serial.runs) == 48
    assert list(serial.runs["rep"][:4]) == [0, 1, 2, 3]
    assert serial.calls["pool"].dtype == "category"  # categories of both options' pools, unioned
    assert set(serial.calls["pool"].cat.categories) >= {"inhouse", "offshore", "local_bpo"}


def test_process_pool_gives_identical_tables(serial):
    with ProcessExecutor(2) as executor:
        result = run(points(), SETTINGS, executor=executor)
    assert_same_tables(serial, result)


def test_dask_cluster_gives_identical_tables(serial, dask_cluster):
    with DaskExecutor(dask_cluster.scheduler_address) as executor:
        result = run(points(), SETTINGS, executor=executor)
    assert_same_tables(serial, result)


def test_cli_on_a_dask_scheduler_writes_the_same_tables(serial, dask_cluster, tmp_path, capsys):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP_TOML.format(base=SCENARIOS.as_posix()), encoding="utf-8")
    code = main(["sweep", str(sweep), "--scheduler", dask_cluster.scheduler_address, "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err.startswith("bposim: warning: a warm-up of ") and err.count("\n") == 1  # only the short warm-up, said
    assert "48 task(s) computed on Dask scheduler at tcp://127.0.0.1:" in out
    for name in TABLES:
        saved = pd.read_parquet(tmp_path / "out" / f"{name}.parquet")
        expected = getattr(serial, name).reset_index(drop=True)
        pd.testing.assert_frame_equal(saved, expected, check_exact=True, obj=name)


def test_make_executor_follows_the_command_line_choices():
    assert isinstance(make_executor(1), SerialExecutor)
    with make_executor(3) as executor:
        assert isinstance(executor, ProcessExecutor) and executor.jobs == 3
