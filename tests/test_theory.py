"""Validation of the simulator against queueing theory (M/M/c, M/M/c+M, M/M/c/K, M/M/c/K+M).

With one pool, Poisson arrivals at a constant rate and exponential handle times, the simulator is a
textbook queue, and ``models.erlang.queue_metrics`` gives its steady-state service level, ASA,
abandonment, P(wait), occupancy and blocking. Each case below is simulated ``reps`` times (the same
root seed, replications 0..reps-1, hence independent), every replication with a warm-up that
removes the bias of starting empty. A replication's metric is a ratio of sums over its measured
period (e.g. service level = answered within T / offered). Across replications we take the mean
and its standard error se = sd / sqrt(reps), and require

    |mean - theory| <= crit * se      (+ a floor of 1e-6 only where theory is below 1e-6)

How ``crit`` is chosen. Each replication's metric averages thousands of calls over many relaxation
times of its queue, so it is close to normal, and (mean - theory) / se follows Student's t with
reps - 1 degrees of freedom when the simulator is right. The suite makes N_COMPARISONS (70) such
comparisons; giving each a two-sided false-alarm probability of FAMILY_ALPHA / N_COMPARISONS
bounds the probability that a correct simulator fails any of them by FAMILY_ALPHA = 1e-3
(Bonferroni, valid whatever the dependence between comparisons). With 30 replications that is
crit = 5.2 standard errors: Student's t, not the normal quantile (4.3), because se is itself
estimated from 30 values. Per-replication ASA is somewhat right-skewed (sample skewness about 0.3
to 0.8 here), which fattens one tail of t: for skewness 0.5 the tail beyond 5.2 is about 3x the
nominal one, so the whole suite's false-alarm probability stays below about 2e-3. The seed is
fixed, so the suite is deterministic; that bound is the chance that a fresh seed would fail.

The precision is also checked, so that a noisy estimate cannot pass trivially: crit * se must be at
most 20 % of the theoretical value (for a fraction near 1, of its complement: occupancy 0.98 is
checked as idle time 0.02), or at most one percentage point for a small fraction (0.5 s for ASA).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from models import erlang
from models.loading import scenario_from_dict
from models.settings import RunSettings
from sim.replication import simulate

SEED = 20240611
FAMILY_ALPHA = 1e-3
TINY = 1e-6  # theory below this: the simulation may see no such call at all, so se may be 0

# metric -> (QueueMetrics attribute, numerator column, denominator column of the period totals)
METRICS = {
    "service_level": ("service_level_frac", "answered_in_sl_n", "offered_n"),
    "asa": ("asa_s", "wait_answered_s", "answered_n"),
    "abandon": ("abandon_frac", "abandoned_n", "offered_n"),
    "p_wait": ("p_wait_frac", "queued_n", "offered_n"),
    "occupancy": ("occupancy_frac", "busy_s", "staffed_s"),
    "blocked": ("blocked_frac", "blocked_n", "offered_n"),
}
TOTAL_COLUMNS = ("offered_n", "answered_n", "answered_in_sl_n", "abandoned_n", "blocked_n",
                 "unfinished_n", "queued_n", "wait_answered_s", "busy_s", "staffed_s")


@dataclass(frozen=True)
class Case:
    """One queue: ``servers`` agents offered ``load`` erlangs per agent, and how to simulate it."""

    id: str
    servers: int
    load: float                     # offered load per agent, lambda * E[S] / c
    handle_s: float                 # mean of the exponential handle time
    threshold_s: float              # service-level threshold T
    patience_s: float | None = None  # mean of the exponential patience; None: never abandons
    lines: int | None = None        # K, most calls in the system; None: unlimited
    reps: int = 30
    hours: float = 24.0             # horizon of one replication, warm-up included
    warmup_h: float = 2.0
    interval_min: int = 60
    wait_curve_s: tuple[float, ...] = ()  # thresholds for the waiting-time distribution test
    window_s: float | None = None         # window length for the Poisson test on calls
    slow: bool = False

    @property
    def rate_per_h(self) -> float:
        return self.load * self.servers * 3600.0 / self.handle_s

    @property
    def measured_s(self) -> float:
        return (self.hours - self.warmup_h) * 3600.0

    def theory(self, threshold_s: float | None = None) -> erlang.QueueMetrics:
        return erlang.queue_metrics(self.rate_per_h / 3600.0, self.handle_s, self.servers,
                                    self.threshold_s if threshold_s is None else threshold_s,
                                    self.patience_s, self.lines)

    def metrics(self) -> tuple[str, ...]:
        """The metrics compared statistically; the others are exactly 0 by construction
        (no patience: no abandonment; no lines: no blocking; lines == servers: nobody waits),
        which test_conservation_and_structure checks exactly."""
        names = ["service_level", "occupancy"]
        if not (self.lines is not None and self.lines == self.servers):
            names += ["asa", "p_wait"]
        if self.patience_s is not None:
            names.append("abandon")
        if self.lines is not None:
            names.append("blocked")
        return tuple(names)


def scenario_dict(case: Case) -> dict:
    """The scenario of ``case`` as a parsed TOML table: one call type, one in-house pool."""
    demand = {
        "name": case.id,  # the call type's name keys its random streams: cases are independent
        "calls_per_h": case.rate_per_h,
        "handle": {"dist": "exponential", "mean_s": case.handle_s},
        "route": ["p"],
    }
    if case.patience_s is not None:
        demand["patience"] = {"dist": "exponential", "mean_s": case.patience_s}
    data = {
        "name": case.id,
        "interval_min": case.interval_min,
        "service_level_s": case.threshold_s,
        "demand": [demand],
        "pools": [{"name": "p", "kind": "inhouse", "location": "local", "agents": case.servers,
                   "wage_per_h": 1.0}],
    }
    if case.lines is not None:
        data["lines"] = case.lines
    return data


# Loads are per agent; utilisation (occupancy) is lower than the load when calls abandon or are
# blocked. Each case is sized (reps x hours) so that crit * se is about 0.6 of its precision bound
# (with margin for the se's own noise), and each warm-up lasts several relaxation times of its
# queue. About 3 million simulated calls in all, plus 2 million for the slow 50-agent Erlang C case,
# whose ASA and P(wait) (rare, long congestion episodes) are the most expensive to estimate.
CASES = [
    Case("mm1_light", 1, 0.5, 60.0, 20.0, hours=70),
    Case("mm1_heavy", 1, 0.9, 60.0, 60.0, hours=552, warmup_h=24,
         wait_curve_s=(0.0, 30.0, 60.0, 180.0, 600.0), window_s=600.0),
    Case("mm2_lines_tiny_blocking", 2, 0.5, 120.0, 30.0, lines=40, hours=122),
    Case("erlang_a_2", 2, 0.75, 120.0, 30.0, patience_s=240.0, hours=26),
    Case("erlang_b_5", 5, 0.7, 180.0, 20.0, lines=5, hours=24, warmup_h=1),
    Case("mm5_heavy", 5, 0.85, 180.0, 60.0, hours=208, warmup_h=4),
    Case("mmck_10", 10, 0.95, 180.0, 20.0, lines=14, hours=22, warmup_h=1),
    Case("erlang_a_lines_20", 20, 1.1, 180.0, 20.0, patience_s=180.0, lines=30, hours=16, warmup_h=1),
    Case("mm50", 50, 0.8, 180.0, 20.0, hours=82, slow=True),
    Case("erlang_a_50", 50, 0.98, 180.0, 20.0, patience_s=180.0, hours=17, warmup_h=1),
    Case("mmck_100", 100, 1.0, 300.0, 10.0, lines=110, hours=13, warmup_h=1),
    Case("erlang_a_300", 300, 1.05, 300.0, 5.0, patience_s=30.0, hours=5, warmup_h=0.5,
         interval_min=15, wait_curve_s=(0.0, 2.0, 5.0, 10.0, 20.0), window_s=60.0),
]
CASE_BY_ID = {case.id: case for case in CASES}

THEORY_PARAMS = [(case.id, name) for case in CASES for name in case.metrics()]
CURVE_PARAMS = [(case.id, t) for case in CASES for t in case.wait_curve_s]
POISSON_CASES = [case.id for case in CASES if case.window_s is not None]
# variance of arrival counts per reporting interval (where there are many) and per window
POISSON_PARAMS = [("mm1_heavy", "interval")] + [(case_id, "window") for case_id in POISSON_CASES]
N_COMPARISONS = len(THEORY_PARAMS) + len(CURVE_PARAMS) + len(POISSON_CASES) + len(POISSON_PARAMS)


def params(rows: list, name: str = "{}") -> list:
    """pytest params from (case id, ...) rows, with an id made by ``name`` and the case's marks."""
    return [pytest.param(*row, id=name.format(*row),
                         marks=[pytest.mark.slow] if CASE_BY_ID[row[0]].slow else [])
            for row in rows]


