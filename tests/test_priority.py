"""Call priority (``priority`` of a call type): validation against queueing theory, exact logs, input.

A pool's waiting calls are served by priority class (higher first), first come first served
within a class, non-preemptive. What is checked, and why:

- **Against theory (no abandonment).** One pool of c agents, Poisson arrivals, exponential handle
  times of the same mean for every class: M/M/c with non-preemptive priorities, whose mean wait per
  class is Cobham's formula (``models.erlang.priority_asa_s``). Each class's mean wait is compared
  with it, and the mean wait of all calls with Erlang C's (the order of service does not change the
  work waiting when every class has the same handle times). Cases: one agent and ten agents at load
  0.8 with a 30/70 mix; three agents at 0.85 with three classes, one of them shared by two call
  types (each must see its class's wait). And unlike call types on one agent (M/G/1, where Cobham's
  formula holds for any handle times): short calls (60 s) sharing an agent with long ones (600 s)
  wait as Pollaczek-Khinchine says in one FCFS queue (far longer than alone: pooling unlike calls
  hurts the short ones), and as Cobham says when they go first.
- **Against theory (with abandonment).** Exponential patience too: no closed form for the low class,
  but an exact one for the high class. With every agent busy, each service completion (rate c mu
  whatever the agents serve, exponential handle times) takes the oldest high call, and no low call
  is served while a high one waits; so the number of high calls waiting is, while all agents are
  busy, the same birth-death chain as in Erlang A with the high class alone, and a high caller who
  finds every agent busy (``queued``) lives through exactly what such a caller lives through there.
  Hence P(abandon | queued) and the mean wait of queued answered high calls equal Erlang A's for
  the high class alone (the low class only changes how often all agents are busy). Besides: the
  low class abandons more than the high one, and every call ends answered, abandoned, blocked or
  unfinished.
- **Exact logs** with hand-made calls and deterministic times: a later high call passes an earlier
  low one, FCFS within a class, no preemption, a caller whose patience ran out is skipped, overflow,
  redials and repeats keep their call type's priority, a closing pool; runs without the calls table
  (settled calls dropped, ids shifted) give the same intervals; and tests/test_invariants.py's random
  scenarios, with priorities and redials, keep conservation and the same counts without the calls table.
- **No priorities, no change**: equal priorities everywhere are exactly today's FCFS run (and the
  regression digests, tests/regression.py, are unchanged); so is a ClassQueue holding every real
  call type in one class (forced by a rare call type of a higher priority on a pool of its own),
  with overflow, abandonment, redials and repeats.
- **Bad input**: a priority that is not a whole number, or outside -1000..1000, is one line naming
  the file and the field, exit 2.

Statistics as in tests/test_theory.py: ``reps`` independent replications per case, each after a
warm-up; per replication a ratio of sums over its measured calls; |mean - theory| <= crit * se with
crit Student's t at FAMILY_ALPHA / N_COMPARISONS two-sided (Bonferroni), so a correct engine fails
some comparison of this file with probability below FAMILY_ALPHA; the seed is fixed, so the file is
deterministic. Each comparison must also be precise: crit * se at most 15 % of the theoretical
value, enough to tell the disciplines apart (FCFS would be 24 % or more off for every class here).
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import INF, log, pool, replay
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from test_invariants import small_scenarios

from models import erlang
from models.demand import Redial
from models.distributions import Exponential
from models.fields import ScenarioError
from models.loading import load_scenario, scenario_from_dict
from models.scenario import Scenario
from models.settings import RunSettings
from sim.arrivals import FirstContacts
from sim.queues import class_ranks
from sim.replication import simulate

SEED = 20261202
FAMILY_ALPHA = 1e-3
PRECISION = 0.15  # largest crit * se, as a fraction of the theoretical value


@dataclass(frozen=True)
class Case:
    """One pool of ``servers`` agents at ``load`` erlangs per agent, shared by call types that
    differ only in volume (``mix``, fractions of the calls) and ``priorities``."""

    id: str
    servers: int
    load: float
    handle_s: float
    mix: tuple[float, ...]
    priorities: tuple[int, ...]
    hours: float
    warmup_h: float
    patience_s: float | None = None
    reps: int = 30
    handles_s: tuple[float, ...] = ()  # a mean handle time per call type instead of handle_s

    def handle_of(self, call_type: int) -> float:
        return self.handles_s[call_type] if self.handles_s else self.handle_s

    def rates_per_s(self) -> list[float]:
        """Arrival rate of each call type (calls/s); ``mix`` shares out the load."""
        return [self.load * self.servers / self.handle_of(i) * frac for i, frac in enumerate(self.mix)]

    def classes(self) -> list[tuple[int, ...]]:
        """Call types (indices) of each priority class, highest class first."""
        levels = sorted(set(self.priorities), reverse=True)
        return [tuple(i for i, p in enumerate(self.priorities) if p == level) for level in levels]

    def scenario(self) -> Scenario:
        demand = []
        for i, (rate, priority) in enumerate(zip(self.rates_per_s(), self.priorities, strict=True)):
            table = {"name": f"{self.id}_{i}",  # names key the random streams: call types independent
                     "calls_per_h": rate * 3600.0, "handle": {"dist": "exponential", "mean_s": self.handle_of(i)},
                     "route": ["p"], "priority": priority}
            if self.patience_s is not None:
                table["patience"] = {"dist": "exponential", "mean_s": self.patience_s}
            demand.append(table)
        data = {"name": self.id, "interval_min": 60, "service_level_s": 20.0, "demand": demand,
                "pools": [pool("p", self.servers)]}
        return scenario_from_dict(data, source=f"<{self.id}>")


# Sized (reps x hours) so that crit * se is at most about 0.65 of PRECISION (for the noisiest class,
# the lowest, whose waits include the longest busy periods); about 2.2 million calls in all, and
# 1.8 million for the two UNLIKE cases.
COBHAM = [
    Case("mm1_30_70", 1, 0.8, 60.0, (0.3, 0.7), (1, 0), hours=330, warmup_h=10),
    Case("mm10_30_70", 10, 0.8, 180.0, (0.3, 0.7), (1, 0), hours=200, warmup_h=4),
    Case("mm3_three_classes", 3, 0.85, 120.0, (0.2, 0.3, 0.2, 0.3), (5, 0, 0, -3), hours=280, warmup_h=6),
]
ABANDON = Case("erlang_a_5_30_70", 5, 1.0, 180.0, (0.3, 0.7), (1, 0), hours=60, warmup_h=2, patience_s=180.0)
# Unlike call types on one agent: short calls (60 s) at load 0.2, long ones (600 s) at 0.5.
UNLIKE = [Case(f"mg1_{name}", 1, 0.7, 0.0, (2 / 7, 5 / 7), priorities, hours=2050, warmup_h=50,
               handles_s=(60.0, 600.0)) for name, priorities in (("short_first", (1, 0)), ("shared", (0, 0)))]
CASES = {case.id: case for case in [*COBHAM, ABANDON, *UNLIKE]}
UNLIKE_PARAMS = [("mg1_short_first", 0), ("mg1_short_first", 1), ("mg1_shared", 0)]

# per call type of each Cobham case, plus its overall mean; three for ABANDON (two for its high
# class, one for the difference between its classes' abandonment); UNLIKE_PARAMS
N_COMPARISONS = sum(len(case.mix) + 1 for case in COBHAM) + 3 + len(UNLIKE_PARAMS)


def critical_t(reps: int) -> float:
    return float(stats.t.isf(FAMILY_ALPHA / N_COMPARISONS / 2, reps - 1))


@functools.cache
def run_case(case_id: str) -> pd.DataFrame:
    """Per (replication, call type): sums over the calls that arrived after the warm-up."""
    case = CASES[case_id]
    scenario = case.scenario()
    settings = RunSettings(reps=case.reps, seed=SEED, days=case.hours / 24, warmup_h=case.warmup_h)
    frames = []
    for rep in range(case.reps):
        calls = simulate(scenario, settings, rep).calls
        answered = calls["outcome"] == "answered"
        queued = (calls["outcome"] != "blocked") & (calls["wait_s"] > 0)
        frame = pd.DataFrame({
            "call_type": calls["call_type"].cat.codes, "offered_n": 1,
            "answered_n": answered.astype(int), "abandoned_n": (calls["outcome"] == "abandoned").astype(int),
            "ended_n": calls["outcome"].isin(["answered", "abandoned", "blocked", "unfinished"]).astype(int),
            "queued_n": queued.astype(int), "queued_answered_n": (queued & answered).astype(int),
            "queued_abandoned_n": (queued & (calls["outcome"] == "abandoned")).astype(int),
            "wait_answered_s": calls["wait_s"].where(answered, 0.0)})
        totals = frame.groupby("call_type").sum().reindex(range(len(case.mix)), fill_value=0)
        frames.append(totals.assign(rep=rep).reset_index())
    return pd.concat(frames, ignore_index=True)


def per_rep(case_id: str, call_types: tuple[int, ...], numerator: str, denominator: str) -> np.ndarray:
    """numerator / denominator per replication, summed over ``call_types``."""
    totals = run_case(case_id)
    sums = totals[totals["call_type"].isin(call_types)].groupby("rep")[[numerator, denominator]].sum()
    return (sums[numerator] / sums[denominator]).to_numpy()


def assert_agrees(label: str, values: np.ndarray, theory: float) -> None:
    reps = len(values)
    mean = float(np.mean(values))
    se = float(np.std(values, ddof=1)) / math.sqrt(reps)
    crit = critical_t(reps)
    detail = f"{label}: sim {mean:.6g} +- {se:.3g} (se, {reps} reps), theory {theory:.6g}, z = {(mean - theory) / se:.2f}"
    assert crit * se <= PRECISION * theory, f"{detail}: too imprecise to test (crit {crit:.2f} x se)"
    assert abs(mean - theory) <= crit * se, f"{detail}, beyond the critical {crit:.2f}"


# --------------------------------------------------------------------------- against theory


def test_cobhams_formula_by_hand():
    # One agent, mean handle 60 s, loads 0.24 and 0.56 (rho 0.8): C(1, 0.8) = 0.8, so
    # W_1 = 0.8 * 60 / (1 - 0.24) = 63.157... s and W_2 = 0.8 * 60 / ((1 - 0.24)(1 - 0.8)) = 315.78... s;
    # their rate-weighted mean is M/M/1's 0.8 * 60 / 0.2 = 240 s. One class is Erlang C itself.
    w1, w2 = erlang.priority_asa_s([0.24 / 60, 0.56 / 60], 60.0, 1)
    assert (w1, w2) == (pytest.approx(48 / 0.76, rel=1e-12), pytest.approx(48 / 0.76 / 0.2, rel=1e-12))
    assert 0.3 * w1 + 0.7 * w2 == pytest.approx(240.0, rel=1e-12)
    (only,) = erlang.priority_asa_s([8 / 180], 180.0, 10)
    assert only == pytest.approx(erlang.queue_metrics(8 / 180, 180.0, 10, 20.0).asa_s, rel=1e-12)
    with pytest.raises(ValueError, match="unstable"):
        erlang.priority_asa_s([0.5 / 60, 0.5 / 60], 60.0, 1)


COBHAM_PARAMS = [(case.id, k) for case in COBHAM for k in range(len(case.mix))]


@pytest.mark.parametrize(("case_id", "call_type"), COBHAM_PARAMS)
def test_each_class_waits_as_cobham_says(case_id: str, call_type: int):
    case = CASES[case_id]
    classes = case.classes()
    rates = [sum(case.rates_per_s()[i] for i in members) for members in classes]
    theory = erlang.priority_asa_s(rates, case.handle_s, case.servers)
    k = next(k for k, members in enumerate(classes) if call_type in members)
    values = per_rep(case_id, (call_type,), "wait_answered_s", "answered_n")
    assert_agrees(f"{case_id} call type {call_type} (class {k + 1} of {len(classes)}) mean wait", values, theory[k])


@pytest.mark.parametrize("case_id", [case.id for case in COBHAM])
def test_the_mean_wait_of_all_calls_is_erlang_cs(case_id: str):
    """Work conservation: with equal handle times, priorities only share out the same total wait."""
    case = CASES[case_id]
    theory = erlang.queue_metrics(sum(case.rates_per_s()), case.handle_s, case.servers, 20.0).asa_s
    values = per_rep(case_id, tuple(range(len(case.mix))), "wait_answered_s", "answered_n")
    assert_agrees(f"{case_id} mean wait of all calls", values, theory)


def mg1_priority_waits_s(case: Case) -> list[float]:
    """Mean wait (s) of each call type of ``case`` on one agent (M/G/1), exponential handle times:
    Cobham's W_k = W0 / ((1 - sigma_{k-1})(1 - sigma_k)) with W0 = sum of rate x E[S^2] / 2 (the
    mean residual work in service; E[S^2] = 2 m^2), classes highest first; FCFS (one class) is
    Pollaczek-Khinchine's W0 / (1 - rho)."""
    assert case.servers == 1
    rates = case.rates_per_s()
    w0 = sum(rate * case.handle_of(i) ** 2 for i, rate in enumerate(rates))
    waits = {}
    sigma = 0.0
    for members in case.classes():
        before = sigma
        sigma += sum(rates[i] * case.handle_of(i) for i in members)
        waits.update({i: w0 / ((1.0 - before) * (1.0 - sigma)) for i in members})
    return [waits[i] for i in range(len(rates))]


