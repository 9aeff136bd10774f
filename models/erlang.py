"""Queueing formulas for one pool: Erlang B, Erlang C (M/M/c), Erlang A (M/M/c+M) and finite lines.

All four models share one vocabulary, :class:`QueueMetrics`, whose fractions are of OFFERED calls,
as in the simulator (see DESIGN.md, "Metric definitions"). Times are in seconds, rates per second.

Method
------
* Erlang B by the usual stable recurrence; Erlang C from Erlang B; M/M/c by its closed forms.
* Every other model is the birth-death chain on N = calls in system: birth rate ``lam`` while
  N < K, death rate ``min(N, c)*mu + max(N - c, 0)*theta``. The ratios p_{n+1}/p_n are
  non-increasing, so the distribution is unimodal; it is built outward from its mode by cumulative
  sums of log-ratios (all weights <= 1: no overflow, and only negligible terms underflow). With no
  line limit, the chain is cut where a geometric bound puts the tail below ``_TAIL_EPS``.
* A caller who arrives with m callers ahead reaches a server after tau = sum_{j=0..m} Exp(c*mu +
  j*theta), unless its own patience X ~ Exp(theta) runs out first. Tilting by exp(-theta*tau):
  P(answered | m) = c*mu / (c*mu + (m+1)*theta),
  E[tau; answered | m] = P(answered | m) * sum_{k=1..m+1} 1 / (c*mu + k*theta),
  P(answered within T | m) = P(answered | m) * P(S_m <= T),
  with S_m = sum_{k=1..m+1} Exp(c*mu + k*theta).
  S_m is the time of the (m+1)-th event of a pure-birth process whose k-th event has rate
  c*mu + k*theta, so P(S_m <= T) = P(B >= m+1) where B, the number of events by T, is negative
  binomial with pmf ratio q_k/q_{k-1} = (c*mu + k*theta) * T * (1 - e^{-theta T})/(theta T) / k and
  q_0 = exp(-(c*mu + theta) * T) (Poisson(c*mu*T) when theta = 0). Every term is positive, so this
  is accurate for queues of any length, at O(queue length) cost.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

_TAIL_EPS = 1e-16
"""Upper bound on the probability mass dropped when an unlimited queue is truncated (relative)."""

_MAX_STATES = 5_000_000
"""Largest birth-death chain (states) built before giving up with a ValueError."""


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state figures of one queue, all as fractions of OFFERED calls unless said."""

    servers: int
    """Agents (servers), c."""
    load_erlangs: float
    """Offered load lambda * E[S] (erlangs)."""
    p_wait_frac: float
    """P(an offered call is not blocked and finds all servers busy, so it queues)."""
    asa_s: float
    """Mean wait in queue of ANSWERED calls (seconds); answered without waiting count as 0."""
    service_level_frac: float
    """P(an offered call is answered with wait <= threshold_s)."""
    abandon_frac: float
    """P(an offered call abandons); 0 without patience."""
    blocked_frac: float
    """P(an offered call finds `lines` calls in system); 0 without lines."""
    occupancy_frac: float
    """Mean busy servers / servers."""
    threshold_s: float
    """Service-level threshold T (seconds)."""


def erlang_b(servers: int, load_erlangs: float) -> float:
    """Blocking probability of M/M/c/c (Erlang B) with ``servers`` lines and ``load_erlangs``.

    Uses B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)), stable for any size; O(servers).
    """
    c = _count("servers", servers, minimum=0)
    load = _finite("load_erlangs", load_erlangs, minimum=0.0)
    b = 1.0
    for k in range(1, c + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load_erlangs: float) -> float:
    """Probability of waiting in M/M/c (Erlang C); 1.0 if ``load_erlangs >= servers``."""
    c = _count("servers", servers, minimum=0)
    load = _finite("load_erlangs", load_erlangs, minimum=0.0)
    if load >= c:
        return 1.0
    b = erlang_b(c, load)
    return c * b / (c - load + load * b)