def critical_t(reps: int) -> float:
    """Two-sided Student-t critical value at FAMILY_ALPHA / N_COMPARISONS for ``reps`` values."""
    return float(stats.t.isf(FAMILY_ALPHA / N_COMPARISONS / 2, reps - 1))


# --- running the cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRun:
    """What the tests need from the replications of one case, one row or item per replication."""

    totals: pd.DataFrame                 # TOTAL_COLUMNS summed over the measured period
    within: pd.DataFrame                 # calls answered within each of wait_curve_s (columns)
    interval_offered: list[np.ndarray]   # arrivals per reporting interval
    window_counts: list[np.ndarray]      # arrivals per window_s window (if window_s)
    problems: list[str]                  # conservation and structure violations, if any


def period_totals(intervals: pd.DataFrame) -> dict[str, float]:
    """Sums of the count, wait and time columns over the measured intervals of one replication."""
    return {column: float(intervals[column].sum()) for column in TOTAL_COLUMNS}


def rep_metrics(totals: pd.DataFrame) -> pd.DataFrame:
    """Per-replication metrics (rows: replications) as ratios of period totals (DESIGN.md)."""
    return pd.DataFrame({name: totals[num] / totals[den] for name, (_, num, den) in METRICS.items()})


def check_replication(case: Case, intervals: pd.DataFrame, calls: pd.DataFrame) -> list[str]:
    """Conservation and structural facts of one replication that must hold exactly."""
    problems = []
    rep = int(intervals["rep"].iloc[0])

    def check(ok: bool, what: str) -> None:
        if not ok:
            problems.append(f"rep {rep}: {what}")

    ends = (intervals["answered_n"] + intervals["abandoned_n"] + intervals["blocked_n"]
            + intervals["unfinished_n"])
    check(bool((intervals["offered_n"] == ends).all()),
          "offered != answered + abandoned + blocked + unfinished in some interval")
    # Busy and staffed seconds are sums of up to a few thousand rounded service segments and
    # overtime areas per interval: at worst a few thousand eps (1.1e-16) relative, ~4e-13; hence 1e-12.
    check(bool((intervals["busy_s"] <= intervals["staffed_s"] * (1 + 1e-12)).all()), "busy_s > staffed_s")
    check(len(calls) == intervals["offered_n"].sum(), "calls table rows != offered_n")
    outcomes = calls["outcome"].value_counts()
    for outcome in ("answered", "abandoned", "blocked", "unfinished"):
        check(int(outcomes.get(outcome, 0)) == intervals[f"{outcome}_n"].sum(),
              f"calls table {outcome} != intervals {outcome}_n")
    wait = calls["wait_s"].to_numpy()
    check(bool(np.isfinite(wait).all() and (wait >= 0).all()), "a wait is negative or missing")
    answered = (calls["outcome"] == "answered").to_numpy()
    check(bool((calls["handle_s"].to_numpy()[answered] > 0).all()), "an answered call has no handle time")
    check(int((answered & (wait <= case.threshold_s)).sum()) == intervals["answered_in_sl_n"].sum(),
          "calls answered within T != answered_in_sl_n")
    blocked = (calls["outcome"] == "blocked").to_numpy()
    check(bool((wait[blocked] == 0).all()), "a blocked call waited")
    check(int((~blocked & (wait > 0)).sum()) == intervals["queued_n"].sum(), "calls that waited != queued_n")
    if case.patience_s is None:
        check(intervals["abandoned_n"].sum() == 0, "abandonment without patience")
    if case.lines is None:
        check(intervals["blocked_n"].sum() == 0, "blocking without lines")
    elif case.lines == case.servers:
        check(intervals["queued_n"].sum() == 0 and (wait == 0).all(), "a call waited with lines == servers")
    return problems