@pytest.mark.parametrize(("case_id", "call_type"), UNLIKE_PARAMS)
def test_unlike_call_types_on_one_agent_wait_as_mg1_theory_says(case_id: str, call_type: int):
    """Short calls (60 s, load 0.2) share an agent with long ones (600 s, load 0.5). Alone, the
    short calls would wait 0.2 x 60 / 0.8 = 15 s; sharing one FCFS queue they wait the long calls'
    residual service too, 312 / 0.3 = 1040 s (pooling unlike call types hurts the short ones);
    served first, 312 / 0.8 = 390 s, and the long ones 1300 s. Non-preemptive: a short call still
    waits for a long call in service, hence 390 s and not 15."""
    case = CASES[case_id]
    values = per_rep(case_id, (call_type,), "wait_answered_s", "answered_n")
    assert_agrees(f"{case_id} call type {call_type} mean wait", values, mg1_priority_waits_s(case)[call_type])


def test_the_high_class_under_abandonment_waits_as_in_erlang_a_alone():
    """Given that it found every agent busy, a high call lives through Erlang A with the high class
    alone (see the module's docstring): its abandonment and its answered wait agree exactly."""
    case = ABANDON
    alone = erlang.queue_metrics(case.rates_per_s()[0], case.handle_s, case.servers, 20.0, case.patience_s)
    abandon_if_queued = alone.abandon_frac / alone.p_wait_frac
    wait_if_queued = alone.asa_s * (1.0 - alone.abandon_frac) / (alone.p_wait_frac - alone.abandon_frac)
    assert_agrees("high class P(abandon | queued)", per_rep(case.id, (0,), "queued_abandoned_n", "queued_n"),
                  abandon_if_queued)
    assert_agrees("high class mean wait of queued answered calls",
                  per_rep(case.id, (0,), "wait_answered_s", "queued_answered_n"), wait_if_queued)


