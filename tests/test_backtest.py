"""The backtest (experiments/calibrate/backtest.py, ``bposim backtest``): a log simulated by bposim
from a scenario, backtested against the same scenario, lies within the simulation intervals; against
a scenario with too few agents it does not; bad input is one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.calibrate import backtest as bt
from experiments.calibrate.agent_ids import log_with_agents
from experiments.cli import main
from models.loading import scenario_from_dict
from models.scenario import Scenario
from models.settings import RunSettings
from sim.replication import simulate

TOML = """name = "small"
interval_min = 60
service_level_s = 20
[[demand]]
name = "c"
calls_per_h = 100
handle = {{ dist = "exponential", mean_s = 240 }}
patience = {{ dist = "exponential", mean_s = 300 }}
route = ["p"]
[[pools]]
name = "p"
kind = "inhouse"
agents = {agents}
wage_per_h = 10
"""


def small(agents: int = 8) -> Scenario:
    import tomllib
    return scenario_from_dict(tomllib.loads(TOML.format(agents=agents)), source="small.toml")


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """Two days (a Monday and a Tuesday) of the small scenario, seed 3, as a tidy call log.

    The log is one draw: each 95% check misses one time in twenty by chance (seed 99 put its
    abandonment at the 2.4th percentile of the replications), so the seed is fixed.
    """
    rep = simulate(small(), RunSettings(reps=1, seed=3, days=2.0), 0)
    assert rep.calls is not None
    return log_with_agents(rep.calls, rep.intervals, 3600.0, start="2024-01-01")


def test_observed_counts_by_hand() -> None:
    log = pd.DataFrame({"arrival": pd.to_datetime(["2024-01-01 08:10", "2024-01-01 08:50", "2024-01-01 09:00"]),
                        "outcome": ["answered", "abandoned", "answered"], "wait_s": [20.0, 50.0, 30.0],
                        "handle_s": [100.0, np.nan, 60.0]})
    counts = bt.observed_counts(log, 60, 20.0).set_index("interval_start_h")
    assert len(counts) == 24
    assert counts.loc[8.0, ["offered_n", "answered_n", "abandoned_n", "answered_in_sl_n"]].tolist() == [2, 1, 1, 1]
    assert counts.loc[8.0, "wait_answered_s"] == 20.0
    assert counts.loc[9.0, ["offered_n", "answered_in_sl_n", "wait_answered_s"]].tolist() == [1, 0, 30.0]


def test_same_scenario_lies_within_the_intervals(log: pd.DataFrame) -> None:
    observed = bt.observed_counts(log, 60, 20.0)
    counts = bt.simulate_backtest(bt.Backtest(small(), observed), reps=30, seed=5)
    by_period, by_interval = bt.summarise(observed, counts)
    assert set(by_period["period"]) == {"2024-01", "overall"}
    assert by_period["within"].all(), by_period
    assert (by_period["rel_error_frac"].abs() < 0.25).all()
    assert by_interval["within"].mean() > 0.85
    # too few agents: predicted waiting far above the observed, outside the intervals
    short = bt.summarise(observed, bt.simulate_backtest(bt.Backtest(small(6), observed), reps=10, seed=5))[0]
    assert not short.loc[short["metric"] == "asa_s", "within"].any()


def test_estimated_staffing_reproduces_the_scenario(log: pd.DataFrame) -> None:
    from experiments.calibrate.staffing import estimate_staffing_by_date

    observed = bt.observed_counts(log, 60, 20.0)
    staffing = estimate_staffing_by_date(log, 60)
    counts = bt.simulate_backtest(bt.Backtest(small(), observed, staffing), reps=20, seed=5)
    by_period = bt.summarise(observed, counts)[0]
    assert by_period["within"].all(), by_period


def test_command_writes_tables_and_figure(log: pd.DataFrame, tmp_path: Path) -> None:
    log.to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "small.toml").write_text(TOML.format(agents=8), encoding="utf-8")
    code = main(["backtest", str(tmp_path / "log.csv"), str(tmp_path / "small.toml"), "--reps", "4", "--jobs", "1",
                 "--staffing", "estimate", "--match-volume", "--out", str(tmp_path / "out")])
    assert code == 0
    table = pd.read_csv(tmp_path / "out" / "backtest.csv")
    assert {"period", "metric", "observed", "predicted_mean", "predicted_low", "predicted_high",
            "rel_error_frac"} <= set(table.columns)
    assert len(pd.read_csv(tmp_path / "out" / "backtest_by_interval.csv")) == 24 * 3
    assert (tmp_path / "out" / "backtest_by_interval.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("content, message", [
    ("arrival,outcome,wait_s\n2024-01-01 08:00,answered,3\n", "missing column 'handle_s'"),
    ("", "the file is empty"),
    ("arrival,outcome,wait_s,handle_s\nnot a time,answered,3,4\n", "arrival: must be an ISO date-time"),
])
def test_bad_log_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                                    message: str) -> None:
    (tmp_path / "log.csv").write_text(content, encoding="utf-8")
    (tmp_path / "small.toml").write_text(TOML.format(agents=8), encoding="utf-8")
    code = main(["backtest", str(tmp_path / "log.csv"), str(tmp_path / "small.toml"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err, err


def test_staffing_rounds_half_up_but_keeps_one_agent_where_anyone_served() -> None:
    scn = bt._with_staffing(small(), np.array([0.0, 0.3, 0.5, 1.49, 7.6, *[8.0] * 19]), 1.0)
    assert scn.pools[0].agents[:5] == (0, 1, 1, 1, 8)
    doubled = bt._with_staffing(small(), None, 2.0)
    assert doubled.demand[0].weekday_factors == (2.0,) * 7 and doubled.pools == small().pools


def test_bad_staffing_file_is_one_line_exit_2(log: pd.DataFrame, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    log.to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "small.toml").write_text(TOML.format(agents=8), encoding="utf-8")
    (tmp_path / "staff.csv").write_text("date,interval_start_h,agents\n2024-01-01,0,3\n", encoding="utf-8")
    code = main(["backtest", str(tmp_path / "log.csv"), str(tmp_path / "small.toml"), "--staffing",
                 str(tmp_path / "staff.csv"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "no valid agents for 2024-01-01 1 h" in err


def test_compare_by_hand() -> None:
    """Observed 10 offered, 2 abandoned, 8 answered waiting 80 s in all, 6 within T; replications
    abandon 1, 2 and 3 of 10."""
    observed = np.array([10.0, 8.0, 2.0, 6.0, 80.0])
    simulated = np.array([[10.0, 9.0, 1.0, 7.0, 90.0], [10.0, 8.0, 2.0, 6.0, 160.0], [10.0, 7.0, 3.0, 5.0, 70.0]])
    rows = {r["metric"]: r for r in bt.compare(observed, simulated, "x")}
    assert rows["abandon_frac"]["observed"] == 0.2
    assert rows["abandon_frac"]["predicted_mean"] == pytest.approx(0.2)
    assert rows["asa_s"]["observed"] == 10.0
    assert rows["asa_s"]["predicted_mean"] == pytest.approx((10 + 20 + 10) / 3)
    assert rows["asa_s"]["rel_error_frac"] == pytest.approx(4 / 3 - 1)
    # SL 0.7, 0.6, 0.5: mean 0.6, sd 0.1; t(2) at 97.5% = 4.302653; one more replication's 95% band
    assert rows["sl_frac"]["predicted_low"] == pytest.approx(0.6 - 4.302653 * 0.1 * np.sqrt(1 + 1 / 3))
    assert rows["sl_frac"]["within"] and rows["abandon_frac"]["within"]


def test_a_date_s_staffing_replaces_the_pool_open_on_its_weekday() -> None:
    """A calibrated scenario whose staffing differs by weekday has one pool per weekday; a date's
    estimated agents go to the pool open on its weekday, the others keep theirs. Two pools open on
    one weekday cannot be told apart: one line."""
    import dataclasses

    base = small()
    mon = dataclasses.replace(base.pools[0], name="mon", open_days=(0,), agents=(3,) * 24)
    tue = dataclasses.replace(base.pools[0], name="tue", open_days=(1,), agents=(4,) * 24)
    route = dataclasses.replace(base.demand[0], route=("mon", "tue"))
    two = dataclasses.replace(base, pools=(mon, tue), demand=(route,))
    agents = np.full(24, 6.4)
    staffed = bt._with_staffing(two, agents, 1.0, weekday=1)
    assert [p.agents[0] for p in staffed.pools] == [3, 6]
    bt.check_backtest(two, pd.DataFrame(), 60)
    both = dataclasses.replace(two, pools=(mon, dataclasses.replace(tue, open_days=(0, 1))))
    with pytest.raises(bt.CallLogError, match="on Monday this scenario has 2 open"):
        bt.check_backtest(both, pd.DataFrame(), 60)


def test_the_prediction_band_covers_one_more_replication_95_percent_of_the_time() -> None:
    """The band is a prediction interval for one more replication: over 4,000 draws of 10 normal
    replications and one more, it covers the new one in 95% of them (binomial SE 0.34 points; the
    quantiles of the 10 would cover about 79%)."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(4000):
        values = rng.normal(0.1, 0.02, 11)
        low, high = bt.prediction_band(values[:10])
        hits += low <= values[10] <= high
    assert abs(hits / 4000 - 0.95) < 4 * np.sqrt(0.95 * 0.05 / 4000)
    assert np.isnan(bt.prediction_band(np.array([0.1, np.nan]))[0])