@functools.cache
def run_case(case_id: str) -> CaseRun:
    """Simulate every replication of a case once per session; keep only what the tests use."""
    case = CASE_BY_ID[case_id]
    scenario = scenario_from_dict(scenario_dict(case), source=f"<{case.id}>")
    settings = RunSettings(reps=case.reps, seed=SEED, days=case.hours / 24, warmup_h=case.warmup_h)
    totals, within, interval_offered, window_counts, problems = [], [], [], [], []
    for rep in range(case.reps):
        result = simulate(scenario, settings, rep)
        intervals, calls = result.intervals, result.calls
        totals.append(period_totals(intervals))
        problems += check_replication(case, intervals, calls)
        answered = calls["outcome"] == "answered"
        within.append({t: float((answered & (calls["wait_s"] <= t)).sum()) for t in case.wait_curve_s})
        interval_offered.append(intervals["offered_n"].to_numpy())
        if case.window_s is not None:
            edges = np.arange(case.warmup_h * 3600.0, case.hours * 3600.0 + 1e-6, case.window_s)
            window_counts.append(np.histogram(calls["arrival_s"], bins=edges)[0])
    return CaseRun(pd.DataFrame(totals), pd.DataFrame(within, columns=list(case.wait_curve_s)),
                   interval_offered, window_counts, problems)


