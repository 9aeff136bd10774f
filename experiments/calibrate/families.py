"""Maximum-likelihood fits of bposim's duration families to data that may be right-censored.

A family is one of bposim's distributions (models/distributions.py) given by its mean (seconds)
and coefficient of variation: ``exponential`` (cv 1), ``lognormal`` and ``gamma``. A fit maximises

    sum over observed values x of log f(x)  +  sum over censored values c of log S(c)

(S the survival function: a censored value says only "longer than c"), optionally with a cured
fraction (a share ``cure`` of the units never has the event, used for repeats and redials:
experiments/calibrate/repeats.py). Intervals are Wald intervals on the log scale of the mean and
cv (logit scale of a fraction) from the observed information (a numerical Hessian), so they are
never negative. Families are compared by AIC = 2 k − 2 log L.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from models.distributions import Distribution, Exponential, Gamma, Lognormal

FAMILIES = ("exponential", "lognormal", "gamma")
#: the search's box: a fit ending near its edge did not converge to an interior maximum
MIN_MEAN_S, MAX_MEAN_S = 1e-6, 1e10
MIN_CV, MAX_CV = 0.02, 20.0


def log_pdf(family: str, x: np.ndarray, mean_s: float, cv: float) -> np.ndarray:
    """Log density of ``family`` (mean ``mean_s`` seconds, coefficient of variation ``cv``) at ``x`` (s)."""
    if family == "exponential":
        return np.asarray(-math.log(mean_s) - x / mean_s, dtype=float)
    if family == "lognormal":
        mu, sigma = _log_params(mean_s, cv)
        z = (np.log(x) - mu) / sigma
        return np.asarray(-np.log(x) - math.log(sigma * math.sqrt(2 * math.pi)) - z**2 / 2, dtype=float)
    shape, scale = _gamma_params(family, mean_s, cv)
    return np.asarray((shape - 1) * np.log(x) - x / scale - special.gammaln(shape) - shape * math.log(scale),
                      dtype=float)


def log_sf(family: str, x: np.ndarray, mean_s: float, cv: float) -> np.ndarray:
    """Log survival function, log P(X > x), of ``family`` at ``x`` (s)."""
    if family == "exponential":
        return np.asarray(-x / mean_s, dtype=float)
    if family == "lognormal":
        mu, sigma = _log_params(mean_s, cv)
        return np.asarray(special.log_ndtr(-(np.log(x) - mu) / sigma), dtype=float)
    shape, scale = _gamma_params(family, mean_s, cv)
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(special.gammaincc(shape, x / scale)), dtype=float)


def _log_params(mean_s: float, cv: float) -> tuple[float, float]:
    sigma2 = math.log1p(cv**2)
    return math.log(mean_s) - sigma2 / 2, math.sqrt(sigma2)


def _gamma_params(family: str, mean_s: float, cv: float) -> tuple[float, float]:
    if family != "gamma":
        raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    shape = 1.0 / cv**2
    return shape, mean_s / shape


@dataclass(frozen=True)
class Fit:
    """A fitted family.

    Attributes:
        family: ``exponential``, ``lognormal`` or ``gamma``.
        mean_s, mean_low_s, mean_high_s: the mean (s) and its interval.
        cv, cv_low, cv_high: the coefficient of variation and its interval (1, 1, 1 for exponential).
        cure_frac, cure_low, cure_high: the fraction that never has the event and its interval (NaN
            when the fit has no cured fraction).
        log_lik: maximised log-likelihood; aic: 2 k − 2 log L (k free parameters).
        n_observed, n_censored: values seen and values censored.
        level: confidence level of the intervals (e.g. 0.95).
    """

    family: str
    mean_s: float
    mean_low_s: float
    mean_high_s: float
    cv: float
    cv_low: float
    cv_high: float
    cure_frac: float
    cure_low: float
    cure_high: float
    log_lik: float
    aic: float
    n_observed: int
    n_censored: int
    level: float

    @property
    def at_edge(self) -> bool:
        """Whether the maximum found is at the edge of the search box (mean or cv within 5% of it)."""
        return not (MIN_MEAN_S * 1.05 < self.mean_s < MAX_MEAN_S / 1.05 and MIN_CV * 1.05 < self.cv < MAX_CV / 1.05)

    def distribution(self) -> Distribution:
        """The fitted bposim distribution (seconds)."""
        if self.family == "exponential":
            return Exponential(self.mean_s)
        return Lognormal(self.mean_s, self.cv) if self.family == "lognormal" else Gamma(self.mean_s, self.cv)

    def sf(self, x: np.ndarray) -> np.ndarray:
        """P(X > x) of the fitted family (without the cured fraction)."""
        return np.exp(log_sf(self.family, np.asarray(x, dtype=float), self.mean_s, self.cv))


def fit(family: str, observed: np.ndarray, censored: np.ndarray | None = None, cure: bool = False,
        level: float = 0.95, zero_below_s: float = 0.0) -> Fit:
    """Fit ``family`` by maximum likelihood to ``observed`` values and right-``censored`` ones (s).

    With ``cure``, a fraction of the units never has the event: an observed value has density
    (1 − cure) f(x) and a censored one probability cure + (1 − cure) S(c). With ``zero_below_s``
    > 0, an observed value of 0 is read as "below the clock's resolution": left-censored, with
    probability F(zero_below_s) (a density at a floor such as 1 ms would weigh on the family's
    left tail for no reason: a log in whole seconds writes 0 for any wait under a second).
    """
    x = np.asarray(observed, dtype=float)
    c = np.zeros(0) if censored is None else np.asarray(censored, dtype=float)
    zeros = int(np.sum(x <= 0)) if zero_below_s > 0 else 0
    x = x[x > 0] if zero_below_s > 0 else x
    if len(x) < 2:
        raise ValueError(f"{family}: need at least 2 observed values, got {len(x)}")
    nll = _negative_log_lik(family, x, c, cure, zeros, zero_below_s)
    start = _start(family, x, c, cure)
    options = {"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000, "maxfev": 8000}
    best = optimize.minimize(nll, start, method="Nelder-Mead", options=options)
    if not best.success:  # a restart from where the simplex collapsed (a cure model's ridge)
        best = optimize.minimize(nll, best.x, method="Nelder-Mead", options=options)
    theta = best.x
    se = _standard_errors(nll, theta)
    z = stats.norm.ppf(0.5 + level / 2)
    mean = _bounds(theta[0], se[0], z, np.exp)
    cv = _bounds(theta[1], se[1], z, np.exp) if family != "exponential" else (1.0, 1.0, 1.0)
    cured = _bounds(theta[-1], se[-1], z, special.expit) if cure else (math.nan,) * 3
    return Fit(family, *mean, *cv, *cured, log_lik=-float(best.fun), aic=2 * len(theta) + 2 * float(best.fun),
               n_observed=len(x) + zeros, n_censored=len(c), level=level)


def best_fit(observed: np.ndarray, censored: np.ndarray | None = None, cure: bool = False, level: float = 0.95,
             families: tuple[str, ...] = FAMILIES, zero_below_s: float = 0.0) -> tuple[Fit, list[Fit]]:
    """The fit of least AIC among ``families``, and every fit (in the order of ``families``).

    A fit that ran into the edge of the search (:attr:`Fit.at_edge`: no interior maximum, as with
    a cure model whose delays spread over months) is chosen only if every fit did.
    """
    fits = [fit(name, observed, censored, cure, level, zero_below_s) for name in families]
    inside = [f for f in fits if not f.at_edge] or fits
    return min(inside, key=lambda f: f.aic), fits


def _negative_log_lik(family: str, x: np.ndarray, c: np.ndarray, cure: bool, zeros: int = 0,
                      zero_below_s: float = 0.0) -> Callable[[np.ndarray], float]:
    def nll(theta: np.ndarray) -> float:
        mean_s = math.exp(theta[0])
        cv = 1.0 if family == "exponential" else math.exp(theta[1])
        if not (MIN_MEAN_S < mean_s < MAX_MEAN_S and MIN_CV < cv < MAX_CV):
            return math.inf
        obs, sf = log_pdf(family, x, mean_s, cv), log_sf(family, c, mean_s, cv)
        p = float(special.expit(theta[-1])) if cure else 0.0
        if cure:
            total = np.sum(obs) + len(x) * math.log1p(-p) if p < 1 else -math.inf
            total += np.sum(np.logaddexp(math.log(p) if p > 0 else -math.inf, math.log1p(-p) + sf))
        else:
            total = np.sum(obs) + np.sum(sf)
        if zeros:
            below = float(log_sf(family, np.array([zero_below_s]), mean_s, cv)[0])
            total += zeros * (math.log(-math.expm1(below)) + (math.log1p(-p) if p < 1 else -math.inf)) \
                if below < 0 else -math.inf
        return -float(total) if np.isfinite(total) else math.inf
    return nll


def _start(family: str, x: np.ndarray, c: np.ndarray, cure: bool) -> np.ndarray:
    """Moment estimates from the observed values (the censored ones only stretch the mean)."""
    mean = float(np.mean(x)) * (1 + len(c) / max(len(x), 1)) ** (0.5 if len(c) else 0)
    cv = float(np.std(x) / np.mean(x)) if np.mean(x) > 0 else 1.0
    theta = [math.log(max(mean, 1e-6))]
    if family != "exponential":
        theta.append(math.log(min(max(cv, 0.05), 20.0)))
    if cure:
        share = len(c) / (len(c) + len(x))
        theta.append(float(special.logit(min(max(share, 0.01), 0.99))))
    return np.array(theta)


def _standard_errors(nll: Callable[[np.ndarray], float], theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Standard errors from the inverse of a central-difference Hessian of ``nll`` at ``theta``."""
    k = len(theta)
    hess = np.zeros((k, k))
    f0 = nll(theta)
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * step, np.eye(k)[j] * step
            if i == j:
                value = (nll(theta + ei) - 2 * f0 + nll(theta - ei)) / step**2
            else:
                value = (nll(theta + ei + ej) - nll(theta + ei - ej) - nll(theta - ei + ej)
                         + nll(theta - ei - ej)) / (4 * step**2)
            hess[i, j] = hess[j, i] = value
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(k, math.inf)
    diag = np.diag(cov)
    return np.where(diag > 0, np.sqrt(np.abs(diag)), math.inf)


def _bounds(value: float, se: float, z: float, back: Callable[[float], float]) -> tuple[float, float, float]:
    """(estimate, low, high) transformed back from a Wald interval on the working scale."""
    if not math.isfinite(se):
        return float(back(value)), math.nan, math.nan
    return float(back(value)), float(back(value - z * se)), float(back(value + z * se))
