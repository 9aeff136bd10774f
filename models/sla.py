"""Service-level agreements of a BPO contract: terms on several metrics, credits and bonuses.

A term judges one monthly metric of the pool against a target. A missed target earns the client a
credit, a beaten one may earn the vendor a bonus, each a fraction of the month's invoice (fees and
charges plus the floor) per *point*: a percentage point for the fractions, a second for ``asa_s``.
All credits of a month add up and are capped together (``cap_frac``); so are all bonuses
(``bonus_cap_frac``). When a cap binds, each term's share is scaled down in proportion.

Metrics, as measured per billing month over the calls last offered to the pool (answered or
abandoned there; see docs/results.md):

- ``sl_frac``: answered within ``threshold_s`` of reaching the pool / offered (higher is better);
- ``asa_s``: mean wait at the pool of the answered calls, seconds (lower is better);
- ``abandon_frac``: abandoned / offered (lower is better);
- ``resolution_frac``: resolved on that contact / answered (higher is better).

A metric with no call to measure it (nan) earns neither credit nor bonus.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

#: The usual amount at risk: credits (and, by default, bonuses) capped at 12% of the invoice
#: (10-12% is usual, 15% seen; shared/FIGURES.md).
DEFAULT_CAP_FRAC = 0.12

#: Metrics a term may judge, and whether a higher value is better.
SLA_METRICS: dict[str, bool] = {"sl_frac": True, "asa_s": False, "abandon_frac": False, "resolution_frac": True}

#: Metrics more agents improve, so that a vendor can staff to meet a term on them (not resolution).
STAFFABLE_METRICS = ("sl_frac", "asa_s", "abandon_frac")


def staffable(metric: str, target: float) -> bool:
    """Whether a term on ``metric`` with ``target`` is one staffing must work for: a staffable
    metric, and not met by any staffing (a service level of at least 0, abandonment of at most 1)."""
    always = (metric == "sl_frac" and target <= 0.0) or (metric == "abandon_frac" and target >= 1.0)
    return metric in STAFFABLE_METRICS and not always


@dataclass(frozen=True)
class SLATerm:
    """One term of an SLA.

    Attributes:
        metric: One of :data:`SLA_METRICS`.
        target: The monthly target: a fraction in [0, 1], or seconds for ``asa_s``.
        credit_frac: Fraction of the invoice credited per point short of the target (0.01 = 1% per point).
        threshold_s: For ``sl_frac`` only (required there): calls answered within this many seconds count.
        bonus_frac: Fraction of the invoice paid to the vendor per point beyond the target (0 = no bonus).
    """

    metric: str
    target: float
    credit_frac: float
    threshold_s: float | None = None
    bonus_frac: float = 0.0

    def points(self, value: float) -> float:
        """Points beyond (> 0) or short of (< 0) the target; 0.0 for a nan value."""
        if math.isnan(value):
            return 0.0
        gap = value - self.target if SLA_METRICS.get(self.metric, True) else self.target - value
        return gap if self.metric == "asa_s" else 100.0 * gap


@dataclass(frozen=True)
class SLA:
    """A monthly service-level agreement: the classic single term on the service level.

    ``SLA(target_frac, threshold_s, credit_frac, cap_frac)`` is one ``sl_frac`` term with no bonus;
    for several metrics or bonuses give the contract ``sla_terms`` instead.

    Attributes:
        target_frac: Monthly service-level target (0..1), e.g. 0.80.
        threshold_s: The service level counts calls answered within this many seconds.
        credit_frac: Fraction of the month's invoice (fees, charges and floor) credited per
            percentage point of shortfall below the target (0.01 = 1 % of the invoice per point).
        cap_frac: The credit never exceeds this fraction of the invoice (the amount at risk, 0..1).
    """

    target_frac: float
    threshold_s: float
    credit_frac: float
    cap_frac: float = DEFAULT_CAP_FRAC

    def term(self) -> SLATerm:
        """This agreement as an ``sl_frac`` term."""
        return SLATerm("sl_frac", self.target_frac, self.credit_frac, self.threshold_s)


@dataclass(frozen=True)
class Adjustment:
    """What the SLA terms of one month do to the invoice.

    Attributes:
        credit_cost: All credits after the cap (<= 0).
        bonus_cost: All bonuses after the cap (>= 0).
        by_metric: Each judged metric's credit (< 0) or bonus (> 0) after the caps; they add up to
            ``credit_cost + bonus_cost``.
    """

    credit_cost: float
    bonus_cost: float
    by_metric: Mapping[str, float]


def adjustment(terms: tuple[SLATerm, ...], base_cost: float, measured: Mapping[str, float],
               cap_frac: float, bonus_cap_frac: float) -> Adjustment:
    """Credits and bonuses of one month on ``base_cost`` (fees + charges + floor, currency).

    ``measured``: each metric's value in the month (nan or absent: not measurable, no effect).
    """
    credit = {t.metric: t.credit_frac * max(0.0, -t.points(measured.get(t.metric, math.nan))) for t in terms}
    bonus = {t.metric: t.bonus_frac * max(0.0, t.points(measured.get(t.metric, math.nan))) for t in terms}
    credit_scale = _capped_scale(sum(credit.values()), cap_frac)
    bonus_scale = _capped_scale(sum(bonus.values()), bonus_cap_frac)
    by_metric = {m: base_cost * (bonus[m] * bonus_scale - credit[m] * credit_scale) + 0.0 for m in credit}
    credit_total = -base_cost * min(cap_frac, sum(credit.values())) + 0.0
    bonus_total = base_cost * min(bonus_cap_frac, sum(bonus.values())) + 0.0
    return Adjustment(credit_total, bonus_total, by_metric)


def _capped_scale(total: float, cap: float) -> float:
    """The factor that brings ``total`` down to ``cap`` (1.0 when under it, or when total is 0)."""
    return 1.0 if total <= cap else cap / total


def check_terms(terms: tuple[SLATerm, ...], path: str = "sla") -> list[tuple[str, str]]:
    """``(field_path, message)`` problems of a list of terms (empty if fine)."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, term in enumerate(terms):
        where = f"{path}[{i}]"
        if term.metric not in SLA_METRICS:
            problems.append((f"{where}.metric", f"must be one of {', '.join(SLA_METRICS)}, got {term.metric!r}"))
            continue
        if term.metric in seen:
            problems.append((f"{where}.metric", f"{term.metric!r} is judged by an earlier term; one term per metric"))
        seen.add(term.metric)
        problems += _check_term(term, where)
    return problems