# --- the statistical comparison -----------------------------------------------------------------


def precision_bound(metric: str, theory: float) -> float:
    """Largest acceptable crit * se: 20 % of the value (of its complement for a fraction near 1),
    but never below one percentage point for fractions or 0.5 s for ASA."""
    if metric == "asa":
        return max(0.2 * theory, 0.5)
    return max(0.2 * min(theory, 1.0 - theory), 0.01)


def assert_agrees(label: str, values: np.ndarray, theory: float, metric: str) -> float:
    """Check the mean of per-replication ``values`` against ``theory``; returns the z-score."""
    reps = len(values)
    mean = float(np.mean(values))
    se = float(np.std(values, ddof=1)) / math.sqrt(reps)
    crit = critical_t(reps)
    floor = TINY if theory < TINY else 0.0
    z = (mean - theory) / se if se > 0 else (0.0 if mean == theory else math.inf)
    detail = f"{label}: sim {mean:.6g} +- {se:.3g} (se, {reps} reps), theory {theory:.6g}, z = {z:.2f}"
    assert crit * se <= precision_bound(metric, theory), (
        f"{detail}: too imprecise to test (crit {crit:.2f} x se > {precision_bound(metric, theory):.3g})")
    assert abs(mean - theory) <= crit * se + floor, f"{detail}, beyond the critical {crit:.2f}"
    return z


