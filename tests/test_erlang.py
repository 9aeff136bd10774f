"""Tests of models.erlang: Erlang B, C, A and finite lines against hand formulas and brute force.

Each tolerance says why it is what it is. "eps" below is the float64 unit roundoff, 1.1e-16.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from models.erlang import QueueMetrics, agents_for_service_level, erlang_b, erlang_c, queue_metrics

FRACTIONS = ("p_wait_frac", "service_level_frac", "abandon_frac", "blocked_frac", "occupancy_frac")


# --- exact references --------------------------------------------------------------------------


def exact_erlang_b(c: int, load: Fraction) -> Fraction:
    """Textbook Erlang B, (A^c/c!) / sum_k A^k/k!, in exact rational arithmetic."""
    terms = [load**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def exact_erlang_c(c: int, load: Fraction) -> Fraction:
    """Textbook Erlang C, (A^c/c! * c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! * c/(c-A)), exactly."""
    top = load**c / math.factorial(c) * c / (c - load)
    return top / (sum(load**k / math.factorial(k) for k in range(c)) + top)


def test_erlang_b_published_value() -> None:
    # Published tables: B(10 lines, 5 erlangs) = 0.018384(6); half a unit in the last printed digit.
    # The recurrence does ~3 roundings per server, so 1e-12 relative to the exact rational value.
    assert erlang_b(10, 5.0) == pytest.approx(0.0183846, abs=5e-8)
    for c, load in [
        (10, Fraction(5)),
        (1, Fraction(1, 2)),
        (30, Fraction(45, 2)),
        (60, Fraction(75)),
    ]:
        assert erlang_b(c, float(load)) == pytest.approx(float(exact_erlang_b(c, load)), rel=1e-12)


def test_erlang_c_textbook_cases() -> None:
    # 100 calls/h, 180 s handle: A = 5 erlangs; also 540 calls/h x 300 s = 45 erlangs. Exact
    # rationals vs. the recurrence: a few roundings per server, so 1e-12 relative.
    for c, load in [(7, Fraction(5)), (6, Fraction(5)), (50, Fraction(45)), (2, Fraction(3, 2))]:
        assert erlang_c(c, float(load)) == pytest.approx(float(exact_erlang_c(c, load)), rel=1e-12)
    assert erlang_c(5, 5.0) == 1.0 and erlang_c(5, 7.0) == 1.0 and erlang_c(3, 0.0) == 0.0
    assert erlang_b(0, 2.0) == 1.0


def test_erlang_c_metrics_textbook() -> None:
    # 100 calls/h, 180 s, 7 agents, T = 20 s: closed forms evaluated from the exact C.
    lam, mean_s, c, t = 100 / 3600, 180.0, 7, 20.0
    big_c = float(exact_erlang_c(c, Fraction(5)))
    drain = c / mean_s - lam
    m = queue_metrics(lam, mean_s, c, t)
    assert m.p_wait_frac == pytest.approx(big_c, rel=1e-12)
    assert m.asa_s == pytest.approx(big_c / drain, rel=1e-12)
    assert m.service_level_frac == pytest.approx(1 - big_c * math.exp(-drain * t), rel=1e-12)
    assert m.occupancy_frac == pytest.approx(5 / 7, rel=1e-15)
    assert (m.abandon_frac, m.blocked_frac, m.servers, m.threshold_s) == (0.0, 0.0, 7, 20.0)


@pytest.mark.parametrize("lines", [None, 10**6])
def test_mm1_closed_forms(lines: int | None) -> None:
    # M/M/1: P(wait) = rho, ASA = rho/(mu - lam), SL = 1 - rho exp(-(mu - lam) T). With 10^6 lines
    # the chain is used; rho^(10^6) is 0, and the chain's cumulative sums over ~400 states give
    # ~1e-13, so 1e-10 relative.
    lam, mu, t = 0.9, 1.0, 3.0
    m = queue_metrics(lam, 1 / mu, 1, t, lines=lines)
    assert m.p_wait_frac == pytest.approx(0.9, rel=1e-10)
    assert m.asa_s == pytest.approx(0.9 / (mu - lam), rel=1e-10)
    assert m.service_level_frac == pytest.approx(1 - 0.9 * math.exp(-(mu - lam) * t), rel=1e-10)
    assert m.occupancy_frac == pytest.approx(0.9, rel=1e-10)


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("k", [1, 4, 25])
def test_mm1k_blocking_closed_form(rho: float, k: int) -> None:
    # P(N = K) = (1 - rho) rho^K / (1 - rho^(K+1)), or 1/(K+1) at rho = 1; a chain of <= 26
    # states normalised in float64: 1e-12 relative.
    expected = 1 / (k + 1) if rho == 1.0 else (1 - rho) * rho**k / (1 - rho ** (k + 1))
    m = queue_metrics(rho / 60, 60.0, 1, 10.0, lines=k)
    assert m.blocked_frac == pytest.approx(expected, rel=1e-12)
    # Little's law: carried load = busy servers.
    assert (1 - m.blocked_frac) * rho == pytest.approx(m.occupancy_frac, rel=1e-12)


@pytest.mark.parametrize("c,load", [(1, 0.3), (10, 5.0), (40, 45.0), (200, 230.0)])
def test_lines_equal_servers_is_erlang_b(c: int, load: float) -> None:
    # K = c is the loss system; the chain and the recurrence are two float64 routes: 1e-11.
    m = queue_metrics(load / 300, 300.0, c, 20.0, lines=c)
    assert m.blocked_frac == pytest.approx(erlang_b(c, load), rel=1e-11)
    assert m.p_wait_frac == 0.0 and m.asa_s == 0.0
    assert m.service_level_frac == pytest.approx(1 - m.blocked_frac, rel=1e-12)


@pytest.mark.parametrize("c,load", [(1, 0.5), (10, 8.0), (50, 45.0), (500, 480.0)])
def test_many_lines_is_erlang_c(c: int, load: float) -> None:
    # K = c + 10^5 with load < c: the blocked mass rho^(10^5) is 0 and the chain is cut by its
    # tail rule. The chain's log-ratio sums over <= ~2000 states cost ~1e-12: 1e-10 relative.
    lam, mean_s, t = load / 240, 240.0, 15.0
    closed, chain = (
        queue_metrics(lam, mean_s, c, t),
        queue_metrics(lam, mean_s, c, t, lines=c + 10**5),
    )
    for name in ("p_wait_frac", "asa_s", "service_level_frac", "occupancy_frac"):
        assert getattr(chain, name) == pytest.approx(getattr(closed, name), rel=1e-10), name
    assert chain.blocked_frac == 0.0 and chain.abandon_frac == 0.0


@pytest.mark.parametrize("c,load", [(1, 0.5), (10, 8.0), (50, 45.0)])
def test_erlang_a_tends_to_erlang_c(c: int, load: float) -> None:
    # Patience 1e9 s gives theta = 1e-9/s; every metric moves by O(theta * E[W^k]) with waits of
    # minutes, i.e. ~1e-6 relative at most, hence 1e-5. Going to 1e10 s must shrink the gap about
    # tenfold (first order in theta), which shows it is the model converging, not numerical noise.
    lam, mean_s, t = load / 300, 300.0, 20.0
    closed = queue_metrics(lam, mean_s, c, t)
    gaps = []
    for patience in (1e9, 1e10):
        a = queue_metrics(lam, mean_s, c, t, mean_patience_s=patience)
        for name in ("p_wait_frac", "asa_s", "service_level_frac", "occupancy_frac"):
            assert getattr(a, name) == pytest.approx(getattr(closed, name), rel=1e-5), name
        gaps.append(abs(a.asa_s - closed.asa_s) / closed.asa_s)
    assert 5 < gaps[0] / gaps[1] < 20


# --- brute force: the CTMC solved by linear algebra, the tagged caller by matrix exponential ----


def expm(a: np.ndarray) -> np.ndarray:
    """Matrix exponential by scaling and squaring of a 30-term Taylor series (norm <= 1/2)."""
    norm = float(np.abs(a).sum(axis=1).max())
    squarings = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0 else 0
    x = a / 2.0**squarings
    term, out = np.eye(a.shape[0]), np.eye(a.shape[0])
    for k in range(1, 30):
        term = term @ x / k
        out = out + term
    for _ in range(squarings):
        out = out @ out
    return out


def brute_force(
    lam: float, mean_s: float, c: int, t: float, patience: float | None, size: int
) -> dict[str, float]:
    """M/M/c/size+M metrics: stationary law by least squares on the generator, then per arrival
    state the tagged caller's own chain (callers ahead 0..M, served, abandoned)."""
    mu, theta = 1 / mean_s, (0.0 if patience is None else 1 / patience)
    q = np.zeros((size + 1, size + 1))
    for n in range(size + 1):
        if n < size:
            q[n, n + 1] = lam
        if n > 0:
            q[n, n - 1] = min(n, c) * mu + max(n - c, 0) * theta
        q[n, n] = -q[n].sum()
    rhs = np.zeros(size + 2)
    rhs[-1] = 1.0
    p = np.linalg.lstsq(np.vstack([q.T, np.ones(size + 1)]), rhs, rcond=None)[0]
    ahead = size - c  # arrivals at n = c..size-1 find m = 0..ahead-1 callers ahead
    g = np.zeros((ahead + 2, ahead + 2))  # transient 0..ahead-1, then served, abandoned
    for j in range(ahead):
        g[j, j - 1 if j > 0 else ahead] = c * mu + j * theta
        g[j, ahead + 1] = theta
        g[j, j] = -g[j].sum()
    within = expm(g * t)[:ahead, ahead]
    inner = -g[:ahead, :ahead]
    served = np.linalg.solve(inner, g[:ahead, ahead])  # P(answered | m)
    wait_served = np.linalg.solve(inner, served)  # E[wait; answered | m]
    no_wait, waiting = p[:c].sum(), p[c:size]
    answered = no_wait + waiting @ served
    return {
        "p_wait_frac": waiting.sum(),
        "asa_s": (waiting @ wait_served) / answered,
        "service_level_frac": no_wait + waiting @ within,
        "abandon_frac": waiting @ (1 - served),  # per arriving caller, not via theta E[Q]
        "blocked_frac": p[size],
        "occupancy_frac": p @ np.minimum(np.arange(size + 1), c) / c,
    }


