"""Metric definitions, in one place (see docs/results.md).

- offered: calls that arrived (after the warm-up);
- service level: answered within T seconds / offered;
- ASA: mean wait of answered calls;
- abandonment: abandoned / offered;
- P(wait): calls that had to queue (neither answered at once nor blocked) / offered;
- occupancy: busy agent time / staffed agent time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNT_COLUMNS = ("offered_n", "answered_n", "answered_in_sl_n", "abandoned_n", "blocked_n",
                 "unfinished_n", "queued_n", "wait_answered_s")
RATE_COLUMNS = ("sl_frac", "asa_s", "abandon_frac", "p_wait_frac", "occupancy_frac")


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype(float)
    den = den.astype(float)
    return num.div(den.where(den > 0, np.nan))


def add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` (with the count columns, ``busy_s`` and ``staffed_s``) plus the rates.

    A rate whose denominator is zero is NaN (no calls offered, no agents staffed).
    """
    out = frame.copy()
    out["sl_frac"] = _ratio(frame["answered_in_sl_n"], frame["offered_n"])
    out["asa_s"] = _ratio(frame["wait_answered_s"], frame["answered_n"])
    out["abandon_frac"] = _ratio(frame["abandoned_n"], frame["offered_n"])
    out["p_wait_frac"] = _ratio(frame["queued_n"], frame["offered_n"])
    out["occupancy_frac"] = _ratio(frame["busy_s"], frame["staffed_s"])
    return out
