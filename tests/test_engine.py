"""Deterministic tests of the engine with hand-made calls: each expected log is computed by hand."""

from __future__ import annotations

import math

import pytest
from builders import calls, log, pool, replay, scenario

COLS = ("call_id", "outcome", "pool", "wait_s", "handle_s", "last_pool", "pool_wait_s")


def test_single_agent_fcfs_and_abandonment():
    # One agent. c0 at 0 (100 s) is served at once. c1 at 1 has patience 50: the agent is busy
    # until 100, so c1 abandons at 51 (wait 50). c2 at 2 (patience 200) is served at 100 (wait 98).
    scn = scenario([pool("a", 1)])
    rep = replay(scn, calls([0, 1, 2], [100, 10, 10], patience_s=[1e9, 50, 200]))
    assert log(rep, *COLS) == [
        (0, "answered", "a", 0.0, 100.0, "a", 0.0),
        (1, "abandoned", "", 50.0, None, "a", 50.0),
        (2, "answered", "a", 98.0, 10.0, "a", 98.0),
    ]


def test_overflow_after_delay_to_second_pool():
    # route [a, b], overflow after 30 s, one agent each.
    # c0 at 0 (100 s) -> a, busy until 100.
    # c1 at 10 waits for a; at 40 b may take it: b is free -> served by b at 40 (wait 30, 0 at b).
    # c2 at 20 waits for a; at 50 joins b's queue (b busy until 40+50=90): b frees at 90 and takes
    #    c2 (wait 70, waited 40 at b).
    # c3 at 95 waits for a, which frees at 100 -> served by a (wait 5).
    scn = scenario([pool("a", 1), pool("b", 1)], route=["a", "b"], overflow_after_s=30.0)
    rep = replay(scn, calls([0, 10, 20, 95], [100, 50, 10, 10]))
    assert log(rep, *COLS) == [
        (0, "answered", "a", 0.0, 100.0, "a", 0.0),
        (1, "answered", "b", 30.0, 50.0, "b", 0.0),
        (2, "answered", "b", 70.0, 10.0, "b", 40.0),
        (3, "answered", "a", 5.0, 10.0, "a", 5.0),
    ]


def test_overflow_zero_delay_takes_first_free_pool_in_route_order():
    # overflow_after_s = 0: both pools at once, free agents taken in route order.
    # c0 -> a; c1 -> b (a busy); c2 waits for both; b frees first (at 1+20=21) and takes it.
    scn = scenario([pool("a", 1), pool("b", 1)], route=["a", "b"], overflow_after_s=0.0)
    rep = replay(scn, calls([0, 1, 2], [100, 20, 10]))
    assert log(rep, "call_id", "pool", "wait_s") == [(0, "a", 0.0), (1, "b", 0.0), (2, "b", 19.0)]


def test_handle_factor_multiplies_served_handle_time():
    scn = scenario([pool("a", 1, handle_factor=1.5)])
    rep = replay(scn, calls([0], [100]))
    assert rep.calls["handle_s"].tolist() == [150.0]


def test_split_routing_by_uniform_draw():
    # split a = 0.3, b = 0.7: a draw below 0.3 goes to a, else to b.
    scn = scenario([pool("a", 5), pool("b", 5)], split={"a": 0.3, "b": 0.7})
    rep = replay(scn, calls([0, 1, 2, 3], [10] * 4, u_split=[0.1, 0.29, 0.31, 0.99]))
    assert rep.calls["pool"].tolist() == ["a", "a", "b", "b"]


def test_split_call_waits_for_its_own_pool_only():
    # c0 takes a's only agent; c1 is split to a too, and waits although b is idle.
    scn = scenario([pool("a", 1), pool("b", 1)], split={"a": 0.5, "b": 0.5})
    rep = replay(scn, calls([0, 1], [100, 10], u_split=[0.1, 0.2]))
    assert log(rep, "call_id", "pool", "wait_s") == [(0, "a", 0.0), (1, "a", 99.0)]