def test_under_abandonment_the_low_class_abandons_more_and_every_call_ends():
    case = ABANDON
    totals = run_case(case.id)
    assert (totals["ended_n"] == totals["offered_n"]).all()
    assert (totals["answered_n"] + totals["abandoned_n"] <= totals["offered_n"]).all()
    high = per_rep(case.id, (0,), "abandoned_n", "offered_n")
    low = per_rep(case.id, (1,), "abandoned_n", "offered_n")
    difference = low - high
    se = float(np.std(difference, ddof=1)) / math.sqrt(len(difference))
    # beyond noise (about 0.21 against 0.11 here)
    assert float(np.mean(difference)) > critical_t(len(difference)) * se
    # the high class waits more than it would alone (it shares the agents), as the ordering says
    alone = erlang.queue_metrics(case.rates_per_s()[0], case.handle_s, case.servers, 20.0, case.patience_s)
    assert float(np.mean(per_rep(case.id, (0,), "queued_n", "offered_n"))) > alone.p_wait_frac


# --------------------------------------------------------------------------- exact logs

COLS = ("call_id", "call_type", "outcome", "pool", "wait_s")


def two_types(pools: list[dict], high: dict | None = None, low: dict | None = None) -> Scenario:
    """Call types ``high`` (priority 1) and ``low`` (priority 0), deterministic 60 s handle, to the first pool."""
    base = {"calls_per_h": 60.0, "handle": {"dist": "deterministic", "value_s": 60.0}, "route": [pools[0]["name"]]}
    demand = [{**base, "name": "high", "priority": 1, **(high or {})}, {**base, "name": "low", **(low or {})}]
    return scenario_from_dict({"name": "test", "interval_min": 60, "service_level_s": 20.0, "demand": demand,
                               "pools": pools}, source="test.toml")