def queue_metrics(
    rate_per_s: float,
    mean_handle_s: float,
    servers: int,
    threshold_s: float,
    mean_patience_s: float | None = None,
    lines: int | None = None,
) -> QueueMetrics:
    """Steady-state metrics of M/M/c, M/M/c+M, M/M/c/K or M/M/c/K+M.

    ``rate_per_s``: Poisson arrival rate (calls/s). ``mean_handle_s``: mean of the exponential
    handle time (s). ``threshold_s``: service-level threshold T (s). ``mean_patience_s``: mean of
    the exponential patience (s); None or inf means callers never abandon. ``lines``: K, the most
    calls in system (waiting + in service), K >= servers; None means unlimited.
    Raises ValueError on bad inputs, and for M/M/c (no patience, no lines) if load >= servers.
    With ``rate_per_s == 0`` the limits as the rate tends to 0 are returned (service level 1).
    """
    lam = _finite("rate_per_s", rate_per_s, minimum=0.0)
    mean_s = _finite("mean_handle_s", mean_handle_s, minimum=0.0, strict=True)
    c = _count("servers", servers, minimum=1)
    t = _finite("threshold_s", threshold_s, minimum=0.0)
    theta = _abandon_rate(mean_patience_s)
    cap = None if lines is None else _count("lines", lines, minimum=c)
    if lam == 0.0:
        return QueueMetrics(c, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, t)
    if theta == 0.0 and cap is None:
        return _erlang_c_metrics(lam, mean_s, c, t)
    return _chain_metrics(lam, mean_s, c, t, theta, cap)


def priority_asa_s(rates_per_s: Sequence[float], mean_handle_s: float, servers: int) -> tuple[float, ...]:
    """Mean wait (s) of each class of M/M/c with non-preemptive priorities (Cobham 1954).

    ``rates_per_s``: Poisson arrival rate of each class, highest priority first; every class has
    the same exponential handle time (mean ``mean_handle_s``), no abandonment, FCFS within a class.
    W_k = C(c, a) / (c mu (1 - sigma_{k-1}) (1 - sigma_k)), with C Erlang C's probability of waiting
    for the total load a, and sigma_k the load per server of classes 1..k (sigma_0 = 0). The
    rate-weighted mean of the W_k is Erlang C's ASA (the order of service does not change the
    total work waiting). Raises ValueError on bad inputs or if the total load >= servers.
    """
    rates = [_finite("rates_per_s", r, minimum=0.0) for r in rates_per_s]
    mean_s = _finite("mean_handle_s", mean_handle_s, minimum=0.0, strict=True)
    c = _count("servers", servers, minimum=1)
    load = sum(rates) * mean_s
    if load >= c:
        raise ValueError(f"unstable queue: load {load:.6g} erlangs >= {c} servers")
    head = erlang_c(c, load) * mean_s / c  # C(c, a) / (c mu), s
    sigmas = np.cumsum([0.0, *rates]) * mean_s / c
    return tuple(float(head / ((1.0 - lo) * (1.0 - hi))) for lo, hi in itertools.pairwise(sigmas))


def agents_for_service_level(
    rate_per_s: float,
    mean_handle_s: float,
    target_frac: float,
    threshold_s: float,
    mean_patience_s: float | None = None,
    lines: int | None = None,
    max_agents: int = 100_000,
) -> int:
    """Smallest number of agents whose service level (answered within ``threshold_s`` s, over
    offered) is >= ``target_frac``; for M/M/c (no patience, no lines) also load < agents.

    Arguments as in :func:`queue_metrics`; agents never exceed ``lines``. The search gallops up
    from the smallest admissible count and then bisects, relying on the service level rising with
    agents (checked by the property tests). Raises ValueError if no count <= ``max_agents`` works.
    """
    target = _finite("target_frac", target_frac, minimum=0.0)
    if target >= 1.0:
        raise ValueError(
            f"target_frac: must be < 1 (no finite staffing answers all calls), got {target}"
        )
    top = _count("max_agents", max_agents, minimum=1)
    if lines is not None:
        top = min(top, _count("lines", lines, minimum=1))
    load = _finite("rate_per_s", rate_per_s, minimum=0.0) * _finite(
        "mean_handle_s", mean_handle_s, minimum=0.0, strict=True
    )
    unlimited = _abandon_rate(mean_patience_s) == 0.0 and lines is None
    low = math.floor(load) + 1 if unlimited else 1  # M/M/c needs load < agents

    def meets(c: int) -> bool:
        m = queue_metrics(rate_per_s, mean_handle_s, c, threshold_s, mean_patience_s, lines)
        return m.service_level_frac >= target

    failing, hi = low - 1, low  # invariant: `failing` fails or is inadmissible
    while hi > top or not meets(hi):
        if hi >= top:
            raise ValueError(
                f"no staffing <= {top} agents reaches service level {target} within "
                f"{threshold_s} s (load {load:.6g} erlangs)"
            )
        failing, hi = hi, min(top, hi + 2 * (hi - low) + 1)
    while hi - failing > 1:
        mid = (failing + hi) // 2
        failing, hi = (failing, mid) if meets(mid) else (mid, hi)
    return hi


# --- input checks -------------------------------------------------------------------------------


