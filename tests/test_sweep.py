"""Sweeps (experiments/sweep.py): dotted paths, grids and zips, sweep files and their errors; the
bundled sweep; paired differences under common random numbers (experiments/experiment.py)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from experiments.results.runner import run
from experiments.running.executors import SerialExecutor
from experiments.study.paths import get_path, set_path
from experiments.study.points import SweepPoint, expand
from experiments.study.sweep_file import load_sweep, sweep_from_dict
from models.dumping import scenario_to_dict
from models.fields import ScenarioError
from models.loading import load_scenario, scenario_from_dict
from models.settings import RunSettings

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "experiments" / "scenarios"
BUNDLED = ROOT / "experiments" / "sweeps" / "inhouse_vs_bpo.toml"
HAND_STAFFED = ROOT / "tests" / "data" / "hand_staffed_sweep.toml"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


# --------------------------------------------------------------------------- dotted paths


def test_paths_address_tables_and_named_list_items(baseline):
    raw = scenario_to_dict(baseline)
    assert get_path(raw, "pools.inhouse.agents") == 40
    assert get_path(raw, "pools.offshore.contract.per_minute") == 0.55
    assert get_path(raw, "demand.support.calls_per_h") == 540
    assert get_path(raw, "service_level_s") == 20
    assert get_path(raw, "lines") is None  # unlimited lines: no key
    assert get_path(raw, "pools.nowhere.agents", "x") == "x"


def test_set_path_copies_and_adds_a_missing_last_key(baseline):
    raw = scenario_to_dict(baseline)
    new = set_path(raw, "pools.offshore.contract.per_minute", 0.6)
    new = set_path(new, "lines", 80)
    assert get_path(new, "pools.offshore.contract.per_minute") == 0.6 and new["lines"] == 80
    assert get_path(raw, "pools.offshore.contract.per_minute") == 0.55 and "lines" not in raw


def test_swept_scenarios_are_rebuilt_and_validated(baseline):
    points = expand(baseline, grid={"pools.offshore.contract.per_minute": [0.5], "lines": [80],
                                    "demand.support.calls_per_h": [300]})
    scenario = points[0].scenario
    assert scenario.pool("offshore").contract.per_minute == 0.5
    assert scenario.lines == 80
    assert scenario.demand[0].rates_per_h[0] == 300
    assert scenario.source == baseline.source  # the base file, not the sweep's message label
    assert baseline.pool("offshore").contract.per_minute == 0.55  # nothing mutated


def test_grid_is_a_product_and_zip_varies_together(baseline):
    points = expand(baseline, grid={"service_level_s": [20, 30]},
                    zipped={"demand.support.calls_per_h": [300, 600], "pools.inhouse.agents": [25, 50]})
    assert [p.params for p in points] == [
        {"service_level_s": 20, "demand.support.calls_per_h": 300, "pools.inhouse.agents": 25},
        {"service_level_s": 20, "demand.support.calls_per_h": 600, "pools.inhouse.agents": 50},
        {"service_level_s": 30, "demand.support.calls_per_h": 300, "pools.inhouse.agents": 25},
        {"service_level_s": 30, "demand.support.calls_per_h": 600, "pools.inhouse.agents": 50},
    ]
    assert points[1].scenario_id == ("retail-support|service_level_s=20|demand.support.calls_per_h=600|"
                                     "pools.inhouse.agents=50")
    assert [p.scenario.pool("inhouse").agents[0] for p in points] == [25, 50, 25, 50]


def test_folders_are_safe_unique_and_stable(baseline):
    points = expand(baseline, grid={"pools.offshore.contract.per_minute": [0.5, 0.55, 0.6]}, study="price/x y")
    folders = [p.folder for p in points]
    assert len(set(folders)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9._-]{1,91}", f) for f in folders), folders
    assert folders[0] == SweepPoint(points[0].scenario_id, "retail-support", baseline,
                                    dict(points[0].params), "price/x y").folder
    assert points[0].scenario_id.startswith("price/x y:retail-support|")


# --------------------------------------------------------------------------- errors


def error_of(call) -> str:
    with pytest.raises(ScenarioError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("pools.inhose.agents", 30,
     "s.toml: grid.\"pools.inhose.agents\": option 'retail-support': no pool named 'inhose' in pools "
     "(did you mean 'inhouse'?); the pools are inhouse, offshore"),
    ("demand.suport.calls_per_h", 30,
     "s.toml: grid.\"demand.suport.calls_per_h\": option 'retail-support': no call type named 'suport' in "
     "demand (did you mean 'support'?); the call types are support"),
    ("pools.inhouse.contract.per_minute", 1.0,
     "s.toml: grid.\"pools.inhouse.contract.per_minute\": option 'retail-support': no key 'contract' in "
     "pools.inhouse; keys there: name, kind, location, agents, shrinkage_frac, handle_factor, "
     "resolution_frac, repeat_after, open_h, open_days, wage_per_h, burden"),
    ("pools.inhouse.agentz", 30,
     "s.toml: pools.inhouse.agentz = 30 in baseline.toml: pools[0].agentz: unknown key (did you mean 'agents'?)"),
    ("pools.inhouse.agents", -3,
     "s.toml: pools.inhouse.agents = -3 in baseline.toml: pools[0].agents: must be between 0 and 1000000, got -3"),
    ("pools.offshore.contract.per_minute", "cheap",
     "s.toml: pools.offshore.contract.per_minute = cheap in baseline.toml: pools[1].contract.per_minute: "
     "must be a number, got a string 'cheap'"),
    ("servce_level_s", 30, "servce_level_s: unknown key (did you mean 'service_level_s'?)"),
    ("pools..agents", 1, "bad dotted path 'pools..agents'"),
])
def test_bad_paths_and_values_name_the_sweep_and_the_path(baseline, path, value, expected):
    message = error_of(lambda: expand(baseline, grid={path: [value]}, source="s.toml"))
    assert expected in message, message


def test_zip_lists_must_have_one_length(baseline):
    message = error_of(lambda: expand(baseline, zipped={"lines": [1, 2], "service_level_s": [20]}, source="s.toml"))
    assert message == "s.toml: zip: lists must all have the same length, got lines (2), service_level_s (1)"


def sweep_table(**extra) -> dict:
    table = {"name": "t", "options": ["baseline.toml", "local_bpo.toml"], "grid": {"service_level_s": [20, 30]}}
    table.update(extra)
    return table


@pytest.mark.parametrize(("changes", "expected"), [
    ({"gird": {}}, "sw.toml: gird: unknown key (did you mean 'grid'?)"),
    ({"options": ["nowhere.toml"]}, "sw.toml: options[0]: file not found: "),
    ({"options": ["baseline.toml", "baseline.toml"]}, "sw.toml: options[1]: two options are named 'retail-support'"),
    ({"reps": 0}, "sw.toml: reps: must be between 1 and 1000000, got 0"),
    ({"days": -1}, "sw.toml: days: must be > 0, got -1"),
    ({"grid": {"lines": 5}}, "sw.toml: grid.\"lines\": must be a non-empty list of values, got 5"),
    ({"study": [{"name": "a", "grid": {}}]}, "sw.toml: study: use either a top-level grid/zip"),
    ({"grid": None, "study": [{"name": "a", "options": ["local-bp"]}]},
     "sw.toml: study[0].options[0]: unknown option 'local-bp' (did you mean 'local-bpo'?); "
     "options are retail-support, local-bpo"),
    ({"grid": None, "study": [{"name": "a", "zip": {"pools.local_bpo.agents": [50]}}]},
     "sw.toml: study[0].zip.\"pools.local_bpo.agents\": option 'retail-support': no pool named 'local_bpo'"),
    ({"grid": {"service_level_s": [20, 20]}}, "sw.toml: point 'retail-support|service_level_s=20' appears twice"),
])
def test_sweep_file_errors_are_one_line_with_file_and_field(changes, expected):
    table = sweep_table(**changes)
    table = {k: v for k, v in table.items() if v is not None}
    message = error_of(lambda: sweep_from_dict(table, "sw.toml", SCENARIOS))
    assert message.startswith(expected), message


def test_a_study_picks_options_and_names_its_points():
    sweep = sweep_from_dict({"name": "t", "options": ["baseline.toml", "local_bpo.toml"], "seed": 7, "study": [
        {"name": "price", "options": ["local-bpo"], "grid": {"pools.local_bpo.contract.per_minute": [0.9, 1.0]}},
        {"name": "sl", "grid": {"service_level_s": [30]}},
    ]}, "sw.toml", SCENARIOS)
    assert [p.scenario_id for p in sweep.points] == [
        "price:local-bpo|pools.local_bpo.contract.per_minute=0.9",
        "price:local-bpo|pools.local_bpo.contract.per_minute=1.0",
        "sl:retail-support|service_level_s=30", "sl:local-bpo|service_level_s=30"]
    assert sweep.settings(reps=3) == RunSettings(reps=3, seed=7)


# --------------------------------------------------------------------------- the bundled sweep


def test_hand_staffed_sweep_scales_each_options_agents_by_square_root_staffing():
    sweep = load_sweep(HAND_STAFFED)
    assert len(sweep.points) == 30 and sweep.settings() == RunSettings(reps=4, days=10, warmup_h=72)
    handle_s = 380.0
    for option in sweep.options:
        pool = option.pools[0]
        volume = [p for p in sweep.points if p.option == option.name and p.study == "volume"]
        base_load = 540 * handle_s * pool.handle_factor / pool.resolution_frac / 3600
        beta = (pool.available(pool.agents[0]) - base_load) / math.sqrt(base_load)
        assert [p.scenario.demand[0].rates_per_h[0] for p in volume] == [200, 400, 540, 750, 1000]
        for point in volume:
            spec = point.scenario.pools[0]
            load = point.scenario.demand[0].rates_per_h[0] * handle_s * spec.handle_factor / spec.resolution_frac / 3600
            # Rounded to the nearest whole agent: off by 0.5 at most. The test recomputes load and
            # beta in its own float order (values < 120, a few roundings of ~1.4e-14 each), so 1e-12
            # slack for a tie at an exact half. The largest gap here is 0.36.
            assert abs(spec.available(spec.agents[0]) - (load + beta * math.sqrt(load))) <= 0.5 + 1e-12
        staffing = [p.scenario.pools[0] for p in sweep.points if p.option == option.name and p.study == "staffing"]
        base = pool.available(pool.agents[0])
        assert [s.available(s.agents[0]) - base for s in staffing] == [-8, -4, 0, 4, 8]


# --------------------------------------------------------------------------- paired differences


def mmc(agents: int) -> dict:
    return {"name": "mmc", "interval_min": 60, "service_level_s": 20,
            "demand": [{"name": "c", "calls_per_h": 540, "handle": {"dist": "exponential", "mean_s": 300},
                        "patience": {"dist": "exponential", "mean_s": 600}, "route": ["p"]}],
            "pools": [{"name": "p", "kind": "inhouse", "agents": agents, "wage_per_h": 20.0}]}


def test_paired_differences_are_much_tighter_than_unpaired():
    """Agents 50 vs 51 at 45 Erlangs: one agent more changes ASA by a few seconds, less than the
    spread between replications; rep by rep (same arrivals, handle times and patience) the
    difference is measured with an interval several times narrower than the unpaired one."""
    base = scenario_from_dict(mmc(50), source="mmc.toml")
    points = expand(base, grid={"pools.p.agents": [50, 51]})
    settings = RunSettings(reps=12, days=1, warmup_h=2, keep_calls=False)
    result = run(points, settings, executor=SerialExecutor())
    paired = result.paired_differences(points[0].scenario_id, ["asa_s", "sl_frac"]).set_index("metric")
    summary = result.summary().query("pool == 'all'")
    for metric in ("asa_s", "sl_frac"):
        rows = summary[summary["metric"] == metric]
        sd = rows["sd"].to_numpy()
        unpaired = stats.t.ppf(0.975, 2 * settings.reps - 2) * math.sqrt((sd ** 2).sum() / settings.reps)
        half = (paired.at[metric, "ci_high"] - paired.at[metric, "ci_low"]) / 2
        assert paired.at[metric, "reps_n"] == settings.reps
        assert half < unpaired / 3, (metric, half, unpaired)
    # one more agent: less waiting, a better service level, and both differences clearly so
    assert paired.at["asa_s", "ci_high"] < 0 < paired.at["sl_frac", "ci_low"]
    runs = result.runs.set_index(["scenario_id", "rep"])
    diff = (runs.loc[points[1].scenario_id, "asa_s"] - runs.loc[points[0].scenario_id, "asa_s"]).to_numpy()
    # The same 12 differences (all of one sign: no cancellation) averaged by pandas and by numpy,
    # perhaps summed in another order: a few roundings of ~1.1e-16 relative each, so 1e-12.
    assert paired.at["asa_s", "mean"] == pytest.approx(np.mean(diff), rel=1e-12, abs=0.0)


def test_every_table_has_the_ids_and_one_column_per_swept_path():
    base = scenario_from_dict(mmc(5), source="mmc.toml")
    points = expand(base, grid={"pools.p.agents": [5, 6]}, zipped={"demand.c.calls_per_h": [40, 50]})
    result = run(points, RunSettings(reps=2, days=1 / 8), executor=SerialExecutor())
    ids = ["scenario_id", "option", "study", "pools.p.agents", "demand.c.calls_per_h"]
    for name in ("calls", "intervals", "usage", "invoices", "pool_runs", "runs"):
        assert list(getattr(result, name).columns[:5]) == ids, name
    summary = result.summary()
    assert list(summary.columns) == [*ids, "pool", "metric", "reps_n", "mean", "sd", "ci_low", "ci_high"]
    assert list(summary["pools.p.agents"].unique()) == [5, 6]
    assert set(summary["pool"]) == {"p", "all"}


# --------------------------------------------------------------------------- CI coverage

COVERAGE_EXPERIMENTS = 200
COVERAGE_REPS = 5


@pytest.mark.slow
def test_confidence_intervals_cover_erlang_c_at_their_nominal_rate():
    """200 experiments of R = 5 replications each of an M/M/3 queue (load 1.2 Erlangs, 60 s mean
    handle time, 72 calls/h; Erlang C gives SL = 0.9225 within 20 s and P(wait) = 0.1412).

    Each replication runs 6 hours and drops the first hour, many times the relaxation time of this
    lightly loaded queue (minutes), so the empty start leaves no bias that matters. An experiment
    is a block of 5 consecutive replications of one run of 1,000: every replication draws from its
    own streams (seed, rep, stream), so the blocks are independent experiments, as runs with 200
    different seeds would be, at a fraction of the cost. Each block's 95 % interval is the
    Student-t interval that ``summary()`` reports (``confidence_interval``).

    If the intervals are right, the number of covering intervals is Binomial(200, 0.95): the test
    accepts the central 99.9 % of that law, 179..198 (0.895..0.99), so a correct implementation
    fails less than once in a thousand seeds, while intervals a third too narrow (coverage about
    0.85) pass with a probability under 5 %. Subtler errors (a normal instead of a t quantile:
    coverage 0.88) are caught about three times in four at this size. ASA is not checked: with
    five replications its right-skewed distribution makes a t interval cover a little less than
    95 % (about 0.92 here), a known limit of t intervals on few skewed values, not an error.
    """
    from experiments.results.statistics import summarize
    from models import erlang

    table = mmc(3)
    table["demand"][0].update(calls_per_h=72, handle={"dist": "exponential", "mean_s": 60})
    del table["demand"][0]["patience"]
    points = expand(scenario_from_dict(table, source="mmc.toml"))
    reps = COVERAGE_EXPERIMENTS * COVERAGE_REPS
    result = run(points, RunSettings(reps=reps, seed=20240611, days=0.25, warmup_h=1, keep_calls=False))
    theory = erlang.queue_metrics(72 / 3600, 60.0, 3, 20.0)
    runs = result.runs.assign(experiment=result.runs["rep"] // COVERAGE_REPS)
    intervals = summarize(runs, ["experiment"], ["sl_frac", "p_wait_frac"]).set_index("metric")
    low, high = stats.binom.ppf(0.0005, COVERAGE_EXPERIMENTS, 0.95), stats.binom.isf(0.0005, COVERAGE_EXPERIMENTS, 0.95)
    assert (low, high) == (179, 198)
    for metric, truth in (("sl_frac", theory.service_level_frac), ("p_wait_frac", theory.p_wait_frac)):
        rows = intervals.loc[metric]
        assert len(rows) == COVERAGE_EXPERIMENTS and (rows["reps_n"] == COVERAGE_REPS).all()
        covered = int(((rows["ci_low"] <= truth) & (truth <= rows["ci_high"])).sum())
        assert low <= covered <= high, (metric, covered)


# --------------------------------------------------------------------------- command line


def test_cli_sweep_prints_one_row_per_scenario_and_writes_the_tables(tmp_path, capsys):
    from experiments.cli import main

    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f"""
