"""One replication: (scenario, rep, seed, settings) -> calls and intervals tables. No money here."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from models.scenario import Scenario
from models.settings import RunSettings
from sim.arrivals import FirstContacts, first_contact_days
from sim.engine import Engine
from sim.recorder import Aggregates, calls_table


@dataclass(frozen=True)
class Replication:
    """Tables of one replication.

    Attributes:
        rep: replication number.
        calls: one row per call (``None`` when settings.keep_calls is False).
        intervals: one row per (interval, pool).
        usage: what each BPO pool did per billing month (see sim/usage.py).
        end_s: simulated time at which the run stopped (horizon plus drain).
        contacts: what callers lived through, per (call type, pool) (see sim/contacts.py).
    """

    rep: int
    calls: pd.DataFrame | None
    intervals: pd.DataFrame
    usage: pd.DataFrame
    end_s: float
    contacts: pd.DataFrame


def check_settings(scenario: Scenario, settings: RunSettings) -> None:
    """Raise ValueError (one line naming the setting) unless the run settings fit the scenario."""
    if settings.horizon_s <= 0:
        raise ValueError(f"days: must be > 0, got {settings.days:g}")
    step_days = scenario.interval_min / 1440
    for label, seconds, value, unit in (("days", settings.horizon_s, settings.days, step_days),
                                        ("warmup_h", settings.warmup_s, settings.warmup_h, step_days * 24)):
        ratio = seconds / scenario.interval_s
        if abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(f"{label}: must be a whole number of {scenario.interval_min}-minute intervals "
                             f"(a multiple of {unit:.6g}), got {value:g}")
    if settings.warmup_s >= settings.horizon_s:
        raise ValueError(f"warmup_h: must be shorter than the horizon ({settings.days:g} days = "
                         f"{settings.horizon_s / 3600:g} h), got {settings.warmup_h:g}")
    if not math.isfinite(settings.drain_h) or settings.drain_h < 0:
        raise ValueError(f"drain_h: must be a finite number >= 0, got {settings.drain_h:g}")


def simulate(scenario: Scenario, settings: RunSettings, rep: int, check: bool = True) -> Replication:
    """Run replication ``rep`` of ``scenario`` with the root seed of ``settings``.

    ``check=False`` skips :func:`check_settings` (a caller that checked once for many tasks).
    """
    if check:
        check_settings(scenario, settings)
    return _run(scenario, settings, rep, first_contact_days(scenario, settings.seed, rep, settings.horizon_s))


def simulate_calls(scenario: Scenario, settings: RunSettings, rep: int, calls: FirstContacts) -> Replication:
    """Run the given first contacts through ``scenario`` (repeats still draw from the seed's streams).

    Useful to replay recorded calls, and for tests with hand-made calls.
    """
    return _run(scenario, settings, rep, iter([calls]))


SUM_BATCH = 1 << 18  # calls summed at once into the interval and usage counts


def _run(scenario: Scenario, settings: RunSettings, rep: int, days: Iterator[FirstContacts]) -> Replication:
    n_intervals = round(settings.horizon_s / scenario.interval_s)
    aggregates = Aggregates(scenario, n_intervals, settings.warmup_s, settings.horizon_s)
    engine = Engine(scenario, days, settings.seed, rep, settings.horizon_s, settings.drain_h * 3600.0,
                    None if settings.keep_calls else aggregates)
    end_s = engine.run()
    engine.finish(end_s)
    arrays = engine.store.views(len(engine.store), end_s, engine.factor)
    for lo in range(0, len(engine.store), SUM_BATCH):  # in batches: bounded temporaries
        aggregates.add({name: column[lo:lo + SUM_BATCH] for name, column in arrays.items()})
    calls = calls_table(arrays, scenario, rep, settings.warmup_s) if settings.keep_calls else None
    del arrays
    intervals = aggregates.intervals_table(rep, engine.scheduled, engine.available, engine.staffed.staffed_s)
    usage = aggregates.usage_table(rep, engine.scheduled)
    return Replication(rep, calls, intervals, usage, end_s, aggregates.contacts_table(rep))