def _finite(name: str, value: float, minimum: float, strict: bool = False) -> float:
    """``value`` as a float, checked finite and >= (or > if ``strict``) ``minimum``."""
    x = float(value)
    if not math.isfinite(x) or x < minimum or (strict and x == minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{name}: must be finite and {relation} {minimum}, got {value!r}")
    return x


def _count(name: str, value: int, minimum: int) -> int:
    """``value`` as an int (bool and float refused), checked >= ``minimum``."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: must be an integer, got {value!r}") from None
    if n < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {n}")
    return n


def _abandon_rate(mean_patience_s: float | None) -> float:
    """theta = 1 / mean patience (1/s); 0 for None or infinite patience."""
    if mean_patience_s is None:
        return 0.0
    x = float(mean_patience_s)
    if math.isnan(x) or x <= 0.0:
        raise ValueError(f"mean_patience_s: must be > 0 (or None), got {mean_patience_s!r}")
    return 0.0 if math.isinf(x) else 1.0 / x


# --- M/M/c closed forms -------------------------------------------------------------------------


def _erlang_c_metrics(lam: float, mean_s: float, c: int, t: float) -> QueueMetrics:
    """M/M/c: P(wait) = C, ASA = C / (c mu - lam), SL = 1 - C exp(-(c mu - lam) T)."""
    load = lam * mean_s
    if load >= c:
        raise ValueError(
            f"unstable queue: load {load:.6g} erlangs >= {c} servers; M/M/c without patience or "
            "lines has no steady state (add servers, patience or lines)"
        )
    p_wait = erlang_c(c, load)
    drain = c / mean_s - lam  # rate at which the queue ahead of a waiting caller clears, 1/s
    sl = 1.0 - p_wait * math.exp(-drain * t)
    return QueueMetrics(c, load, p_wait, p_wait / drain, _unit(sl), 0.0, 0.0, load / c, t)


# --- birth-death chain --------------------------------------------------------------------------


def _peak_normalised(log_ratios: np.ndarray) -> tuple[np.ndarray, int]:
    """Weights w_n = p_n / p_mode of a unimodal sequence given log(p_n / p_{n-1}), n = 1..N.

    ``log_ratios`` must be non-increasing. Returns (w for n = 0..N, mode).
    """
    mode = int(np.count_nonzero(log_ratios >= 0.0))
    log_w = np.empty(log_ratios.size + 1)
    log_w[mode] = 0.0
    log_w[mode + 1 :] = np.cumsum(log_ratios[mode:])
    log_w[:mode] = np.cumsum(-log_ratios[:mode][::-1])[::-1]
    return np.exp(log_w), mode


def _chain_log_ratios(lam: float, mu: float, c: int, theta: float, size: int) -> np.ndarray:
    """log(p_n / p_{n-1}) = log(lam / death rate of n), for n = 1..size."""
    n = np.arange(1, size + 1, dtype=float)
    death = np.minimum(n, c) * mu + np.maximum(n - c, 0.0) * theta
    ratios: np.ndarray = math.log(lam) - np.log(death)
    return ratios


def _unimodal(
    log_ratios_of: Callable[[int], np.ndarray], size: float, limit: float, ref: int, context: str
) -> tuple[np.ndarray, int, bool]:
    """Weights w_0..w_N (w_mode = 1) of a unimodal sequence, its mode, and whether N == limit.

    ``log_ratios_of(size)`` gives the non-increasing log(p_n / p_{n-1}), n = 1..size. N is
    ``limit`` if that is reached, else the first n >= start = max(mode, ref) whose geometric tail
    bound w_n r / (1 - r), r = p_{n+1} / p_n (never exceeded later), is <= _TAIL_EPS * w_start;
    the part of ``size`` past ``start`` doubles until such an n exists. More than ``_MAX_STATES``
    states is a ValueError.
    """
    while True:
        size = min(size, limit)
        if size > _MAX_STATES:
            raise ValueError(f"queue model too large: over {_MAX_STATES} states needed ({context})")
        log_ratios = log_ratios_of(int(size))
        w, mode = _peak_normalised(log_ratios)
        if size == limit:
            return w, mode, True
        start = max(mode, ref)
        r = np.exp(log_ratios[start:])  # r[i] = p_{start+i+1} / p_{start+i}
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(r < 1.0, w[start:-1] * r / (1.0 - r), np.inf)
        hits = np.flatnonzero(bound <= _TAIL_EPS * w[start])
        if hits.size:
            return w[: start + int(hits[0]) + 1], mode, False
        size = start + 2 * (size - start) + 64  # double the part past the mode


def _stationary(
    lam: float, mu: float, c: int, theta: float, cap: int | None
) -> tuple[np.ndarray, bool]:
    """Stationary p_0..p_N of the chain, and whether N is the line limit K (else a truncation).

    The first try stops 10 standard deviations past the expected mode: the queue length
    ``excess`` at which abandonment balances the overload, spread about sqrt(lam / theta).
    """
    excess, spread = 0.0, (10.0 * math.sqrt(lam / theta) if theta > 0.0 else 0.0)
    if lam > c * mu:
        excess = (lam - c * mu) / theta if theta > 0.0 else math.inf
    context = (
        f"servers {c}, overload queue about {excess:.3g} calls: patience too long for this "
        "overload, or too many lines"
    )
    w, _, at_limit = _unimodal(
        lambda size: _chain_log_ratios(lam, mu, c, theta, size),
        c + min(excess + spread, _MAX_STATES) + 64,
        math.inf if cap is None else cap,
        0,
        context,
    )
    return w / w.sum(), at_limit


def _reach_server_cdf(c_mu: float, theta: float, t: float, m_max: int) -> np.ndarray:
    """P(S_m <= t) for m = 0..m_max, S_m = sum_{k=1..m+1} Exp(c_mu + k theta) (rates 1/s, t s).

    Computed as P(B >= m+1), B negative binomial (Poisson if theta = 0); see the module docstring.
    Upper tails below 1/2 are summed from the right, so tiny probabilities keep their digits.
    """
    if m_max < 0:
        return np.empty(0)
    if t == 0.0:
        return np.zeros(m_max + 1)
    z = theta * t
    log_scale = math.log(t) + (math.log(-math.expm1(-z) / z) if z > 0.0 else 0.0)

    def log_ratios_of(size: int) -> np.ndarray:
        k = np.arange(1, size + 1, dtype=float)
        ratios: np.ndarray = np.log(c_mu + k * theta) + log_scale - np.log(k)
        return ratios

    past_mode = float(log_ratios_of(m_max + 1)[-1]) < 0.0  # else every tail here is >~ 1/2
    w, mode, _ = _unimodal(
        log_ratios_of,
        m_max + 65 if past_mode else m_max,
        math.inf if past_mode else m_max,
        m_max + 1,
        f"service-level tail beyond {m_max} callers",
    )
    log_mode = math.fsum(log_ratios_of(mode)) - (c_mu + theta) * t  # exactly rounded sum
    pmf = w * math.exp(log_mode)
    below = np.cumsum(pmf[: m_max + 1])
    if not past_mode:
        return np.clip(1.0 - below, 0.0, 1.0)
    above = np.cumsum(pmf[::-1])[::-1][1 : m_max + 2]  # sum_{k > m} pmf_k
    return np.clip(np.where(below < 0.5, 1.0 - below, above), 0.0, 1.0)


def _chain_metrics(
    lam: float, mean_s: float, c: int, t: float, theta: float, cap: int | None
) -> QueueMetrics:
    """Metrics of M/M/c/K+M (theta or K possibly absent) by PASTA on the stationary chain."""
    mu = 1.0 / mean_s
    p, at_limit = _stationary(lam, mu, c, theta, cap)
    blocked = float(p[-1]) if at_limit else 0.0
    admitted = p[:-1] if at_limit else p  # arrival states whose calls get in
    waiting = admitted[c:]  # arrival finds m = 0, 1, ... callers ahead
    c_mu = c * mu
    exit_rate = c_mu + np.arange(1, waiting.size + 1) * theta  # c mu + (m+1) theta, 1/s
    answered_if = c_mu / exit_rate  # P(answered | m)
    wait_if = np.cumsum(1.0 / exit_rate)  # E[tau | m, answered] = sum_{k<=m+1} 1/(c mu + k theta)
    within_if = _reach_server_cdf(c_mu, theta, t, waiting.size - 1)
    no_wait = float(admitted[:c].sum())
    answered = no_wait + float(np.dot(waiting, answered_if))
    n = np.arange(p.size)
    busy = float(np.dot(np.minimum(n, c), p))
    in_queue = float(np.dot(np.maximum(n - c, 0), p))
    return QueueMetrics(
        servers=c,
        load_erlangs=lam * mean_s,
        p_wait_frac=_unit(float(waiting.sum())),
        asa_s=float(np.dot(waiting, answered_if * wait_if)) / answered,
        service_level_frac=_unit(no_wait + float(np.dot(waiting, answered_if * within_if))),
        abandon_frac=_unit(theta * in_queue / lam),
        blocked_frac=_unit(blocked),
        occupancy_frac=_unit(busy / c),
        threshold_s=t,
    )


def _unit(x: float) -> float:
    """``x`` clipped to [0, 1] (removes rounding excursions such as 1 + 2e-16)."""
    return min(1.0, max(0.0, x))