name = "cli"
options = ["{SCENARIOS.as_posix()}/local_bpo.toml", "{SCENARIOS.as_posix()}/offshore_bpo.toml"]
reps = 2
days = 0.25
[[study]]
name = "staffing"
options = ["local-bpo"]
grid = {{ "pools.local_bpo.agents" = [50, 52] }}
[[study]]
name = "staffing"
options = ["offshore-bpo"]
grid = {{ "pools.offshore.agents" = [62] }}
""", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["sweep", str(sweep), "--jobs", "1", "--no-calls", "--seed", "3", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0
    # no warm-up while the BPO pools' repeats (exponential delay, mean 24 h) need 24 h x ln 10 = 55.3 h
    # (55.1 h estimated from a fixed sample of the delay's draws): one line says so
    assert re.fullmatch(r"bposim: warning: a warm-up of 0 h is short: the repeat calls of pool \w+ reach 90% of "
                        r"their steady level only after 55\.1 h, so the first measured days see fewer of them; "
                        r"use --warmup-h 55\.5 or more\n", err), err
    lines = stdout.splitlines()
    assert lines[0] == ("cli: 3 scenario(s), 2 replication(s) of 0.25 day(s), warm-up 0 h, seed 3; all pools; "
                        "costs in USD, mean ± 95% CI half-width")
    assert lines[2].split() == ["option", "study", "agents", "SL", "%", "ASA", "s", "aband", "%", "cost/call",
                                "cost/resolved", "cost/month", "quality/month", "with", "quality/month"]
    assert [line.split()[:3] for line in lines[3:6]] == [["local-bpo", "staffing", "50"],
                                                         ["local-bpo", "staffing", "52"],
                                                         ["offshore-bpo", "staffing", "62"]]
    assert lines[-1] == f"6 task(s) computed on 1 process (in-process), 0 loaded; tables written to {out}/"
    assert not (out / "calls.parquet").exists()
    assert {p.name for p in out.iterdir()} == {"manifest.json", "tasks", "meta.json", "summary.csv",
                                               "intervals.parquet", "usage.parquet", "contacts.parquet",
                                               "invoices.parquet", "clients.parquet", "vendor.parquet",
                                               "pool_runs.parquet", "runs.parquet"}


@pytest.mark.parametrize(("args", "expected"), [
    (["missing.toml"], "missing.toml: file not found"),
    (["{sweep}", "--days", "0.3"], "days: must be a whole number of 30-minute intervals"),
    (["{sweep}", "--warmup-h", "6"], "warmup_h: must be shorter than the horizon"),
])
def test_cli_sweep_mistakes_are_one_line_and_exit_2(tmp_path, capsys, args, expected):
    from experiments.cli import main

    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'name = "x"\noptions = ["{SCENARIOS.as_posix()}/local_bpo.toml"]\ndays = 0.25\n')
    code = main(["sweep", *(a.format(sweep=sweep) for a in args), "--out", str(tmp_path / "out")])
    stdout, err = capsys.readouterr()
    assert code == 2 and stdout == ""
    assert err.startswith("bposim: error: ") and err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "out").exists()


def test_cli_run_no_calls_writes_no_calls_table(tmp_path, capsys):
    from experiments.cli import main

    code = main(["run", str(SCENARIOS / "local_bpo.toml"), "--reps", "2", "--days", "0.25", "--no-calls",
                 "--out", str(tmp_path)])
    capsys.readouterr()
    assert code == 0
    assert not (tmp_path / "calls.parquet").exists() and (tmp_path / "runs.parquet").exists()


def test_results_read_back_list_their_points_in_run_order(tmp_path, baseline):
    # meta.json keeps the scenarios sorted by id ("...=39" before "...=40"); the Result read back
    # must list its points as run, in the order of its tables, or reprice prices the calls of one
    # point under another's scenario and labels them with the other's ids.
    from experiments.results.folder import read_results

    points = expand(baseline, grid={"pools.inhouse.agents": [40, 39]})
    result = run(points, RunSettings(reps=1, days=0.25), executor=SerialExecutor(), out=tmp_path, progress=False)
    back = read_results(tmp_path)
    assert [p.scenario_id for p in back.points] == result.scenario_ids == [p.scenario_id for p in points]
    same = back.reprice(offshore={"contract": baseline.pool("offshore").contract})
    np.testing.assert_allclose(same.runs["labour_cost"], result.runs["labour_cost"], rtol=1e-12)
    assert same.runs["labour_cost"].iloc[0] > same.runs["labour_cost"].iloc[1]  # 40 agents cost more than 39
