"""Patience from censored waits: Kaplan–Meier and a fitted family.

A caller who abandoned after waiting w had a patience of exactly w (observed); a caller who was
answered after waiting w had a patience longer than w (right-censored: the agent came first). The
mean of the abandoners' waits alone is biased low (the patient callers are answered before their
patience shows), so it is reported only to say so. Kaplan–Meier gives the survival curve without
a family; exponential, lognormal and gamma are fitted by censored maximum likelihood and the one
of least AIC goes into the scenario (Brown et al., JASA 2005, estimate patience the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from experiments.calibrate.families import Fit, best_fit


@dataclass(frozen=True)
class PatienceFit:
    """Patience estimates.

    Attributes:
        best: the family of least AIC (censored maximum likelihood); fits: every family fitted.
        km: the Kaplan–Meier curve (see :func:`kaplan_meier`).
        naive_mean_s: mean wait of the abandoners (s): biased low, shown only to say so.
        abandoned_n, answered_n: observed and censored patiences.
    """

    best: Fit
    fits: list[Fit]
    km: pd.DataFrame
    naive_mean_s: float
    abandoned_n: int
    answered_n: int


def censored_waits(log: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(observed patiences, censored patiences) in seconds: the waits of abandoned and answered calls."""
    abandoned = log["outcome"] == "abandoned"
    return log.loc[abandoned, "wait_s"].to_numpy(float), log.loc[~abandoned, "wait_s"].to_numpy(float)


def kaplan_meier(observed: np.ndarray, censored: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier estimate of P(patience > t).

    Returns one row per distinct observed time: ``time_s``, ``survival_frac`` and its pointwise
    interval ``low_frac``, ``high_frac`` (Greenwood's variance on the log(−log) scale), and
    ``at_risk_n``. A censored time equal to an event time is counted at risk at that time.
    """
    times = np.concatenate([observed, censored])
    events = np.concatenate([np.ones(len(observed)), np.zeros(len(censored))])
    order = np.argsort(times, kind="stable")
    times, events = times[order], events[order]
    unique, first = np.unique(times, return_index=True)
    d = np.add.reduceat(events, first)
    at_risk = len(times) - first
    keep = d > 0
    unique, d, at_risk = unique[keep], d[keep], at_risk[keep]
    surv = np.cumprod(1 - d / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(d / (at_risk * (at_risk - d)))
        z = stats.norm.ppf(0.5 + level / 2)
        se = np.sqrt(greenwood) / np.abs(np.log(surv))
        log_log = np.log(-np.log(surv))
        low = np.exp(-np.exp(log_log + z * se))
        high = np.exp(-np.exp(log_log - z * se))
    low = np.where(surv > 0, np.nan_to_num(low, nan=0.0), 0.0)
    high = np.where(surv > 0, np.nan_to_num(high, nan=1.0), 0.0)
    return pd.DataFrame({"time_s": unique, "survival_frac": surv, "low_frac": low, "high_frac": high,
                         "at_risk_n": at_risk.astype(np.int64)})


#: an abandonment recorded after 0 s happened within this many seconds (a log in whole seconds)
ZERO_BELOW_S = 1.0


def fit_patience(log: pd.DataFrame, level: float = 0.95) -> PatienceFit | None:
    """Patience of a tidy call log, or ``None`` when no call was abandoned (patience: never)."""
    observed, censored = censored_waits(log)
    if len(observed) < 2:
        return None
    # A wait of 0 censors nothing (every patience is > 0): dropped from the fit, which is faster. An
    # abandonment after 0 s was below the log's clock (whole seconds: under 1 s): left-censored there.
    best, fits = best_fit(observed, censored[censored > 0], level=level, zero_below_s=ZERO_BELOW_S)
    return PatienceFit(best, fits, kaplan_meier(observed, censored, level), float(np.mean(observed)),
                       len(observed), len(censored))


def survival_curves(fit: PatienceFit, points: int = 200) -> pd.DataFrame:
    """Kaplan–Meier and every fitted family's survival, for the figure: columns ``time_s``,
    ``survival_frac``, ``low_frac``, ``high_frac`` (NaN for families), ``source`` (``Kaplan–Meier``
    or a family) and ``chosen`` (the family the scenario draws)."""
    km = fit.km.assign(source="Kaplan–Meier", chosen=False).drop(columns="at_risk_n")
    grid = np.linspace(0.0, float(km["time_s"].max()), points)
    frames = [km]
    for f in fit.fits:
        frames.append(pd.DataFrame({"time_s": grid, "survival_frac": f.sf(np.maximum(grid, 1e-9)), "low_frac": np.nan,
                                    "high_frac": np.nan, "source": f.family, "chosen": f is fit.best}))
    return pd.concat(frames, ignore_index=True)
