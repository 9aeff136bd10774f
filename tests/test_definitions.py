"""Definitions and boundaries pinned by hand-computed cases (each expected value is worked out
in the comment beside it, from a few calls with chosen times).

Every case here was checked to fail when the behaviour it pins is changed: the rule is named in
the test's first line, and the comment says which plausible change it catches.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from builders import calls, log, pool, replay, scenario

from experiments.results.runner import assemble
from experiments.running import store as store_module
from experiments.running.store import DONE, ResultStore
from experiments.study.points import expand
from models.settings import RunSettings
from sim.replication import simulate_calls

# A vendor contract with an SLA at 20 s, the same threshold as the scenario's service level.
SLA_20 = {"per_minute": 1.0, "billing_increment_s": 60.0,
          "sla": {"target_frac": 0.5, "threshold_s": 20.0, "credit_frac": 0.01, "cap_frac": 0.1}}


# ------------------------------------------------------------------ service level: the threshold


def test_a_wait_equal_to_the_threshold_counts_as_within_it():
    # service_level_s = 20 (builders.scenario). One agent; handle 100 s.
    # c0 at 0 is served at once (0-100). c1 at 80 waits exactly 20 s (served 100-200).
    # c2 at 179.5 waits 20.5 s (served 200-300).
    # Within 20 s, with `<=`: c0 and c1 -> answered_in_sl_n = 2 (a `<` would give 1).
    scn = scenario([pool("a", 1)])
    rep = replay(scn, calls([0, 80, 179.5], [100, 100, 100]))
    assert log(rep, "call_id", "wait_s") == [(0, 0.0), (1, 20.0), (2, 20.5)]
    assert rep.intervals["answered_in_sl_n"].sum() == 2


def test_a_vendor_sla_wait_equal_to_its_threshold_counts_as_met():
    # The same three calls at a BPO pool whose SLA threshold is 20 s: sla_met_n = 2 of 3 offered.
    scn = scenario([pool("v", 1, kind="bpo", contract=SLA_20)])
    rep = replay(scn, calls([0, 80, 179.5], [100, 100, 100]))
    usage = rep.usage.iloc[0]
    assert (usage["sla_offered_n"], usage["sla_met_n"]) == (3, 2)


# ------------------------------------------------------------------ service level: the denominator


def test_service_level_divides_by_offered_calls_not_answered_ones():
    # One agent, handle 100 s, service_level_s = 20.
    # c0 at 0: answered at once (within). c1 at 10, patience 30: abandons at 40 (offered, not answered).
    # c2 at 90: waits 10 s (within). c3 at 95: waits 105 s (answered late).
    # offered 4, answered 3, within 2 -> sl_frac = 2/4 = 0.5 (2/3 if divided by answered).
    scn = scenario([pool("a", 1)])
    first = calls([0, 10, 90, 95], [100, 100, 100, 100], patience_s=[1e9, 30, 1e9, 1e9])
    rep = replay(scn, first)
    assert log(rep, "call_id", "outcome", "wait_s") == [
        (0, "answered", 0.0), (1, "abandoned", 30.0), (2, "answered", 10.0), (3, "answered", 105.0)]
    result = assemble(scn, RunSettings(reps=1, days=1.0), [[rep]])
    assert result.runs["sl_frac"].tolist() == [0.5]
    assert result.pool_runs["sl_frac"].tolist() == [0.5]
    assert result.runs["abandon_frac"].tolist() == [0.25]
    hour0 = rep.intervals.set_index("interval").loc[0]
    assert hour0["sl_frac"] == 0.5


# ------------------------------------------------------------------ patience ending as an agent frees


def test_a_patience_ending_as_the_agent_frees_up_is_an_abandonment():
    # Rule: a caller whose patience ends at the very moment an agent frees up has abandoned
    # (wait = patience, not answered). One agent busy 0-100; c1 arrives at 1 with patience 99,
    # so its patience ends at 100, exactly when the agent frees. c2 (patience infinite) is served.
    scn = scenario([pool("a", 1)])
    rep = replay(scn, calls([0, 1, 2], [100, 10, 10], patience_s=[1e9, 99, 1e9]))
    assert log(rep, "call_id", "outcome", "wait_s") == [
        (0, "answered", 0.0), (1, "abandoned", 99.0), (2, "answered", 98.0)]


def test_with_finite_lines_a_patience_ending_at_an_arrival_frees_its_line():
    # The same rule where finite lines count who is in the system. lines = 2, one agent busy 0-100.
    # c1 at 1 waits, patience 49: it ends at 50. c2 arrives at exactly 50: c1 has gone, so the
    # system holds one call (c0) and c2 waits (served at 100). Were c1 still counted, c2 would be blocked.
    scn = scenario([pool("a", 1)], lines=2)
    rep = replay(scn, calls([0, 1, 50], [100, 10, 10], patience_s=[1e9, 49, 1e9]))
    assert log(rep, "call_id", "outcome", "wait_s") == [
        (0, "answered", 0.0), (1, "abandoned", 49.0), (2, "answered", 50.0)]


def test_at_the_end_of_the_run_a_patience_ending_at_the_drain_limit_is_an_abandonment():
    # The same rule at the end of the run. No agent after hour 0; horizon 1 h, drain 1 h: the run
    # stops at 7200. c1 at 3500 waits with patience 3700: it ends at 7200, the very end -> abandoned.
    # c2 at 3501 (patience 3700, ends 7201) is still waiting at 7200 -> unfinished.
    agents = [1] + [0] * 23
    scn = scenario([pool("a", agents)])
    first = calls([3000, 3500, 3501], [1000, 10, 10], patience_s=[1e9, 3700, 3700])
    rep = replay(scn, first, days=1 / 24, drain_h=1.0)
    assert rep.end_s == 7200.0
    assert rep.calls["outcome"].tolist() == ["answered", "abandoned", "unfinished"]


# ------------------------------------------------------------------ overflow through three pools


def test_the_kth_pool_of_a_route_may_take_a_call_k_delays_after_its_arrival():
    # route [a, b, c], overflow_after_s = 30, one agent each. Long calls fill the pools:
    # c0 at 0 -> a (0-1000); c1 at 1 overflows to b at 31 (b free) -> b (31-1031);
    # c2 at 2: b at 32 busy, c at 62 free -> c takes it at 62 (62-262).
    # x (c3) at 10: joins b's queue at 40 and c's at 70, both busy; c frees at 262 and takes it.
    # x's wait is 252; at c it waited 262 - 70 = 192: pool c was reached 2 x 30 s after arrival
    # (one delay, 40, would give 222). c4 at 20 reaches b at 50 and c at 80; c serves x until
    # 262 + 100 = 362, then c4: wait 342, at c 362 - 80 = 282.
    scn = scenario([pool("a", 1), pool("b", 1), pool("c", 1)], route=["a", "b", "c"], overflow_after_s=30.0)
    rep = replay(scn, calls([0, 1, 2, 10, 20], [1000, 1000, 200, 100, 100]))
    assert log(rep, "call_id", "pool", "wait_s", "pool_wait_s", "last_pool") == [
        (0, "a", 0.0, 0.0, "a"),
        (1, "b", 30.0, 0.0, "b"),
        (2, "c", 60.0, 0.0, "c"),
        (3, "c", 252.0, 192.0, "c"),
        (4, "c", 342.0, 282.0, "c"),
    ]


def test_a_call_queued_at_three_pools_is_taken_by_the_first_that_frees():
    # route [a, b, c], overflow 30 s. c0 at 0 -> a (0-500). c1 at 1 -> b at 31 (31-101).
    # c2 at 2: joins b's queue at 32, reaches c at 62, c is free -> c (62-1062).
    # x at 10: in a's queue from 10, b's from 40, c's from 70. b frees at 101 and takes x
    # (a and c still busy): wait 91, at b 101 - 40 = 61.
    scn = scenario([pool("a", 1), pool("b", 1), pool("c", 1)], route=["a", "b", "c"], overflow_after_s=30.0)
    rep = replay(scn, calls([0, 1, 2, 10], [500, 70, 1000, 10]))
    assert log(rep, "call_id", "pool", "wait_s", "pool_wait_s") == [
        (0, "a", 0.0, 0.0), (1, "b", 30.0, 0.0), (2, "c", 60.0, 0.0), (3, "b", 91.0, 61.0)]


# ------------------------------------------------------------------ warm-up and billing


def test_calls_arriving_during_the_warm_up_are_not_billed():
    # Warm-up 1 h. BPO pool, 60 s increments at 1/min. c0 at 100 (90 s: 2 increments) and
    # c1 at 3500 (600 s, served 3500-4100, past the warm-up) arrive in the warm-up: not billed.
    # c2 at 4000 (61 s -> 2 increments) and c3 at 5000 (60 s -> 1 increment) are billed: 2 calls,
    # 3 increments, 3 minutes, 3.0 in usage.
    scn = scenario([pool("v", 2, kind="bpo", contract={"per_minute": 1.0, "billing_increment_s": 60.0})])
    first = calls([100, 3500, 4000, 5000], [90, 600, 61, 60])
    settings = RunSettings(reps=1, days=1.0, warmup_h=1.0)
    rep = simulate_calls(scn, settings, 0, first)
    usage = rep.usage.iloc[0]
    assert (usage["answered_n"], usage["billed_increments_n"]) == (2, 3)
    invoices = assemble(scn, settings, [[rep]]).invoices
    assert invoices["billed_min"].tolist() == [3.0]
    assert invoices["usage_cost"].tolist() == [3.0]


# ------------------------------------------------------------------ random streams of repeats


def _repeat_arrivals(rep_number: int) -> list[float]:
    # Every call is unresolved (resolution 0), repeats come back after an exponential delay
    # (mean 1000 s) drawn from the repeat stream of replication ``rep_number``.
    scn = scenario([pool("a", 50, resolution_frac=0.0, repeat_after={"dist": "exponential", "mean_s": 1000.0})])
    first = calls([0, 1, 2, 3, 4], [10] * 5)
    result = simulate_calls(scn, RunSettings(days=1 / 24), rep_number, first)
    return result.calls.loc[result.calls["is_repeat"], "arrival_s"].tolist()


def test_repeat_calls_draw_from_streams_that_differ_between_replications():
    # The same first contacts in replications 0 and 1: the repeats' delays come from each
    # replication's own stream, so their arrival times differ (continuous draws: equal only with
    # probability 0), while one replication run twice repeats itself exactly.
    rep0, rep1 = _repeat_arrivals(0), _repeat_arrivals(1)
    assert len(rep0) >= 5 and len(rep1) >= 5  # five unresolved calls each came back at least once
    assert rep0 == _repeat_arrivals(0)
    assert not set(rep0) & set(rep1)


# ------------------------------------------------------------------ write order of a saved task


def test_a_tasks_done_file_is_written_after_its_tables(tmp_path, monkeypatch):
    # done.json marks a task finished; it must only ever exist next to complete tables, so it is
    # written last. The writer is wrapped to record, at each write, which files the folder holds.
    scn = scenario([pool("a", 1)])
    settings = RunSettings(reps=1, days=1 / 24)
    point = expand(scn)[0]
    store = ResultStore.open(tmp_path / "out", [point], settings)
    written: list[tuple[str, list[str]]] = []
    real_write = store_module.write_bytes

    def spy(data: bytes, path: Path) -> None:
        path = Path(path)
        present = sorted(os.listdir(path.parent)) if path.parent.is_dir() else []
        written.append((path.name, present))
        real_write(data, path)

    monkeypatch.setattr(store_module, "write_bytes", spy)
    store.save(point, replay(scn, calls([0], [10]), days=1 / 24))
    names = [name for name, _ in written]
    tables = ["calls.parquet", "intervals.parquet", "usage.parquet", "contacts.parquet"]
    assert names == [*tables, DONE]
    assert written[-1][1] == sorted(tables)
    done = json.loads((store.task_dir(point, 0) / DONE).read_text(encoding="utf-8"))
    assert sorted(done["files"]) == sorted(tables)
    assert store.load(point, 0) is not None


# ------------------------------------------------------------------ shrinkage rounding


def test_shrinkage_rounds_an_exact_half_up_not_to_even():
    # 5 scheduled agents with 50% shrinkage: 2.5 available, exactly representable. Half up gives 3;
    # round-half-to-even would give 2 and truncation 2. 7 agents: 3.5 -> 4 (both rules agree there,
    # so the first case is the one that pins the rule).
    for agents, expected in ((5, 3), (7, 4), (3, 2), (4, 2)):
        scn = scenario([pool("a", agents, shrinkage_frac=0.5)])
        rep = replay(scn, calls([0], [10]))
        assert rep.intervals["available_n"].iloc[0] == expected, agents


def test_shrinkage_rounding_does_not_turn_float_noise_into_an_agent():
    # 25 agents x (1 - 0.78) is 5.499999999999999 in floating point (0.22 is not exact): the rule
    # treats it as the exact half it stands for (6), not as just below it (5).
    assert 25 * (1 - 0.78) < 5.5
    scn = scenario([pool("a", 25, shrinkage_frac=0.78)])
    rep = replay(scn, calls([0], [10]))
    assert rep.intervals["available_n"].iloc[0] == 6


def test_tables_of_the_hand_made_cases_are_consistent():
    # Conservation in the finite-lines case of test_engine.py: offered = answered + abandoned + blocked + unfinished.
    scn = scenario([pool("a", 1)], lines=2)
    rep = replay(scn, calls([0, 1, 2, 40], [100, 10, 10, 10], patience_s=[1e9, 30, 1e9, 1e9]))
    iv = rep.intervals[["offered_n", "answered_n", "abandoned_n", "blocked_n", "unfinished_n"]].sum()
    assert iv["offered_n"] == 4
    assert iv["offered_n"] == iv["answered_n"] + iv["abandoned_n"] + iv["blocked_n"] + iv["unfinished_n"]
    assert (iv["answered_n"], iv["abandoned_n"], iv["blocked_n"]) == (2, 1, 1)  # c0, c3 | c1 | c2
