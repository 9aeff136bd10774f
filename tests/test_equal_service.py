"""Equal-service studies (issue 11, item 4): a sweep study with ``optimise = {...}`` staffs each point
by the optimiser before it is run, so options are compared at the same service.

What is checked and why:
- the goal is read from the sweep file and every target and pool checked against every option of
  the study; a bad goal is one line naming the file and the field, exit 2, nothing written;
- the staffing each point gets is the one the optimiser finds for that point on the search's own
  seed (the run's seed + SEARCH_SEED_OFFSET, never the reported replications), the same on one or
  two processes; the reported run simulates exactly that staffing, and the results folder keeps it
  (optimised.csv, meta.json) so the points are rebuilt when read back;
- the report says the comparison is at equal service and gives break-even volumes with intervals;
  the interval is checked by hand on a made-up case (below);
- a later plain sweep into the same folder removes the stale optimised.csv.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from builders import pool, scenario

from experiments.cli import main
from experiments.optimise.goal import SEARCH_SEED_OFFSET, Goal
from experiments.optimise.search import optimise
from experiments.optimise.study import problem_of
from experiments.report.analysis import break_even_intervals
from experiments.results.folder import read_results
from experiments.running.executors import SerialExecutor
from experiments.study.sweep_file import load_sweep
from models.dumping import scenario_to_dict

HANDLE = {"handle": {"dist": "exponential", "mean_s": 300.0}}
GOAL = 'optimise = { target = ["sl_frac>=0.8"], per_interval = false, reps = 4, days = 2, warmup_h = 1 }'


def _write_options(folder: Path) -> None:
    """Two small options on the same calls: an in-house pool (10 $/h) and a BPO (1 $/min)."""
    inhouse = scenario([pool("a", 3)], **HANDLE)
    bpo = scenario([pool("b", 3, kind="bpo")], **HANDLE)
    for name, scn in (("inhouse", inhouse), ("bpo", bpo)):
        table = scenario_to_dict(scn)
        table["name"] = name
        (folder / f"{name}.toml").write_bytes(tomli_w.dumps(table).encode())


def _sweep(folder: Path, goal: str = GOAL) -> Path:
    _write_options(folder)
    text = f'''name = "small"
options = ["inhouse.toml", "bpo.toml"]
reps = 3
days = 2
warmup_h = 1
seed = 7

[[study]]
name = "volume"
{goal}
[study.zip]
"demand.c.calls_per_h" = [30, 60]
'''
    path = folder / "sweep.toml"
    path.write_text(text)
    return path


def test_the_goal_is_read_with_its_defaults(tmp_path):
    sweep = load_sweep(_sweep(tmp_path, 'optimise = { target = ["sl_frac>=0.8", "abandon_frac<=0.05"] }'))
    goals = {p.goal for p in sweep.points}
    assert goals == {Goal(("sl_frac>=0.8", "abandon_frac<=0.05"))}
    goal = goals.pop()
    assert goal is not None and (goal.per_interval, goal.reps, goal.days, goal.confidence) == (True, 4, 3.0, 0.95)


@pytest.mark.parametrize(("goal", "message"), [
    ('optimise = { target = ["sl_fra>=0.8"] }',
     "study[0].optimise.target: option 'inhouse': target 'sl_fra>=0.8': unknown metric"),
    ('optimise = { target = ["sl_frac<=0.8"] }', "sl_frac is better higher"),
    ('optimise = { target = ["sl_frac>=0.8"], vary = ["nope"] }',
     "study[0].optimise.vary: option 'inhouse': vary 'nope': no such pool"),
    ('optimise = { target = ["sl_frac>=0.8"], per_interval = "yes" }', "study[0].optimise.per_interval: must be true or false"),
    ('optimise = { targets = ["sl_frac>=0.8"] }', "study[0].optimise"),
    ('optimise = { target = [] }', "study[0].optimise.target"),
    ('optimise = { target = ["sl_frac>=0.8"], reps = 1 }', "study[0].optimise.reps"),
    ('optimise = { target = ["sl_frac>=0.8"], confidence = 1.0 }', "study[0].optimise.confidence"),
    ('optimise = { target = ["sl_frac>=0.8"], days = 1, warmup_h = 24 }',
     "study[0].optimise.warmup_h: option 'inhouse': warmup_h: must be shorter than the horizon"),
    ('optimise = { target = ["sl_frac>=0.8"], warmup_h = 0.2 }', "study[0].optimise.warmup_h"),
    ('optimise = { target = ["sl_frac>=0.8"], vary = ["b"] }', "study[0].optimise.vary: option 'inhouse': vary 'b'"),
    ('optimise = { target = ["sl_frac>=0.8"], per_interval = false, reps = 2, days = 1, warmup_h = 0, max_agents = 2 }',
     "no staffing of at most 2 agents per pool and interval meets sl_frac>=0.8"),
])
def test_a_bad_goal_is_one_line_exit_2_nothing_written(tmp_path, capsys, goal, message):
    out = tmp_path / "out"
    code = main(["sweep", str(_sweep(tmp_path, goal)), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "sweep.toml" in err
    assert len(err.strip().splitlines()) == 1
    assert not (out / "runs.parquet").exists()


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The small equal-service sweep run on 1 and on 2 processes."""
    folder = tmp_path_factory.mktemp("equal")
    path = _sweep(folder)
    for jobs in ("1", "2"):
        assert main(["sweep", str(path), "--jobs", jobs, "--no-calls", "--out", str(folder / f"jobs{jobs}")]) == 0
    return folder


