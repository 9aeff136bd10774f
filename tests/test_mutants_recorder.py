"""sim.recorder and models.metrics: the calls and intervals tables' columns, types and sums, by hand
(found by mutation testing)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from builders import calls, pool, replay, scenario

from models.metrics import add_rates
from sim.recorder import busy_by_interval

INTERVAL_COLUMNS = ["rep", "interval", "start_s", "day", "pool", "scheduled_n", "available_n", "staffed_s", "busy_s"]


def test_the_intervals_table_has_its_columns_and_types_from_the_warm_up_on():
    # Two hours of one pool, warm-up 1 h: only interval 1 (hour 1 of day 0), index from 0.
    rep = replay(scenario([pool("a", 1)]), calls([100, 4000], [10, 10]), days=1 / 12, warmup_h=1.0)
    iv = rep.intervals
    assert list(iv.columns[:len(INTERVAL_COLUMNS)]) == INTERVAL_COLUMNS
    assert {"offered_n", "answered_n", "queued_n", "wait_answered_s", "sl_frac", "asa_s", "p_wait_frac",
            "abandon_frac", "occupancy_frac"} <= set(iv.columns)
    assert iv.index.tolist() == [0] and iv["interval"].tolist() == [1] and iv["day"].tolist() == [0]
    for name in iv.columns:
        if name == "pool":
            continue
        expected = np.float64 if name.endswith(("_s", "_frac")) else np.int64
        assert iv[name].dtype == expected, name
    assert iv.loc[0, "offered_n"] == 1 and iv.loc[0, "start_s"] == 3600.0


def test_days_count_whole_days_of_intervals():
    # 30-minute intervals over two days: interval 47 is day 0, 48 day 1.
    rep = replay(scenario([pool("a", [1] * 48)], interval_min=30), calls([10], [10]), days=2)
    day = rep.intervals.set_index("interval")["day"]
    assert day[47] == 0 and day[48] == 1 and day.dtype == np.int64


def test_the_calls_table_has_its_columns_and_types():
    rep = replay(scenario([pool("a", 1)]), calls([0], [10]))
    c = rep.calls
    assert list(c.columns[:12]) == ["rep", "call_id", "call_type", "arrival_s", "outcome", "pool", "wait_s",
                                    "handle_s", "talk_s", "is_repeat", "last_pool", "pool_wait_s"]
    assert c["rep"].dtype == np.int32 and c["call_id"].dtype == np.int64
    assert isinstance(c["call_type"].dtype, pd.CategoricalDtype) and c["call_type"].tolist() == ["c"]


def test_rates_divide_by_positive_denominators_only():
    # Interval 0: 4 offered, 3 answered (2 in the service level) after 90 s of waits in all,
    # 1 abandoned, 2 queued; busy 1800 of 3600 staffed seconds.
    # Interval 1: 1 offered, answered, no wait; busy 60 of 0 staffed: occupancy undefined (NaN).
    # Interval 2: nothing offered: every call rate NaN; busy 0 of 3600: occupancy 0.
    frame = pd.DataFrame({"offered_n": [4, 1, 0], "answered_n": [3, 1, 0], "answered_in_sl_n": [2, 1, 0],
                          "abandoned_n": [1, 0, 0], "queued_n": [2, 0, 0], "wait_answered_s": [90.0, 0.0, 0.0],
                          "busy_s": [1800.0, 60.0, 0.0], "staffed_s": [3600.0, 0.0, 3600.0]})
    out = add_rates(frame)
    nan = math.nan
    expected = {"sl_frac": [0.5, 1.0, nan], "asa_s": [30.0, 0.0, nan], "abandon_frac": [0.25, 0.0, nan],
                "p_wait_frac": [0.5, 0.0, nan], "occupancy_frac": [0.5, nan, 0.0]}
    for name, values in expected.items():
        np.testing.assert_array_equal(out[name].to_numpy(), values, err_msg=name)
        assert out[name].dtype == np.float64
    assert list(frame.columns) == list(out.columns)[:8]  # the input frame is not changed


def test_busy_time_is_cut_at_interval_boundaries():
    # Hourly intervals, 3 of them. Services: pool 0 from 3500 to 3600.5 (100 s in interval 0,
    # 0.5 s in 1); pool 1 from 100 to 10000 (3500, 3600, 2800: three intervals); pool 0 from 7000
    # to 7300 (200 in interval 1, 100 in 2); an unanswered call (pool -1, NaN times): nothing;
    # pool 1 from 10700 to 11000, past the horizon 10800: 100 s, in interval 2.
    pool_ = np.array([0, 1, 0, -1, 1])
    start = np.array([3500.0, 100.0, 7000.0, np.nan, 10700.0])
    end = np.array([3600.5, 10000.0, 7300.0, np.nan, 11000.0])
    busy = busy_by_interval(pool_, start, end, 2, 3, 3600.0)
    np.testing.assert_allclose(busy, [[100.0, 200.5, 100.0], [3500.0, 3600.0, 2900.0]], rtol=0, atol=1e-9)


def test_queued_calls_are_those_not_answered_on_arrival_and_not_blocked():
    # lines = 3, one agent: c0 answered at once; c1 waits (queued); c2 (patience 5) waits and
    # abandons at 7 (queued); c3 at 3 finds 3 in the system: blocked (not queued).
    scn = scenario([pool("a", 1)], lines=3)
    rep = replay(scn, calls([0, 1, 2, 3], [100, 10, 10, 10], patience_s=[1e9, 1e9, 5, 1e9]))
    iv = rep.intervals.iloc[0]
    assert (iv["offered_n"], iv["queued_n"], iv["blocked_n"], iv["abandoned_n"]) == (4, 2, 1, 1)
    # lines = 2: c0 answered, c1 queued, c2 blocked.
    scn = scenario([pool("a", 1)], lines=2)
    rep = replay(scn, calls([0, 1, 2], [100, 10, 10]))
    iv = rep.intervals.iloc[0]
    assert (iv["offered_n"], iv["queued_n"], iv["blocked_n"]) == (3, 1, 1)


def test_categorical_codes_of_many_names_do_not_overflow():
    # 130 names: code 129 does not fit in an int8 (at most 127); it must still name the 130th.
    from sim.recorder import _categorical
    names = [f"p{i}" for i in range(130)]
    assert list(_categorical(np.array([129, 0, 127]), names)) == ["p129", "p0", "p127"]
