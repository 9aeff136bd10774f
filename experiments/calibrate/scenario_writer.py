"""The calibrated scenario: estimates → a TOML table that models.loading reads as it is.

One call type, ``calls``, with the separable profile (one rate per interval × a weekday factor),
``daily_cv``, handle (or talk and acw), patience and redials, or, when the weekdays' profiles have
different shapes, one such call type per weekday (``calls_mon`` …, each with its weekday's own
profile and a weekday factor of 1 on that day, 0 on the others: the same model, as only one call
type has calls on a day, and its busyness factor is that day's); and the agents:

- staffing the same on every weekday: one in-house pool ``agents``;
- staffing that differs by weekday: one pool per weekday (``agents_mon`` …, ``open_days = [d]``),
  the call type routed to all seven (a pool is closed on the other days, so each day's calls meet
  that day's agents; a caller still waiting at midnight stays in the queue of the day before);
  a weekday with no agents at all has no pool.

Agents are whole numbers per interval (rounded half up), with no shrinkage (the staffing counts
agents taking calls). The pool's wage (``PLACEHOLDER_WAGE_PER_H``) is a placeholder: the log says
nothing about money. Every pool carries the estimated first-contact resolution and repeat delay.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from experiments.calibrate.arrivals import Arrivals
from experiments.calibrate.handle import DurationFit
from experiments.calibrate.patience import PatienceFit
from experiments.calibrate.repeats import ChainFits
from experiments.errors import CallLogError
from models.distributions import Distribution, Empirical, Exponential, Gamma, Lognormal
from models.dumping import dist_to_dict

PLACEHOLDER_WAGE_PER_H = 20.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STAFFING_COLUMNS = ("weekday", "interval_start_h", "agents")


def rounded(dist: Distribution) -> Distribution:
    """A fitted distribution with readable numbers (mean to 0.1 s, cv to 3 significant digits)."""
    if isinstance(dist, Exponential):
        return Exponential(round(dist.mean_s, 1))
    if isinstance(dist, Lognormal | Gamma):
        return type(dist)(round(dist.mean_s, 1), float(f"{dist.cv:.3g}"))
    return dist


def staffing_by_weekday(staffing: pd.DataFrame, interval_min: int) -> np.ndarray:
    """Agents per (weekday, interval of the day), whole numbers, from a staffing table
    (``weekday`` 0 = Monday, ``interval_start_h`` hours, ``agents``); intervals not given have 0.

    Means are rounded half up, but an interval with any agent at all keeps at least one (as the
    backtest does): rounding a night's 0.3 agents to 0 would close the line where calls came and
    were answered."""
    missing = [c for c in STAFFING_COLUMNS if c not in staffing.columns]
    if missing:
        raise CallLogError(f"staffing: missing column(s) {', '.join(missing)}; needs {', '.join(STAFFING_COLUMNS)}")
    per_day = 1440 // interval_min
    slot = staffing["interval_start_h"].to_numpy(float) * 60 / interval_min
    weekday = staffing["weekday"].to_numpy(float)
    agents = staffing["agents"].to_numpy(float)
    bad = ~np.isfinite(slot) | (np.abs(slot - np.round(slot)) > 1e-6) | (slot < 0) | (slot >= per_day)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CallLogError(f"staffing: row {row + 1}: interval_start_h must start a {interval_min}-minute interval "
                           f"of the day, got {staffing['interval_start_h'].iloc[row]}")
    if not np.isin(weekday, np.arange(7)).all() or not (np.isfinite(agents) & (agents >= 0)).all():
        raise CallLogError("staffing: weekday must be 0 (Monday) to 6 and agents a number >= 0")
    table = np.zeros((7, per_day), dtype=np.int64)
    whole = np.where(agents > 0, np.maximum(np.floor(agents + 0.5), 1.0), 0.0)
    table[weekday.astype(int), np.round(slot).astype(int)] = whole.astype(np.int64)
    if not table.any():
        raise CallLogError("staffing: no agents in any interval")
    return table


def scenario_table(name: str, arrivals: Arrivals, durations: list[DurationFit], patience: PatienceFit | None,
                   chains: ChainFits | None, agents: np.ndarray, service_level_s: float = 20.0,
                   by_weekday: bool = False) -> dict[str, Any]:
    """The scenario (a TOML table) of the estimates; ``agents``: per (weekday, interval).

    ``by_weekday``: one call type per weekday with that weekday's own profile (``calls_mon`` …,
    weekday factor 1 on its day and 0 on the others) instead of one profile × weekday factors.
    """
    demand: dict[str, Any] = {"name": "calls", "profile_per_h": [round(v, 4) for v in arrivals.profile_per_h],
                              "weekday_factors": [round(v, 4) for v in arrivals.weekday_factors],
                              "daily_cv": round(arrivals.daily_cv, 4)}
    for fit in durations:
        demand[fit.name.removesuffix("_s")] = _dist(fit.distribution)
    demand["patience"] = {"dist": "never"} if patience is None else _dist(patience.best.distribution())
    if chains is not None and chains.redial is not None and chains.max_attempts > 1:
        demand["redial"] = {"frac": round(1 - chains.redial.cure_frac, 4),
                            "after": _dist(chains.redial.distribution()), "max_attempts": chains.max_attempts}
    pools = _pools(agents)
    demand["route"] = [p["name"] for p in pools]
    if chains is not None and chains.repeat is not None:
        for p in pools:
            p["resolution_frac"] = round(chains.repeat.cure_frac, 4)
            p["repeat_after"] = _dist(chains.repeat.distribution())
    demands = _by_weekday(demand, arrivals) if by_weekday else [demand]
    return {"name": name, "interval_min": arrivals.interval_min, "service_level_s": service_level_s,
            "demand": demands, "pools": pools}


def _by_weekday(demand: dict[str, Any], arrivals: Arrivals) -> list[dict[str, Any]]:
    """One call type per weekday with calls, each its weekday's observed profile."""
    out = []
    for d in range(7):
        profile = [round(v, 4) for v in arrivals.weekday_profile(d)]
        if any(profile):
            out.append({**demand, "name": f"calls_{WEEKDAYS[d]}", "profile_per_h": profile,
                        "weekday_factors": [1.0 if k == d else 0.0 for k in range(7)]})
    return out


def _dist(dist: Distribution) -> dict[str, Any]:
    out = dist_to_dict(rounded(dist))
    if isinstance(dist, Empirical):
        out["values_s"] = [float(v) for v in dist.values_s]
    return out


def _pools(agents: np.ndarray) -> list[dict[str, Any]]:
    base = {"kind": "inhouse", "wage_per_h": PLACEHOLDER_WAGE_PER_H}
    if (agents == agents[0]).all():
        return [{"name": "agents", **base, "agents": _agents_value(agents[0])}]
    return [{"name": f"agents_{WEEKDAYS[d]}", **base, "agents": _agents_value(agents[d]), "open_days": [d]}
            for d in range(7) if agents[d].any()]


def _agents_value(row: np.ndarray) -> int | list[int]:
    values = [int(v) for v in row]
    return values[0] if len(set(values)) == 1 else values


def header(source: str, level: float) -> str:
    """Comment lines on top of the written scenario file."""
    return (f"# Calibrated by `bposim calibrate` from {source} (docs/calibrate.md, \"Calibrating a scenario\").\n"
            f"# Every estimate, with its {level:.0%} interval and method, is in estimates.csv beside this file.\n"
            f"# wage_per_h = {PLACEHOLDER_WAGE_PER_H:g} is a placeholder: a call log says nothing about money.\n\n")

