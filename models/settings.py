"""Run controls: how long and how often to simulate. Never part of a Scenario."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunSettings:
    """How to run a scenario.

    Attributes:
        reps: number of independent replications.
        seed: root seed of the experiment (every stream derives from it).
        days: simulated horizon in days (day 0 is a Monday); arrivals stop at its end.
        warmup_h: hours at the start whose calls are simulated but not counted; a multiple of the
            scenario's interval.
        drain_h: after the horizon, calls in the system are followed at most this long; those
            still there are ``unfinished``.
        keep_calls: keep the per-call table (``False`` keeps only aggregates).
    """

    reps: int = 10
    seed: int = 12345
    days: float = 7.0
    warmup_h: float = 0.0
    drain_h: float = 168.0
    keep_calls: bool = True

    @property
    def horizon_s(self) -> float:
        return self.days * 86400.0

    @property
    def warmup_s(self) -> float:
        return self.warmup_h * 3600.0
