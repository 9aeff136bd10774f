"""Handle time (or talk time and after-call work) of the answered calls: the best family by AIC, or
the empirical distribution when no family fits.

Each supported family (exponential, lognormal, gamma: experiments/calibrate/families.py) is fitted
by maximum likelihood and the one of least AIC is kept, unless its Kolmogorov–Smirnov distance to
the data exceeds ``MAX_KS`` (with thousands of calls every family is "rejected" by a test, so the
rule is a distance a planner would notice, not a p-value), or more than ``MAX_ZERO_FRAC`` of the
values are 0 (after-call work often is): then the scenario resamples the data (``empirical``, at
most ``EMPIRICAL_VALUES`` quantiles). Values of 0 otherwise count as ``MIN_S`` (the families live
on positive times).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from experiments.calibrate.families import Fit, best_fit
from models.distributions import Distribution, Empirical

MAX_KS = 0.05
MAX_ZERO_FRAC = 0.01
MIN_S = 0.5
EMPIRICAL_VALUES = 500
EMPIRICAL_MIN_S = 0.001


@dataclass(frozen=True)
class DurationFit:
    """What a duration column calibrates to.

    Attributes:
        name: the column fitted (``handle_s``, ``talk_s`` or ``acw_s``).
        distribution: what the scenario draws (a fitted family or ``Empirical``).
        best: the family of least AIC; fits: every family fitted.
        ks: Kolmogorov–Smirnov distance of ``best`` to the data.
        values_s: the data (seconds), for the figure.
        method: one line saying how the distribution was chosen.
    """

    name: str
    distribution: Distribution
    best: Fit
    fits: list[Fit]
    ks: float
    values_s: np.ndarray
    method: str


def fit_duration(values_s: np.ndarray, name: str, level: float = 0.95) -> DurationFit:
    """Fit a duration column (seconds, answered calls only, NaN dropped)."""
    x = np.asarray(values_s, dtype=float)
    x = x[np.isfinite(x)]
    zeros = float(np.mean(x <= 0)) if len(x) else 0.0
    best, fits = best_fit(np.maximum(x, MIN_S), level=level)
    ks = float(stats.kstest(np.maximum(x, MIN_S), lambda v: 1 - best.sf(v)).statistic)
    aics = ", ".join(f"{f.family} {f.aic:.1f}" for f in fits)
    if ks <= MAX_KS and zeros <= MAX_ZERO_FRAC:
        return DurationFit(name, best.distribution(), best, fits, ks, x,
                           f"maximum likelihood, least AIC ({aics}); KS distance {ks:.3f}")
    why = f"{zeros:.0%} zeros" if zeros > MAX_ZERO_FRAC else f"best family {best.family} KS distance {ks:.3f} > {MAX_KS}"
    return DurationFit(name, empirical(x), best, fits, ks, x, f"empirical ({why}; AIC {aics})")


def empirical(values_s: np.ndarray, n: int = EMPIRICAL_VALUES) -> Empirical:
    """At most ``n`` evenly spaced quantiles of ``values_s`` (s), resampled with equal weights; a
    scenario's values are > 0, so 0 is written as ``EMPIRICAL_MIN_S``."""
    x = np.sort(np.asarray(values_s, dtype=float))
    if len(x) > n:
        x = np.quantile(x, (np.arange(n) + 0.5) / n)
    return Empirical(tuple(max(round(float(v), 3), EMPIRICAL_MIN_S) for v in x))


def fit_handle(log: pd.DataFrame, level: float = 0.95) -> list[DurationFit]:
    """Handle time of the answered calls of a tidy call log: ``[talk, acw]`` fits when the log has
    both ``talk_s`` and ``acw_s`` (bposim draws them independently), else ``[handle]``."""
    answered = log[log["outcome"] == "answered"]
    if {"talk_s", "acw_s"} <= set(log.columns) and answered[["talk_s", "acw_s"]].notna().all().all():
        return [fit_duration(answered["talk_s"].to_numpy(float), "talk_s", level),
                fit_duration(answered["acw_s"].to_numpy(float), "acw_s", level)]
    return [fit_duration(answered["handle_s"].to_numpy(float), "handle_s", level)]


def duration_curves(fit: DurationFit, points: int = 200) -> pd.DataFrame:
    """The data's empirical CDF and every fitted family's CDF, for the figure: columns ``time_s``,
    ``cdf_frac``, ``source`` (``data`` or a family) and ``chosen`` (what the scenario draws)."""
    x = np.sort(fit.values_s)
    grid = np.quantile(x, np.linspace(0.0, 1.0, points))
    frames = [pd.DataFrame({"time_s": grid, "cdf_frac": np.searchsorted(x, grid, side="right") / len(x),
                            "source": "data", "chosen": isinstance(fit.distribution, Empirical)})]
    positive = np.maximum(grid, MIN_S)
    for f in fit.fits:
        chosen = f is fit.best and not isinstance(fit.distribution, Empirical)
        frames.append(pd.DataFrame({"time_s": grid, "cdf_frac": 1 - f.sf(positive), "source": f.family,
                                    "chosen": chosen}))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["name"] = fit.name
    return out
