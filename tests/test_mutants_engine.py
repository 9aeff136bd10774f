"""sim.engine and the modules it drives (calendar, routing, staffing, call store): exact hand-made
logs for the cases mutation testing found untested. Each expected number is worked out in a comment."""

from __future__ import annotations

import numpy as np
from builders import calls, log, pool, replay, scenario

from sim import streams
from sim.draws import REFILL, Draws
from sim.engine import Engine

COLS = ("call_id", "outcome", "pool", "wait_s")


def test_an_event_due_before_an_arrival_happens_first_even_within_a_second():
    # One agent. c0 at 0 (0.2 s) ends at 0.2; c1 arrives at 0.5 and finds the agent free.
    scn = scenario([pool("a", 1)])
    rep = replay(scn, calls([0, 0.5], [0.2, 10]))
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "answered", "a", 0.0)]
    # Same with a later end: c0 at 0 (10 s) ends at 10, c1 at 20 is answered at once.
    rep = replay(scn, calls([0, 20], [10, 10]))
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "answered", "a", 0.0)]


def test_an_agent_freed_at_the_very_moment_a_call_arrives_answers_it():
    # c0 at 0 (100 s) ends at 100, when c1 arrives with patience 0: the end comes first on the
    # calendar (scheduled earlier), so c1 finds the agent free and is answered, not abandoned.
    scn = scenario([pool("a", 1)])
    rep = replay(scn, calls([0, 100], [100, 10], patience_s=[1e9, 0.0]))
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "answered", "a", 0.0)]


def test_two_agents_answer_two_calls_at_once_and_the_third_waits():
    # c0 at 0 (100 s) and c1 at 1 (100 s) take both agents; c2 at 2 waits until 100 (wait 98).
    scn = scenario([pool("a", 2)])
    rep = replay(scn, calls([0, 1, 2], [100, 100, 10]))
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "answered", "a", 0.0), (2, "answered", "a", 98.0)]


def test_a_slower_pool_keeps_its_agent_busy_longer():
    # handle_factor 2: c0 at 0 (100 s base) takes 200 s; c1 at 10 waits until 200 (wait 190).
    scn = scenario([pool("a", 1, handle_factor=2.0)])
    rep = replay(scn, calls([0, 10], [100, 10]))
    assert log(rep, *COLS, "handle_s") == [(0, "answered", "a", 0.0, 200.0), (1, "answered", "a", 190.0, 20.0)]


def test_an_overflow_of_one_second_is_not_an_overflow_at_once():
    # route [a, b], overflow after 1 s: c1 at 10 waits 1 s for a (busy with c0) before b takes it.
    scn = scenario([pool("a", 1), pool("b", 1)], route=["a", "b"], overflow_after_s=1.0)
    rep = replay(scn, calls([0, 10], [100, 10]))
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "answered", "b", 1.0)]


def test_no_overflow_for_a_caller_whose_patience_ends_first():
    # route [a, b], overflow after 30 s, b idle: c1 at 10 with patience 20 abandons at 30, the
    # very moment it could overflow (an overflow needs now + 30 < deadline: 40 < 30 is false).
    # c2 at 20 with patience 30 (deadline 50) overflows to b at 50? 20 + 30 = 50 < 50 is false:
    # it abandons too. c3 at 30 with patience 31 (deadline 61) reaches b at 60 (wait 30).
    scn = scenario([pool("a", 1), pool("b", 1)], route=["a", "b"], overflow_after_s=30.0)
    rep = replay(scn, calls([0, 10, 20, 30], [1000, 10, 10, 10], patience_s=[1e9, 20, 30, 31]))
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "abandoned", "", 20.0),
                               (2, "abandoned", "", 30.0), (3, "answered", "b", 30.0)]


