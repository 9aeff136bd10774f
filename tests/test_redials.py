"""Retrials (redials): exact event logs, contact bookkeeping, and M/M/c+M with a retrial orbit.

(a) Hand-made calls through small scenarios give exact logs: a caller abandoning and redialing
after a deterministic delay, the cap ``max_attempts``, a blocked caller redialing, contact ids and
attempt numbers, a repeat of an unresolved redial being a new contact.

(b) With one pool, Poisson first contacts at rate lambda, exponential handle times (mean 1/mu),
exponential patience (mean 1/theta, drawn anew at every attempt), redial probability p and
exponential redial delays (mean 1/gamma), and no limit on attempts, the system is a continuous-time
Markov chain on (n, m): n calls in the system, m callers in the retrial orbit. From (n, m):

    arrival             -> (n + 1, m)       at rate lambda
    service completion  -> (n - 1, m)       at rate min(n, c) mu
    abandonment, redial -> (n - 1, m + 1)   at rate (n - c)+ theta p
    abandonment, lost   -> (n - 1, m)       at rate (n - c)+ theta (1 - p)
    retrial             -> (n + 1, m - 1)   at rate m gamma

(a contact's handle time is drawn once, but an abandoned attempt never reveals it, so the answered
attempt's service is still exponential and independent of the past). The chain is truncated at
n <= N, m <= M far out (the stationary mass of the states on the cut is checked to be < 1e-9) and
pi Q = 0 is solved as a sparse linear system. Per contact (rates divided by lambda):

    lost fraction   = sum pi(n, m) (n - c)+ theta (1 - p) / lambda
    attempts        = 1 + sum pi(n, m) m gamma / lambda
    throughput      = sum pi(n, m) min(n, c) mu       (answered per second; per hour in the test)

The simulation estimates each from the attempts arriving in a measured window [warm-up,
horizon - tail): lost = attempts abandoned and not redialed / first attempts, attempts = all
attempts / first attempts, throughput = answered attempts / window length. The tail (many mean
patiences and redial delays) keeps the horizon's cut-off of redials out of the window; the warm-up
lasts many orbit time constants (1 / gamma) and relaxation times of the queue.

Tolerance, as in tests/test_theory.py: each case is simulated ``reps`` times (fixed seed,
replications 0..reps-1, independent), and |mean - theory| <= crit * se with se = sd / sqrt(reps)
and crit the two-sided Student-t quantile at FAMILY_ALPHA / N_COMPARISONS (Bonferroni over every
comparison of this file, so a correct simulator fails any of them with probability <= 1e-3;
crit is about 4.6 for 30 replications and 21 comparisons). A precision bound keeps a noisy estimate
from passing trivially: crit * se must be at most 20 % of the theoretical value (of lost fraction,
of the attempts beyond the first, 5 % of throughput), or one percentage point for a small fraction.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from builders import calls, log, pool, replay, scenario
from scipy import sparse, stats
from scipy.sparse.linalg import spsolve

from models.demand import MAX_ATTEMPTS
from models.loading import load_scenario, scenario_from_dict
from models.settings import RunSettings
from sim.replication import simulate

DETERMINISTIC_30 = {"dist": "deterministic", "value_s": 30.0}


def redial(frac: float = 1.0, after_s: float = 60.0, max_attempts: int = 3) -> dict:
    return {"frac": frac, "after": {"dist": "deterministic", "value_s": after_s}, "max_attempts": max_attempts}


COLS = ("call_id", "arrival_s", "outcome", "wait_s", "handle_s", "contact_id", "attempt", "redialed")


# --------------------------------------------------------------------------- (a) exact logs


def test_abandoned_caller_redials_after_the_delay_and_is_answered():
    # One agent. c0 at 0 (100 s) is served at once. c1 at 10 (handle 50, patience 30) abandons at
    # 40 and, with frac 1, calls again 70 s later: at 110 the agent is free, the redial (call 2,
    # contact 1, attempt 2) is answered at once with c1's handle time.
    scn = scenario([pool("a", 1)], patience=DETERMINISTIC_30, redial=redial(after_s=70.0))
    rep = replay(scn, calls([0, 10], [100, 50], patience_s=[1e9, 30]))
    assert log(rep, *COLS) == [
        (0, 0.0, "answered", 0.0, 100.0, 0, 1, False),
        (1, 10.0, "abandoned", 30.0, None, 1, 1, True),
        (2, 110.0, "answered", 0.0, 50.0, 1, 2, False),
    ]


def test_redials_stop_at_max_attempts():
    # The agent is busy until 1000. c1 abandons at 40, redials at 100 (patience now the call
    # type's 30 s), abandons at 130, redials at 190, abandons at 220: its third attempt, the last.
    scn = scenario([pool("a", 1)], patience=DETERMINISTIC_30, redial=redial(after_s=60.0, max_attempts=3))
    rep = replay(scn, calls([0, 10], [1000, 50], patience_s=[1e9, 30]))
    assert log(rep, *COLS) == [
        (0, 0.0, "answered", 0.0, 1000.0, 0, 1, False),
        (1, 10.0, "abandoned", 30.0, None, 1, 1, True),
        (2, 100.0, "abandoned", 30.0, None, 1, 2, True),
        (3, 190.0, "abandoned", 30.0, None, 1, 3, False),
    ]


def test_blocked_caller_redials():
    # lines = 1, one agent busy 0-100: c1 at 10 is blocked, redials at 70 (blocked again), then
    # at 130, when the agent is free: answered. Blocked attempts wait 0.
    scn = scenario([pool("a", 1)], lines=1, redial=redial(after_s=60.0, max_attempts=5))
    rep = replay(scn, calls([0, 10], [100, 50]))
    assert log(rep, *COLS) == [
        (0, 0.0, "answered", 0.0, 100.0, 0, 1, False),
        (1, 10.0, "blocked", 0.0, None, 1, 1, True),
        (2, 70.0, "blocked", 0.0, None, 1, 2, True),
        (3, 130.0, "answered", 0.0, 50.0, 1, 3, False),
    ]


def test_no_redial_when_frac_is_zero_or_max_attempts_is_one():
    for table in (redial(frac=0.0), redial(max_attempts=1)):
        scn = scenario([pool("a", 1)], patience=DETERMINISTIC_30, redial=table)
        rep = replay(scn, calls([0, 10], [100, 50], patience_s=[1e9, 30]))
        assert log(rep, "call_id", "outcome", "contact_id", "attempt", "redialed") == [
            (0, "answered", 0, 1, False), (1, "abandoned", 1, 1, False)]


def test_a_repeat_of_an_unresolved_redial_is_a_new_contact():
    # c1 abandons at 40, redials at 110 and is answered (50 s, ends at 160); it keeps its contact's
    # resolution draw (0.9, unresolved at resolution 0.5), so it comes back as a repeat 500 s
    # later, at 660: a new contact (its own id) at attempt 1, flagged as a repeat.
    scn = scenario([pool("a", 1, resolution_frac=0.5, repeat_after={"dist": "deterministic", "value_s": 500.0})],
                   patience=DETERMINISTIC_30, redial=redial(after_s=70.0))
    rep = replay(scn, calls([0, 10], [100, 50], patience_s=[1e9, 30], u_resolve=[0.1, 0.9]))
    rows = log(rep, "call_id", "arrival_s", "outcome", "contact_id", "attempt", "redialed", "is_repeat")
    assert rows[:4] == [
        (0, 0.0, "answered", 0, 1, False, False),
        (1, 10.0, "abandoned", 1, 1, True, False),
        (2, 110.0, "answered", 1, 2, False, False),
        (3, 660.0, "answered", 3, 1, False, True),
    ]


def test_redial_after_the_horizon_is_not_generated():
    # Horizon 1 day: the caller abandons 30 s before it; the redial would come 60 s later.
    scn = scenario([pool("a", 1)], patience=DETERMINISTIC_30, redial=redial(after_s=60.0))
    rep = replay(scn, calls([0, 86340], [86400, 50], patience_s=[1e9, 30]))
    assert log(rep, "call_id", "outcome", "redialed") == [(0, "answered", False), (1, "abandoned", False)]


def test_redials_leave_scenarios_without_them_unchanged():
    # The redial streams are separate: a call type without redial draws exactly as before, and
    # a redial table with frac 0 changes nothing but the scenario.
    base = scenario([pool("a", 3)], calls_per_h=200.0, patience={"dist": "exponential", "mean_s": 60.0},
                    handle={"dist": "exponential", "mean_s": 60.0})
    never = scenario([pool("a", 3)], calls_per_h=200.0, patience={"dist": "exponential", "mean_s": 60.0},
                     handle={"dist": "exponential", "mean_s": 60.0}, redial=redial(frac=0.0))
    settings = RunSettings(days=1)
    a, b = simulate(base, settings, 0), simulate(never, settings, 0)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.intervals, b.intervals)


# --------------------------------------------------------------------------- contacts in a full run

REDIALS_TOML = "tests/data/redials.toml"


@functools.cache
def redials_run(keep_calls: bool = True):
    scn = load_scenario(REDIALS_TOML)
    return simulate(scn, RunSettings(days=3, warmup_h=0, seed=11, keep_calls=keep_calls), 0)


def test_contacts_and_attempts_are_consistent():
    calls_ = redials_run().calls
    scn = load_scenario(REDIALS_TOML)
    assert calls_["contact_id"].dtype == np.int64 and calls_["attempt"].dtype == np.int16
    assert calls_["redialed"].dtype == bool
    first = calls_["attempt"] == 1
    # The contact of a first attempt is itself; every contact has exactly one first attempt.
    assert (calls_.loc[first, "contact_id"] == calls_.loc[first, "call_id"]).all()
    assert calls_.groupby("contact_id")["attempt"].min().eq(1).all()
    # Attempts of a contact: 1, 2, ..., k in order of arrival, each after a redialed failed one.
    ordered = calls_.sort_values(["contact_id", "attempt"], kind="stable").reset_index(drop=True)
    same = ordered["contact_id"].eq(ordered["contact_id"].shift(-1)).to_numpy()  # a next attempt follows
    nxt = ordered.shift(-1)
    assert (ordered["attempt"].to_numpy()[1:][same[:-1]] == ordered["attempt"].to_numpy()[:-1][same[:-1]] + 1).all()
    assert (nxt["arrival_s"][same] > ordered["arrival_s"][same]).all()
    for column in ("call_type", "is_repeat"):
        assert (nxt[column][same].astype(str) == ordered[column][same].astype(str)).all()
    assert (ordered["redialed"].to_numpy() == same).all()
    assert ordered.loc[same, "outcome"].isin(["abandoned", "blocked"]).all()
    # max_attempts per call type is respected, and both blocking and abandonment led to redials.
    caps = {ct.name: ct.redial.max_attempts for ct in scn.demand}
    assert (calls_["attempt"] <= calls_["call_type"].map(caps).astype(int)).all()
    redialed = calls_[calls_["redialed"]]
    assert set(redialed["outcome"]) == {"abandoned", "blocked"}
    assert (calls_["attempt"] > 1).sum() == calls_["redialed"].sum()
    # Repeats (unresolved first contacts) are new contacts of their own.
    assert calls_.loc[calls_["is_repeat"] & first].shape[0] > 0


def test_redials_without_the_calls_table_give_the_same_tables():
    kept, dropped = redials_run(True), redials_run(False)
    assert dropped.calls is None
    pd.testing.assert_frame_equal(kept.intervals, dropped.intervals)
    pd.testing.assert_frame_equal(kept.usage, dropped.usage)


def test_same_seed_same_redials():
    scn = load_scenario(REDIALS_TOML)
    again = simulate(scn, RunSettings(days=3, warmup_h=0, seed=11), 0)
    pd.testing.assert_frame_equal(again.calls, redials_run().calls)


# --------------------------------------------------------------------------- (b) the retrial CTMC

SEED = 20261201
FAMILY_ALPHA = 1e-3
TRUNCATION_MASS = 1e-9


@dataclass(frozen=True)
class Case:
    """M/M/c+M with a retrial orbit: ``servers`` agents offered ``load`` erlangs per agent."""

    id: str
    servers: int
    load: float          # lambda / (c mu), first contacts only
    handle_s: float      # 1 / mu
    patience_s: float    # 1 / theta
    frac: float          # p, probability that an abandoning caller tries again
    redial_s: float      # 1 / gamma
    reps: int = 30
    hours: float = 24.0  # horizon of one replication: warm-up, measured window, tail
    warmup_h: float = 2.0
    tail_h: float = 2.0

    @property
    def rate_per_s(self) -> float:
        return self.load * self.servers / self.handle_s


CASES = [
    Case("retrial_c1_light", 1, 0.5, 120.0, 120.0, 0.5, 300.0, hours=76),
    Case("retrial_c1_overload", 1, 1.3, 120.0, 240.0, 0.6, 600.0, hours=36, warmup_h=3),
    Case("retrial_c2_moderate", 2, 0.8, 120.0, 180.0, 0.3, 300.0, hours=50),
    Case("retrial_c5_light", 5, 0.6, 180.0, 120.0, 0.8, 240.0, hours=88),
    Case("retrial_c5_heavy", 5, 0.95, 180.0, 180.0, 0.7, 300.0, hours=52),
    Case("retrial_c10_heavy", 10, 0.9, 180.0, 120.0, 0.9, 300.0, hours=80, warmup_h=3),
    Case("retrial_c10_overload", 10, 1.15, 180.0, 240.0, 0.5, 600.0, hours=30, warmup_h=3),
]
CASE_BY_ID = {case.id: case for case in CASES}
METRICS = ("lost_frac", "attempts", "answered_per_h")
N_COMPARISONS = len(CASES) * len(METRICS)


@dataclass(frozen=True)
class Theory:
    lost_frac: float
    attempts: float
    answered_per_h: float
    cut_mass: float   # stationary mass on the truncation boundary (n = N or m = M)


@functools.cache
def theory(case_id: str, n_max: int | None = None, m_max: int | None = None) -> Theory:
    """Stationary per-contact figures of the truncated retrial CTMC (see the module docstring)."""
    case = CASE_BY_ID[case_id]
    c, lam = case.servers, case.rate_per_s
    mu, theta, gamma, p = 1 / case.handle_s, 1 / case.patience_s, 1 / case.redial_s, case.frac
    n_max = n_max or c + 50
    m_max = m_max or 100
    n, m = np.meshgrid(np.arange(n_max + 1), np.arange(m_max + 1), indexing="ij")
    n, m = n.ravel(), m.ravel()
    index = n * (m_max + 1) + m
    rows, cols, rates = [], [], []

    def add(mask: np.ndarray, dn: int, dm: int, rate: np.ndarray) -> None:
        keep = mask & (rate > 0)
        rows.append(index[keep])
        cols.append((n[keep] + dn) * (m_max + 1) + m[keep] + dm)
        rates.append(rate[keep])

    queue = np.maximum(n - c, 0)
    add(n < n_max, 1, 0, np.full(n.size, lam))
    add(n > 0, -1, 0, np.minimum(n, c) * mu + queue * theta * (1 - p))
    add((n > 0) & (m < m_max), -1, 1, queue * theta * p)
    add((n < n_max) & (m > 0), 1, -1, m * gamma)
    size = n.size
    r, k, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(rates)
    q = sparse.csr_matrix((v, (r, k)), shape=(size, size))
    q = q - sparse.diags(np.asarray(q.sum(axis=1)).ravel())
    a = sparse.vstack([np.ones((1, size)), q.T.tocsr()[1:]])  # one balance equation -> sum(pi) = 1
    b = np.zeros(size)
    b[0] = 1.0
    pi = spsolve(a.tocsc(), b)
    lost = float(pi @ (queue * theta * (1 - p)))
    retrials = float(pi @ (m * gamma))
    answered = float(pi @ (np.minimum(n, c) * mu))
    cut = float(pi[(n == n_max) | (m == m_max)].sum())
    return Theory(lost / lam, 1 + retrials / lam, answered * 3600.0, cut)


def scenario_dict(case: Case) -> dict:
    return {
        "name": case.id, "interval_min": 60, "service_level_s": 20.0,
        "demand": [{
            "name": case.id,  # keys the random streams: cases are independent
            "calls_per_h": case.rate_per_s * 3600.0,
            "handle": {"dist": "exponential", "mean_s": case.handle_s},
            "patience": {"dist": "exponential", "mean_s": case.patience_s},
            "route": ["p"],
            "redial": {"frac": case.frac, "after": {"dist": "exponential", "mean_s": case.redial_s},
                       "max_attempts": MAX_ATTEMPTS},  # no limit in practice: attempts stay far below
        }],
        "pools": [{"name": "p", "kind": "inhouse", "agents": case.servers, "wage_per_h": 1.0}],
    }


@functools.cache
def simulated(case_id: str) -> pd.DataFrame:
    """Per replication: the three per-contact figures over the measured window."""
    case = CASE_BY_ID[case_id]
    scn = scenario_from_dict(scenario_dict(case), source=f"<{case.id}>")
    settings = RunSettings(reps=case.reps, seed=SEED, days=case.hours / 24, warmup_h=case.warmup_h)
    start, stop = case.warmup_h * 3600.0, (case.hours - case.tail_h) * 3600.0
    rows = []
    for rep in range(case.reps):
        c = simulate(scn, settings, rep).calls
        c = c[(c["arrival_s"] >= start) & (c["arrival_s"] < stop)]
        first = int((c["attempt"] == 1).sum())
        assert int(c["attempt"].max()) < MAX_ATTEMPTS  # the cap never binds
        lost = int(((c["outcome"] == "abandoned") & ~c["redialed"]).sum())
        rows.append({"lost_frac": lost / first, "attempts": len(c) / first,
                     "answered_per_h": int((c["outcome"] == "answered").sum()) / (stop - start) * 3600.0})
    return pd.DataFrame(rows)


def precision_bound(metric: str, value: float) -> float:
    if metric == "lost_frac":
        return max(0.2 * min(value, 1 - value), 0.01)
    if metric == "attempts":
        return max(0.2 * (value - 1), 0.01)
    return 0.05 * value


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_truncation_is_negligible(case_id: str):
    exact = theory(case_id)
    assert exact.cut_mass < TRUNCATION_MASS, f"{case_id}: mass {exact.cut_mass:.3g} on the truncation"
    # And moving the cut further out changes nothing that matters.
    case = CASE_BY_ID[case_id]
    wider = theory(case_id, case.servers + 80, 150)
    for metric in METRICS:
        assert getattr(wider, metric) == pytest.approx(getattr(exact, metric), rel=1e-9)


@pytest.mark.parametrize(("case_id", "metric"), [
    pytest.param(c.id, metric, id=f"{c.id}-{metric}") for c in CASES for metric in METRICS])
def test_retrials_match_the_markov_chain(case_id: str, metric: str):
    exact = getattr(theory(case_id), metric)
    values = simulated(case_id)[metric].to_numpy()
    reps = len(values)
    mean, se = float(values.mean()), float(values.std(ddof=1)) / math.sqrt(reps)
    crit = float(stats.t.isf(FAMILY_ALPHA / N_COMPARISONS / 2, reps - 1))
    detail = (f"{case_id} {metric}: sim {mean:.6g} +- {se:.3g} (se, {reps} reps), theory {exact:.6g}, "
              f"z = {(mean - exact) / se:.2f}")
    assert crit * se <= precision_bound(metric, exact), f"{detail}: too imprecise (crit {crit:.2f})"
    assert abs(mean - exact) <= crit * se, f"{detail}, beyond the critical {crit:.2f}"