BRUTE_CASES = [
    # lam (1/s), mean handle (s), c, T (s), patience (s), lines, states for the brute force
    (1.0, 1.0, 1, 2.0, 2.0, None, 120),
    (2.5, 1.0, 3, 0.5, 1.0, None, 120),  # overloaded, stable thanks to patience
    (0.05, 100.0, 5, 20.0, 60.0, None, 120),
    (4.0, 1.0, 3, 3.0, 0.5, None, 150),  # heavy overload, short patience
    (0.3, 10.0, 2, 5.0, 30.0, 8, 8),  # M/M/c/K+M
    (1.5, 1.0, 2, 1.0, None, 6, 6),  # M/M/c/K overloaded
    (0.04, 300.0, 12, 20.0, 120.0, 40, 40),  # M/M/c/K+M, load 12 on 12 agents
]


@pytest.mark.parametrize("lam,mean_s,c,t,patience,lines,size", BRUTE_CASES)
def test_against_brute_force(lam, mean_s, c, t, patience, lines, size) -> None:
    # The brute force solves a dense linear system (conditioning ~1e3 here) and squares a matrix
    # exponential ~10 times, so it is good to ~1e-12; the module's sums are better than that.
    # Observed max relative error 6e-13; 1e-9 leaves room across platforms and BLAS builds.
    ref = brute_force(lam, mean_s, c, t, patience, size)
    if lines is None:
        assert ref["blocked_frac"] < 1e-15  # the truncation of the brute force is harmless
        ref["blocked_frac"] = 0.0
    got = queue_metrics(lam, mean_s, c, t, mean_patience_s=patience, lines=lines)
    for name, value in ref.items():
        assert getattr(got, name) == pytest.approx(value, rel=1e-9, abs=1e-15), name