def test_no_second_overflow_at_the_moment_the_patience_ends():
    # route [a, b, c], overflow every 10 s. c0 at 0 (1000 s) takes a; c1 at 1 waits for a and b
    # takes it at 11 (wait 10). c2 at 5 with patience 20 (deadline 25): at 15 it joins b's queue;
    # c would be allowed at 25, its deadline: too late (25 < 25 is false), it abandons at 25.
    # c3 at 6 with patience 21 joins b's queue at 16 and reaches the idle c at 26 (wait 20).
    scn = scenario([pool("a", 1), pool("b", 1), pool("c", 1)], route=["a", "b", "c"], overflow_after_s=10.0)
    rep = replay(scn, calls([0, 1, 5, 6], [1000, 1000, 10, 10], patience_s=[1e9, 1e9, 20, 21]))
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "answered", "b", 10.0),
                               (2, "abandoned", "", 20.0), (3, "answered", "c", 20.0)]


def test_lines_count_waiting_callers_in_and_out():
    # lines = 2, one agent.
    # c0 at 0 (100 s) served; c1 at 10 waits (2 in the system), answered at 100 (1 in the system).
    # c2 at 150 finds 1 (c1 in service until 200): waits; c3 at 160 finds 2: blocked.
    # c4 at 170 (patience 5) finds 2: blocked. c2 answered at 200; c5 at 210 finds 1: waits,
    # patience 10 (deadline 220): abandons at 220 (c2 in service until 210 + ... see below).
    # c2 (100 s) ends at 300; c5 abandoned at 220 frees its line: c6 at 230 finds 1 (c2): waits,
    # and c7 at 240 finds 2: blocked. c6 answered at 300 (wait 70).
    scn = scenario([pool("a", 1)], lines=2)
    rep = replay(scn, calls([0, 10, 150, 160, 170, 210, 230, 240], [100, 100, 100, 10, 10, 10, 10, 10],
                            patience_s=[1e9, 1e9, 1e9, 1e9, 5, 10, 1e9, 1e9]))
    assert log(rep, *COLS) == [
        (0, "answered", "a", 0.0), (1, "answered", "a", 90.0), (2, "answered", "a", 50.0),
        (3, "blocked", "", 0.0), (4, "blocked", "", 0.0), (5, "abandoned", "", 10.0),
        (6, "answered", "a", 70.0), (7, "blocked", "", 0.0)]


def test_lines_free_one_place_per_abandoned_caller():
    # lines = 3, one agent busy with c0 until 1000. c1 (patience 10) and c2 (patience 1e9) wait;
    # c1 abandons at 11: 2 in the system. c3 at 20 finds 2: waits (3); c4 at 30 finds 3: blocked.
    scn = scenario([pool("a", 1)], lines=3)
    rep = replay(scn, calls([0, 1, 2, 20, 30], [1000, 10, 10, 10, 10], patience_s=[1e9, 10, 1e9, 1e9, 1e9]))
    assert [o for _, o, _, _ in log(rep, *COLS)] == ["answered", "abandoned", "answered", "answered", "blocked"]


def test_overtime_ends_when_the_first_of_two_overtime_calls_ends():
    # Two agents in hour 0, one from hour 1. c0 at 3500 (200 s) and c1 at 3500 (300 s) are both in
    # service at 3600: one agent on overtime until c0 ends at 3700, then c1's agent is the one
    # scheduled. Staffed time of hour 1: 3600 + 100 s of overtime = 3700 s.
    scn = scenario([pool("a", [2] + [1] * 23)])
    rep = replay(scn, calls([3500, 3500], [200, 300]))
    iv = rep.intervals.set_index("interval")
    assert iv.loc[0, "staffed_s"] == 7200.0 and iv.loc[1, "staffed_s"] == 3700.0
    assert iv.loc[2, "staffed_s"] == 3600.0
    # Busy in hour 1: c0 100 s and c1 200 s.
    assert iv.loc[1, "busy_s"] == 300.0


def test_a_repeat_due_exactly_at_the_horizon_is_not_generated():
    # c0 at 0 (100 s, unresolved: resolution 0) ends at 100; its repeat would arrive at
    # 100 + 86300 = 86400, the horizon of one day: arrivals stop at the horizon, so no repeat.
    scn = scenario([pool("a", 1, resolution_frac=0.0, repeat_after={"dist": "deterministic", "value_s": 86300.0})])
    assert len(replay(scn, calls([0], [100])).calls) == 1
    # One second earlier it arrives (at 86399) and repeats no more (its own repeat would be past it).
    scn = scenario([pool("a", 1, resolution_frac=0.0, repeat_after={"dist": "deterministic", "value_s": 86299.0})])
    assert replay(scn, calls([0], [100])).calls["arrival_s"].tolist() == [0.0, 86399.0]


