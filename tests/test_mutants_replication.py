"""sim.replication's settings check and simulate(), and runs without a calls table (found by mutation testing).

Runs without a calls table (``keep_calls=False``) sum settled calls into the aggregates and drop
them from the front of the call store as the run goes (Engine._settle_front, _shift_ids,
CallStore.drop_front): their intervals and usage tables must be those of the same run with a
calls table, whatever happens at the moment of a drop (waiting callers, overflows on the
calendar, repeats, finite lines).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import calls, pool, replay, scenario

from models.settings import RunSettings
from sim.arrivals import first_contacts
from sim.replication import check_settings, simulate, simulate_calls


@pytest.mark.parametrize(("settings", "message"), [
    (RunSettings(days=0), "days: must be > 0, got 0"),
    (RunSettings(days=-1), "days: must be > 0, got -1"),
    # 1/48 day = 30 min: not a whole number of 60-minute intervals (a multiple of 1/24 = 0.0416667 days)
    (RunSettings(days=1 / 48), "days: must be a whole number of 60-minute intervals (a multiple of 0.0416667), "
                                "got 0.0208333"),
    (RunSettings(days=1, warmup_h=0.5), "warmup_h: must be a whole number of 60-minute intervals (a multiple of 1), "
                                        "got 0.5"),
    (RunSettings(days=1, warmup_h=24), "warmup_h: must be shorter than the horizon (1 days = 24 h), got 24"),
    (RunSettings(days=1, warmup_h=25), "warmup_h: must be shorter than the horizon (1 days = 24 h), got 25"),
    (RunSettings(days=1, drain_h=-1), "drain_h: must be a finite number >= 0, got -1"),
    (RunSettings(days=1, drain_h=float("inf")), "drain_h: must be a finite number >= 0, got inf"),
    (RunSettings(days=1, drain_h=float("nan")), "drain_h: must be a finite number >= 0, got nan"),
])
def test_simulate_refuses_settings_that_do_not_fit_with_one_exact_line(settings, message):
    scn = scenario([pool("a", 1)])
    with pytest.raises(ValueError) as info:
        simulate(scn, settings, 0)  # check=True by default
    assert str(info.value) == message


def test_settings_at_the_edges_are_accepted():
    scn = scenario([pool("a", 1)])
    # One 60-minute interval of horizon; a warm-up one interval shorter than the horizon; no drain.
    check_settings(scn, RunSettings(days=1 / 24))
    check_settings(scn, RunSettings(days=1, warmup_h=23, drain_h=0))
    # 30-minute intervals: half an hour is a whole number of them.
    check_settings(scenario([pool("a", [1] * 48)], interval_min=30), RunSettings(days=1 / 48, warmup_h=0))
    with pytest.raises(ValueError, match=r"a multiple of 0\.5\), got 0\.25"):
        check_settings(scenario([pool("a", [1] * 48)], interval_min=30), RunSettings(days=1, warmup_h=0.25))


def test_simulate_without_the_check_runs_whatever_the_settings():
    # A warm-up as long as the horizon is refused by the check; skipped, the run simply reports nothing.
    rep = simulate(scenario([pool("a", 1)]), RunSettings(days=1 / 24, warmup_h=1, seed=3), 0, check=False)
    assert len(rep.calls) == 0


def test_simulate_runs_the_first_contacts_of_its_seed_rep_and_horizon():
    # simulate() draws replication rep's first contacts from the settings' seed over the horizon;
    # simulate_calls() with those same calls gives the very same tables.
    scn = scenario([pool("a", 1)], calls_per_h=30.0, handle={"dist": "exponential", "mean_s": 100.0},
                   patience={"dist": "exponential", "mean_s": 60.0})
    settings = RunSettings(days=0.5, seed=11, drain_h=1.0)
    rep = simulate(scn, settings, 2)
    same = simulate_calls(scn, settings, 2, first_contacts(scn, 11, 2, 0.5 * 86400))
    assert rep.rep == 2 and same.rep == 2
    pd.testing.assert_frame_equal(rep.calls, same.calls)
    pd.testing.assert_frame_equal(rep.intervals, same.intervals)
    assert rep.end_s == same.end_s
    # 12 h of 30 calls/h: about 360 first contacts; all arrive within the 12 h horizon.
    first = rep.calls[~rep.calls["is_repeat"]]
    assert 250 < len(first) < 470 and first["arrival_s"].max() < 0.5 * 86400
    # Another rep or another seed draws other calls.
    assert not simulate(scn, settings, 3).calls["arrival_s"].equals(rep.calls["arrival_s"])
    other_seed = simulate(scn, RunSettings(days=0.5, seed=12, drain_h=1.0), 2)
    assert not other_seed.calls["arrival_s"].equals(rep.calls["arrival_s"])


def _assert_same_aggregates(lean, kept):
    """The intervals and usage of a run without a calls table are those of the same run with one.

    Counts are equal exactly; sums of seconds are added in another order (in blocks as calls are
    dropped), so they agree to rounding only: relative 1e-9.
    """
    assert lean.calls is None
    assert lean.end_s == kept.end_s
    for name in ("intervals", "usage"):
        a, b = getattr(lean, name), getattr(kept, name)
        assert list(a.columns) == list(b.columns) and len(a) == len(b) and (len(a) > 0 or name == "usage")
        for column in a.columns:
            x, y = a[column].to_numpy(), b[column].to_numpy()
            if np.issubdtype(np.asarray(x).dtype, np.floating):
                np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9, err_msg=f"{name}.{column}")
            else:
                assert (x == y).all(), f"{name}.{column}"


def _busy_scenario(**extra):
    # Three days of an overloaded in-house pool overflowing after 60 s to a BPO pool, impatient
    # callers (mean 120 s), unresolved calls coming back (resolution 0.7): at every day's end
    # (when the lean run drops its settled calls) callers are waiting, overflows are on the
    # calendar and repeats are pending.
    return scenario([pool("a", 2, resolution_frac=0.7, repeat_after={"dist": "exponential", "mean_s": 1800.0}),
                     pool("b", 1, kind="bpo", resolution_frac=0.7,
                          repeat_after={"dist": "exponential", "mean_s": 1800.0})],
                    calls_per_h=100.0, handle={"dist": "exponential", "mean_s": 90.0},
                    patience={"dist": "exponential", "mean_s": 120.0}, route=["a", "b"], overflow_after_s=60.0,
                    **extra)


@pytest.mark.parametrize("extra", [{}, {"lines": 4}])
def test_a_run_without_calls_table_sums_up_exactly_what_the_calls_table_holds(extra):
    scn = _busy_scenario(**extra)
    kept = simulate(scn, RunSettings(days=3, seed=5, warmup_h=2, drain_h=2), 1)
    lean = simulate(scn, RunSettings(days=3, seed=5, warmup_h=2, drain_h=2, keep_calls=False), 1)
    _assert_same_aggregates(lean, kept)
    outcomes = kept.calls["outcome"].value_counts()
    assert outcomes["answered"] > 0 and outcomes["abandoned"] > 0 and kept.calls["is_repeat"].any()
    if extra:
        assert outcomes["blocked"] > 0


def test_a_drop_with_a_caller_still_waiting_keeps_its_id_and_its_overflow():
    # One block of hand-made calls: the lean run settles and drops at the last arrival.
    # route [a, b], overflow after 100 s; a has 1 agent, the BPO pool b 1 agent.
    # c0 at 0 (50 s) -> a until 50. c1 at 10 (patience 5) is still waiting for a at 15: abandons.
    # c2 at 60 (1000 s) -> a until 1060. c3 at 70 waits for a; at 170 b takes it (wait 100).
    # c4 at 80 (patience 30): a busy, its overflow would be due at 180 > 110: abandons at 110.
    # When c4 (the last call) is admitted, c0 and c1 are settled and dropped; c2, c3 and c4 are
    # live and move to the front, their ids (and c3's overflow on the calendar) shift by 2.
    scn = scenario([pool("a", 1), pool("b", 1, kind="bpo")], route=["a", "b"], overflow_after_s=100.0)
    first = calls([0, 10, 60, 70, 80], [50, 10, 1000, 30, 10], patience_s=[1e9, 5, 1e9, 1e9, 30])
    kept = replay(scn, first, days=1 / 24, drain_h=1.0)
    lean = replay(scn, first, days=1 / 24, drain_h=1.0, keep_calls=False)
    assert kept.calls[["call_id", "outcome", "pool", "wait_s"]].astype(str).values.tolist() == [
        ["0", "answered", "a", "0.0"], ["1", "abandoned", "", "5.0"], ["2", "answered", "a", "0.0"],
        ["3", "answered", "b", "100.0"], ["4", "abandoned", "", "30.0"]]
    _assert_same_aggregates(lean, kept)
    iv = lean.intervals.set_index("pool")
    # Interval 0: a was offered c0, c1, c2 and c4 (last pool a), b was offered c3; a answered
    # 2 (waits 0, within the 20 s service level), 2 abandoned after queueing (c1, c4); b answered
    # c3 after 100 s (not within 20 s), queued.
    assert iv.loc["a", "offered_n"] == 4 and iv.loc["a", "answered_n"] == 2 and iv.loc["a", "abandoned_n"] == 2
    assert iv.loc["a", "answered_in_sl_n"] == 2 and iv.loc["a", "queued_n"] == 2
    assert iv.loc["b", "offered_n"] == 1 and iv.loc["b", "answered_n"] == 1 and iv.loc["b", "answered_in_sl_n"] == 0
    assert iv.loc["b", "queued_n"] == 1 and iv.loc["b", "wait_answered_s"] == 100.0
    # The BPO pool's month: 1 call answered, 30 s billed in 1-second increments (the default),
    # offered to b and met (no SLA: no threshold).
    assert lean.usage[["answered_n", "billed_increments_n", "sla_offered_n", "sla_met_n"]].values.tolist() == [
        [1, 30, 1, 1]]
    # a was busy 0-50 and 60-1060: 1050 s; b 170-200: 30 s.
    assert iv.loc["a", "busy_s"] == 1050.0 and iv.loc["b", "busy_s"] == 30.0


def test_check_settings_names_a_horizon_of_a_second_as_not_a_whole_number_of_intervals():
    # days = 1/86400 is 1 s: more than 0, so the message is the one about whole intervals.
    with pytest.raises(ValueError, match=r"^days: must be a whole number of 60-minute intervals"):
        check_settings(scenario([pool("a", 1)]), RunSettings(days=1 / 86400))


def test_a_run_without_calls_table_holds_only_the_calls_still_live():
    # Three days of 20 calls/h (about 1,440 calls), 60 s each, 5 agents, nobody ever waits long.
    # Without a calls table the store is cut at each day's end: after the run it holds at most
    # the calls in service at the last arrival (5 agents: at most 5), every other id is dropped.
    import sim.replication as replication
    engines = []

    class Recording(replication.Engine):
        def run(self):
            engines.append(self)
            return super().run()

    scn = scenario([pool("a", 5)], calls_per_h=20.0)
    original = replication.Engine
    replication.Engine = Recording
    try:
        lean = simulate(scn, RunSettings(days=3, seed=2, keep_calls=False), 0)
        kept = simulate(scn, RunSettings(days=3, seed=2), 0)
    finally:
        replication.Engine = original
    lean_engine, kept_engine = engines
    assert len(kept_engine.store) == len(kept.calls) > 1000 and kept_engine.store.first_id == 0
    assert len(lean_engine.store) <= 5
    assert lean_engine.store.first_id + len(lean_engine.store) == len(kept.calls)
    assert lean.intervals["offered_n"].sum() == len(kept.calls)


def test_a_caller_waiting_at_a_drop_still_leaves_the_system_at_its_patience_end():
    # Two blocks of hand-made calls (as if two days) through one agent who starts at 3600, lines = 2.
    # Block 1: c0 at 0 (patience 5), c1 at 10 (patience 1000). At c1's arrival c0's patience is
    #   over (abandoned); the block ends, the lean run drops c0 and c1 becomes row 0 (still waiting,
    #   deadline 1010, in the heap of deadlines that counts the callers in the system).
    # Block 2: c2 at 1020, c3 at 1030, c4 at 1040 (infinite patience). At 1020 c1 is gone: c2 and
    #   c3 wait (2 in the system), c4 finds the 2 lines taken: blocked. The agent takes c2 and c3
    #   at 3600 and 3660 (handle 60 s).
    from sim.replication import _run
    scn = scenario([pool("a", [0] + [1] * 23)], lines=2)
    blocks = [calls([0, 10], [60, 60], patience_s=[5, 1000]),
              calls([1020, 1030, 1040], [60, 60, 60])]
    lean = _run(scn, RunSettings(days=1 / 12, drain_h=1.0, keep_calls=False), 0, iter(blocks))
    kept = _run(scn, RunSettings(days=1 / 12, drain_h=1.0), 0, iter(blocks))
    assert kept.calls[["call_id", "outcome", "wait_s"]].astype(str).values.tolist() == [
        ["0", "abandoned", "5.0"], ["1", "abandoned", "1000.0"], ["2", "answered", "2580.0"],
        ["3", "answered", "2630.0"], ["4", "blocked", "0.0"]]
    _assert_same_aggregates(lean, kept)
    assert lean.intervals.set_index("interval").loc[0, "blocked_n"] == 1


def test_dropping_the_front_of_the_call_store_keeps_the_ids_of_the_rest():
    from sim.callstore import CallStore
    store = CallStore()
    store.extend(calls([0, 1, 2, 3], [10, 20, 30, 40]))
    store.drop_front(2)
    assert store.first_id == 2 and len(store) == 2
    store.drop_front(1)
    # Rows left: the call of id 3 (arrival 3, base 40), now row 0.
    view = store.views(1, 100.0, [1.0])
    assert view["call_id"].tolist() == [3] and view["arrival_s"].tolist() == [3.0]


def test_a_call_ending_at_the_moment_of_a_drop_is_not_dropped_before_its_end():
    # (Found by mutation testing: Engine._in_service counted such a call as settled, dropped it, and
    # its end event then acted on another call. A call ending exactly now is kept until its end.)
    # One agent, resolution 0.5, repeats 100 s after an unresolved call. Block 1:
    # x at 0 (30 s, resolved) ends at 30; c1 at 10 (30 s, unresolved) waits, is answered at 30 and
    # ends at 60; c2 at 60 (10 s). c2's arrival was put on the calendar (at 10) before c1's end
    # (at 30), so at 60 c2 arrives first, waits, and ends the block: the lean run drops what is
    # settled, then c1's end comes. c1 repeats at 160 (draws from the repeat streams), ...
    # Block 2: a call at 3000. The kept run holds x, c1, c2, the call at 3000 and c1's repeats.
    from sim.replication import _run
    scn = scenario([pool("a", 1, resolution_frac=0.5, repeat_after={"dist": "deterministic", "value_s": 100.0})])
    blocks = [calls([0, 10, 60], [30, 30, 10], u_resolve=[0.1, 0.9, 0.1]), calls([3000], [10])]
    kept = _run(scn, RunSettings(days=1 / 12, drain_h=1.0), 0, iter(blocks))
    lean = _run(scn, RunSettings(days=1 / 12, drain_h=1.0, keep_calls=False), 0, iter(blocks))
    assert kept.calls[kept.calls["is_repeat"]]["arrival_s"].iloc[0] == 160.0
    _assert_same_aggregates(lean, kept)


def test_a_new_block_after_a_drop_that_emptied_the_store_still_arrives():
    # Block 1: one call at 0 with a handle of 0 s: settled when the block ends, the lean run drops
    # it and the store is empty. Block 2: a call at 100 (10 s). Both are offered and answered.
    from sim.replication import _run
    scn = scenario([pool("a", 1)])
    blocks = [calls([0], [0]), calls([100], [10])]
    lean = _run(scn, RunSettings(days=1 / 24, drain_h=1.0, keep_calls=False), 0, iter(blocks))
    kept = _run(scn, RunSettings(days=1 / 24, drain_h=1.0), 0, iter(blocks))
    _assert_same_aggregates(lean, kept)
    assert lean.intervals["offered_n"].sum() == 2 and lean.intervals["answered_n"].sum() == 2


def test_a_slow_pools_call_still_in_service_at_a_drop_is_kept():
    # handle_factor 2. Block 1: c0 at 0 (100 s base: served until 200), c1 at 60 (10 s base) waits.
    # The block ends at 60: c0 is still in service (until 200), nothing can be dropped before it.
    # Block 2: c2 at 300. c1 answered at 200 (wait 140) for 20 s; c2 at once.
    from sim.replication import _run
    scn = scenario([pool("a", 1, handle_factor=2.0)])
    blocks = [calls([0, 60], [100, 10]), calls([300], [10])]
    lean = _run(scn, RunSettings(days=1 / 24, drain_h=1.0, keep_calls=False), 0, iter(blocks))
    kept = _run(scn, RunSettings(days=1 / 24, drain_h=1.0), 0, iter(blocks))
    assert kept.calls["wait_s"].tolist() == [0.0, 140.0, 0.0]
    _assert_same_aggregates(lean, kept)
    assert lean.intervals["busy_s"].sum() == 240.0  # 200 + 20 + 20