def long_queue_reference(
    lam: float, mean_s: float, c: int, t: float, patience: float, size: int
) -> dict[str, float]:
    """Erlang A for long queues by other routes: detailed balance in plain log space, first-step
    analysis of the tagged caller for P(answered) and E[wait; answered], and uniformization of
    the tagged caller's chain (all terms positive) for P(answered within t)."""
    mu, theta = 1 / mean_s, 1 / patience
    n = np.arange(1, size + 1)
    log_p = np.concatenate(
        [[0.0], np.cumsum(np.log(lam / (np.minimum(n, c) * mu + np.maximum(n - c, 0) * theta)))]
    )
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    assert p[-1] < 1e-20  # the truncation is harmless
    down = c * mu + np.arange(size - c + 1) * theta  # rate to one fewer ahead (from 0: a server)
    out = down + theta  # plus own abandonment
    h, e = np.empty(down.size), np.empty(down.size)
    h_prev, e_prev = 1.0, 0.0
    for i in range(down.size):  # first-step analysis from m = i callers ahead
        move = down[i] / out[i]
        h[i], e[i] = move * h_prev, move * (h_prev / out[i] + e_prev)
        h_prev, e_prev = h[i], e[i]
    big = out[-1]
    lt = big * t
    weights = np.exp(
        [
            k * math.log(lt) - lt - math.lgamma(k + 1)
            for k in range(int(lt + 12 * math.sqrt(lt) + 50))
        ]
    )
    u, within = np.zeros(down.size), np.zeros(down.size)
    for w in weights[1:]:
        u = (down * np.concatenate([[1.0], u[:-1]]) + (big - out) * u) / big
        within += w * u
    waiting, no_wait = p[c:], p[:c].sum()
    return {
        "p_wait_frac": waiting.sum(),
        "asa_s": waiting @ e / (no_wait + waiting @ h),
        "service_level_frac": no_wait + waiting @ within,
        "abandon_frac": waiting @ (1 - h),
    }


