"""BPO vendor contracts: how an outsourcer prices the work its agents do on our calls.

A :class:`Contract` is the vendor's price list for one billing month: a monthly fee, a price per
billed minute (flat, or by volume :class:`Tier`, graduated or all-units), minutes included in the
fee, the billing increment each call's handle time is rounded up to, wrap-up minutes billed per
call, a price per paid agent-hour, per answered call or per resolved contact, a monthly minimum,
and SLA terms (models/sla.py) whose missed targets earn the client credits and beaten ones the
vendor bonuses.

Pricing happens after a simulation run, from its result tables, so one run can be re-priced under
many contracts; the arithmetic of one month's invoice is in :mod:`models.invoicing`.

Units: handle times in seconds, quantities of billed time in minutes, prices in the scenario's one
currency (``_cost`` columns), fractions in 0..1 (never percent). A billing month is 30 simulated
days (:data:`models.billing.BILLING_MONTH_S`); a horizon shorter than that is priced pro rata (``month_frac``).

Contracts are not validated on construction, so that a loader can report every problem at once with
:func:`validate_contract`; the functions of :mod:`models.invoicing` refuse (``ValueError``) a
contract that fails validation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import TypeGuard

from models.billing import BILLING_MONTH_S
from models.sla import DEFAULT_CAP_FRAC, SLA, SLATerm, check_terms, describe_terms

__all__ = ["BILLING_BASES", "BILLING_MONTH_S", "SLA", "TIER_MODES", "Contract", "SLATerm", "Tier",
           "validate_contract"]

REL_EPS: float = 1e-9
"""Relative tolerance for float noise: a call whose handle time exceeds a whole number of billing
increments by at most this fraction of its length is billed that whole number (a 120.0000000001 s
call at 60 s increments bills 2 min, not 3). The same tolerance lets ``month_frac`` exceed 1 by noise."""


@dataclass(frozen=True)
class Tier:
    """One band of graduated (marginal) per-minute pricing.

    Attributes:
        up_to_min: Upper bound of the band, in cumulative billable minutes per full month (counted
            after the included minutes); ``None`` means unlimited and is required on the last tier.
        per_minute: Price of each billable minute inside the band (currency/min).
    """

    up_to_min: float | None
    per_minute: float


#: What a contract bills per answered call: its handle time, or its talk time only.
BILLING_BASES = ("handle", "talk")

#: How tiers price a month's minutes: each minute at its own band's rate, or every minute at the
#: rate of the band the month's volume reaches (a volume discount on all units).
TIER_MODES = ("graduated", "all_units")


@dataclass(frozen=True)
class Contract:
    """A BPO vendor's price for one billing month (all monthly quantities per full 30-day month).

    Pricing models, combinable where they make sense (:func:`validate_contract` says which do not):
    a monthly fee; per billed minute (flat ``per_minute`` or ``tiers``); per paid agent-hour
    (``per_hour``, the dedicated-team / FTE model); per answered call (``per_call``); per resolved
    contact (``per_resolved``).

    Attributes:
        monthly_fee: Fixed fee per month (currency/month).
        per_minute: Flat price per billable minute (currency/min); used only when ``tiers`` is empty.
        tiers: Per-minute pricing by volume band; replaces ``per_minute`` (which must then be 0).
            The last tier's ``up_to_min`` must be ``None``.
        included_min: Minutes per month covered by the monthly fee (min/month).
        billing_increment_s: Each answered call's billed time is rounded up to a multiple of this (s).
        wrap_min_per_call: Extra billed minutes per answered call (min/call).
        min_monthly: Invoice floor per month, applied before SLA credits and bonuses (currency/month).
        sla: The classic single SLA on the service level (or None); see ``sla_terms`` for more.
        billing_basis: What a call's billed time is: ``"handle"`` (talk + after-call work) or
            ``"talk"`` (talk time only, as many vendors bill), both as served by the pool.
        tiers_mode: ``"graduated"`` (each minute at its band's rate) or ``"all_units"`` (the
            month's every billable minute at the rate of the band its volume reaches).
        per_hour: Price per paid (scheduled) agent-hour of the pool (currency/h).
        per_call: Price per answered call (currency/call).
        per_resolved: Price per contact the pool answered and resolved (currency/contact).
        sla_terms: SLA terms on several metrics with optional bonuses (models/sla.py); not with ``sla``.
        sla_cap_frac: Cap of all the month's SLA credits together (fraction of the invoice), with ``sla_terms``.
        sla_bonus_cap_frac: Cap of all the month's SLA bonuses together, with ``sla_terms``.
        escalation_per_year_frac: Yearly price escalation (0.03 = +3%/year), used by the budget
            over a contract term; > -1.
    """

    monthly_fee: float = 0.0
    per_minute: float = 0.0
    tiers: tuple[Tier, ...] = ()
    included_min: float = 0.0
    billing_increment_s: float = 1.0
    wrap_min_per_call: float = 0.0
    min_monthly: float = 0.0
    sla: SLA | None = None
    billing_basis: str = "handle"
    tiers_mode: str = "graduated"
    per_hour: float = 0.0
    per_call: float = 0.0
    per_resolved: float = 0.0
    sla_terms: tuple[SLATerm, ...] = ()
    sla_cap_frac: float = DEFAULT_CAP_FRAC
    sla_bonus_cap_frac: float = DEFAULT_CAP_FRAC
    escalation_per_year_frac: float = 0.0

    @property
    def terms(self) -> tuple[SLATerm, ...]:
        """Every SLA term (the classic ``sla`` as one ``sl_frac`` term); empty without an SLA."""
        return (self.sla.term(),) if self.sla is not None else self.sla_terms

    @property
    def caps(self) -> tuple[float, float]:
        """Caps of all credits and of all bonuses (fractions of the invoice)."""
        return (self.sla.cap_frac, 0.0) if self.sla is not None else (self.sla_cap_frac, self.sla_bonus_cap_frac)

    @property
    def sl_threshold_s(self) -> float | None:
        """The threshold of the ``sl_frac`` term (s), None if no term judges the service level."""
        return next((t.threshold_s for t in self.terms if t.metric == "sl_frac"), None)

    def describe(self) -> str:
        """One-line human summary for reports, e.g. ``"4,000.00/month + 0.55/min, 60 s increments"``."""
        head = " + ".join(p for p in (_describe_fee(self), _describe_usage(self), *_describe_units(self)) if p)
        parts = [head or "no charges"]
        if _bills_minutes(self):
            parts.append(f"{num_text(self.billing_increment_s)} s increments")
        if self.billing_basis != "handle":
            parts.append(f"billed on {self.billing_basis} time")
        if self.wrap_min_per_call > 0:
            parts.append(f"+{num_text(self.wrap_min_per_call)} wrap min/call")
        if self.min_monthly > 0:
            parts.append(f"minimum {_money(self.min_monthly)}/month")
        if self.terms:
            parts.append(describe_terms(self.terms, *self.caps))
        if self.escalation_per_year_frac != 0:
            parts.append(f"escalating {self.escalation_per_year_frac * 100:+g}%/year")
        return ", ".join(parts)


def _bills_minutes(contract: Contract) -> bool:
    """True if the contract prices minutes (flat, tiers or included minutes)."""
    return bool(contract.tiers) or contract.per_minute > 0 or contract.included_min > 0


# --------------------------------------------------------------------------- validation


def validate_contract(contract: Contract) -> list[tuple[str, str]]:
    """Semantic checks of a contract.

    Returns:
        ``(field_path, message)`` pairs, field paths relative to the contract (``"tiers[1].up_to_min"``,
        ``"sla.cap_frac"``; a bad mix of keys names them all: ``"per_hour, per_minute"``); empty if
        the contract is fine. Messages say what is allowed and what was given.
    """
    problems: list[tuple[str, str]] = []
    for name in ("monthly_fee", "per_minute", "included_min", "wrap_min_per_call", "min_monthly",
                 "per_hour", "per_call", "per_resolved"):
        problems += _check_nonneg(name, getattr(contract, name))
    increment = contract.billing_increment_s
    if not (_is_number(increment) and math.isfinite(increment) and increment > 0):
        problems.append(("billing_increment_s", f"must be a finite number > 0 seconds, got {num_text(increment)}"))
    problems += _check_tiers(contract.tiers)
    if contract.billing_basis not in BILLING_BASES:
        problems.append(("billing_basis", f"must be one of {', '.join(BILLING_BASES)}, got {contract.billing_basis!r}"))
    if contract.tiers_mode not in TIER_MODES:
        problems.append(("tiers_mode", f"must be one of {', '.join(TIER_MODES)}, got {contract.tiers_mode!r}"))
    problems += _check_mix(contract)
    problems += _check_sla_fields(contract)
    escalation = contract.escalation_per_year_frac
    if not (_is_number(escalation) and math.isfinite(escalation) and -1.0 < escalation <= 10.0):
        problems.append(("escalation_per_year_frac",
                         f"must be > -1 (-100%/year) and <= 10, got {num_text(escalation)}"))
    return problems


def _check_mix(contract: Contract) -> list[tuple[str, str]]:
    """Combinations of pricing keys that do not make sense, each naming its keys."""
    problems: list[tuple[str, str]] = []
    minutes_priced = bool(contract.tiers) or (_is_number(contract.per_minute) and contract.per_minute > 0)
    if contract.tiers and _is_number(contract.per_minute) and contract.per_minute > 0:
        problems.append((
            "per_minute",
            f"must be 0 when tiers are given (tiers replace the flat price), got {num_text(contract.per_minute)}",
        ))
    if _is_number(contract.per_hour) and contract.per_hour > 0 and minutes_priced:
        problems.append(("per_hour", "cannot be combined with per_minute or tiers: per_hour prices the agents' "
                                     "paid time, per_minute and tiers the calls' time; give one"))
    if contract.tiers_mode == "all_units" and not contract.tiers:
        problems.append(("tiers_mode", "'all_units' needs tiers (it says how tiers price the month's minutes)"))
    return problems


def _check_sla_fields(contract: Contract) -> list[tuple[str, str]]:
    """Problems of the SLA: the classic table or the list of terms, not both; fractions in [0, 1]."""
    if contract.sla is not None and contract.sla_terms:
        return [("sla_terms", "cannot be combined with sla: give a single sla table or a list of terms")]
    if contract.sla is not None:
        return _check_sla(contract.sla)
    problems = check_terms(contract.sla_terms)
    for name in ("sla_cap_frac", "sla_bonus_cap_frac"):
        value = getattr(contract, name)
        if not (_is_number(value) and 0.0 <= value <= 1.0):
            problems.append((name, f"must be a fraction in [0, 1], got {num_text(value)}"))
        elif not contract.sla_terms and value != DEFAULT_CAP_FRAC:
            problems.append((name, "applies to a list of sla terms only; a single sla table has its own cap_frac"))
    return problems



def _check_tiers(tiers: tuple[Tier, ...]) -> list[tuple[str, str]]:
    """Problems of the tier list: prices >= 0, bounds > 0 and strictly increasing, last bound None."""
    problems: list[tuple[str, str]] = []
    previous: float | None = None
    for i, tier in enumerate(tiers):
        path = f"tiers[{i}]"
        problems += _check_nonneg(f"{path}.per_minute", tier.per_minute)
        bound = tier.up_to_min
        last = i == len(tiers) - 1
        if bound is None:
            if not last:
                message = "only the last tier may be unlimited (None); give a bound in minutes"
                problems.append((f"{path}.up_to_min", message))
            continue
        if last:
            problems.append((
                f"{path}.up_to_min",
                f"the last tier must be unlimited (None) so every minute has a price, got {num_text(bound)}",
            ))
        elif not (_is_number(bound) and math.isfinite(bound) and bound > 0):
            problems.append((f"{path}.up_to_min", f"must be a finite number > 0 minutes, got {num_text(bound)}"))
        elif previous is not None and bound <= previous:
            problems.append((
                f"{path}.up_to_min",
                f"must be greater than tiers[{i - 1}].up_to_min ({num_text(previous)}), got {num_text(bound)}",
            ))
        if _is_number(bound):
            previous = bound
    return problems


def _check_sla(sla: SLA) -> list[tuple[str, str]]:
    """Problems of the SLA: fractions in [0, 1], threshold >= 0."""
    problems: list[tuple[str, str]] = []
    for name in ("target_frac", "credit_frac", "cap_frac"):
        value = getattr(sla, name)
        if not (_is_number(value) and 0.0 <= value <= 1.0):
            problems.append((f"sla.{name}", f"must be a fraction in [0, 1], got {num_text(value)}"))
    problems += _check_nonneg("sla.threshold_s", sla.threshold_s)
    return problems


def _check_nonneg(path: str, value: object) -> list[tuple[str, str]]:
    """``[(path, message)]`` unless ``value`` is a finite number >= 0."""
    if _is_number(value) and math.isfinite(value) and value >= 0:
        return []
    return [(path, f"must be a finite number >= 0, got {num_text(value)}")]


def require_valid(contract: Contract) -> None:
    """Raise ValueError listing every problem of an invalid contract."""
    problems = validate_contract(contract)
    if problems:
        detail = "; ".join(f"{path}: {message}" for path, message in problems)
        raise ValueError(f"invalid contract: {detail}")


# --------------------------------------------------------------------------- formatting


def _is_number(value: object) -> TypeGuard[float]:
    """True for real numbers (int, float, numpy scalars), False for bool, None, str..."""
    return isinstance(value, Real) and not isinstance(value, bool)


def num_text(value: object) -> str:
    """A number as short text for messages: ``1000`` rather than ``1000.0``; non-numbers by repr."""
    if not _is_number(value):
        return repr(value)
    x = float(value)
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _money(amount: float) -> str:
    """Currency amount with thousands separators and 2 decimals: ``4,000.00``."""
    return f"{amount:,.2f}"


def _price(per_minute: float) -> str:
    """Per-minute price with 2 decimals, or up to 4 when needed: ``0.55``, ``0.0125``."""
    two = f"{per_minute:,.2f}"
    if abs(round(per_minute, 2) - per_minute) < 1e-12:
        return two
    return f"{per_minute:,.4f}".rstrip("0")


def _minutes(minutes: float) -> str:
    """Minutes with thousands separators: ``10,000``, ``2.5``."""
    return f"{minutes:,.0f}" if float(minutes).is_integer() else f"{minutes:,.2f}"


def _describe_fee(contract: Contract) -> str:
    """``"1,050.00/month incl. 500 min"``, ``"500 min included"`` or ``""``."""
    included = f"{_minutes(contract.included_min)} min" if contract.included_min > 0 else ""
    if contract.monthly_fee > 0:
        return f"{_money(contract.monthly_fee)}/month" + (f" incl. {included}" if included else "")
    return f"{included} included" if included else ""


def _describe_usage(contract: Contract) -> str:
    """``"0.55/min"``, ``"2.05/min over included"`` or ``"tiers 1.00/min to 1,000 min, 0.80/min beyond"``."""
    over = " over included" if contract.included_min > 0 else ""
    if not contract.tiers:
        return f"{_price(contract.per_minute)}/min{over}" if contract.per_minute > 0 else ""
    bands = [
        f"{_price(t.per_minute)}/min " + ("beyond" if t.up_to_min is None else f"to {_minutes(t.up_to_min)} min")
        for t in contract.tiers
    ]
    head = "tiers " if contract.tiers_mode == "graduated" else "all-units tiers "
    return head + ", ".join(bands) + over


def _describe_units(contract: Contract) -> list[str]:
    """``["14.00/agent-hour", "0.50/call", "3.00/resolved contact"]``, the charges present."""
    units = (("per_hour", "agent-hour"), ("per_call", "call"), ("per_resolved", "resolved contact"))
    return [f"{_price(getattr(contract, name))}/{unit}" for name, unit in units if getattr(contract, name) > 0]