def _check_term(term: SLATerm, where: str) -> list[tuple[str, str]]:
    """Problems of one term whose metric is known."""
    problems = []
    if term.metric == "asa_s":
        if not (_finite(term.target) and term.target >= 0):
            problems.append((f"{where}.target", f"must be a finite number >= 0 seconds, got {term.target!r}"))
    elif not (_finite(term.target) and 0.0 <= term.target <= 1.0):
        problems.append((f"{where}.target", f"must be a fraction in [0, 1], got {term.target!r}"))
    for name in ("credit_frac", "bonus_frac"):
        value = getattr(term, name)
        if not (_finite(value) and 0.0 <= value <= 1.0):
            problems.append((f"{where}.{name}", f"must be a fraction in [0, 1], got {value!r}"))
    if term.metric == "sl_frac":
        if term.threshold_s is None or not (_finite(term.threshold_s) and term.threshold_s >= 0):
            problems.append((f"{where}.threshold_s", f"an sl_frac term needs threshold_s >= 0 seconds, "
                                                     f"got {term.threshold_s!r}"))
    elif term.threshold_s is not None:
        problems.append((f"{where}.threshold_s", f"only an sl_frac term has a threshold; {term.metric} has none"))
    return problems


def _finite(value: object) -> bool:
    """True for a finite real number (not bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def describe_terms(terms: tuple[SLATerm, ...], cap_frac: float, bonus_cap_frac: float) -> str:
    """``"SLA 80% within 60 s (1% credit/point, cap 12%)"``, or with several terms
    ``"SLA 80% within 60 s, ASA <= 30 s (credits 1%, 0.5%/point, cap 12%; bonus 0.5%, 0%/point, cap 5%)"``."""
    goals = ", ".join(_goal(t) for t in terms)
    credits = ", ".join(f"{t.credit_frac * 100:g}%" for t in terms)
    text = f"SLA {goals} ({credits} credit/point" if len(terms) == 1 else f"SLA {goals} (credits {credits}/point"
    text += f", cap {cap_frac * 100:g}%"
    if any(t.bonus_frac > 0 for t in terms):
        bonuses = ", ".join(f"{t.bonus_frac * 100:g}%" for t in terms)
        text += f"; bonus {bonuses}/point, cap {bonus_cap_frac * 100:g}%"
    return text + ")"


def _goal(term: SLATerm) -> str:
    """``"80% within 60 s"``, ``"ASA <= 30 s"``, ``"abandon <= 5%"``, ``"resolution >= 70%"``."""
    if term.metric == "sl_frac":
        return f"{term.target * 100:g}% within {term.threshold_s:g} s"
    if term.metric == "asa_s":
        return f"ASA <= {term.target:g} s"
    if term.metric == "abandon_frac":
        return f"abandon <= {term.target * 100:g}%"
    return f"resolution >= {term.target * 100:g}%"