@pytest.mark.parametrize(
    "lam,mean_s,c,t,patience,size",
    [
        (15.0, 10.0, 100, 240.0, 600.0, 8000),  # ~3,000 callers waiting, SL 0.23
        (15.0, 10.0, 100, 180.0, 600.0, 8000),  # same, SL 3e-17: tiny values keep their digits
        (11.0, 10.0, 100, 60.0, 600.0, 4000),  # ~600 waiting
        (0.999 * 5000 / 300, 300.0, 5000, 20.0, 60.0, 6000),  # 5,000 agents at load 0.999
    ],
)
def test_long_queues_against_uniformization(lam, mean_s, c, t, patience, size) -> None:
    # Both sides sum thousands of positive terms in float64; observed agreement <= 2e-12, so 1e-10.
    ref = long_queue_reference(lam, mean_s, c, t, patience, size)
    got = queue_metrics(lam, mean_s, c, t, mean_patience_s=patience)
    for name, value in ref.items():
        assert getattr(got, name) == pytest.approx(value, rel=1e-10), name


# --- properties --------------------------------------------------------------------------------


@st.composite
def queues(draw: st.DrawFn) -> dict:
    """Small random queues of all four kinds (M/M/c kept stable)."""
    c = draw(st.integers(1, 40))
    patience = draw(st.one_of(st.none(), st.floats(5.0, 2000.0)))
    extra = draw(st.one_of(st.none(), st.integers(0, 80)))
    rho = draw(st.floats(0.05, 0.97 if patience is None and extra is None else 2.5))
    mean_s = draw(st.floats(10.0, 600.0))
    return {
        "rate_per_s": rho * c / mean_s,
        "mean_handle_s": mean_s,
        "servers": c,
        "threshold_s": draw(st.floats(0.0, 180.0)),
        "mean_patience_s": patience,
        "lines": None if extra is None else c + extra,
    }


PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


@PROPERTY
@given(queues())
def test_fractions_bounded_and_little(q: dict) -> None:
    m = queue_metrics(**q)
    for name in FRACTIONS:
        assert 0.0 <= getattr(m, name) <= 1.0, name
    assert math.isfinite(m.asa_s) and m.asa_s >= 0.0
    # Separate float sums of fractions <= 1, each a few roundings of ~1.1e-16: 1e-12 absolute.
    assert m.service_level_frac <= 1 - m.abandon_frac - m.blocked_frac + 1e-12
    # Little: carried load (1 - abandoned - blocked) * A = busy servers; exact in the chain up to
    # the 1e-16 truncated tail and summation roundoff, so 1e-10 relative.
    carried = (1 - m.abandon_frac - m.blocked_frac) * m.load_erlangs
    assert carried == pytest.approx(m.occupancy_frac * m.servers, rel=1e-10)


@PROPERTY
@given(queues(), st.floats(0.0, 100.0))
def test_monotone_in_servers_and_threshold(q: dict, dt: float) -> None:
    # Rounding only: each side is its own float computation of fractions <= 1 (roundings of
    # ~1.1e-16 each), so 1e-12 absolute; for the ASA 1e-12 relative, plus 1e-15 s when it is 0.
    base = queue_metrics(**q)
    later = queue_metrics(**{**q, "threshold_s": q["threshold_s"] + dt})
    assert later.service_level_frac >= base.service_level_frac - 1e-12
    if q["lines"] is not None and q["lines"] == q["servers"]:
        q = {**q, "lines": q["lines"] + 1}
        base = queue_metrics(**q)
    more = queue_metrics(**{**q, "servers": q["servers"] + 1})
    assert more.service_level_frac >= base.service_level_frac - 1e-12
    assert more.asa_s <= base.asa_s * (1 + 1e-12) + 1e-15


@PROPERTY
@given(queues())
def test_agents_for_service_level_is_minimal(q: dict) -> None:
    target = 0.8
    kwargs = {
        k: q[k] for k in ("rate_per_s", "mean_handle_s", "threshold_s", "mean_patience_s", "lines")
    }
    try:
        c = agents_for_service_level(target_frac=target, **kwargs)
    except ValueError:
        assume(False)
    sl = lambda n: queue_metrics(servers=n, **kwargs).service_level_frac
    assert sl(c) >= target
    if c > 1 and (
        q["mean_patience_s"] is not None
        or q["lines"] is not None
        or c - 1 > q["rate_per_s"] * q["mean_handle_s"]
    ):
        assert sl(c - 1) < target


# --- stability and edge cases ------------------------------------------------------------------


@pytest.mark.parametrize("patience", [None, 30.0, 600.0, 1e4])
@pytest.mark.parametrize("rho", [0.999, 1.2])
def test_large_pools_stay_finite(patience: float | None, rho: float) -> None:
    # 5,000 agents, load 0.999 c (and 1.2 c when patience makes it stable).
    if patience is None and rho >= 1:
        with pytest.raises(ValueError, match="unstable"):
            queue_metrics(rho * 5000 / 300, 300.0, 5000, 20.0)
        return
    m = queue_metrics(rho * 5000 / 300, 300.0, 5000, 20.0, mean_patience_s=patience)
    for name in FRACTIONS:
        assert 0.0 <= getattr(m, name) <= 1.0, name
    assert all(math.isfinite(v) for v in vars(m).values())
    carried = (1 - m.abandon_frac) * m.load_erlangs
    # Sums over a chain of thousands of states: roundoff up to ~1e4 eps (~1e-12) relative; 1e-9
    # is kept from before with that headroom (not measured here).
    assert carried == pytest.approx(m.occupancy_frac * 5000, rel=1e-9)


