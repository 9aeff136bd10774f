"""Time-varying arrivals: per-interval counts follow the profile, weekday factors and daily noise."""

from __future__ import annotations

import numpy as np
from builders import pool, scenario

from sim.arrivals import first_contacts

# |z| bound per comparison, each z = (estimate - expected) / its standard error (given where used).
# Two-sided, near-normal: a false alarm has probability 6.8e-6 per comparison, < 7e-4 over the 99
# below (96 open hours of the week, the offset, the daily mean and variance). The seeds are fixed,
# so nothing can flake; with them the largest hourly |z| is 2.9 and the offset's 0.9.
Z = 4.5

PROFILE = [0, 0, 0, 0, 0, 0, 10, 30, 60, 90, 100, 95, 80, 85, 90, 80, 60, 40, 30, 20, 10, 5, 0, 0]
WEEKDAYS = [1.0, 1.1, 1.0, 0.9, 1.2, 0.5, 0.0]


def test_per_interval_counts_match_the_profile_and_weekday_factors():
    scn = scenario([pool("a", 1)], profile_per_h=PROFILE, weekday_factors=WEEKDAYS)
    weeks = 40
    calls = first_contacts(scn, seed=3, rep=0, horizon_s=weeks * 7 * 86400.0)
    hour_of_week = (calls.arrival_s // 3600).astype(int) % 168
    counts = np.bincount(hour_of_week, minlength=168)
    expected = np.array([PROFILE[h % 24] * WEEKDAYS[h // 24] for h in range(168)]) * weeks
    zero = expected == 0
    assert counts[zero].sum() == 0  # closed hours and Sundays get no call at all
    # Poisson: the count of an hour summed over `weeks` weeks has variance equal to its mean.
    z = (counts[~zero] - expected[~zero]) / np.sqrt(expected[~zero])
    assert np.abs(z).max() < Z
    # Arrivals are uniform within an interval: the mean position in the hour is 1/2 (sd 1/sqrt(12 n)).
    offset = (calls.arrival_s % 3600) / 3600
    assert abs(offset.mean() - 0.5) < Z / np.sqrt(12 * len(offset))


def test_daily_noise_overdisperses_daily_volumes_with_mean_one():
    # Daily totals: N | F ~ Poisson(F m), F ~ Gamma(mean 1, cv): E N = m, Var N = m + cv^2 m^2.
    cv, rate, days = 0.25, 100.0, 400
    scn = scenario([pool("a", 1)], calls_per_h=rate, daily_cv=cv)
    calls = first_contacts(scn, seed=5, rep=0, horizon_s=days * 86400.0)
    totals = np.bincount((calls.arrival_s // 86400).astype(int), minlength=days)
    m = rate * 24
    var = m + cv**2 * m**2
    assert abs(totals.mean() - m) < Z * np.sqrt(var / days)
    # The sample variance of n iid values has sd about var * sqrt(2 / (n - 1)) (near-normal daily totals).
    assert abs(totals.var(ddof=1) - var) < Z * var * np.sqrt(2 / (days - 1))
    assert totals.var(ddof=1) > 3 * m  # far from Poisson (variance = mean)


def test_call_types_draw_from_their_own_streams():
    one = scenario([pool("a", 1)], calls_per_h=50.0)
    calls = first_contacts(one, seed=1, rep=0, horizon_s=86400.0)
    again = first_contacts(one, seed=1, rep=0, horizon_s=86400.0)
    other_rep = first_contacts(one, seed=1, rep=1, horizon_s=86400.0)
    np.testing.assert_array_equal(calls.arrival_s, again.arrival_s)
    assert not np.array_equal(calls.arrival_s[:10], other_rep.arrival_s[:10])
    assert np.all(np.diff(calls.arrival_s) >= 0)