def mixed_calls(arrival_s, call_type, handle_s, patience_s=None, u_resolve=None) -> FirstContacts:
    """Hand-made first contacts of the given call types (0 = high, 1 = low)."""
    n = len(arrival_s)
    fill = lambda values, default: np.asarray(values if values is not None else [default] * n, dtype=float)
    handle = np.asarray(handle_s, dtype=float)
    return FirstContacts(np.asarray(arrival_s, dtype=float), np.asarray(call_type, dtype=np.int32), handle,
                         fill(patience_s, INF), fill(None, 0.5), fill(u_resolve, 0.0), handle)


def test_a_later_high_call_passes_earlier_low_ones_fcfs_within_a_class_no_preemption():
    # One agent. c0 low at 0 (100 s) is served at once; the high c3 arriving at 30 waits for it
    # (no preemption). Waiting at 100: low c1 (10), low c2 (20), high c3 (30), high c4 (40).
    # Served: c3 at 100, c4 at 110, then the lows in their order: c1 at 120, c2 at 130.
    scn = two_types([pool("a", 1)])
    rep = replay(scn, mixed_calls([0, 10, 20, 30, 40], [1, 1, 1, 0, 0], [100, 10, 10, 10, 10]))
    assert log(rep, *COLS) == [
        (0, "low", "answered", "a", 0.0),
        (1, "low", "answered", "a", 110.0),
        (2, "low", "answered", "a", 110.0),
        (3, "high", "answered", "a", 70.0),
        (4, "high", "answered", "a", 70.0),
    ]


