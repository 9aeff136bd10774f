"""The vendor's economies of scale (issue 12 items 3-4): sharing policies and ``bposim pooling``.

What is checked and why:

- **Erlang C.** Identical Poisson clients (exponential handle times, no abandonment, no shrinkage)
  in one shared FCFS queue are one M/M/c queue with the pooled load, so each client's service level
  is Erlang C's for the pooled load and the fewest agents meeting every client's target is Erlang
  C's minimum for it. The study's staffing for N = 1, 2, 3, 5, 10 must equal that minimum, computed
  here from the formula (models/erlang.py). The case is chosen so that at the minimum every client's
  service level is 5.6 points above the target and one agent fewer at least 5.6 below it, many
  standard errors of a client's estimate (checked on the measured replications), so the search
  can and must find the exact answer.
- **Pooling unlike clients can hurt.** A client of short calls (60 s) shares 10 agents with a
  client of long calls (600 s): its callers wait longer than when the same 10 agents serve it with a
  client of short calls of the same offered load (the long calls' variability is shared out); with
  priority for the short calls they wait less than in FCFS (and the long calls more); with 4
  dedicated agents and overflow to the 6 shared ones they wait less than in FCFS. Differences are
  judged on paired replications (common random numbers: the short client's callers are the same in
  every variant) with a Student-t bound.
- **The study's money** recomputes from its per-replication table: labour = paid hours x wage x
  burden, per handled minute, the price for a margin; the scenarios it builds pass the loader's
  validation (written out and read back); bad options are one line and exit 2.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from scipy import stats

from experiments.cli import main
from experiments.pooling.build import Sharing, pooled
from experiments.pooling.study import Study, run_study
from experiments.results.runner import run
from experiments.running.executors import SerialExecutor
from models.dumping import scenario_to_dict
from models.erlang import agents_for_service_level, queue_metrics
from models.loading import scenario_from_dict
from models.settings import RunSettings

RATE_H, HANDLE_S, THRESHOLD_S, TARGET = 30.0, 180.0, 60.0, 0.8
COUNTS = (1, 2, 3, 5, 10)


def erlang_case(**pool) -> dict:
    """One client of 30 calls/h, exponential 180 s calls, no abandonment, at a vendor pool."""
    return {"name": "us", "interval_min": 60, "service_level_s": THRESHOLD_S,
            "demand": [{"name": "support", "calls_per_h": RATE_H, "handle": {"dist": "exponential", "mean_s": HANDLE_S},
                        "route": ["vendor"]}],
            "pools": [{"name": "vendor", "kind": "bpo", "agents": 3, "vendor_wage_per_h": 5.0, "vendor_burden": 1.5,
                       "contract": {"per_minute": 0.3}, **pool}]}


@functools.cache
def erlang_study():
    scenario = scenario_from_dict(erlang_case(), "erlang case")
    settings = RunSettings(reps=4, days=6, warmup_h=2, seed=2024, keep_calls=False)
    study = Study(scenario, Sharing("vendor"), COUNTS, ("sl_frac>=0.8",), settings)
    return study, run_study(study, SerialExecutor(), progress=False)


def erlang_minimum(n: int) -> int:
    return agents_for_service_level(n * RATE_H / 3600.0, HANDLE_S, TARGET, THRESHOLD_S)


@pytest.mark.slow
def test_identical_clients_in_one_queue_need_the_erlang_c_minimum_of_the_pooled_load():
    _, points = erlang_study()
    for point in points:
        n = point.clients_n
        c = erlang_minimum(n)
        lam = n * RATE_H / 3600.0
        margin = min(queue_metrics(lam, HANDLE_S, c, THRESHOLD_S).service_level_frac - TARGET,
                     TARGET - queue_metrics(lam, HANDLE_S, c - 1, THRESHOLD_S).service_level_frac)
        se = point.clients.groupby("client")["sl_frac"].sem().max()
        assert margin > 4 * se, f"{n} clients: the case cannot tell {c} from {c - 1} agents (se {se:.4f})"
        assert point.staffing == {"vendor": (c,) * 24}, f"{n} clients: found {point.staffing}, Erlang C says {c}"
        theory = queue_metrics(lam, HANDLE_S, c, THRESHOLD_S).service_level_frac
        sl = point.clients["sl_frac"].to_numpy()
        t = stats.t.ppf(1 - 0.001 / 2, len(sl) - 1)
        assert abs(sl.mean() - theory) <= t * sl.std(ddof=1) / np.sqrt(len(sl)) + 1e-9, (n, sl.mean(), theory)
    per_client = [erlang_minimum(n) / n for n in COUNTS]
    assert per_client == sorted(per_client, reverse=True) and per_client[-1] < per_client[0]  # economies of scale


@pytest.mark.slow
def test_the_study_money_recomputes_from_its_replications():
    from experiments.pooling.output import pooling_table

    study, points = erlang_study()
    table = pooling_table(points, study, margin=0.25)
    for point, row in zip(points, table.itertuples(), strict=True):
        reps = point.reps
        hours = (study.settings.horizon_s - study.settings.warmup_s) / 3600.0
        c = point.staffing["vendor"][0]
        assert np.allclose(reps["paid_h"], c * hours)
        assert np.allclose(reps["labour_cost"], reps["paid_h"] * 5.0 * 1.5)
        per_min = reps["labour_cost"] / reps["handled_min"]
        assert np.isclose(row.labour_per_min_cost, per_min.mean())
        assert np.isclose(row.price_per_min_cost, (per_min / 0.75).mean())
        half = stats.t.ppf(0.975, len(per_min) - 1) * per_min.std(ddof=1) / np.sqrt(len(per_min))
        assert np.isclose(row.labour_per_min_high - row.labour_per_min_cost, half)
        assert np.isclose(row.agents_per_client, c / point.clients_n)
        # handled minutes: about the offered work (30 calls/h x 3 min x hours x clients), within 5%
        assert abs(reps["handled_min"].mean() / (point.clients_n * RATE_H * 3 * hours) - 1) < 0.05


def unlike_case(partner_handle_s: float, partner_rate_h: float, policy: str) -> dict:
    """Short calls (60 s, 180/h: 3 erlangs) of ours and a partner client's calls at 10 agents."""
    route, pools = ["vendor"], [{"name": "vendor", "kind": "bpo", "agents": 10, "contract": {"per_minute": 0.3},
                                 "contracts": {"partner": {"per_minute": 0.3}}}]
    if policy == "dedicated":
        route = ["own", "vendor"]
        pools = [{"name": "own", "kind": "bpo", "agents": 4, "contract": {"per_minute": 0.3}},
                 {**pools[0], "agents": 6}]
    short = {"name": "short", "calls_per_h": 180, "handle": {"dist": "exponential", "mean_s": 60}, "route": route,
             "priority": 1 if policy == "priority" else 0}
    partner = {"name": "partner", "client": "partner", "calls_per_h": partner_rate_h,
               "handle": {"dist": "exponential", "mean_s": partner_handle_s}, "route": ["vendor"]}
    return {"name": "us", "interval_min": 60, "service_level_s": 20, "demand": [short, partner], "pools": pools}


