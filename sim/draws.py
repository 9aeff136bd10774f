"""Draws the engine takes one at a time during a run (repeats, redials), refilled in numpy batches.

A batch of ``REFILL`` values is drawn at once from the call's own stream and handed out one by
one, so a run draws the same values whatever order its events take between refills.
"""

from __future__ import annotations

import numpy as np

from models.demand import CallType
from models.distributions import Distribution

REFILL = 1024


class Draws:
    """A batch-refilled supply of draws from one distribution (``None``: uniform) and generator."""

    def __init__(self, dist: Distribution | None, rng: np.random.Generator) -> None:
        self.dist, self.rng = dist, rng
        self.values: list[float] = []

    def next(self) -> float:
        if not self.values:
            batch = self.rng.random(REFILL) if self.dist is None else self.dist.sample(self.rng, REFILL)
            self.values = batch.tolist()[::-1]
        return self.values.pop()


class HandleDraws:
    """A batch-refilled supply of one call type's (talk, handle) times (see CallType.draw_handle)."""

    def __init__(self, call_type: CallType, rng: np.random.Generator) -> None:
        self.call_type, self.rng = call_type, rng
        self.values: list[tuple[float, float]] = []

    def next(self) -> tuple[float, float]:
        if not self.values:
            talk, handle = self.call_type.draw_handle(self.rng, REFILL)
            self.values = list(zip(talk.tolist(), handle.tolist(), strict=True))[::-1]
        return self.values.pop()
