"""Per-client service and bills at each BPO pool: the ``clients`` table.

Per (rep, BPO pool, client), summed over the billing months of the ``usage`` table (sim/usage.py),
over that client's calls only: calls offered to the pool (last offered there: answered or
abandoned), answered, answered within the scenario's ``service_level_s`` of reaching the pool,
abandoned, seconds waited at the pool by the answered calls, their handled time, the client's share
of the pool's paid hours, and the client's invoices. Rates as in models/metrics.py, at the pool:
``sl_frac`` = within / offered, ``asa_s`` = wait / answered, ``abandon_frac`` = abandoned / offered
(NaN without calls). A report shows one client's peak spilling into another's waiting from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the columns of the ``clients`` table (docs/results.md)
CLIENT_COLUMNS = ["rep", "pool", "client", "offered_n", "answered_n", "within_sl_n", "abandoned_n",
                  "wait_answered_s", "handled_s", "paid_h", "invoice_cost", "sl_frac", "asa_s", "abandon_frac"]
_SUMS = {"sla_offered_n": "offered_n", "answered_n": "answered_n", "within_sl_n": "within_sl_n",
         "abandoned_n": "abandoned_n", "wait_answered_s": "wait_answered_s", "handled_s": "handled_s",
         "paid_h": "paid_h"}


def clients_table(usage: pd.DataFrame, invoices: pd.DataFrame) -> pd.DataFrame:
    """The ``clients`` table of one scenario's replications from its ``usage`` and ``invoices``."""
    keys = ["rep", "pool", "client"]
    if usage.empty:
        return pd.DataFrame(columns=CLIENT_COLUMNS)
    sums = usage.groupby(keys, sort=False, as_index=False)[list(_SUMS)].sum().rename(columns=_SUMS)
    bills = invoices.groupby(keys, sort=False, as_index=False)["invoice_cost"].sum()
    frame = sums.merge(bills, on=keys, how="left").fillna({"invoice_cost": 0.0})
    offered = frame["offered_n"].where(frame["offered_n"] > 0)
    answered = frame["answered_n"].where(frame["answered_n"] > 0)
    frame["sl_frac"] = frame["within_sl_n"] / offered
    frame["asa_s"] = frame["wait_answered_s"] / answered
    frame["abandon_frac"] = frame["abandoned_n"] / offered
    whole = ["rep", "offered_n", "answered_n", "within_sl_n", "abandoned_n"]
    return frame[CLIENT_COLUMNS].astype(dict.fromkeys(whole, np.int64))