@functools.cache
def short_waits(partner_handle_s: float, partner_rate_h: float, policy: str) -> tuple[np.ndarray, np.ndarray]:
    """Per replication: the short client's and the partner's mean wait of answered calls (s)."""
    scenario = scenario_from_dict(unlike_case(partner_handle_s, partner_rate_h, policy), "unlike case")
    result = run(scenario, RunSettings(reps=8, days=4, warmup_h=4, seed=77, keep_calls=False),
                 executor=SerialExecutor(), progress=False)
    sums = result.contacts.groupby(["call_type", "rep"])[["wait_answered_s", "answered_n"]].sum()
    asa = (sums["wait_answered_s"] / sums["answered_n"]).unstack("rep")
    return asa.loc["short"].to_numpy(), asa.loc["partner"].to_numpy()


def surely_less(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether mean(a) < mean(b) with 99.9% one-sided confidence on paired replications."""
    d = a - b
    return bool(d.mean() + stats.t.ppf(0.999, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)) < 0)


@pytest.mark.slow
def test_pooling_unlike_clients_hurts_the_short_calls_and_priority_or_dedicated_agents_mend_it():
    like, _ = short_waits(60.0, 300.0, "shared")        # a partner of short calls, 5 erlangs
    unlike, long_fcfs = short_waits(600.0, 30.0, "shared")  # a partner of long calls, 5 erlangs
    first, long_last = short_waits(600.0, 30.0, "priority")
    own, _ = short_waits(600.0, 30.0, "dedicated")
    assert surely_less(like, unlike), (like.mean(), unlike.mean())   # unlike pooling hurts
    assert surely_less(first, unlike) and surely_less(long_fcfs, long_last)  # priority shifts the waiting
    assert surely_less(own, unlike), (own.mean(), unlike.mean())     # dedicated agents protect
    assert unlike.mean() > 2 * like.mean()


@pytest.mark.parametrize("policy", ["shared", "priority", "dedicated"])
def test_the_scenarios_of_a_study_pass_the_loaders_validation(policy):
    scenario = scenario_from_dict(erlang_case(), "erlang case")
    built = pooled(scenario, Sharing("vendor", policy, 2 if policy == "dedicated" else 0), 3)
    again = scenario_from_dict(scenario_to_dict(built), "erlang case")
    assert again == built
    assert [ct.client for ct in built.demand] == ["", "client2", "client3"]
    assert [ct.priority for ct in built.demand] == ([1, 0, 0] if policy == "priority" else [0, 0, 0])
    names = [p.name for p in built.pools]
    assert names == (["vendor.us", "vendor.client2", "vendor.client3", "vendor"] if policy == "dedicated"
                     else ["vendor"])


def test_client_copies_have_their_own_callers_and_the_same_ones_whatever_n():
    scenario = scenario_from_dict(erlang_case(agents=8), "erlang case")
    settings = RunSettings(reps=1, days=1, warmup_h=0, seed=3, keep_calls=True)
    two = run(pooled(scenario, Sharing("vendor"), 2), settings, executor=SerialExecutor(), progress=False).calls
    three = run(pooled(scenario, Sharing("vendor"), 3), settings, executor=SerialExecutor(), progress=False).calls
    arrivals = {n: {ct: c.loc[c["call_type"] == ct, "arrival_s"].to_numpy() for ct in c["call_type"].unique()}
                for n, c in ((2, two), (3, three))}
    assert np.array_equal(arrivals[2]["support.client2"], arrivals[3]["support.client2"])
    assert not np.array_equal(arrivals[3]["support"][:50], arrivals[3]["support.client3"][:50])


@pytest.fixture
def erlang_file(tmp_path: Path) -> Path:
    path = tmp_path / "erlang.toml"
    path.write_text(tomli_w.dumps(erlang_case()))
    return path


@pytest.mark.parametrize(("extra", "message"), [
    (["--target", "vendor:sl_frac>=0.8"], "without a pool or client"),
    (["--target", "@us:sl_frac>=0.8"], "without a pool or client"),
    (["--target", "occupancy_frac<=0.8"], "sl_frac, asa_s or abandon_frac"),
    (["--target", "sl_frac>=0.8", "--policy", "dedicated"], "--policy dedicated needs --dedicated K"),
    (["--target", "sl_frac>=0.8", "--dedicated", "2"], "--dedicated K goes with --policy dedicated, not shared"),
    (["--target", "sl_frac>=0.8", "--policy", "fair"], "invalid choice: 'fair'"),
    (["--target", "sl_frac>=0.8", "--pool", "inhouse"], "not a bpo pool"),
    (["--target", "sl_frac>=0.8", "--clients", "1,1"], "different whole numbers"),
    (["--target", "sl_frac>=0.8", "--clients", "0,2"], "different whole numbers"),
    (["--target", "sl_frac>=0.8", "--margin", "1"], "--margin"),
    (["--target", "sl_frac>=0.8", "--vendor-wage-per-h", "-1"], "--vendor-wage-per-h"),
])
def test_bad_pooling_options_are_one_line(erlang_file, tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert main(["pooling", str(erlang_file), "--out", str(out), "--jobs", "1", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()


def test_lines_shared_by_every_client_are_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "lines.toml"
    path.write_text(tomli_w.dumps({**erlang_case(), "lines": 20}))
    assert main(["pooling", str(path), "--target", "sl_frac>=0.8", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lines" in err


def test_a_scenario_without_a_vendor_pool_is_one_line(tmp_path, capsys):
    case = erlang_case()
    case["pools"][0] = {"name": "vendor", "kind": "inhouse", "agents": 3, "wage_per_h": 20.0}
    path = tmp_path / "inhouse.toml"
    path.write_text(tomli_w.dumps(case))
    assert main(["pooling", str(path), "--target", "sl_frac>=0.8", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no bpo pool" in err


def test_other_clients_dedicated_pools_bill_us_nothing():
    scenario = scenario_from_dict(erlang_case(), "erlang case")
    built = pooled(scenario, Sharing("vendor", "dedicated", 2), 2)
    assert [(p.name, p.clients) for p in built.pools] == [("vendor.us", ("",)), ("vendor.client2", ("client2",)),
                                                          ("vendor", ("", "client2"))]


def test_a_pool_without_the_vendors_wage_is_one_line(tmp_path, capsys):
    case = erlang_case()
    del case["pools"][0]["vendor_wage_per_h"], case["pools"][0]["vendor_burden"]
    path = tmp_path / "nowage.toml"
    path.write_text(tomli_w.dumps(case))
    assert main(["pooling", str(path), "--target", "sl_frac>=0.8", "--out", str(tmp_path / "o")]) == 2
    assert "vendor_wage_per_h" in capsys.readouterr().err


def test_pooling_command_writes_its_tables_and_figure(erlang_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["pooling", str(erlang_file), "--clients", "1,2", "--target", "sl_frac>=0.8", "--reps", "2",
                 "--days", "1", "--warmup-h", "2", "--jobs", "1", "--out", str(out), "--margin", "0.3"])
    assert code == 0
    table = pd.read_csv(out / "pooling.csv")
    assert list(table["clients_n"]) == [1, 2] and (table["margin_frac"] == 0.3).all()
    reps = pd.read_csv(out / "pooling_reps.csv")
    assert np.allclose(reps["labour_per_min_cost"], reps["labour_cost"] / reps["handled_min"])
    clients = pd.read_csv(out / "pooling_client_reps.csv")
    assert set(clients.loc[clients["clients_n"] == 2, "client"]) == {"us", "client2"}
    assert (out / "pooling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "price/min at 30% margin" in capsys.readouterr().out
    # the report of a run gains "Why the vendor can be cheaper" from the study, with its figures
    run_dir, report = tmp_path / "run", tmp_path / "report"
    assert main(["run", str(erlang_file), "--reps", "2", "--days", "1", "--jobs", "1", "--out", str(run_dir)]) == 0
    assert main(["report", str(run_dir), "--pooling", str(out), "--out", str(report)]) == 0
    page = (report / "index.html").read_text()
    assert "Why the vendor can be cheaper" in page and (report / "pooling.png").exists()
    one, two = table.iloc[0], table.iloc[1]
    for value in (one["labour_per_min_cost"], two["labour_per_min_cost"], two["price_per_min_cost"]):
        assert f"{value:.3f}" in page
    capsys.readouterr()
    assert main(["report", str(run_dir), "--pooling", str(tmp_path / "nothing"), "--out", str(report)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pooling.csv" in err


def test_results_do_not_depend_on_the_executor():
    from experiments.running.executors import ProcessExecutor

    scenario = scenario_from_dict(erlang_case(), "erlang case")
    study = Study(scenario, Sharing("vendor"), (2, 1), ("sl_frac>=0.8",),
                  RunSettings(reps=2, days=1, warmup_h=2, seed=9, keep_calls=False))
    serial = run_study(study, SerialExecutor(), progress=False)
    with ProcessExecutor(2) as executor:
        local = run_study(study, executor, progress=False)
    for a, b in zip(serial, local, strict=True):
        assert a.staffing == b.staffing
        pd.testing.assert_frame_equal(a.reps, b.reps)
        pd.testing.assert_frame_equal(a.clients, b.clients)
    assert [p.clients_n for p in serial] == [2, 1]
    assert replace(study, clients=(1,)).clients == (1,)


def test_each_clients_service_in_contacts_adds_up_to_the_intervals_and_recomputes_from_its_calls():
    """The contacts table's per-call-type service counts (what a client's target is judged on) sum
    to the intervals table's, and each recomputes from the calls table."""
    scenario = pooled(scenario_from_dict(erlang_case(agents=5), "erlang case"), Sharing("vendor", "priority"), 3)
    result = run(scenario, RunSettings(reps=2, days=2, warmup_h=3, seed=4, keep_calls=True),
                 executor=SerialExecutor(), progress=False)
    columns = ["offered_n", "answered_n", "answered_in_sl_n", "abandoned_n", "wait_answered_s"]
    by_rep = result.contacts.groupby("rep")[columns].sum()
    pd.testing.assert_frame_equal(by_rep, result.intervals.groupby("rep")[columns].sum(), check_dtype=False)
    calls = result.calls
    for (rep, call_type), part in calls.groupby(["rep", "call_type"], observed=True):
        row = result.contacts[(result.contacts["rep"] == rep) & (result.contacts["call_type"] == call_type)].sum(
            numeric_only=True)
        answered = part["outcome"] == "answered"
        assert row["answered_in_sl_n"] == (answered & (part["wait_s"] <= THRESHOLD_S)).sum()
        assert np.isclose(row["wait_answered_s"], part.loc[answered, "wait_s"].sum())
        assert row["abandoned_n"] == (part["outcome"] == "abandoned").sum()
    ours = by_type(result.contacts, "support")
    assert ours["wait_answered_s"] / ours["answered_n"] < by_type(result.contacts, "support.client3")[
        "wait_answered_s"] / by_type(result.contacts, "support.client3")["answered_n"]  # ours go first


def by_type(contacts: pd.DataFrame, call_type: str) -> pd.Series:
    return contacts[contacts["call_type"] == call_type].sum(numeric_only=True)


def test_optimise_meets_a_clients_own_target(tmp_path, capsys):
    """``@CLIENT:`` targets in bposim optimise: the staffing found meets the client's target on the
    fresh re-check, judged on its own calls only."""
    path = tmp_path / "two.toml"
    case = unlike_case(600.0, 30.0, "shared")
    path.write_text(tomli_w.dumps(case))
    out = tmp_path / "opt"
    assert main(["optimise", str(path), "--target", "@us:asa_s<=10", "--reps", "3", "--days", "1", "--warmup-h", "2",
                 "--jobs", "1", "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["target"]) == ["@us:asa_s<=10"] and summary["met"].all()


def test_the_report_names_the_points_whose_worst_client_missed_the_target():
    from experiments.report.pooling_section import missed

    table = pd.DataFrame({"targets": ["abandon_frac<=0.1; sl_frac>=0.8"] * 3, "clients_n": [1, 2, 5],
                          "worst_sl_frac": [0.79, 0.8, 0.95]})
    assert missed(table) == [1]
    assert missed(table.assign(targets="asa_s<=20")) == []
