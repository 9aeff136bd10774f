"""models.erlang: error messages, edges and the chain's truncation, with values checkable by hand
or by a brute-force sum written out here (found by mutation testing)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models import erlang
from models.erlang import erlang_b, erlang_c, queue_metrics


@pytest.mark.parametrize(("call", "message"), [
    (lambda: erlang_b(-1, 1.0), "servers: must be >= 0, got -1"),
    (lambda: erlang_b(True, 1.0), "servers: must be an integer, got True"),
    (lambda: erlang_b(2, -1.0), "load_erlangs: must be finite and >= 0.0, got -1.0"),
    (lambda: erlang_c(-1, 1.0), "servers: must be >= 0, got -1"),
    (lambda: erlang_c(2, float("inf")), "load_erlangs: must be finite and >= 0.0, got inf"),
    (lambda: queue_metrics(-1.0, 100.0, 1, 20.0), "rate_per_s: must be finite and >= 0.0, got -1.0"),
    (lambda: queue_metrics(0.01, 0.0, 1, 20.0), "mean_handle_s: must be finite and > 0.0, got 0.0"),
    (lambda: queue_metrics(0.01, 100.0, 0, 20.0), "servers: must be >= 1, got 0"),
    (lambda: queue_metrics(0.01, 100.0, 1, -1.0), "threshold_s: must be finite and >= 0.0, got -1.0"),
    (lambda: queue_metrics(0.01, 100.0, 2, 20.0, lines=1), "lines: must be >= 2, got 1"),
    # load 0.02 * 100 = 2 erlangs on 2 servers: exactly critical, no steady state.
    (lambda: queue_metrics(0.02, 100.0, 2, 20.0), "unstable queue: load 2 erlangs >= 2 servers; M/M/c without "
                                                   "patience or lines has no steady state (add servers, patience or lines)"),
])
def test_bad_arguments_raise_one_exact_line(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_erlang_c_with_no_servers_always_waits():
    assert erlang_c(0, 0.0) == 1.0 and erlang_c(0, 3.0) == 1.0


def test_infinite_patience_is_no_abandonment():
    # mean_patience_s = inf is M/M/c: the Erlang C figures, exactly.
    assert queue_metrics(0.01, 100.0, 2, 20.0, mean_patience_s=math.inf) == queue_metrics(0.01, 100.0, 2, 20.0)


def _brute_force_chain(lam, mu, c, theta, size):
    """p_0..p_size of the birth-death chain, written out: p_n / p_(n-1) = lam / (min(n, c) mu + max(n - c, 0) theta)."""
    n = np.arange(1, size + 1)
    log_p = np.concatenate([[0.0], np.cumsum(np.log(lam) - np.log(np.minimum(n, c) * mu + np.maximum(n - c, 0) * theta))])
    p = np.exp(log_p - log_p.max())
    return p / p.sum()


@pytest.mark.parametrize(("lam", "mean_s", "c", "patience_s"), [
    # One agent at 90% load with very patient callers (mean 1e5 s): the queue's distribution
    # decays slowly (p_(n+1)/p_n close to 1 for hundreds of states), where a careless cut of the
    # chain shows.
    (0.009, 100.0, 1, 1e5),
    # Three agents overloaded (lam 0.05 > c mu 0.03): the queue settles where abandonment
    # (theta 1/2000 per caller) balances the excess 0.02/s: about 40 callers.
    (0.05, 100.0, 3, 2000.0),
    # Light load, impatient callers.
    (0.01, 100.0, 4, 30.0),
])
def test_erlang_a_against_its_chain_summed_by_brute_force(lam, mean_s, c, patience_s):
    # 20,000 states: p_n is below 1e-300 long before (checked: the last state's weight is 0).
    # Tolerance 1e-9 relative: both sum the same chain, in another order and truncated at 1e-16.
    mu, theta = 1 / mean_s, 1 / patience_s
    p = _brute_force_chain(lam, mu, c, theta, 20_000)
    assert p[-1] < 1e-300
    n = np.arange(p.size)
    m = queue_metrics(lam, mean_s, c, 20.0, mean_patience_s=patience_s)
    assert m.p_wait_frac == pytest.approx(p[c:].sum(), rel=1e-9)
    assert m.abandon_frac == pytest.approx(theta * np.dot(np.maximum(n - c, 0), p) / lam, rel=1e-9)
    assert m.occupancy_frac == pytest.approx(np.dot(np.minimum(n, c), p) / c, rel=1e-9)
    assert m.blocked_frac == 0.0


def test_lines_as_large_as_the_chain_may_be():
    # Overloaded single agent without patience, lines K: a finite M/M/1/K chain whose states all
    # count (no cut): K = 5,000,000 is the largest allowed, one more is refused. rho = 2: the chain
    # piles up at K, blocked fraction = 1 - 1/rho = 0.5 in the limit (p_K -> 1 - 1/rho). A threshold
    # of 1e9 s (1e7 services) keeps the service-level tail within the limit too.
    m = queue_metrics(0.02, 100.0, 1, 1e9, lines=5_000_000)
    assert m.blocked_frac == pytest.approx(0.5, rel=1e-12)
    with pytest.raises(ValueError, match="queue model too large: over 5000000 states needed"):
        queue_metrics(0.02, 100.0, 1, 20.0, lines=5_000_001)


def _hypoexponential_cdf(rates, t):
    """P(sum of Exp(rates) <= t) for distinct rates: 1 - sum_i e^(-r_i t) prod_(j != i) r_j / (r_j - r_i)."""
    total = 0.0
    for i, ri in enumerate(rates):
        total += math.exp(-ri * t) * math.prod(rj / (rj - ri) for j, rj in enumerate(rates) if j != i)
    return 1.0 - total


@pytest.mark.parametrize(("c_mu", "theta", "t"), [
    (0.05, 0.01, 20.0),    # short threshold: mostly before the mode of the count of events
    (0.05, 0.01, 200.0),   # long threshold: past it
    (2.0, 0.5, 3.0),
])
def test_time_to_reach_a_server_against_the_hypoexponential_cdf(c_mu, theta, t):
    # With m callers ahead the caller reaches a server after S_m = sum_(k=1..m+1) Exp(c mu + k theta).
    # For m = 0..5 the closed form above (rates distinct since theta > 0); tolerance 1e-9 absolute:
    # the closed form loses digits to cancellation, the module's sum does not.
    cdf = erlang._reach_server_cdf(c_mu, theta, t, 5)
    assert cdf.shape == (6,)
    expected = [_hypoexponential_cdf([c_mu + k * theta for k in range(1, m + 2)], t) for m in range(6)]
    np.testing.assert_allclose(cdf, expected, rtol=0, atol=1e-9)


def test_time_to_reach_a_server_without_abandonment_is_a_poisson_tail():
    # theta = 0: S_m is Erlang(m + 1, c mu); P(S_m <= t) = P(Poisson(c mu t) >= m + 1).
    # c mu t = 1: P(>= 1) = 1 - 1/e, P(>= 2) = 1 - 2/e, P(>= 3) = 1 - 2.5/e.
    cdf = erlang._reach_server_cdf(0.5, 0.0, 2.0, 2)
    np.testing.assert_allclose(cdf, [1 - 1 / math.e, 1 - 2 / math.e, 1 - 2.5 / math.e], rtol=1e-12)
    # Far past the mean (c mu t = 1, m up to 40): tails down to 1/41! e^-1 ~ 1e-50 keep their digits.
    cdf = erlang._reach_server_cdf(0.5, 0.0, 2.0, 40)
    tail = [math.exp(-1) * sum(1 / math.factorial(k) for k in range(m + 1, m + 60)) for m in range(41)]
    np.testing.assert_allclose(cdf, tail, rtol=1e-12)
    assert erlang._reach_server_cdf(0.5, 0.0, 2.0, -1).shape == (0,)
    assert erlang._reach_server_cdf(0.5, 0.0, 0.0, 2).tolist() == [0.0, 0.0, 0.0]


def test_too_large_a_model_says_why():
    # Overload 0.05 - 3/100 = 0.02 calls/s, patience 1e12 s: the queue would settle about
    # 0.02 * 1e12 = 2e10 callers deep.
    with pytest.raises(ValueError) as info:
        queue_metrics(0.05, 100.0, 3, 20.0, mean_patience_s=1e12)
    assert str(info.value) == ("queue model too large: over 5000000 states needed (servers 3, overload queue "
                               "about 2e+10 calls: patience too long for this overload, or too many lines)")
    # 4,999,990 lines on one agent: the chain fits, but a caller may find 4,999,988 ahead, and the
    # service-level tail needs 64 states more than that.
    with pytest.raises(ValueError) as info:
        queue_metrics(0.02, 100.0, 1, 20.0, lines=4_999_990)
    assert str(info.value) == ("queue model too large: over 5000000 states needed "
                               "(service-level tail beyond 4999988 callers)")