def test_a_high_caller_whose_patience_ran_out_is_skipped():
    # One agent busy until 100 with c0. High c1 at 10 has patience 50: abandons at 60 (wait 50).
    # Low c2 at 20 is next at 100 (wait 80); high c3 at 95 (patience 4) gave up at 99: skipped.
    scn = two_types([pool("a", 1)])
    rep = replay(scn, mixed_calls([0, 10, 20, 95], [1, 0, 1, 0], [100, 10, 10, 10], patience_s=[INF, 50, INF, 4]))
    assert log(rep, *COLS) == [
        (0, "low", "answered", "a", 0.0),
        (1, "high", "abandoned", "", 50.0),
        (2, "low", "answered", "a", 80.0),
        (3, "high", "abandoned", "", 4.0),
    ]


def test_an_overflowing_low_call_queues_behind_the_second_pools_own_high_calls():
    # Pools a and b, one agent each. low: route [a, b], overflow after 30 s; high: route [b].
    # c0 high at 0 (100 s) -> b; c1 low at 1 (200 s) -> a. c2 low at 2 waits for a, may go to b
    # from 32. c3 high at 50 waits for b. b frees at 100: takes c3 (high) first (wait 50),
    # then at 110 c2 (wait 108, 78 of them at b).
    scn = two_types([pool("a", 1), pool("b", 1)], high={"route": ["b"]},
                    low={"route": ["a", "b"], "overflow_after_s": 30.0})
    rep = replay(scn, mixed_calls([0, 1, 2, 50], [0, 1, 1, 0], [100, 200, 10, 10]))
    assert log(rep, *COLS, "pool_wait_s") == [
        (0, "high", "answered", "b", 0.0, 0.0),
        (1, "low", "answered", "a", 0.0, 0.0),
        (2, "low", "answered", "b", 108.0, 78.0),
        (3, "high", "answered", "b", 50.0, 50.0),
    ]


