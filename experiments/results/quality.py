"""The client's cost of poor service, priced after the run from the ``contacts`` table.

Per (replication, pool): lost contacts × ``lost_cost`` + redial attempts × ``redial_cost`` +
repeat contacts × ``repeat_cost`` + hours waited × ``wait_cost_per_h``, each call type at its own
costs (``Scenario.quality_of``), counted at the pool the call was last offered to; and the
contacts resolved there. docs/results.md defines each count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.scenario import Scenario

#: the ``contacts`` table: per (rep, call type, pool the call was last offered to)
CONTACT_COLUMNS = ["rep", "call_type", "pool", "offered_n", "answered_n", "lost_n", "redial_n", "repeat_n",
                   "wait_s", "resolved_n"]
#: what this module adds to ``pool_runs`` and ``runs``
QUALITY_COLUMNS = ["resolved_n", "quality_cost"]


def quality_table(contacts: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per (rep, pool): ``resolved_n`` and ``quality_cost`` of the contacts last offered to the pool,
    of the scenario's own client's call types only (another client's poor service is not ours)."""
    index = {ct.name: i for i, ct in enumerate(scenario.demand)}
    others = [ct.name for ct in scenario.demand if ct.client]
    if others:
        contacts = contacts[~contacts["call_type"].astype(str).isin(others)]
    rows = zip(contacts["call_type"], contacts["lost_n"], contacts["redial_n"], contacts["repeat_n"],
               contacts["wait_s"], strict=True)
    costs = [scenario.quality_of(index[str(name)]).cost(lost, redial, repeat, wait)
             for name, lost, redial, repeat, wait in rows]
    frame = contacts.assign(quality_cost=np.asarray(costs, dtype=float))
    out = frame.groupby(["rep", "pool"], observed=True, sort=False, as_index=False)[QUALITY_COLUMNS].sum()
    return out.astype({"resolved_n": np.int64, "quality_cost": float})


def add_quality(by_pool: pd.DataFrame, contacts: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``pool_runs`` rows with ``resolved_n`` and ``quality_cost`` (0 where the pool saw no contact)."""
    quality = quality_table(contacts, scenario)
    out = by_pool.merge(quality, on=["rep", "pool"], how="left")
    return out.fillna({"resolved_n": 0, "quality_cost": 0.0}).astype({"resolved_n": np.int64})


def add_totals(frame: pd.DataFrame, per_month: float) -> None:
    """In place: ``total_with_quality_cost``, ``cost_per_resolved`` and the monthly forms.

    ``per_month``: 30 days / the measured days (as for ``monthly_cost``).
    """
    frame["total_with_quality_cost"] = frame["total_cost"] + frame["quality_cost"]
    frame["cost_per_resolved"] = frame["total_cost"] / frame["resolved_n"].where(frame["resolved_n"] > 0)
    frame["monthly_quality_cost"] = frame["quality_cost"] * per_month
    frame["monthly_total_with_quality_cost"] = frame["total_with_quality_cost"] * per_month
