"""Distributions of handle time, patience and repeat delay.

Every distribution is a frozen dataclass that knows its analytic ``mean_s`` and ``variance_s2``
(used by tests and by the Erlang comparisons) and draws a batch of values from a
``numpy.random.Generator`` passed in by the caller: no distribution owns a random state.
All values are in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Exponential:
    """Exponential with mean ``mean_s`` (seconds)."""

    mean_s: float

    @property
    def variance_s2(self) -> float:
        return self.mean_s**2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean_s, n)


@dataclass(frozen=True)
class Lognormal:
    """Lognormal given its own mean ``mean_s`` (seconds) and coefficient of variation ``cv``."""

    mean_s: float
    cv: float

    @property
    def variance_s2(self) -> float:
        return (self.cv * self.mean_s) ** 2

    def _log_params(self) -> tuple[float, float]:
        sigma2 = math.log1p(self.cv**2)
        return math.log(self.mean_s) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        mu, sigma = self._log_params()
        return rng.lognormal(mu, sigma, n)


@dataclass(frozen=True)
class Gamma:
    """Gamma given its mean ``mean_s`` (seconds) and coefficient of variation ``cv``."""

    mean_s: float
    cv: float

    @property
    def variance_s2(self) -> float:
        return (self.cv * self.mean_s) ** 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_s / shape, n)


@dataclass(frozen=True)
class Deterministic:
    """Always ``value_s`` seconds (draws nothing from the generator)."""

    value_s: float

    @property
    def mean_s(self) -> float:
        return self.value_s

    @property
    def variance_s2(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value_s, dtype=float)


@dataclass(frozen=True)
class Uniform:
    """Uniform on [``low_s``, ``high_s``] seconds."""

    low_s: float
    high_s: float

    @property
    def mean_s(self) -> float:
        return (self.low_s + self.high_s) / 2

    @property
    def variance_s2(self) -> float:
        return (self.high_s - self.low_s) ** 2 / 12

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low_s, self.high_s, n)


@dataclass(frozen=True)
class Empirical:
    """Resamples (with replacement, equal weights) from observed ``values_s`` (seconds)."""

    values_s: tuple[float, ...]

    @property
    def mean_s(self) -> float:
        return float(np.mean(self.values_s))

    @property
    def variance_s2(self) -> float:
        return float(np.var(self.values_s))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.asarray(self.values_s, dtype=float)[rng.integers(0, len(self.values_s), n)]


@dataclass(frozen=True)
class Never:
    """Infinite duration: a patience that never runs out."""

    @property
    def mean_s(self) -> float:
        return math.inf

    @property
    def variance_s2(self) -> float:
        return math.inf

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, math.inf)


Distribution = Exponential | Lognormal | Gamma | Deterministic | Uniform | Empirical | Never

#: TOML ``dist`` name -> (class, {TOML key: constructor argument}).
DISTRIBUTIONS: dict[str, tuple[type[Distribution], dict[str, str]]] = {
    "exponential": (Exponential, {"mean_s": "mean_s"}),
    "lognormal": (Lognormal, {"mean_s": "mean_s", "cv": "cv"}),
    "gamma": (Gamma, {"mean_s": "mean_s", "cv": "cv"}),
    "deterministic": (Deterministic, {"value_s": "value_s"}),
    "uniform": (Uniform, {"low_s": "low_s", "high_s": "high_s"}),
    "empirical": (Empirical, {"values_s": "values_s"}),
    "never": (Never, {}),
}