def test_a_repeat_waits_with_its_own_patience():
    # Two calls at 0 take the two agents for 3000 s; c0 is unresolved (resolution 0.5, draw 0.9)
    # and repeats 2000 s after its end: at 5000. A third call at 4990 (5000 s) keeps one agent;
    # c1's agent (resolved) is free from 3000. Patience 1000 s (deterministic, repeats too).
    # The repeat at 5000 is answered at once by c1's free agent. Then make it wait: with a single
    # agent busy with c2 until 4990 + 5000 = 9990, the repeat waits from 5000 and abandons at 6000.
    scn = scenario([pool("a", 1, resolution_frac=0.5, repeat_after={"dist": "deterministic", "value_s": 2000.0})],
                   patience={"dist": "deterministic", "value_s": 1000.0})
    rep = replay(scn, calls([0, 4990], [3000, 5000], patience_s=[1000, 1000], u_resolve=[0.9, 0.1]))
    rows = log(rep, "call_id", "arrival_s", "is_repeat", "outcome", "pool", "wait_s")
    assert rows == [(0, 0.0, False, "answered", "a", 0.0), (1, 4990.0, False, "answered", "a", 0.0),
                    (2, 5000.0, True, "abandoned", "", 1000.0)]


def test_repeats_draw_from_their_own_streams():
    # A repeat's delay comes from stream (seed, rep, REPEATS, pool key, 0); its handle, patience,
    # split and resolution draws from (seed, rep, REPEATS, call type key, 1..4), in order.
    scn = scenario([pool("a", 1, repeat_after={"dist": "exponential", "mean_s": 500.0})],
                   handle={"dist": "exponential", "mean_s": 60.0}, patience={"dist": "exponential", "mean_s": 30.0})
    engine = Engine(scn, iter([]), 7, 3, 86400.0, 0.0)

    def first(dist, *keys):
        rng = streams.stream(7, 3, streams.REPEATS, *keys)
        return float((rng.random(REFILL) if dist is None else dist.sample(rng, REFILL))[0])

    a, c = streams.name_key("a"), streams.name_key("c")
    assert engine.repeat_delay[0].next() == first(scn.pools[0].repeat_after, a, 0)
    handle, patience, split, resolve = engine.repeat_draws[0]
    ct = scn.demand[0]
    assert handle.next() == (first(ct.handle, c, 1),) * 2  # (talk, handle): one draw when only handle is given
    assert patience.next() == first(ct.patience, c, 2)
    assert split.next() == first(None, c, 3)
    assert resolve.next() == first(None, c, 4)
    # Another seed or rep: other draws.
    assert Engine(scn, iter([]), 8, 3, 86400.0, 0.0).repeat_draws[0][0].next()[1] != first(ct.handle, c, 1)


def test_batched_draws_come_out_in_the_order_drawn():
    rng = np.random.default_rng(1)
    expected = np.random.default_rng(1).random(2 * REFILL).tolist()
    draws = Draws(None, rng)
    assert [draws.next() for _ in range(2 * REFILL)] == expected


def test_an_eight_day_horizon_staffs_its_eighth_day():
    # Day 7 (a Monday again) has the agents of day 0: a call at day 7, 10:00 is answered at once.
    scn = scenario([pool("a", 1)])
    rep = replay(scn, calls([7 * 86400 + 36000], [60]), days=8)
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0)]
    assert rep.intervals.set_index(["interval"]).loc[7 * 24 + 10, "scheduled_n"] == 1


def test_during_the_drain_the_pool_keeps_its_weekly_schedule():
    # Eight days (Monday to Monday), a pool open on Tuesdays only (day 1, and day 8 after the
    # horizon). A call on day 7 (Monday) at 23:00 waits until day 8 00:00, in the drain: wait 3600.
    scn = scenario([pool("a", 1, open_days=[1])])
    rep = replay(scn, calls([7 * 86400 + 82800], [60]), days=8, drain_h=48.0)
    assert log(rep, *COLS) == [(0, "answered", "a", 3600.0)]


