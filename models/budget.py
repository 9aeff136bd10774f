"""The budget calendar: seasons, growth and forecast error over a contract term (``[calendar]``).

A budget (``bposim budget``) prices a scenario month by month over a term of calendar months. The
optional ``[calendar]`` table of a scenario says how each month's call volume differs from the
demand as written: a seasonal multiplier per calendar month, a growth trend, and the error of the
volume forecast the staffing was planned on. It changes nothing in ``bposim run`` or a sweep.

Months are calendar months of a non-leap year (February has 28 days). Budget month ``m`` (0, 1, ...)
is calendar month ``(start_month - 1 + m) % 12 + 1``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TypeGuard

from models.contracts import num_text

#: Days of each calendar month, January first (a non-leap year).
DAYS_IN_MONTH: tuple[int, ...] = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: Three-letter names of the calendar months, January first.
MONTH_NAMES: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Keys of a ``[calendar]`` table, in order.
CALENDAR_KEYS = ("start_month", "monthly_factors", "growth_per_year_frac", "forecast_cv")


@dataclass(frozen=True)
class BudgetCalendar:
    """How call volume moves over the months of a budget.

    Attributes:
        start_month: calendar month of budget month 0 (1 = January .. 12 = December).
        monthly_factors: 12 seasonal multipliers of the scenario's demand as written, January first
            (each finite and > 0; factors averaging 1 make the written demand the year's average).
        growth_per_year_frac: volume trend per year (0.05 = +5% a year), compounded monthly:
            budget month ``m`` has ``(1 + growth) ** (m / 12)``; > -1.
        forecast_cv: coefficient of variation of the error of the monthly volume forecast the
            staffing was planned on (actual = forecast × a lognormal error of mean 1); in [0, 1).

    Raises:
        ValueError: naming the field, if a value is out of range (see :func:`calendar_problems`).
    """

    start_month: int = 1
    monthly_factors: tuple[float, ...] = (1.0,) * 12
    growth_per_year_frac: float = 0.0
    forecast_cv: float = 0.0

    def __post_init__(self) -> None:
        for path, message in calendar_problems(self.start_month, self.monthly_factors, self.growth_per_year_frac,
                                               self.forecast_cv):
            raise ValueError(f"calendar.{path}: {message}")

    def calendar_month(self, month: int) -> int:
        """Calendar month (1..12) of budget month ``month`` (0, 1, ...)."""
        return (self.start_month - 1 + month) % 12 + 1

    def days_in(self, month: int) -> int:
        """Days of budget month ``month`` (a non-leap year's calendar month)."""
        return DAYS_IN_MONTH[self.calendar_month(month) - 1]

    def label(self, month: int) -> str:
        """``"Jan"`` in the first twelve budget months, ``"Jan+1y"`` in the next twelve, and so on."""
        name = MONTH_NAMES[self.calendar_month(month) - 1]
        years = month // 12
        return f"{name}+{years}y" if years else name

    def forecast_factor(self, month: int) -> float:
        """Planned volume of budget month ``month`` relative to the demand as written:
        ``monthly_factors[calendar month] × (1 + growth) ** (month / 12)``."""
        season = self.monthly_factors[self.calendar_month(month) - 1]
        return season * float((1.0 + self.growth_per_year_frac) ** (month / 12.0))


def calendar_problems(start_month: object, monthly_factors: Sequence[object], growth_per_year_frac: object,
                      forecast_cv: object) -> list[tuple[str, str]]:
    """``(field, message)`` for every out-of-range value of a calendar's fields (the attributes of
    :class:`BudgetCalendar`); empty when they are fine. The loader reports the first with its file."""
    problems: list[tuple[str, str]] = []
    if isinstance(start_month, bool) or not isinstance(start_month, int) or not 1 <= start_month <= 12:
        problems.append(("start_month", "must be a whole number from 1 (January) to 12 (December), "
                                        f"got {num_text(start_month)}"))
    if len(monthly_factors) != 12:
        problems.append(("monthly_factors", f"must be 12 numbers (January first), got {len(monthly_factors)}"))
    for i, factor in enumerate(monthly_factors):
        if not (_finite(factor) and factor > 0):
            problems.append((f"monthly_factors[{i}]", f"must be a finite number > 0 (the {MONTH_NAMES[i % 12]} "
                             f"multiplier of the demand as written), got {num_text(factor)}"))
    if not (_finite(growth_per_year_frac) and growth_per_year_frac > -1):
        problems.append(("growth_per_year_frac", "must be a finite number > -1 (-100% a year; 0.05 = +5%), "
                                                 f"got {num_text(growth_per_year_frac)}"))
    if not (_finite(forecast_cv) and 0 <= forecast_cv < 1):
        problems.append(("forecast_cv", "must be >= 0 and < 1 (0.06 = a 6% error of the monthly volume forecast), "
                                        f"got {num_text(forecast_cv)}"))
    return problems


def _finite(value: object) -> TypeGuard[float]:
    """A finite real number (bool excluded)."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
