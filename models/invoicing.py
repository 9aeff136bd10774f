"""One billing month's invoice under a :class:`~models.contracts.Contract`: the arithmetic.

1. :func:`billed_increments` / :func:`billed_minutes` turn the billed times (handle or talk time,
   seconds) of the answered calls of one billing month into billed minutes (rounding and wrap-up
   included);
2. :func:`invoice` turns billed minutes (and the month's service level) into invoice lines.

Units: times in seconds, billed time in minutes, prices in the scenario's one currency (``_cost``),
fractions in 0..1. Every function refuses (``ValueError``) a contract that fails validation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.contracts import REL_EPS, SLA, Contract, num_text, require_valid


@dataclass(frozen=True)
class InvoiceLines:
    """The lines of one billing month's invoice (all ``_cost`` in the scenario's currency).

    Attributes:
        billed_min: Billed minutes priced (min).
        fixed_cost: ``monthly_fee * month_frac``.
        usage_cost: Minute charges after the included minutes, by tier.
        floor_cost: Top-up to the pro-rated monthly minimum (>= 0).
        credit_cost: SLA credit (<= 0).
        invoice_cost: ``fixed_cost + usage_cost + floor_cost + credit_cost``, always >= 0.
        service_level_frac: The service level the SLA was judged on (0..1); nan if the contract has
            no SLA or the month had no calls.
    """

    billed_min: float
    fixed_cost: float
    usage_cost: float
    floor_cost: float
    credit_cost: float
    invoice_cost: float
    service_level_frac: float


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
) -> InvoiceLines:
    """The invoice for one billing month.

    Every monthly quantity (fee, included minutes, tier bounds, minimum) is pro-rated by
    ``month_frac``, so a one-week run is priced consistently with a full month. Usage: billable =
    ``max(0, billed_min - included_min * frac)``, priced flat or by tier (tier ``i`` covers
    billable minutes in ``(bound_{i-1} * frac, bound_i * frac]``). Subtotal = fixed + usage; floor =
    ``max(0, min_monthly * frac - subtotal)``. If the SLA target is missed, the credit is
    ``-(subtotal + floor) * min(cap_frac, credit_frac * points_short)``; a month with no calls
    (``service_level_frac`` None or nan) earns no credit.

    Args:
        contract: A valid contract.
        billed_min: Billed minutes of the month, from :func:`billed_minutes` (min, >= 0).
        month_frac: Fraction of the 30-day month covered, in (0, 1].
        service_level_frac: The month's service level (0..1) measured at ``sla.threshold_s``, or
            None/nan if no call was offered.

    Raises:
        ValueError: if the contract is invalid or an argument is out of range.
    """
    require_valid(contract)
    frac = _checked_month_frac(month_frac)
    if not (math.isfinite(billed_min) and billed_min >= 0):
        raise ValueError(f"billed_min: must be a finite number >= 0, got {num_text(billed_min)}")
    sl = _checked_service_level(service_level_frac)  # refused if outside [0, 1], even without an SLA
    fixed = contract.monthly_fee * frac
    billable = max(0.0, billed_min - contract.included_min * frac)
    usage = _usage_cost(contract, billable, frac)
    floor = max(0.0, contract.min_monthly * frac - (fixed + usage))
    credit = _sla_credit(contract.sla, fixed + usage + floor, sl)
    return InvoiceLines(
        billed_min=float(billed_min),
        fixed_cost=fixed,
        usage_cost=usage,
        floor_cost=floor,
        credit_cost=credit,
        invoice_cost=fixed + usage + floor + credit,
        service_level_frac=sl if contract.sla is not None else math.nan,
    )


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


def _usage_cost(contract: Contract, billable_min: float, frac: float) -> float:
    """Charge for ``billable_min`` minutes (already net of included minutes), flat or by tier."""
    if not contract.tiers:
        return contract.per_minute * billable_min
    cost = 0.0
    lower = 0.0
    for tier in contract.tiers:
        upper = math.inf if tier.up_to_min is None else tier.up_to_min * frac
        if billable_min <= lower:
            break
        cost += tier.per_minute * (min(billable_min, upper) - lower)
        lower = upper
    return cost


def _sla_credit(sla: SLA | None, base_cost: float, service_level_frac: float) -> float:
    """SLA credit (<= 0) on ``base_cost`` (fixed + usage + floor); 0.0 if met, absent or no calls."""
    if sla is None or math.isnan(service_level_frac) or service_level_frac >= sla.target_frac:
        return 0.0
    points_short = 100.0 * (sla.target_frac - service_level_frac)
    return -(base_cost * min(sla.cap_frac, sla.credit_frac * points_short)) + 0.0
