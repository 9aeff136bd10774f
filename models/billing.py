"""Billing months: the contract-time rules, in one place.

A billing month is 30 simulated days (:data:`BILLING_MONTH_S`) counted from the end of the
warm-up; the last month of a measured period that is not a whole number of months is a fraction
of a month (``month_frac``), priced pro rata. A call belongs to the billing month of its arrival.
"""

from __future__ import annotations

import math

import numpy as np

BILLING_MONTH_S: float = 30 * 86400.0
"""Length of one billing month in simulated seconds (30 days)."""

_EPS = 1e-9
"""A measured period longer than a whole number of months by float noise only (relative to a
month) does not open another month."""


def billing_months(warmup_s: float, horizon_s: float) -> list[float]:
    """Fractions of a month covered by each billing month of the measured period [warmup_s, horizon_s)."""
    measured = horizon_s - warmup_s
    n = max(1, math.ceil(measured / BILLING_MONTH_S - _EPS))
    return [min(1.0, (measured - m * BILLING_MONTH_S) / BILLING_MONTH_S) for m in range(n)]


def month_count(warmup_s: float, horizon_s: float) -> int:
    """Number of billing months of the measured period (at least one)."""
    return len(billing_months(warmup_s, horizon_s))


def month_of(arrival_s: np.ndarray, warmup_s: float, months: int) -> np.ndarray:
    """Billing month (0-based) of each arrival at or after ``warmup_s``; the last one takes the rest."""
    return np.minimum(((arrival_s - warmup_s) // BILLING_MONTH_S).astype(np.int64), months - 1)
