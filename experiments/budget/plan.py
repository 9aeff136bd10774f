"""What each (replication, month) of a budget simulates, and at what prices.

Budget month ``m`` (calendar month ``c``) of replication ``r``:

- **forecast** volume factor ``f_m = monthly_factors[c] × (1 + growth) ** (m / 12)`` (models/budget.py);
- **actual** volume factor ``v = f_m × ε``, ``ε`` lognormal with mean 1 and coefficient of variation
  ``forecast_cv``, drawn from stream (seed, r, BUDGET, m): the same whatever the executor, the order
  of tasks, the number of months or replications, and the same in every option with that calendar;
- **staffing** is planned on the forecast: every pool's agents in every interval become
  ``ceil(agents × f_m)`` (a plain proportional rule, not an optimised plan); the rates of every call
  type of the scenario's own client are × ``v`` (the calendar is ours: another client's call types,
  at a vendor serving several, keep their rates);
- **prices** of a BPO contract are × ``(1 + escalation_per_year_frac) ** (m / 12)`` (smoothed monthly
  compounding; a contract whose price steps once a year would change only at the anniversary);
  in-house wages and every pool's overhead are not escalated;
- the month is **sampled**: a 3-day warm-up, then ``sampled_days`` measured days (7 = one of each
  weekday), as replication ``r × MONTH_STRIDE + m`` of the scaled scenario (its own streams;
  common random numbers across options with the same seed). Counts are scaled to the month by
  ``days / sampled_days``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from experiments.budget import MAX_MONTHS, SAMPLE_CHOICES
from models.budget import BudgetCalendar
from models.contracts import Contract
from models.scenario import Scenario
from models.settings import RunSettings
from sim import streams

#: the simulated replication of budget replication r, month m is r * MONTH_STRIDE + m
MONTH_STRIDE = 1000
#: days simulated before each sampled month is measured (repeats and redials build up)
WARMUP_DAYS = 3
#: the price fields of a contract, each multiplied by the escalation (and each tier's per_minute)
PRICE_FIELDS = ("monthly_fee", "per_minute", "min_monthly", "per_hour", "per_call", "per_resolved")


@dataclass(frozen=True)
class MonthPlan:
    """One (replication, month) of a budget.

    Attributes:
        rep: budget replication (0, 1, ...).
        month: budget month (0 = ``start_month``).
        calendar_month: 1 (January) .. 12.
        label: ``"Jan"``, ``"Jan+1y"``...
        days_n: days of the calendar month (non-leap year).
        sampled_days_n: days simulated and measured after the warm-up.
        forecast_factor: planned volume / the scenario's demand as written.
        forecast_error: actual / forecast volume (lognormal, mean 1; exactly 1 when forecast_cv is 0).
    """

    rep: int
    month: int
    calendar_month: int
    label: str
    days_n: int
    sampled_days_n: int
    forecast_factor: float
    forecast_error: float

    @property
    def volume_factor(self) -> float:
        """Actual volume / the scenario's demand as written."""
        return self.forecast_factor * self.forecast_error

    @property
    def scale(self) -> float:
        """Days of the month per sampled day: what sampled counts are multiplied by."""
        return self.days_n / self.sampled_days_n

    @property
    def sim_rep(self) -> int:
        """The replication index the sampled month is simulated as."""
        return self.rep * MONTH_STRIDE + self.month


def forecast_error(seed: int, rep: int, month: int, cv: float) -> float:
    """Actual / forecast volume of one (replication, month): lognormal with mean 1 and coefficient
    of variation ``cv`` (1.0, nothing drawn, when ``cv`` is 0)."""
    if cv == 0:
        return 1.0
    sigma2 = math.log1p(cv * cv)
    rng = streams.stream(seed, rep, streams.BUDGET, month)
    return float(rng.lognormal(-sigma2 / 2.0, math.sqrt(sigma2)))


def month_plans(calendar: BudgetCalendar, months: int, reps: int, seed: int, sample: str) -> list[MonthPlan]:
    """Every (replication, month) of a budget, replication by replication.

    ``sample``: one of :data:`SAMPLE_CHOICES` (days measured per month).
    """
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months: must be from 1 to {MAX_MONTHS}, got {months}")
    if sample not in SAMPLE_CHOICES:
        raise ValueError(f"days per month: must be one of {', '.join(SAMPLE_CHOICES)}, got {sample!r}")
    plans = []
    for r in range(reps):
        for m in range(months):
            days = calendar.days_in(m)
            plans.append(MonthPlan(r, m, calendar.calendar_month(m), calendar.label(m), days,
                                   days if sample == "full" else int(sample), calendar.forecast_factor(m),
                                   forecast_error(seed, r, m, calendar.forecast_cv)))
    return plans


def planned_scenario(scenario: Scenario, plan: MonthPlan) -> Scenario:
    """``scenario`` in the plan's month: agents ``ceil(agents × forecast)``, our call types' rates
    × actual volume (another client's unchanged)."""
    def staffed(agents: int) -> int:
        return math.ceil(round(agents * plan.forecast_factor, 9))  # round: 100 × 1.1 is 110, not 111

    pools = tuple(replace(p, agents=tuple(staffed(a) for a in p.agents)) for p in scenario.pools)
    demand = tuple(ct if ct.client else replace(ct, rates_per_h=tuple(rate * plan.volume_factor
                                                                     for rate in ct.rates_per_h))
                   for ct in scenario.demand)
    return replace(scenario, pools=pools, demand=demand)


def sample_settings(plan: MonthPlan, seed: int) -> RunSettings:
    """Run settings of a sampled month: the warm-up, then the sampled days; no calls table."""
    return RunSettings(reps=1, seed=seed, days=WARMUP_DAYS + plan.sampled_days_n, warmup_h=WARMUP_DAYS * 24.0,
                       keep_calls=False)


def escalation_factor(contract: Contract, month: int) -> float:
    """What the contract's prices are multiplied by in budget month ``month``:
    ``(1 + escalation_per_year_frac) ** (month / 12)``."""
    return float((1.0 + contract.escalation_per_year_frac) ** (month / 12.0))


def escalated(contract: Contract, factor: float) -> Contract:
    """``contract`` with every price × ``factor``: the fee, the flat and each tier's price per minute,
    the prices per paid hour, answered call and resolved contact, and the minimum. Included minutes,
    tier bounds, increments and SLA terms (fractions of the invoice) are unchanged."""
    prices = {name: getattr(contract, name) * factor for name in PRICE_FIELDS}
    tiers = tuple(replace(tier, per_minute=tier.per_minute * factor) for tier in contract.tiers)
    return replace(contract, tiers=tiers, **prices)


def escalated_scenario(scenario: Scenario, month: int) -> Scenario:
    """``scenario`` with every BPO contract's prices escalated to budget month ``month``."""
    pools = tuple(replace(p, contract=escalated(p.contract, escalation_factor(p.contract, month)))
                  if p.contract is not None else p for p in scenario.pools)
    return replace(scenario, pools=pools)