@pytest.mark.parametrize(("case_id", "metric"), params(THEORY_PARAMS, "{}-{}"))
def test_matches_theory(case_id: str, metric: str) -> None:
    case = CASE_BY_ID[case_id]
    attribute = METRICS[metric][0]
    theory = getattr(case.theory(), attribute)
    values = rep_metrics(run_case(case_id).totals)[metric].to_numpy()
    assert_agrees(f"{case_id} {metric}", values, theory, metric)


@pytest.mark.parametrize("case_id", params([(case.id,) for case in CASES]))
def test_conservation_and_structure(case_id: str) -> None:
    run = run_case(case_id)
    assert not run.problems, "\n".join(run.problems)


@pytest.mark.parametrize(("case_id", "threshold_s"), params(CURVE_PARAMS, "{}-T{:g}"))
def test_waiting_time_distribution(case_id: str, threshold_s: float) -> None:
    """Answered within t, from the per-call waits, over several t: the heavy one-agent queue
    (waits of many handle times) and the 300-agent queue (waits of a few seconds) agree with the
    whole theoretical distribution, not only at the scenario's T."""
    case = CASE_BY_ID[case_id]
    run = run_case(case_id)
    values = (run.within[threshold_s] / run.totals["offered_n"]).to_numpy()
    if threshold_s == case.threshold_s:  # the calls table and the intervals table agree exactly
        np.testing.assert_array_equal(run.within[threshold_s], run.totals["answered_in_sl_n"])
    theory = case.theory(threshold_s).service_level_frac
    assert_agrees(f"{case_id} answered within {threshold_s:g} s", values, theory, "service_level")


@pytest.mark.parametrize("case_id", params([(c,) for c in POISSON_CASES]))
def test_arrival_count_mean(case_id: str) -> None:
    """The arrivals of all replications together are exactly Poisson(rate x measured time x reps)."""
    case = CASE_BY_ID[case_id]
    total = int(run_case(case_id).totals["offered_n"].sum())
    expected = case.rate_per_h / 3600.0 * case.measured_s * case.reps
    alpha = FAMILY_ALPHA / N_COMPARISONS
    low, high = stats.poisson.ppf([alpha / 2, 1 - alpha / 2], expected)
    assert (high - low) / expected <= 0.05, f"{case_id}: too few arrivals to test their mean"
    assert low <= total <= high, (
        f"{case_id}: {total} arrivals, expected {expected:.0f} (acceptance range {low:.0f}-{high:.0f})")


@pytest.mark.parametrize(("case_id", "per"), params(POISSON_PARAMS, "{}-per_{}"))
def test_arrival_count_variance(case_id: str, per: str) -> None:
    """Counts per reporting interval, and per shorter window (arrival times within an interval
    must be uniform too), have the variance of Poisson counts: rate x length, like their mean.

    For n iid Poisson(m) counts, Var(s^2) = m / n + 2 m^2 / (n - 1). The ratio s^2 / m is compared
    with a chi-square of nu degrees of freedom over nu, nu matched to that variance: this keeps the
    skew of the sampling distribution, which a normal approximation would miss in the far tails.
    """
    case = CASE_BY_ID[case_id]
    run = run_case(case_id)
    counts = np.concatenate(run.interval_offered if per == "interval" else run.window_counts)
    length_s = case.interval_min * 60.0 if per == "interval" else case.window_s
    mean = case.rate_per_h / 3600.0 * length_s
    n = counts.size
    nu = 2.0 / (1.0 / (n * mean) + 2.0 / (n - 1))
    alpha = FAMILY_ALPHA / N_COMPARISONS
    low, high = (stats.chi2.ppf(q, nu) / nu for q in (alpha / 2, 1 - alpha / 2))
    ratio = float(np.var(counts, ddof=1)) / mean
    label = f"{case_id}, {n} counts of {length_s:g} s"
    assert high - low <= 0.3, f"{label}: too few counts to test their variance"
    assert low <= ratio <= high, (
        f"{label}: variance / (rate x length) = {ratio:.4f}, outside [{low:.4f}, {high:.4f}]")