def test_each_point_gets_the_optimisers_staffing_on_its_own_seed_on_any_number_of_processes(swept):
    one, two = (read_results(swept / f"jobs{j}") for j in "12")
    assert one.optimised is not None and two.optimised is not None
    pd.testing.assert_frame_equal(one.optimised, two.optimised)
    pd.testing.assert_frame_equal(one.runs, two.runs)
    sweep = load_sweep(swept / "sweep.toml")
    for point in sweep.points:
        assert point.goal is not None
        direct = optimise(problem_of(point, point.goal, 7 + SEARCH_SEED_OFFSET), SerialExecutor())
        row = one.optimised[one.optimised["scenario_id"] == point.scenario_id].iloc[0]
        level = direct.staffing[point.scenario.pools[0].name][0]
        assert row["agents"] == f"{point.scenario.pools[0].name}={level}"
        # the reported run simulated that staffing, and the folder keeps it: the point is rebuilt
        rebuilt = next(p for p in one.points if p.scenario_id == point.scenario_id)
        assert rebuilt.scenario.pools[0].agents == (level,) * 24
        assert rebuilt.scenario.digest() == one.meta["scenarios"][point.scenario_id]["hash"]
    # more calls need more agents, in both options
    levels = one.optimised.set_index("scenario_id")["agents"].str.split("=").str[1].astype(int)
    for option in ("inhouse", "bpo"):
        assert levels[f"volume:{option}|demand.c.calls_per_h=60"] > levels[f"volume:{option}|demand.c.calls_per_h=30"]


def test_a_local_dask_cluster_gives_the_same_staffing_and_tables(swept, tmp_path):
    # The searches are one task per point: on Dask they must find what local processes found.
    out = tmp_path / "dask"
    assert main(["sweep", str(swept / "sweep.toml"), "--dask-local", "--no-calls", "--out", str(out)]) == 0
    dask, one = read_results(out), read_results(swept / "jobs1")
    assert dask.optimised is not None and one.optimised is not None
    pd.testing.assert_frame_equal(dask.optimised, one.optimised)
    pd.testing.assert_frame_equal(dask.runs, one.runs)