def test_a_redial_keeps_its_call_types_priority():
    # One agent busy with c0 (low, 0..200). High c1 at 10 (patience 20) abandons at 30 and redials
    # 50 s later, at 80, with the call type's deterministic patience 1000. Low c2 waits from 20.
    # At 200 the redial (high) goes first (wait 120), then c2 at 260 (wait 240).
    redial = {"frac": 1.0, "after": {"dist": "deterministic", "value_s": 50.0}, "max_attempts": 2}
    scn = two_types([pool("a", 1)], high={"redial": redial, "patience": {"dist": "deterministic", "value_s": 1000.0}})
    rep = replay(scn, mixed_calls([0, 10, 20], [1, 0, 1], [200, 60, 60], patience_s=[INF, 20, INF]))
    assert log(rep, *COLS, "attempt", "arrival_s") == [
        (0, "low", "answered", "a", 0.0, 1, 0.0),
        (1, "high", "abandoned", "", 20.0, 1, 10.0),
        (2, "low", "answered", "a", 240.0, 1, 20.0),
        (3, "high", "answered", "a", 120.0, 2, 80.0),
    ]


def test_a_repeat_contact_keeps_its_call_types_priority():
    # One agent; resolution 0.5. High c0 at 0 (60 s) is unresolved (draw 0.9): its repeat arrives
    # 100 s after it ends, at 160, with the call type's 5 s handle. Low c1 at 1 (1000 s) is served
    # from 60 to 1060; low c2 waits from 150. At 1060 the repeat (high, arrived later) goes first
    # (wait 900), then c2 at 1065 (wait 915). (The repeat may come back once more, at 1165.)
    scn = two_types([pool("a", 1, resolution_frac=0.5, repeat_after={"dist": "deterministic", "value_s": 100.0})],
                    high={"handle": {"dist": "deterministic", "value_s": 5.0}})
    first = mixed_calls([0, 1, 150], [0, 1, 1], [60, 1000, 30], u_resolve=[0.9, 0.0, 0.0])
    rep = replay(scn, first, days=1 / 24 * 2)
    assert log(rep, *COLS, "is_repeat", "arrival_s")[:4] == [
        (0, "high", "answered", "a", 0.0, False, 0.0),
        (1, "low", "answered", "a", 59.0, False, 1.0),
        (2, "low", "answered", "a", 915.0, False, 150.0),
        (3, "high", "answered", "a", 900.0, True, 160.0),
    ]


def test_calls_wait_out_a_closed_pool_by_priority():
    # Pool a opens at 1 h. Lows at 0 and 10, highs at 20 and 30, all waiting for a's one agent:
    # at 3600 the highs go first (c2 at 3600, c3 at 3660), then the lows in arrival order.
    scn = two_types([pool("a", 1, open_h=[1, 24])])
    rep = replay(scn, mixed_calls([0, 10, 20, 30], [1, 1, 0, 0], [60] * 4))
    assert log(rep, "call_id", "call_type", "wait_s") == [
        (0, "low", 3720.0), (1, "low", 3770.0), (2, "high", 3580.0), (3, "high", 3630.0)]


