"""Demand: call types, their arrival-rate profiles and routing.

A call type (one ``[[demand]]`` table) has a rate per interval of the day, repeated every day and
scaled by a weekday factor and, optionally, by a random daily "busyness" factor (gamma, mean 1,
coefficient of variation ``daily_cv``: real daily volumes are over-dispersed relative to Poisson,
Gans, Koole and Mandelbaum 2003).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.distributions import Distribution, Never

#: Most attempts per contact a scenario may allow (the calls table stores ``attempt`` as int16).
MAX_ATTEMPTS = 32767


@dataclass(frozen=True)
class Redial:
    """Retrials: a caller whose attempt was abandoned or blocked may call again.

    Attributes:
        frac: probability (0..1) that the caller of an abandoned or blocked attempt tries again.
        after: delay from the end of the failed attempt (its abandonment, or the busy signal) to
            the next attempt (seconds).
        max_attempts: most attempts per contact, the first try included (1 = never again).
    """

    frac: float
    after: Distribution
    max_attempts: int


@dataclass(frozen=True)
class CallType:
    """One stream of calls with its own volume, handle time, patience and routing.

    Attributes:
        name: identifier used in results (``call_type`` column).
        rates_per_h: arrival rate in calls per hour for each interval of the day.
        handle: handle time distribution (talk + after-call work, seconds) before a pool's factor;
            ``None`` when ``talk`` and ``acw`` are given instead.
        patience: how long a caller waits before abandoning (seconds); ``Never`` for no abandonment.
        route: pools in preference order (empty when ``split`` is used).
        overflow_after_s: a call becomes eligible for the k-th pool of ``route`` after waiting
            k × this many seconds.
        split: (pool, fraction) pairs; each call goes to one pool drawn with these fractions.
        priority: a pool's waiting calls are served by priority class, higher first, first come
            first served within a class, non-preemptive (0 for all: one FCFS queue per pool).
        weekday_factors: 7 multipliers of the daily profile, Monday first (day 0 is a Monday).
        daily_cv: coefficient of variation of the gamma daily volume factor (0 = none).
        redial: retrials after an abandoned or blocked attempt; ``None`` for none.
        quality: this call type's own costs of poor service, (key, value) pairs of
            :class:`~models.quality.QualityCosts`; the scenario's apply to the other keys.
        talk, acw: talk time and after-call work (seconds, before a pool's factor), drawn
            independently, instead of ``handle``: the handle time is their sum. Both or neither.
        client: the client whose calls these are, billed for them at every BPO pool under its own
            contract; ``""`` is the scenario's own client ("us", named like the scenario).
    """

    name: str
    rates_per_h: tuple[float, ...]
    handle: Distribution | None
    patience: Distribution = Never()
    route: tuple[str, ...] = ()
    overflow_after_s: float = 0.0
    split: tuple[tuple[str, float], ...] = ()
    priority: int = 0
    weekday_factors: tuple[float, ...] = (1.0,) * 7
    daily_cv: float = 0.0
    redial: Redial | None = None
    quality: tuple[tuple[str, float], ...] = ()
    talk: Distribution | None = None
    acw: Distribution | None = None
    client: str = ""

    def __post_init__(self) -> None:
        if (self.talk is None) != (self.acw is None) or (self.talk is None) == (self.handle is None):
            raise ValueError(f"call type {self.name!r}: give either handle, or talk and acw")

    @property
    def mean_handle_s(self) -> float:
        """Mean handle time before a pool's factor (s)."""
        if self.talk is not None and self.acw is not None:
            return self.talk.mean_s + self.acw.mean_s
        assert self.handle is not None
        return self.handle.mean_s

    def draw_handle(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` calls' (talk, handle) times before a pool's factor (s); talk is handle when only
        ``handle`` is given (one draw per call then, so such a call type draws what it always did)."""
        if self.talk is not None and self.acw is not None:
            talk = self.talk.sample(rng, n)
            return talk, talk + self.acw.sample(rng, n)
        assert self.handle is not None
        handle = self.handle.sample(rng, n)
        return handle, handle

    @property
    def pools(self) -> tuple[str, ...]:
        """Every pool this call type may reach."""
        return self.route if self.route else tuple(name for name, _ in self.split)

    @property
    def reaches(self) -> tuple[str, ...]:
        """Every pool a call of this type can reach: its route, or its split's pools with a
        fraction > 0 (a pool split 0 is never drawn)."""
        return self.route if self.route else tuple(name for name, frac in self.split if frac > 0)

    def mean_rate_per_h(self) -> float:
        """Average arrival rate over a week, calls per hour (daily noise has mean 1)."""
        return float(np.mean(self.rates_per_h) * np.mean(self.weekday_factors))

    def day_rates_per_s(self, day: int) -> np.ndarray:
        """Rates (calls/s) per interval of simulated ``day`` before daily noise."""
        return np.asarray(self.rates_per_h) * (self.weekday_factors[day % 7] / 3600.0)

    def daily_factor(self, rng: np.random.Generator) -> float:
        """Draw the busyness factor of one day (1.0 when ``daily_cv`` is 0; draws nothing then)."""
        if self.daily_cv == 0:
            return 1.0
        shape = 1.0 / self.daily_cv**2
        return float(rng.gamma(shape, 1.0 / shape))


def interval_count(interval_min: int) -> int:
    """Intervals per day for an interval length in minutes."""
    return math.ceil(1440 / interval_min)