def test_the_report_compares_at_equal_service(swept, tmp_path):
    assert main(["report", str(swept / "jobs1"), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Cost at equal service: every option staffed by the optimiser to sl_frac&gt;=0.8 over the whole period" in page
    assert "Monthly cost at equal service against call volume" in page
    assert "95% interval" in page or "No break-even inside the swept range" in page


def test_a_plain_sweep_into_the_folder_removes_the_stale_optimised_table(swept, tmp_path):
    path = _sweep(tmp_path, "")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--jobs", "1", "--no-calls", "--out", str(out)]) == 0
    (out / "optimised.csv").write_text((swept / "jobs1" / "optimised.csv").read_text())
    assert main(["sweep", str(path), "--jobs", "1", "--no-calls", "--out", str(out)]) == 0  # resumed
    assert not (out / "optimised.csv").exists()
    assert read_results(out).optimised is None


def test_break_even_interval_by_hand():
    """Differences a - b per replication at 100, 200 and 300 calls/h:
    100: -50 -40 -30 (mean -40), 200: -5 5 15 (mean 5), 300: 20 30 40 (mean 30); sd 10 everywhere,
    so the 95% half-width is t(0.975, 2) x 10 / sqrt(3) = 4.3027 x 5.7735 = 24.841.
    The mean crosses 0 at 100 + 100 x 40/45 = 188.89; the upper bound (-15.16, 29.84, 54.84)
    crosses 0 at 100 + 100 x 15.16/45 = 133.69; the lower bound (-64.84, -19.84, 5.16) at
    200 + 100 x 19.84/25 = 279.36. So the break-even is 188.9 calls/h, interval 133.7 to 279.4."""
    diffs = {100: [-50, -40, -30], 200: [-5, 5, 15], 300: [20, 30, 40]}
    rows, wide = [], []
    for x, values in diffs.items():
        for option in ("a", "b"):
            sid = f"{option}|{x}"
            wide.append({"scenario_id": sid, "option": option, "v": float(x)})
            for rep, d in enumerate(values):
                rows.append({"scenario_id": sid, "rep": rep, "cost": 1000.0 + (d if option == "a" else 0.0)})
    table = break_even_intervals(pd.DataFrame(rows), pd.DataFrame(wide), "v", "cost")
    assert len(table) == 1
    row = table.iloc[0]
    half = 4.302653 * 10 / math.sqrt(3)
    assert row["x"] == pytest.approx(100 + 100 * 40 / 45, abs=1e-9)
    assert row["x_low"] == pytest.approx(100 + 100 * (40 - half) / 45, abs=0.1)
    assert row["x_high"] == pytest.approx(200 + 100 * (half - 5) / 25, abs=0.1)
    assert row["cheaper_below"] == "a" and row["cost"] == pytest.approx(1000.0)
    # an interval reaching past the swept volumes has no bound there: at 100 the differences
    # -70 -40 -10 (sd 30, half-width 74.5) leave the upper bound above 0 at the sweep's first volume
    spread = {0: -70.0, 1: -40.0, 2: -10.0}
    wider = pd.DataFrame([{**r, "cost": 1000.0 + spread[r["rep"]]} if r["scenario_id"] == "a|100" else r
                          for r in rows])
    open_low = break_even_intervals(wider, pd.DataFrame(wide), "v", "cost").iloc[0]
    assert math.isnan(open_low["x_low"]) and open_low["x"] == pytest.approx(100 + 100 * 40 / 45, abs=1e-9)


def test_an_equal_service_study_beside_a_staffing_study_writes_its_tables(tmp_path):
    # The staffing study sweeps pools.a.agents (numbers); the equal-service points' agents vary
    # over the day: their value in that column is missing, not a text that breaks the column.
    goal = 'optimise = { target = ["sl_frac>=0.8"], reps = 2, days = 1, warmup_h = 0 }'
    path = _sweep(tmp_path, goal)
    path.write_text(path.read_text().replace('options = ["inhouse.toml", "bpo.toml"]', 'options = ["inhouse.toml"]')
                    + '\n[[study]]\nname = "staffing"\n[study.grid]\n"pools.a.agents" = [4, 5]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--jobs", "1", "--no-calls", "--reps", "2", "--days", "1", "--warmup-h", "0",
                 "--out", str(out)]) == 0
    runs = read_results(out).runs.drop_duplicates("scenario_id").set_index("scenario_id")["pools.a.agents"]
    assert runs.isna().sum() == 2 and sorted(runs.dropna()) == [4, 5]
