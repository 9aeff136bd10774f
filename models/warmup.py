"""How long a warm-up repeats and redials need: the flows that come back later build up slowly.

An unresolved call comes back after the pool's ``repeat_after`` delay, an abandoning caller who
redials after the call type's ``redial.after`` delay. Started empty, a run sees these flows at
P(delay <= t) of their steady level at time t (for a steady first-contact rate), so the measured
period starts near steady state only once the warm-up exceeds a high quantile of the delay. The
rule here: the 90th percentile of the longest such delay, so that each flow has reached at least
90% of its steady level when measuring starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from models.distributions import Distribution, Never
from models.scenario import Scenario

LEVEL = 0.9
"""The share of its steady level a later flow must have reached when measuring starts."""
_SAMPLES = 20_000  # draws for a quantile (a fixed, local generator: the same answer every time)


@dataclass(frozen=True)
class WarmupNeed:
    """The warm-up a later flow needs: ``hours``, and which flow (``what``, for messages)."""

    hours: float
    what: str


def delay_quantile_s(dist: Distribution, q: float = LEVEL) -> float:
    """The ``q`` quantile of a delay distribution (s), estimated from a fixed sample of its draws."""
    if isinstance(dist, Never):
        return math.inf
    draws = dist.sample(np.random.Generator(np.random.PCG64(20261201)), _SAMPLES)
    return float(np.quantile(draws, q))


def warmup_need(scenario: Scenario) -> WarmupNeed | None:
    """The longest warm-up the scenario's repeats and redials need, or None if it has neither."""
    reached = {p for ct in scenario.demand for p in ct.reaches}  # a pool split 0 is not reached
    needs = [WarmupNeed(delay_quantile_s(p.repeat_after) / 3600, f"repeat calls of pool {p.name}")
             for p in scenario.pools if p.resolution_frac < 1 and p.name in reached]
    needs += [WarmupNeed(delay_quantile_s(ct.redial.after) / 3600, f"redials of call type {ct.name}")
              for ct in scenario.demand if ct.redial is not None and ct.redial.frac > 0 and ct.redial.max_attempts > 1]
    needs = [n for n in needs if math.isfinite(n.hours)]
    return max(needs, key=lambda n: n.hours) if needs else None


def warmup_warning(scenarios: Iterable[Scenario], warmup_h: float) -> str | None:
    """One line if ``warmup_h`` is shorter than the repeats or redials of any of ``scenarios`` need
    (the longest need is named), else None."""
    found = [(need, scenario) for scenario in scenarios if (need := warmup_need(scenario)) is not None]
    if not found:
        return None
    need, scenario = max(found, key=lambda pair: pair[0].hours)
    if warmup_h >= need.hours:
        return None
    step = scenario.interval_min / 60
    advice = math.ceil(need.hours / step - 1e-9) * step
    return (f"a warm-up of {warmup_h:g} h is short: the {need.what} reach {LEVEL:.0%} of their steady level "
            f"only after {need.hours:.1f} h, so the first measured days see fewer of them; "
            f"use --warmup-h {advice:g} or more")
