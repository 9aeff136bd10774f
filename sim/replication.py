"""One replication: (scenario, rep, seed, settings) -> calls and intervals tables. No money here."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from models.scenario import Scenario
from models.settings import RunSettings
from sim.arrivals import FirstContacts, first_contacts
from sim.engine import Engine
from sim.recorder import call_arrays, calls_table, intervals_table
from sim.usage import usage_table


@dataclass(frozen=True)
class Replication:
    """Tables of one replication.

    Attributes:
        rep: replication number.
        calls: one row per call (``None`` when settings.keep_calls is False).
        intervals: one row per (interval, pool).
        usage: what each BPO pool did per billing month (see sim/usage.py).
        end_s: simulated time at which the run stopped (horizon plus drain).
    """

    rep: int
    calls: pd.DataFrame | None
    intervals: pd.DataFrame
    usage: pd.DataFrame
    end_s: float


def check_settings(scenario: Scenario, settings: RunSettings) -> None:
    """Raise ValueError unless the horizon and warm-up fit the scenario's intervals."""
    for label, seconds in (("days", settings.horizon_s), ("warmup_h", settings.warmup_s)):
        ratio = seconds / scenario.interval_s
        if abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(f"{label} must be a whole number of {scenario.interval_min}-minute intervals")
    if settings.horizon_s <= 0:
        raise ValueError("days must be > 0")
    if settings.warmup_s >= settings.horizon_s:
        raise ValueError("warmup_h must be shorter than the horizon (days)")
    if not math.isfinite(settings.drain_h) or settings.drain_h < 0:
        raise ValueError("drain_h must be a finite number >= 0")


def simulate(scenario: Scenario, settings: RunSettings, rep: int) -> Replication:
    """Run replication ``rep`` of ``scenario`` with the root seed of ``settings``."""
    check_settings(scenario, settings)
    calls = first_contacts(scenario, settings.seed, rep, settings.horizon_s)
    return simulate_calls(scenario, settings, rep, calls)


def simulate_calls(scenario: Scenario, settings: RunSettings, rep: int, calls: FirstContacts) -> Replication:
    """Run the given first contacts through ``scenario`` (repeats still draw from the seed's streams).

    Useful to replay recorded calls, and for tests with hand-made calls.
    """
    engine = Engine(scenario, calls, settings.seed, rep, settings.horizon_s, settings.drain_h * 3600.0)
    end_s = engine.run()
    engine.finish(end_s)
    arrays = call_arrays(engine, end_s)
    table = calls_table(arrays, scenario, rep, settings.warmup_s) if settings.keep_calls else None
    intervals = intervals_table(engine, arrays, rep, settings.warmup_s)
    usage = usage_table(arrays, scenario, rep, settings.warmup_s, settings.horizon_s)
    return Replication(rep, table, intervals, usage, end_s)
