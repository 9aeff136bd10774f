"""The staffing estimator (experiments/calibrate/staffing.py) and the agent ids of simulated calls
(experiments/calibrate/agent_ids.py): hand-made logs whose answer is known, and a simulated day
with known agents per interval, light and heavy."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.calibrate.agent_ids import assign_agents
from experiments.calibrate.staffing import estimate_staffing, estimate_staffing_by_date
from experiments.errors import CallLogError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from staffing_estimate import error_by_load, measure, truth_scenario


def log_of(rows: list[tuple[str, str, float, float, str | None]]) -> pd.DataFrame:
    """(arrival, outcome, wait_s, handle_s, agent) rows as a tidy log."""
    frame = pd.DataFrame(rows, columns=["arrival", "outcome", "wait_s", "handle_s", "agent"])
    frame["arrival"] = pd.to_datetime(frame["arrival"])
    return frame


def by_hour(frame: pd.DataFrame) -> dict[float, float]:
    return dict(zip(frame["interval_start_h"], frame["agents"].round(4), strict=True))


def test_one_agent_on_duty_between_services_and_off_after_a_long_gap() -> None:
    log = log_of([("2024-01-01 08:00", "answered", 0, 600, "a"), ("2024-01-01 08:50", "answered", 0, 600, "a"),
                  ("2024-01-01 14:00", "answered", 0, 1800, "a")])
    est = by_hour(estimate_staffing_by_date(log, 60))
    # 08:00-09:00: served, idle 40 min (on duty: no one else took calls), served until 09:00
    assert est[8.0] == 1.0 and est[9.0] == 0.0
    assert est[14.0] == 0.5      # the lone service: on duty only while it lasts
    assert est[11.0] == 0.0      # the 5-hour gap is off duty


def test_gap_off_duty_when_the_others_took_many_calls() -> None:
    rows = [("2024-01-01 08:00", "answered", 0, 60, "a"), ("2024-01-01 08:59", "answered", 0, 60, "a")]
    rows += [(f"2024-01-01 08:{m:02d}", "answered", 0, 60, "b") for m in range(2, 58, 5)]  # b takes 12 calls
    est = by_hour(estimate_staffing_by_date(log_of(rows), 60))
    assert est[8.0] < 1.3   # a was away: b alone (plus a's two minutes)


def test_queue_test_counts_only_busy_agents_while_a_caller_waits() -> None:
    # a and b present 08:00-09:00 (services at both ends); 08:20-08:40 a caller waits while only a serves
    rows = [("2024-01-01 08:00", "answered", 0, 60, "a"), ("2024-01-01 08:59", "answered", 0, 60, "a"),
            ("2024-01-01 08:00", "answered", 0, 60, "b"), ("2024-01-01 08:59", "answered", 0, 60, "b"),
            ("2024-01-01 08:20", "answered", 0, 1200, "a"), ("2024-01-01 08:20", "abandoned", 1200, np.nan, None)]
    log = log_of(rows)
    presence = by_hour(estimate_staffing_by_date(log, 60, method="presence"))
    queue = by_hour(estimate_staffing_by_date(log, 60))
    assert presence[8.0] == 2.0
    assert queue[8.0] == pytest.approx(2.0 - 20 / 60, abs=1e-3)


def test_weekday_mean_and_method_line() -> None:
    log = log_of([("2024-01-01 08:00", "answered", 0, 1800, "a"), ("2024-01-08 08:00", "answered", 0, 3600, "a")])
    est = estimate_staffing(log, 60)
    assert set(est.columns) == {"weekday", "interval_start_h", "agents"}
    assert est.loc[(est["weekday"] == 0) & (est["interval_start_h"] == 8.0), "agents"].item() == 0.75
    assert "agents present" in est.attrs["method"]


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"arrival": pd.to_datetime(["2024-01-01"]), "outcome": ["answered"], "wait_s": [0.0],
                   "handle_s": [1.0]}), "no 'agent' column"),
    (log_of([("2024-01-01 08:00", "abandoned", 5, np.nan, None)]), "no answered call with an agent"),
])
def test_bad_logs(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(CallLogError, match=message):
        estimate_staffing_by_date(frame)


def test_assign_agents_longest_idle_among_those_on_duty() -> None:
    start = np.array([0.0, 10.0, 20.0, 30.0, 3600.0])
    end = np.array([5.0, 15.0, 100.0, 40.0, 3700.0])
    agent = assign_agents(start, end, np.array([2, 1]), 3600.0)
    # 0 and 1 never served: 0 first; then 1 (idle longer: never served); 20: 0 (idle since 5);
    # 30: 1 is free; in hour 1 only agent 0 is on duty
    assert agent.tolist() == [0, 1, 0, 1, 0]


def test_estimator_against_known_staffing_by_load_level() -> None:
    table = error_by_load(measure(truth_scenario(), days=2, seed=3)).set_index(["method", "level"])
    ours = table.loc["presence_queue"]
    assert (ours.loc[["busy (0.6-0.85)", "heavy (>=0.85)"], "mare_frac"] < 0.03).all()
    assert ours.loc["medium (0.3-0.6)", "mare_frac"] < 0.05
    assert ours.loc["light (<0.3)", "mare_frac"] < 0.25
    # busy time over a fixed occupancy is far off when the load is light
    assert table.loc[("busy", "light (<0.3)"), "mare_frac"] > 0.5


def test_queue_test_removes_agents_on_other_work_when_calls_wait() -> None:
    """A quarter of the agents leave the phones every other quarter-hour: presence counts them, the
    queue test does not when callers wait (heavy load)."""
    table = error_by_load(measure(truth_scenario(away_frac=0.25), days=2, seed=3)).set_index(["method", "level"])
    heavy = "heavy (>=0.85)"
    assert table.loc[("presence_queue", heavy), "mare_frac"] < 0.05
    assert table.loc[("presence", heavy), "mare_frac"] > 0.08