def test_unresolved_call_comes_back_as_repeat():
    # resolution 0.5: c0 draws 0.9 (unresolved), c1 draws 0.1 (resolved). c0 ends at 60 and its
    # repeat arrives 100 s later (deterministic repeat_after) at 160, with the call type's handle.
    scn = scenario([pool("a", 2, resolution_frac=0.5,
                        repeat_after={"dist": "deterministic", "value_s": 100.0})])
    rep = replay(scn, calls([0, 1], [60, 60], u_resolve=[0.9, 0.1]))
    rows = log(rep, "call_id", "arrival_s", "is_repeat", "outcome")
    assert rows[:2] == [(0, 0.0, False, "answered"), (1, 1.0, False, "answered")]
    assert rows[2][:3] == (2, 160.0, True)
    # The repeat draws its own resolution: its chain of repeats stops at the horizon.
    assert rep.calls["arrival_s"].max() < 86400.0


def test_repeat_after_the_horizon_is_not_generated():
    scn = scenario([pool("a", 1, resolution_frac=0.0,
                        repeat_after={"dist": "deterministic", "value_s": 86400.0})])
    rep = replay(scn, calls([0], [60]))
    assert len(rep.calls) == 1


def test_call_in_service_at_shift_change_is_finished_with_overtime():
    # Hourly intervals; one agent in hour 0, none in hour 1, one from hour 2 on.
    # c0 at 3500 (200 s) runs until 3700: 100 s of overtime in interval 1.
    # c1 at 3650 finds nobody and waits until the agent of hour 2 starts at 7200.
    agents = [1, 0] + [1] * 22
    scn = scenario([pool("a", agents)])
    rep = replay(scn, calls([3500, 3650], [200, 10]))
    assert log(rep, "call_id", "wait_s") == [(0, 0.0), (1, 3550.0)]
    iv = rep.intervals.set_index("interval")
    assert iv.loc[0, "busy_s"] == 100.0 and iv.loc[0, "staffed_s"] == 3600.0
    assert iv.loc[1, "busy_s"] == 100.0 and iv.loc[1, "staffed_s"] == 100.0
    assert iv.loc[2, "busy_s"] == 10.0 and iv.loc[2, "staffed_s"] == 3600.0
    assert iv.loc[1, "available_n"] == 0


def test_staffing_increase_serves_the_queue_at_once():
    agents = [1, 2] + [2] * 22
    scn = scenario([pool("a", agents)])
    rep = replay(scn, calls([3000, 3100], [1000, 10]))
    # c1 waits until 3600, when the second agent starts.
    assert log(rep, "call_id", "wait_s") == [(0, 0.0), (1, 500.0)]


def test_shrinkage_reduces_available_not_scheduled_agents():
    # 10 x (1 - 0.2) = 8 available of 10 scheduled (the rounding rule: test_definitions.py).
    scn = scenario([pool("a", 10, shrinkage_frac=0.2)])
    rep = replay(scn, calls([0], [10]))
    assert rep.intervals["available_n"].iloc[0] == 8 and rep.intervals["scheduled_n"].iloc[0] == 10


def test_closed_pool_is_skipped_in_route():
    # b is open 8:00-20:00 only; a call at 02:00 routed [b, a] goes straight to a.
    scn = scenario([pool("a", 1), pool("b", 1, open_h=[8, 20])], route=["b", "a"], overflow_after_s=60.0)
    rep = replay(scn, calls([2 * 3600, 9 * 3600], [10, 10]))
    assert rep.calls["pool"].tolist() == ["a", "b"]


def test_finite_lines_block_calls_finding_the_system_full():
    # lines = 2, one agent. c0 served (0-100); c1 waits; c2 finds 2 calls in the system: blocked.
    # c1's patience ends at 31, so c3 at 40 finds one call in the system and waits (served at 100).
    scn = scenario([pool("a", 1)], lines=2)
    rep = replay(scn, calls([0, 1, 2, 40], [100, 10, 10, 10], patience_s=[1e9, 30, 1e9, 1e9]))
    assert log(rep, "call_id", "outcome", "wait_s") == [
        (0, "answered", 0.0), (1, "abandoned", 30.0), (2, "blocked", 0.0), (3, "answered", 60.0)]


def test_calls_in_system_at_the_drain_limit_are_unfinished():
    # No agents after hour 0; a call arriving at 3599 with infinite patience waits for ever:
    # after a drain of 1 h it is unfinished.
    agents = [1] + [0] * 23
    scn = scenario([pool("a", agents)])
    rep = replay(scn, calls([3000, 3599], [1000, 10]), days=1 / 24, drain_h=1.0)
    assert rep.calls["outcome"].tolist() == ["answered", "unfinished"]
    assert rep.end_s == 7200.0


