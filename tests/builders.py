"""Small builders shared by the tests: scenario tables and hand-made calls."""

from __future__ import annotations

import copy

import numpy as np

from models.loading import scenario_from_dict
from models.scenario import Scenario
from models.settings import RunSettings
from sim.arrivals import FirstContacts
from sim.replication import Replication, simulate_calls

INF = float("inf")


def pool(name: str, agents, kind: str = "inhouse", **extra) -> dict:
    """A pool table; in-house pools get a wage of 10/h, BPO pools a 1/min contract."""
    table = {"name": name, "kind": kind, "location": "local", "agents": agents}
    if kind == "inhouse":
        table["wage_per_h"] = 10.0
    else:
        table["contract"] = {"per_minute": 1.0}
    table.update(extra)
    return table


def scenario(pools: list[dict], interval_min: int = 60, **demand) -> Scenario:
    """A one-call-type scenario: 60 calls/h, deterministic 60 s handle, routed to the first pool."""
    call_type = {"name": "c", "calls_per_h": 60.0, "handle": {"dist": "deterministic", "value_s": 60.0},
                 "route": [pools[0]["name"]]}
    call_type.update(demand)
    if "profile_per_h" in demand or "profile_csv" in demand:
        call_type.pop("calls_per_h")
    if "split" in demand:
        call_type.pop("route")
    lines = call_type.pop("lines", None)
    data = {"name": "test", "interval_min": interval_min, "service_level_s": 20.0,
            "demand": [call_type], "pools": copy.deepcopy(pools)}
    if lines is not None:
        data["lines"] = lines
    return scenario_from_dict(data, source="test.toml")


def calls(arrival_s, handle_s, patience_s=None, u_split=None, u_resolve=None, talk_s=None) -> FirstContacts:
    """Hand-made first contacts of call type 0 (patience infinite, resolved, split draw 0.5, talk =
    handle by default)."""
    n = len(arrival_s)
    fill = lambda values, default: np.asarray(values if values is not None else [default] * n, dtype=float)
    return FirstContacts(np.asarray(arrival_s, dtype=float), np.zeros(n, dtype=np.int32),
                         np.asarray(handle_s, dtype=float), fill(patience_s, INF), fill(u_split, 0.5),
                         fill(u_resolve, 0.0), np.asarray(talk_s if talk_s is not None else handle_s, dtype=float))


def replay(scn: Scenario, first: FirstContacts, days: float = 1.0, **settings) -> Replication:
    """Run hand-made calls through ``scn`` for a horizon of ``days``."""
    return simulate_calls(scn, RunSettings(days=days, **settings), 0, first)


def log(rep: Replication, *columns: str) -> list[tuple]:
    """The calls table as a list of tuples of ``columns`` (floats rounded to 1e-9, NaN as None)."""
    frame = rep.calls[list(columns)]
    rows = []
    for row in frame.itertuples(index=False):
        rows.append(tuple((None if v != v else round(v, 9)) if isinstance(v, float) else v for v in row))
    return rows
