"""One billing month's invoice under a :class:`~models.contracts.Contract`: the arithmetic.

1. :func:`billed_increments` / :func:`billed_minutes` turn the billed times (handle or talk time,
   seconds) of the answered calls of one billing month into billed minutes (rounding and wrap-up
   included);
2. :func:`invoice` turns billed minutes, paid hours, answered and resolved counts and the month's
   SLA metrics into invoice lines.

Units: times in seconds, billed time in minutes, prices in the scenario's one currency (``_cost``),
fractions in 0..1. Every function refuses (``ValueError``) a contract that fails validation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from models.contracts import REL_EPS, Contract, num_text, require_valid
from models.sla import SLA_METRICS, adjustment


@dataclass(frozen=True)
class InvoiceLines:
    """The lines of one billing month's invoice (all ``_cost`` in the scenario's currency).

    Attributes:
        billed_min: Billed minutes priced (min).
        fixed_cost: ``monthly_fee * month_frac``.
        usage_cost: Minute charges after the included minutes (flat, or by tier).
        floor_cost: Top-up to the pro-rated monthly minimum (>= 0).
        credit_cost: SLA credits, all terms, after their cap (<= 0).
        invoice_cost: The sum of every ``_cost`` line, always >= 0.
        service_level_frac: The service level the SLA was judged on (0..1); nan if no term judges it
            or the month had no calls.
        hourly_cost: ``per_hour`` × paid agent-hours.
        calls_cost: ``per_call`` × answered calls.
        resolved_cost: ``per_resolved`` × resolved contacts.
        bonus_cost: SLA bonuses, all terms, after their cap (>= 0).
        sla_by_metric: Each judged metric's credit (< 0) or bonus (> 0); they add up to
            ``credit_cost + bonus_cost``.
        tier_n: The tier (1-based) the month's billable minutes reached; 0 without tiers.
    """

    billed_min: float
    fixed_cost: float
    usage_cost: float
    floor_cost: float
    credit_cost: float
    invoice_cost: float
    service_level_frac: float
    hourly_cost: float = 0.0
    calls_cost: float = 0.0
    resolved_cost: float = 0.0
    bonus_cost: float = 0.0
    sla_by_metric: Mapping[str, float] = field(default_factory=dict)
    tier_n: int = 0


# --------------------------------------------------------------------------- billing


def billed_minutes(handle_s: np.ndarray, contract: Contract) -> float:
    """Billed minutes of one month's answered calls.

    Each call bills ``ceil(handle / increment) * increment / 60 + wrap_min_per_call`` minutes. A
    zero-length call bills zero increments (but still the wrap). The ceiling forgives float noise:
    a call exceeding a whole number of increments by at most ``REL_EPS`` (1e-9) of its own length
    is billed that whole number.

    Args:
        handle_s: Handle times of the answered calls as served (s), any shape; empty gives 0.0.
        contract: The (valid) contract whose increment and wrap-up apply.

    Returns:
        Total billed minutes (min).

    Raises:
        ValueError: if the contract is invalid or a handle time is negative or not finite.
    """
    increments = billed_increments(handle_s, contract)
    if increments.size == 0:
        return 0.0
    return minutes_of(float(increments.sum()), increments.size, contract)


def billed_increments(handle_s: np.ndarray, contract: Contract) -> np.ndarray:
    """Number of billing increments of each call (``ceil(handle / increment)``, float noise forgiven).

    Raises:
        ValueError: if the contract is invalid or a handle time is negative or not finite.
    """
    require_valid(contract)
    handle = np.asarray(handle_s, dtype=float).ravel()
    if not np.all(np.isfinite(handle)) or np.any(handle < 0):
        raise ValueError("handle_s: must be finite and >= 0 seconds")
    return np.ceil(handle / contract.billing_increment_s * (1.0 - REL_EPS))


def minutes_of(increments: float, calls: int, contract: Contract) -> float:
    """Billed minutes of ``calls`` answered calls that add up to ``increments`` billing increments."""
    return increments * contract.billing_increment_s / 60.0 + contract.wrap_min_per_call * calls


def invoice(
    contract: Contract,
    billed_min: float,
    month_frac: float = 1.0,
    service_level_frac: float | None = None,
    *,
    paid_h: float = 0.0,
    calls_n: float = 0.0,
    resolved_n: float = 0.0,
    measured: Mapping[str, float] | None = None,
) -> InvoiceLines:
    """The invoice for one billing month.

    Every monthly quantity (fee, included minutes, tier bounds, minimum) is pro-rated by
    ``month_frac``, so a one-week run is priced consistently with a full month. Minutes: billable =
    ``max(0, billed_min - included_min * frac)``, priced flat or by tier (tier ``i`` covers
    billable minutes in ``(bound_{i-1} * frac, bound_i * frac]``; graduated: each minute at its
    tier's price; all-units: every minute at the price of the tier reached). Charges = fixed +
    minutes + ``per_hour * paid_h`` + ``per_call * calls_n`` + ``per_resolved * resolved_n``;
    floor = ``max(0, min_monthly * frac - charges)``. SLA terms (models/sla.py) then credit or
    reward a share of ``charges + floor``; a metric not measured (nan, or no call) has no effect.

    Args:
        contract: A valid contract.
        billed_min: Billed minutes of the month, from :func:`billed_minutes` (min, >= 0).
        month_frac: Fraction of the 30-day month covered, in (0, 1].
        service_level_frac: The month's service level (0..1) at the ``sl_frac`` term's threshold,
            or None/nan if no call was offered.
        paid_h: Paid (scheduled) agent-hours of the pool in the month (h, >= 0).
        calls_n: Calls the pool answered in the month (>= 0).
        resolved_n: Contacts the pool answered and resolved in the month (>= 0).
        measured: The month's other SLA metrics by name (``asa_s``, ``abandon_frac``,
            ``resolution_frac``); absent or nan: not measured.

    Raises:
        ValueError: if the contract is invalid or an argument is out of range.
    """
    require_valid(contract)
    frac = _checked_month_frac(month_frac)
    for name, value in (("billed_min", billed_min), ("paid_h", paid_h), ("calls_n", calls_n),
                        ("resolved_n", resolved_n)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name}: must be a finite number >= 0, got {num_text(value)}")
    sl = _checked_service_level(service_level_frac)  # refused if outside [0, 1], even without an SLA
    fixed = contract.monthly_fee * frac
    billable = max(0.0, billed_min - contract.included_min * frac)
    tier = tier_reached(contract, billable, frac)
    usage = _usage_cost(contract, billable, frac, tier)
    units = (contract.per_hour * paid_h, contract.per_call * calls_n, contract.per_resolved * resolved_n)
    charges = fixed + usage + sum(units)
    floor = max(0.0, contract.min_monthly * frac - charges)
    metrics = {**_checked_measured(measured), "sl_frac": sl}
    sla = adjustment(contract.terms, charges + floor, metrics, *contract.caps)
    return InvoiceLines(
        billed_min=float(billed_min), fixed_cost=fixed, usage_cost=usage, floor_cost=floor,
        credit_cost=sla.credit_cost, invoice_cost=charges + floor + sla.credit_cost + sla.bonus_cost,
        service_level_frac=sl if contract.sl_threshold_s is not None else math.nan,
        hourly_cost=units[0], calls_cost=units[1], resolved_cost=units[2], bonus_cost=sla.bonus_cost,
        sla_by_metric=sla.by_metric, tier_n=tier,
    )


def _checked_measured(measured: Mapping[str, float] | None) -> dict[str, float]:
    """The measured SLA metrics, ValueError for an unknown name or a value out of range."""
    out = {}
    for name, value in (measured or {}).items():
        if name not in SLA_METRICS:
            raise ValueError(f"measured: unknown metric {name!r}; allowed: {', '.join(SLA_METRICS)}")
        value = float(value)
        if not math.isnan(value) and not (value >= 0 and (name == "asa_s" or value <= 1.0) and math.isfinite(value)):
            raise ValueError(f"measured.{name}: must be {'>= 0 s' if name == 'asa_s' else 'in [0, 1]'} "
                             f"or nan, got {num_text(value)}")
        out[name] = value
    return out


def _checked_month_frac(month_frac: float) -> float:
    """``month_frac`` if in (0, 1] (noise above 1 up to ``REL_EPS`` is clamped to 1), else ValueError."""
    if not (math.isfinite(month_frac) and 0.0 < month_frac <= 1.0 + REL_EPS):
        raise ValueError(f"month_frac: must be in (0, 1], got {num_text(month_frac)}")
    return min(float(month_frac), 1.0)


def _checked_service_level(service_level_frac: float | None) -> float:
    """The service level as a float (nan for None/nan), ValueError if outside [0, 1]."""
    if service_level_frac is None or math.isnan(service_level_frac):
        return math.nan
    if not 0.0 <= service_level_frac <= 1.0:
        raise ValueError(
            f"service_level_frac: must be in [0, 1] (or None/nan), got {num_text(service_level_frac)}"
        )
    return float(service_level_frac)


def tier_reached(contract: Contract, billable_min: float, frac: float = 1.0) -> int:
    """The tier (1-based) whose band holds ``billable_min`` (bounds × ``frac``); 0 without tiers.

    Bands are ``(bound_{i-1}, bound_i]``: a volume exactly at a bound is in the lower tier; 0
    minutes are in the first.
    """
    for i, tier in enumerate(contract.tiers, start=1):
        if tier.up_to_min is None or billable_min <= tier.up_to_min * frac:
            return i
    return len(contract.tiers)


def _usage_cost(contract: Contract, billable_min: float, frac: float, tier_n: int) -> float:
    """Charge for ``billable_min`` minutes (already net of included minutes): flat, graduated or all-units."""
    if not contract.tiers:
        return contract.per_minute * billable_min
    if contract.tiers_mode == "all_units":
        return contract.tiers[tier_n - 1].per_minute * billable_min
    cost = 0.0
    lower = 0.0
    for tier in contract.tiers:
        upper = math.inf if tier.up_to_min is None else tier.up_to_min * frac
        if billable_min <= lower:
            break
        cost += tier.per_minute * (min(billable_min, upper) - lower)
        lower = upper
    return cost
