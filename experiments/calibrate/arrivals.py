"""Arrival rates per interval of the day and weekday, and the day-to-day busyness ``daily_cv``.

bposim's demand (models/demand.py, sim/arrivals.py): on day j (weekday d) the rate in interval k
is ``profile[k] × weekday_factors[d] × G_j``, G_j a gamma factor of mean 1 and coefficient of
variation ``daily_cv`` drawn once per day, and calls are Poisson given the rates. So the day's total
N_j is Poisson given G_j with mean Λ_d G_j, and

    Var N_j = Λ_d + daily_cv² Λ_d²       (Poisson part + busyness part).

``daily_cv`` is estimated by the method of moments on the daily totals of each weekday, after
removing the Poisson part: daily_cv² = pooled over weekdays of (s²_d − m_d) / m_d², weighted by
the days − 1 of each weekday, floored at 0; its interval inverts a parametric bootstrap (see
:func:`daily_cv`). The rates by weekday and interval come with Poisson
intervals widened for the busyness. The scenario's separable form (one profile × a weekday factor)
is the Poisson maximum-likelihood fit of that product to the counts, with factors of mean 1; when
the weekdays' shapes differ (a center that closes early on Fridays), the scenario takes each
weekday's own profile instead (scenario_writer.py).
All rates are calls per hour, intervals in minutes of the log's local clock, weekday 0 = Monday.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from experiments.errors import CallLogError

MAX_SHAPE_TV = 0.1
SHAPE_ALPHA = 0.001
BOOTSTRAP_N = 400
GRID_N = 61
MIN_DAYS = 7


@dataclass(frozen=True)
class Arrivals:
    """Arrival estimates of a log.

    Attributes:
        rates: one row per (weekday, interval): ``weekday``, ``interval``, ``interval_start_h``,
            ``days_n`` (days of that weekday in the log), ``calls_n``, ``calls_per_h`` and its
            interval ``low_per_h``, ``high_per_h``, and ``fitted_per_h`` (profile × weekday factor).
        profile_per_h: the scenario's profile, one rate per interval of the day.
        weekday_factors: 7 multipliers, Monday first, mean 1 over the weekdays in the log (0 for a
            weekday with no call in the log).
        daily: one row per day: ``date``, ``weekday``, ``calls_n``, ``expected_n`` (its weekday's mean)
            and ``low_n``, ``high_n``: the fitted spread of a day's total (gamma-Poisson, ``level``).
        daily_cv, daily_cv_low, daily_cv_high: day-to-day busyness beyond Poisson and its interval.
        interval_min: interval length (min).
        shape_tv, shape_pvalue: how far the weekdays' profile shapes are from one common shape (the
            largest total-variation distance, 0..1) and the p-value of a chi-square test of
            homogeneity (valid under daily busyness: given a day's total, its calls fall in the
            intervals multinomially).
    """

    rates: pd.DataFrame
    profile_per_h: tuple[float, ...]
    weekday_factors: tuple[float, ...]
    daily: pd.DataFrame
    daily_cv: float
    daily_cv_low: float
    daily_cv_high: float
    interval_min: int
    shape_tv: float
    shape_pvalue: float

    @property
    def separable(self) -> bool:
        """Whether one profile shape fits every weekday: the largest total-variation distance
        between a weekday's shape and the common one is at most ``MAX_SHAPE_TV``, or the difference
        is not significant (p >= ``SHAPE_ALPHA``, chi-square test of homogeneity)."""
        return self.shape_tv <= MAX_SHAPE_TV or self.shape_pvalue >= SHAPE_ALPHA

    def weekday_profile(self, weekday: int) -> tuple[float, ...]:
        """Calls per hour per interval of ``weekday`` (0 = Monday) as observed (mean over its days)."""
        rates = self.rates[self.rates["weekday"] == weekday]["calls_per_h"].fillna(0.0)
        return tuple(float(v) for v in rates)


def interval_counts(arrival: pd.Series, interval_min: int = 30) -> pd.DataFrame:
    """Calls per interval from arrival times (datetime64): ``start`` (the interval's start) and
    ``calls_n``, intervals without calls left out."""
    counts = arrival.dt.floor(f"{interval_min}min").value_counts().sort_index()
    return pd.DataFrame({"start": counts.index, "calls_n": counts.to_numpy(np.int64)})


def estimate_arrivals(arrival: pd.Series, interval_min: int = 30, level: float = 0.95, seed: int = 0) -> Arrivals:
    """Estimate the arrival model from the arrival times (datetime64, local clock) of first contacts."""
    return estimate_from_counts(interval_counts(arrival, interval_min), interval_min, level, seed)


def estimate_from_counts(counts: pd.DataFrame, interval_min: int = 30, level: float = 0.95, seed: int = 0) -> Arrivals:
    """Estimate the arrival model from calls per interval: ``start`` (datetime64, local clock, on a
    grid that divides ``interval_min``, e.g. 5-minute counts) and ``calls_n``.

    The days observed are the days with at least one call (a day without any is taken as not
    observed: a closed day or missing data, not a day of no demand); a weekday never observed has
    a weekday factor of 0. The days from the first to the last must span at least a week.
    """
    if 1440 % interval_min:
        raise CallLogError(f"interval_min: must divide 1440, got {interval_min}")
    start = pd.to_datetime(counts["start"])
    span = (start.max().normalize() - start.min().normalize()).days + 1 if len(start) else 0
    if span < MIN_DAYS:
        raise CallLogError(f"the log covers {span} day(s); calibrating needs at least {MIN_DAYS} (a whole week)")
    calls = counts["calls_n"].to_numpy(float)
    day = start.dt.normalize()
    daily = (pd.DataFrame({"date": day, "calls_n": calls}).groupby("date", as_index=False)["calls_n"].sum()
             .query("calls_n > 0").reset_index(drop=True))
    daily["weekday"] = daily["date"].dt.day_of_week
    daily = daily[["date", "weekday", "calls_n"]]
    days_n = daily.groupby("weekday").size().reindex(range(7), fill_value=0).to_numpy()
    minutes = start.dt.hour * 60 + start.dt.minute
    per_day = 1440 // interval_min
    table = np.zeros((7, per_day))
    np.add.at(table, (start.dt.day_of_week.to_numpy(), (minutes // interval_min).to_numpy()), calls)
    cv, low, high = daily_cv(daily, level, seed)
    hours = interval_min / 60
    profile, factors = _separable(table, days_n, hours)
    _add_spread(daily, cv, level)
    rates = _rates_table(table, days_n, hours, cv, level)
    rates["fitted_per_h"] = (np.asarray(factors)[:, None] * np.asarray(profile)[None, :]).ravel()
    return Arrivals(rates, profile, factors, daily, cv, low, high, interval_min, *_shape_test(table))


def _shape_test(counts: np.ndarray) -> tuple[float, float]:
    """(largest total-variation distance of a weekday's shape from the pooled one, chi-square p-value)."""
    rows = counts[counts.sum(axis=1) > 0]
    rows = rows[:, rows.sum(axis=0) > 0]
    if len(rows) < 2:
        return 0.0, 1.0
    pooled = rows.sum(axis=0) / rows.sum()
    shapes = rows / rows.sum(axis=1, keepdims=True)
    tv = float(0.5 * np.abs(shapes - pooled).sum(axis=1).max())
    expected = rows.sum(axis=1, keepdims=True) * pooled
    chi2 = float(((rows - expected) ** 2 / expected).sum())
    df = (rows.shape[0] - 1) * (rows.shape[1] - 1)
    return tv, float(stats.chi2.sf(chi2, df)) if df > 0 else 1.0


def _add_spread(daily: pd.DataFrame, cv: float, level: float) -> None:
    """Add ``expected_n`` (the weekday's mean daily total) and the fitted day-to-day spread:
    ``low_n``, ``high_n``, the central ``level`` range of a gamma-Poisson day with that mean and ``cv``."""
    mean = daily["weekday"].map(daily.groupby("weekday")["calls_n"].mean()).to_numpy(float)
    alpha = 1 - level
    if cv > 0:
        size = 1 / cv**2
        low, high = (stats.nbinom.ppf(q, size, size / (size + mean)) for q in (alpha / 2, 1 - alpha / 2))
    else:
        low, high = (stats.poisson.ppf(q, mean) for q in (alpha / 2, 1 - alpha / 2))
    daily["expected_n"], daily["low_n"], daily["high_n"] = mean, low, high


def _separable(counts: np.ndarray, days_n: np.ndarray, hours: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Poisson MLE of rate[d, k] = factor[d] × profile[k] (closed form), factors of mean 1."""
    present = days_n > 0
    per_day = np.where(present, counts.sum(axis=1) / np.maximum(days_n, 1), 0.0)
    factors = np.where(present, per_day / per_day[present].mean(), 0.0) if per_day.any() else np.ones(7)
    exposure = float((days_n * factors).sum()) * hours
    profile = counts.sum(axis=0) / exposure
    return tuple(float(v) for v in profile), tuple(float(v) for v in factors)


def _rates_table(counts: np.ndarray, days_n: np.ndarray, hours: float, cv: float, level: float) -> pd.DataFrame:
    """Rates per (weekday, interval): exact Poisson interval, widened by sqrt(1 + cv² × mean per day)."""
    weekday, interval = np.meshgrid(np.arange(7), np.arange(counts.shape[1]), indexing="ij")
    c = counts.ravel()
    alpha = 1 - level
    low = np.where(c > 0, stats.chi2.ppf(alpha / 2, 2 * c) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * c + 2) / 2
    days = np.repeat(days_n, counts.shape[1]).astype(float)
    widen = np.sqrt(1 + cv**2 * c / np.maximum(days, 1))
    low, high = np.maximum(c - widen * (c - low), 0.0), c + widen * (high - c)
    scale = np.where(days > 0, 1 / (np.maximum(days, 1) * hours), np.nan)
    return pd.DataFrame({"weekday": weekday.ravel(), "interval": interval.ravel(),
                         "interval_start_h": interval.ravel() * hours, "days_n": days.astype(np.int64),
                         "calls_n": c.astype(np.int64), "calls_per_h": c * scale,
                         "low_per_h": low * scale, "high_per_h": high * scale})


def daily_cv(daily: pd.DataFrame, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(daily_cv, low, high) from the daily totals (``weekday``, ``calls_n``); NaN interval, and 0,
    when no weekday has two days in the log.

    The interval is a Neyman construction by parametric bootstrap: the values of daily_cv (on a
    grid) under which the estimate is within the central ``level`` of its simulated distribution
    (gamma-Poisson days with the observed weekday means). Unlike a percentile bootstrap it covers
    a scale parameter from a handful of days, and it reaches 0 when Poisson noise may explain all.
    """
    groups = [g.to_numpy(float) for _, g in daily.groupby("weekday")["calls_n"] if len(g) >= 2 and g.sum() > 0]
    if not groups:
        return 0.0, math.nan, math.nan
    cv = float(_moments_cv([g[None, :] for g in groups])[0])
    grid = np.linspace(0.0, 3 * cv + 0.2, GRID_N)
    alpha = 1 - level
    inside = np.zeros(GRID_N, dtype=bool)
    for i, candidate in enumerate(grid):
        rng = np.random.Generator(np.random.PCG64(seed))
        fake = []
        for g in groups:
            shape = (BOOTSTRAP_N, len(g))
            factor = rng.gamma(1 / candidate**2, candidate**2, shape) if candidate > 0 else np.ones(shape)
            fake.append(rng.poisson(g.mean() * factor).astype(float))
        low, high = np.quantile(_moments_cv(fake), [alpha / 2, 1 - alpha / 2])
        inside[i] = low <= cv <= high
    if not inside.any():
        return cv, math.nan, math.nan
    step = grid[1] - grid[0]
    return cv, float(max(grid[inside].min() - step / 2, 0.0)), float(grid[inside].max() + step / 2)


def _moments_cv(groups: list[np.ndarray]) -> np.ndarray:
    """Pooled method-of-moments daily_cv of per-weekday daily totals: each array (replicates, days of
    one weekday, >= 2); one estimate per replicate (row)."""
    num = np.zeros(groups[0].shape[0])
    den = 0.0
    for g in groups:
        m = g.mean(axis=1)
        k = g.shape[1] - 1
        num += np.where(m > 0, k * (g.var(axis=1, ddof=1) - m) / np.maximum(m, 1e-300) ** 2, 0.0)
        den += k
    out: np.ndarray = np.sqrt(np.maximum(num / den, 0.0))
    return out
