"""An equal-service study's goal: the targets every point is staffed to before it is compared.

A sweep file's ``[[study]]`` may carry ``optimise = { target = ["sl_frac>=0.8"], ... }``; each point
of that study is then optimised (experiments/optimise/study.py) before it is run, so the options are
compared at the same service. Kept free of heavy imports: the sweep-file reader uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the search's seed is the run's seed plus this: the reported replications are never the ones the
#: staffing was tuned on (the re-checks use the next seeds after the search's)
SEARCH_SEED_OFFSET = 1_000_003


@dataclass(frozen=True)
class Goal:
    """How each point of a study is staffed before it is run.

    Attributes:
        targets: Targets as written (``[POOL:]METRIC OP VALUE``, experiments/optimise/targets.py).
        vary: The pools whose agents are set (empty: every pool).
        per_interval: Targets met in every open interval of the day (else over the whole period).
        reps: Replications of each evaluation of the search.
        days: Horizon of each evaluation (days, warm-up included).
        warmup_h: Warm-up of each evaluation (hours).
        confidence: One-sided confidence of each target's bound (0.5 <= c < 1).
        max_agents: Most agents a pool may get in an interval.
        simultaneous: ``confidence`` holds for every target in every judged interval together.
    """

    targets: tuple[str, ...]
    vary: tuple[str, ...] = ()
    per_interval: bool = True
    reps: int = 4
    days: float = 3.0
    warmup_h: float = 24.0
    confidence: float = 0.95
    max_agents: int = 2000
    simultaneous: bool = False

    @property
    def text(self) -> str:
        """``"sl_frac>=0.8 in every interval (95% confidence)"``: what the staffing meets."""
        where = "in every open interval of the day" if self.per_interval else "over the whole period"
        joint = ", all together" if self.simultaneous else ""
        return f"{', '.join(self.targets)} {where} ({self.confidence:.0%} one-sided confidence{joint})"