def test_without_the_calls_table_the_same_intervals():
    # Settled calls are dropped and the ids of the others shift, in every priority class.
    scn = two_types([pool("a", 1), pool("b", 1)], high={"route": ["a", "b"], "overflow_after_s": 60.0,
                                                        "calls_per_h": 30.0},
                    low={"route": ["a", "b"], "overflow_after_s": 60.0, "calls_per_h": 50.0,
                         "patience": {"dist": "exponential", "mean_s": 300.0}})
    settings = dict(days=2.0, seed=7)
    kept = simulate(scn, RunSettings(**settings), 0)
    lean = simulate(scn, RunSettings(**settings, keep_calls=False), 0)
    assert kept.intervals["offered_n"].sum() > 2000
    pd.testing.assert_frame_equal(lean.intervals, kept.intervals)


@st.composite
def prioritised_scenarios(draw):
    """tests/test_invariants.py's random scenarios (any routing, patience, lines, schedules, pools
    closing overnight) with a priority of -1, 0 or 1 per call type, and redials for some."""
    scn = draw(small_scenarios())
    redial = Redial(0.5, Exponential(120.0), 3)
    demand = tuple(replace(ct, priority=draw(st.integers(-1, 1)), redial=redial if draw(st.booleans()) else None)
                   for ct in scn.demand)
    return replace(scn, demand=demand)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(scn=prioritised_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_with_priorities_in_random_scenarios(scn, seed):
    """Every call ends in one outcome and the tables agree; busy never above staffed; and over
    three days (settled calls dropped and ids shifted at two day boundaries) a run without the
    calls table counts the same."""
    settings_ = dict(seed=seed, days=3.0, warmup_h=5.0, drain_h=12.0)
    kept = simulate(scn, RunSettings(**settings_), 0)
    calls, iv = kept.calls, kept.intervals
    counts = calls["outcome"].value_counts()
    assert counts.sum() == len(calls) == iv["offered_n"].sum()
    for outcome in ("answered", "abandoned", "blocked", "unfinished"):
        assert counts.get(outcome, 0) == iv[f"{outcome}_n"].sum()
    assert (calls["wait_s"] >= 0).all()
    assert (iv["busy_s"] <= iv["staffed_s"] * (1 + 1e-12)).all()
    lean = simulate(scn, RunSettings(**settings_, keep_calls=False), 0)
    pd.testing.assert_frame_equal(lean.intervals, kept.intervals, check_exact=False, rtol=1e-12, atol=0.0)


# --------------------------------------------------------------------------- no priorities, no change


def test_equal_priorities_are_fcfs_exactly():
    """Every call type at priority 3 is one class: the very same run as with no priorities."""
    scn = two_types([pool("a", 2)], high={"priority": 3}, low={"priority": 3, "calls_per_h": 90.0})
    plain = two_types([pool("a", 2)], high={"priority": 0}, low={"calls_per_h": 90.0})
    settings = RunSettings(days=1.0, seed=3)
    one, other = simulate(scn, settings, 0), simulate(plain, settings, 0)
    pd.testing.assert_frame_equal(one.calls, other.calls)
    pd.testing.assert_frame_equal(one.intervals, other.intervals)


def test_one_class_in_a_class_queue_is_fcfs_exactly():
    """The test above never builds a ClassQueue (equal priorities everywhere: the engine keeps its
    plain deques). Here a rare call type of priority 5 (1e-6 calls/h, on a pool of its own, so no
    call of it arrives) makes the priorities unequal, so every pool queues in a ClassQueue, while
    every real call type sits in one class: the run must be the plain FCFS run call for call, with
    overflow between two pools, abandonment, redials and repeats."""
    redial = {"frac": 0.5, "after": {"dist": "exponential", "mean_s": 300.0}, "max_attempts": 3}
    common = {"route": ["a", "b"], "overflow_after_s": 30.0, "redial": redial,
              "handle": {"dist": "exponential", "mean_s": 240.0},
              "patience": {"dist": "exponential", "mean_s": 120.0}}
    pools = [pool("a", 3, resolution_frac=0.7, repeat_after={"dist": "exponential", "mean_s": 3600.0}),
             pool("b", 2, resolution_frac=0.9)]
    plain = two_types(pools, high={**common, "priority": 0, "calls_per_h": 30.0},
                      low={**common, "calls_per_h": 50.0})
    rare = {"name": "rare", "calls_per_h": 1e-6, "handle": {"dist": "deterministic", "value_s": 60.0},
            "route": ["z"], "priority": 5}
    one_class = scenario_from_dict({"name": "test", "interval_min": 60, "service_level_s": 20.0,
                                    "demand": [{**ct, "priority": 3} for ct in _demand_tables(plain)] + [rare],
                                    "pools": [*pools, pool("z", 1)]}, source="test.toml")
    assert class_ranks([ct.priority for ct in one_class.demand]) == [1, 1, 0]  # the engine's ClassQueue path
    settings_ = RunSettings(days=2.0, seed=11)
    one, other = simulate(one_class, settings_, 0), simulate(plain, settings_, 0)
    texts = {"call_type": str, "pool": str, "last_pool": str}
    calls = one.calls.astype(texts)
    assert "rare" not in set(calls["call_type"])
    pd.testing.assert_frame_equal(calls, other.calls.astype(texts))
    iv = one.intervals[one.intervals["pool"] != "z"].reset_index(drop=True)
    pd.testing.assert_frame_equal(iv, other.intervals)
    # the run exercises what it claims: calls queue, overflow to b, abandon, redial and repeat
    c = other.calls
    assert (c["wait_s"] > 0).sum() > 100 and (c["pool"] == "b").any() and (c["outcome"] == "abandoned").any()
    assert (c["attempt"] > 1).any() and c["is_repeat"].any()


def _demand_tables(scn: Scenario) -> list[dict]:
    from models.dumping import scenario_to_dict

    return scenario_to_dict(scn)["demand"]


# --------------------------------------------------------------------------- bad input

BASE = (Path(__file__).resolve().parent / "data" / "catalogue_base.toml").read_text(encoding="utf-8")
ANCHOR = "overflow_after_s = 30\n"


@pytest.mark.parametrize(("value", "message"), [
    ("1.5", "must be a whole number, got a number 1.5"),
    ('"high"', "must be a whole number, got a string 'high'"),
    ("true", "must be a whole number, got a boolean True"),
    ("1001", "must be between -1000 and 1000, got 1001"),
    ("-5000", "must be between -1000 and 1000, got -5000"),
])
def test_a_bad_priority_is_one_line_naming_the_file_and_field_exit_2(tmp_path: Path, capsys, value: str, message: str):
    from experiments.cli import main

    assert BASE.count(ANCHOR) == 1
    path = tmp_path / "scenario.toml"
    path.write_text(BASE.replace(ANCHOR, f"{ANCHOR}priority = {value}\n"), encoding="utf-8")
    expected = f"{path}: demand[0].priority: {message}"
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == expected
    status = main(["run", str(path), "--reps", "1", "--days", "1", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err == f"bposim: error: {expected}\n" and captured.out == ""
    assert not (tmp_path / "out").exists()


def test_a_sweep_may_vary_a_call_types_priority():
    from experiments.study.points import expand

    scn = two_types([pool("a", 1)])
    points = expand(scn, grid={"demand.low.priority": [0, 2]})
    assert [p.scenario.demand[1].priority for p in points] == [0, 2]
    assert [p.scenario.demand[0].priority for p in points] == [1, 1]


def test_a_priority_in_range_loads_and_dumps_back():
    from models.dumping import scenario_to_dict

    scn = scenario_from_dict(tomllib.loads(BASE.replace(ANCHOR, f"{ANCHOR}priority = -1000\n")), source="s.toml")
    assert scn.demand[0].priority == -1000
    again = scenario_from_dict(scenario_to_dict(scn), source="again")
    assert again.demand[0].priority == -1000 and again.digest() == scn.digest()
    plain = scenario_from_dict(tomllib.loads(BASE), source="s.toml")
    assert "priority" not in scenario_to_dict(plain)["demand"][0]