def test_warmup_calls_are_simulated_but_not_reported():
    scn = scenario([pool("a", 1)])
    rep = replay(scn, calls([100, 4000], [10, 10]), warmup_h=1.0)
    assert rep.calls["call_id"].tolist() == [1]
    assert rep.intervals["interval"].min() == 1


@pytest.mark.parametrize("n_first", [0, 1])
def test_empty_and_single_call_runs(n_first):
    scn = scenario([pool("a", 1)])
    rep = replay(scn, calls([5.0] * n_first, [1.0] * n_first))
    assert len(rep.calls) == n_first
    assert rep.intervals["offered_n"].sum() == n_first
    assert not math.isnan(rep.intervals["staffed_s"].sum())


def test_intervals_count_calls_by_arrival_interval_and_last_pool():
    scn = scenario([pool("a", 1), pool("b", 1)], route=["a", "b"], overflow_after_s=30.0)
    rep = replay(scn, calls([0, 10, 3700], [100, 50, 10]))
    iv = rep.intervals.set_index(["interval", "pool"])
    assert iv.loc[(0, "a"), "offered_n"] == 1 and iv.loc[(0, "b"), "offered_n"] == 1
    assert iv.loc[(1, "a"), "offered_n"] == 1
    assert iv.loc[(0, "b"), "wait_answered_s"] == 30.0
    assert iv["busy_s"].sum() == 160.0  # exact: 100 + 50 + 10 s, services with integer start and end times


def test_the_call_stores_arrays_are_its_columns_with_their_type_codes():
    """CallStore spells its columns out (typed attributes); they must agree with COLUMNS."""
    from sim.callstore import COLUMNS, CallStore
    store = CallStore()
    assert {name: getattr(store, name).typecode for name in COLUMNS} == {name: code for name, (code, _) in COLUMNS.items()}
    assert set(vars(store)) == {"first_id", *COLUMNS}


def test_an_overflow_due_after_its_call_was_answered_and_dropped_is_ignored():
    # Without a calls table, settled calls are dropped from the front of the store and the ids of
    # the others shift. route [a, b], overflow after 3000 s; a has 1 agent, b 1.
    # c0 at 0 (10 s) -> a. c1 at 1 waits for a (its overflow to b is due at 3001), answered at 10.
    # c2 at 100 (10,000 s) -> a. c3 at 200 waits for a; at 3200 it may go to b, which takes it.
    # When c3 arrives, c0 and c1 are settled and dropped: c1's overflow, still on the calendar,
    # must not act on another call (it once read c3's row and failed).
    scn = scenario([pool("a", 1), pool("b", 1)], route=["a", "b"], overflow_after_s=3000.0)
    first = calls([0, 1, 100, 200], [10, 10, 10_000, 10])
    kept = replay(scn, first, days=1 / 24 * 2, drain_h=1.0)
    lean = replay(scn, first, days=1 / 24 * 2, drain_h=1.0, keep_calls=False)
    assert log(kept, "call_id", "pool", "wait_s") == [(0, "a", 0.0), (1, "a", 9.0), (2, "a", 0.0), (3, "b", 3000.0)]
    assert lean.intervals.equals(kept.intervals)


def test_a_pool_reached_only_after_the_threshold_is_named():
    # route [a, b], overflow after 30 s, threshold 20 s: b answers only calls that waited >= 30 s,
    # so its own SL is 0 by construction. With overflow 10 s it is not (10 <= 20), nor with a split.
    from sim.routing import reached_only_late

    assert reached_only_late(scenario([pool("a", 1), pool("b", 1)], route=["a", "b"], overflow_after_s=30.0)) == ("b",)
    assert reached_only_late(scenario([pool("a", 1), pool("b", 1)], route=["a", "b"], overflow_after_s=10.0)) == ()
    assert reached_only_late(scenario([pool("a", 1), pool("b", 1)], split={"a": 0.5, "b": 0.5})) == ()
    # a pool first in the route while the earlier one is closed is reached at once then: not listed
    scn = scenario([pool("a", 1, open_h=[8, 20]), pool("b", 1)], route=["a", "b"], overflow_after_s=30.0)
    assert reached_only_late(scn) == ()