def test_single_agent_and_zero_rate() -> None:
    m = queue_metrics(1 / 60, 30.0, 1, 20.0, mean_patience_s=45.0, lines=3)
    assert all(math.isfinite(v) for v in vars(m).values())
    assert queue_metrics(0.0, 30.0, 3, 20.0) == QueueMetrics(
        3, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 20.0
    )
    # T = 0: only calls that find a free agent count.
    m0 = queue_metrics(0.1, 30.0, 4, 0.0, mean_patience_s=60.0)
    assert m0.service_level_frac == pytest.approx(1 - m0.p_wait_frac, rel=1e-14)  # a few roundings


def test_agents_for_classic_case() -> None:
    # 540 calls/h, 300 s handle (A = 45 erlangs), 80% in 20 s: 51 agents. Checked from the exact
    # Erlang C: SL(50) = 0.739 < 0.8 <= SL(51) = 0.840.
    lam, mean_s, t = 540 / 3600, 300.0, 20.0

    def sl(c: int) -> float:
        return 1 - float(exact_erlang_c(c, Fraction(45))) * math.exp(-(c / mean_s - lam) * t)

    assert sl(50) < 0.8 <= sl(51)
    assert agents_for_service_level(lam, mean_s, 0.8, t) == 51
    # Patience of 2 minutes lowers the need; finite lines cap the search.
    c = agents_for_service_level(lam, mean_s, 0.8, t, mean_patience_s=120.0)
    assert queue_metrics(lam, mean_s, c - 1, t, 120.0).service_level_frac < 0.8
    assert queue_metrics(lam, mean_s, c, t, 120.0).service_level_frac >= 0.8
    assert c < 51


def test_agents_for_service_level_impossible() -> None:
    with pytest.raises(ValueError, match="no staffing"):
        agents_for_service_level(540 / 3600, 300.0, 0.8, 20.0, max_agents=50)
    with pytest.raises(ValueError, match="no staffing"):
        agents_for_service_level(540 / 3600, 300.0, 0.8, 20.0, max_agents=40)  # all unstable
    with pytest.raises(ValueError, match="no staffing"):
        agents_for_service_level(540 / 3600, 300.0, 0.95, 20.0, lines=44)  # 1 - B(44, 45) < 0.95
    with pytest.raises(ValueError, match="target_frac"):
        agents_for_service_level(540 / 3600, 300.0, 1.0, 20.0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"rate_per_s": -1.0}, "rate_per_s"),
        ({"mean_handle_s": 0.0}, "mean_handle_s"),
        ({"servers": 0}, "servers"),
        ({"servers": 2.0}, "servers"),
        ({"threshold_s": math.inf}, "threshold_s"),
        ({"mean_patience_s": 0.0}, "mean_patience_s"),
        ({"lines": 4}, "lines"),
        ({"rate_per_s": 0.2}, "unstable"),
    ],
)
def test_bad_inputs_raise(kwargs: dict, match: str) -> None:
    base = {"rate_per_s": 0.1, "mean_handle_s": 30.0, "servers": 5, "threshold_s": 20.0}
    with pytest.raises(ValueError, match=match):
        queue_metrics(**{**base, **kwargs})


def test_overload_with_very_long_patience_is_refused() -> None:
    # Queue of ~(lam - c mu)/theta = 1e9 callers: refused with a message, not a memory blow-up.
    with pytest.raises(ValueError, match="too large"):
        queue_metrics(2.0, 1.0, 1, 20.0, mean_patience_s=1e9)