def test_a_caller_still_waiting_at_the_horizon_is_served_in_the_drain():
    # Agents from 02:00 to 23:00 only. A call at 23:30 (infinite patience) waits past the horizon
    # of one day (nobody busy then); the intervals go on in the drain and the agent of 02:00 on
    # day 1 answers it at 86400 + 7200 = 93600: wait 93600 - 84600 = 9000 s.
    scn = scenario([pool("a", [0, 0] + [1] * 21 + [0])])
    rep = replay(scn, calls([84600], [60]), drain_h=3.0)
    assert log(rep, *COLS) == [(0, "answered", "a", 9000.0)]


def test_staff_rising_after_the_horizon_serves_the_queue():
    # One agent, two from 01:00 (hour 1 of day 1 too). c0 at 86000 (10,000 s) is in service past
    # the horizon (86400); c1 at 86100 waits; at 90000 the second agent starts and answers it
    # (wait 3900) although the first is still busy.
    scn = scenario([pool("a", [1, 2] + [1] * 22)])
    rep = replay(scn, calls([86000, 86100], [10_000, 60]), drain_h=5.0)
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "answered", "a", 3900.0)]


def test_closed_pools_are_skipped_from_their_first_opening_interval_on():
    # b is open 8:00-20:00 (hourly intervals): a call at 8:30 routed [b, a] goes to b at once,
    # one at 7:30 to a at once (no wait at the closed b).
    scn = scenario([pool("a", 1), pool("b", 1, open_h=[8, 20])], route=["b", "a"], overflow_after_s=60.0)
    rep = replay(scn, calls([7.5 * 3600, 8.5 * 3600], [10, 10]))
    assert log(rep, *COLS) == [(0, "answered", "a", 0.0), (1, "answered", "b", 0.0)]
    iv = rep.intervals.set_index(["interval", "pool"])
    assert iv.loc[(7, "b"), "scheduled_n"] == 0 and iv.loc[(8, "b"), "scheduled_n"] == 1
    assert rep.intervals["scheduled_n"].dtype == np.int64


def test_a_repeat_that_abandons_has_no_pool():
    # c0 at 0 (100 s) unresolved repeats at 100 + 50 = 150, when c1 (at 120, 1000 s) holds the
    # only agent; the repeat's patience (deterministic 20 s) ends at 170: abandoned, no pool.
    scn = scenario([pool("a", 1, resolution_frac=0.5, repeat_after={"dist": "deterministic", "value_s": 50.0})],
                   patience={"dist": "deterministic", "value_s": 20.0})
    rep = replay(scn, calls([0, 120], [100, 1000], patience_s=[1e9, 1e9], u_resolve=[0.9, 0.1]))
    assert log(rep, "call_id", "arrival_s", "is_repeat", "outcome", "pool", "wait_s") == [
        (0, 0.0, False, "answered", "a", 0.0), (1, 120.0, False, "answered", "a", 0.0),
        (2, 150.0, True, "abandoned", "", 20.0)]


def test_a_split_draw_at_the_top_of_the_rounded_fractions_goes_to_the_last_pool():
    # 0.7 + 0.2 + 0.1 adds up to 0.9999999999999999 in floating point; a draw of exactly that
    # (or above, below 1) goes to the last pool, c.
    scn = scenario([pool("a", 1), pool("b", 1), pool("c", 1)], split={"a": 0.7, "b": 0.2, "c": 0.1})
    rep = replay(scn, calls([0, 1], [10, 10], u_split=[0.9999999999999999, 0.85]))
    assert rep.calls["pool"].tolist() == ["c", "b"]


def test_a_caller_of_a_route_all_closed_waits_for_its_first_pool_only():
    # route [b, c], overflow after 60 s; at 02:00 both are closed: the caller waits for b alone
    # (no overflow to c), though c opens at 07:00; b opens at 08:00 and answers (wait 6 h).
    scn = scenario([pool("b", 1, open_h=[8, 20]), pool("c", 1, open_h=[7, 20])], route=["b", "c"],
                   overflow_after_s=60.0)
    rep = replay(scn, calls([2 * 3600], [10]))
    assert log(rep, *COLS) == [(0, "answered", "b", 6 * 3600.0)]
