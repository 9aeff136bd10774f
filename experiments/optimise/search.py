"""The search: from the Erlang A start, up until every target is met, down while it stays met.

Every staffing is simulated with the same seed and replications (common random numbers), so the
comparisons between neighbouring staffings are sharp, and service improves with agents on every
path the search takes (as in Atlason, Epelman & Henderson 2008, whose cutting planes rely on the
same monotonicity; here a greedy search suffices because each target is local to a pool and an
interval of the day):

1. **up**: while some target fails, add agents where it fails (in that pool, or in every varied
   pool for an overall target; in that interval with ``per_interval``, else everywhere), by steps
   that double each round the same place fails again;
2. **down**: whole-horizon, each varied pool in turn is bisected to the fewest agents that keep
   every target met, until a pass changes nothing, then a steepest descent on cost over one-agent
   moves (a pool -1 or +1, an agent moved between pools) taken only when cheaper with confidence;
   per interval, every (pool, interval) place is searched at once, bisecting from the most agents
   it failed with (galloping down when none), one simulated staffing per round (a place passes
   when no failing target acts on it; a failure after an interval short on the mean is tried
   again, that interval held), then the combined staffing is raised where it fails;
3. **re-check**: the result is simulated again on fresh replications (the seed + 1, streams the
   search never saw) and each target's estimate there says how sure it is met (``sure_frac``). A
   target whose fresh mean misses it is repaired by the up step and checked on the next fresh
   seed, at most :data:`RECHECKS` times in all. (Requiring the fresh *bound* to pass again would
   stack a second 95% hurdle on the first and staff above the minimum for nothing.)

The answer is therefore the cheapest staffing found, not proven optimal when pools interact; the
tests compare it with exact Erlang minima and with brute-force enumeration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from experiments.optimise.evaluate import WHOLE, Estimate, Evaluation, Staffing, evaluate
from experiments.optimise.targets import Target
from experiments.optimise.warm import measured_weekdays, warm_start
from experiments.results.statistics import confidence_interval
from experiments.running.executors import Executor
from models.scenario import Scenario
from models.settings import RunSettings

RECHECKS = 3
MAX_ROUNDS = 40


class NoStaffing(ValueError):
    """No staffing within the search's limits meets every target (one line)."""


@dataclass(frozen=True)
class Problem:
    """What to optimise and how to judge it.

    Attributes:
        scenario: The scenario (its other pools are kept as they are).
        targets: Every target to meet.
        vary: The pools whose agents are set.
        settings: Replications, horizon, warm-up and seed of every evaluation.
        per_interval: Targets judged in every interval of the day (else over the whole period).
        confidence: One-sided confidence of each target's bound.
        max_agents: Most agents a pool may get in an interval.
        cost: The ``runs`` column the staffing is priced by.
        start: Where the search starts (default: the Erlang A staffing of experiments/optimise/warm.py).
        simultaneous: ``confidence`` holds for every target in every judged interval together
            (Bonferroni), not for each alone.
    """

    scenario: Scenario
    targets: tuple[Target, ...]
    vary: tuple[str, ...]
    settings: RunSettings
    per_interval: bool = False
    confidence: float = 0.95
    max_agents: int = 2000
    cost: str = "total_with_quality_cost"
    start: Staffing | None = None
    simultaneous: bool = False


@dataclass
class Outcome:
    """The staffing found, its evaluation on the search's replications and on fresh ones, and the log.

    ``log``: every evaluation as (phase, seed, evaluation), in order.
    """

    staffing: Staffing
    searched: Evaluation
    recheck: Evaluation
    log: list[tuple[str, int, Evaluation]] = field(default_factory=list)


class Search:
    """One optimisation: evaluations are logged as they are made."""

    def __init__(self, problem: Problem, executor: Executor | None = None, progress: bool | None = False) -> None:
        self.problem, self.executor, self.progress = problem, executor, progress
        self.log: list[tuple[str, int, Evaluation]] = []
        self.seen: dict[tuple[int, tuple[tuple[str, tuple[int, ...]], ...]], Evaluation] = {}
        self.failed_at: dict[tuple[str, int], int] = {}
        """Per (pool, interval of the day): the most agents it had when a target acting on it
        failed on the search's seed (per interval only): where the down phase bisects from."""

    def run(self) -> Outcome:
        """Up, down and re-check (see the module's docstring)."""
        p = self.problem
        weekdays = measured_weekdays(p.settings.warmup_h, p.settings.days)
        start = p.start or warm_start(p.scenario, p.vary, p.targets, p.per_interval, p.max_agents, weekdays)
        best = self.down(self.up(start, "up"))
        recheck = self.evaluate([best.staffing], "recheck", p.settings.seed + 1)[0]
        for k in range(2, RECHECKS + 1):
            missed = [e for e in recheck.estimates if not e.mean_met]
            if not missed:
                break
            best = self.up(self.raise_failing(best.staffing, missed, {}), "repair")
            recheck = self.evaluate([best.staffing], "recheck", p.settings.seed + k)[0]
        return Outcome(best.staffing, best, recheck, self.log)

    def evaluate(self, staffings: Sequence[Staffing], phase: str, seed: int | None = None) -> list[Evaluation]:
        """Each staffing's evaluation on ``seed`` (default: the search's), simulating only those
        not evaluated on it before (the same seed gives the same result); new ones are logged."""
        p = self.problem
        settings = p.settings if seed is None else replace(p.settings, seed=seed)
        keys = [(settings.seed, tuple(sorted(s.items()))) for s in staffings]
        new = list({key: s for key, s in zip(keys, staffings, strict=True) if key not in self.seen}.items())
        if new:
            label = f"{phase} {len(self.log) + 1}-{len(self.log) + len(new)}"
            done = evaluate(p.scenario, [s for _, s in new], p.targets, settings, self.executor, p.per_interval,
                            p.confidence, p.cost, self.progress, label, p.simultaneous)
            for (key, _), ev in zip(new, done, strict=True):
                self.seen[key] = ev
                self.log.append((phase, settings.seed, ev))
        return [self.seen[key] for key in keys]

    # ------------------------------------------------------------------ up

    def up(self, staffing: Staffing, phase: str) -> Evaluation:
        """Raise agents where targets fail until every one is met (NoStaffing past ``max_agents``)."""
        steps: dict[tuple[str, int], int] = {}
        for _ in range(MAX_ROUNDS):
            ev = self.evaluate([staffing], phase)[0]
            if ev.feasible:
                return ev
            self.note_failures(staffing, ev)
            staffing = self.raise_failing(staffing, ev.failing(), steps)
        raise NoStaffing(f"no staffing met every target after {MAX_ROUNDS} rounds of raising agents")

    def note_failures(self, staffing: Staffing, ev: Evaluation) -> None:
        """Remember, per interval, the agents each failing place had (see :attr:`failed_at`)."""
        if not self.problem.per_interval:
            return
        failed, short = self.places(ev.failing()), self.short(ev)
        for name, interval in failed:
            if interval != WHOLE and self.own_failure((name, interval), short):
                level = staffing[name][interval]
                self.failed_at[(name, interval)] = max(level, self.failed_at.get((name, interval), 0))

    def own_failure(self, place: tuple[str, int], short: set[tuple[str, int]]) -> bool:
        """Whether a place's failure can be blamed on its own agents: the interval before it (same
        pool, the day wrapping round) was not short in the same evaluation (``short``: places
        whose target failed on the mean, not only on its bound: a backlog big enough to carry
        over). When it was, the place's count says nothing about what the place needs."""
        return self.before(place) not in short

    def short(self, ev: Evaluation) -> set[tuple[str, int]]:
        """Places some target acting on them misses on the mean (see :meth:`own_failure`)."""
        return self.places([e for e in ev.failing() if not e.mean_met])

    def raise_failing(self, staffing: Staffing, failing: Sequence[Estimate],
                      steps: dict[tuple[str, int], int]) -> Staffing:
        """``staffing`` with agents added wherever a target fails (steps doubling per place)."""
        out = {name: list(agents) for name, agents in staffing.items()}
        for name, interval in sorted(self.places(failing)):
            step = steps.get((name, interval), first_step(max(out[name]) if interval == WHOLE else out[name][interval]))
            steps[(name, interval)] = 2 * step
            for i in self.intervals(name, interval):
                out[name][i] += step
                if out[name][i] > self.problem.max_agents:
                    raise NoStaffing(self.unreachable(failing))
        return {name: tuple(agents) for name, agents in out.items()}

    def places(self, failing: Sequence[Estimate]) -> set[tuple[str, int]]:
        """(pool, interval) pairs to act on for these failing estimates."""
        vary = self.problem.vary
        return {(name, e.interval) for e in failing
                for name in ((e.target.pool,) if e.target.pool in vary else vary)}

    def intervals(self, name: str, interval: int) -> range:
        """The intervals of the day a change at ``interval`` touches (all of them when flat)."""
        if interval == WHOLE:
            return range(self.problem.scenario.intervals_per_day)
        return range(interval, interval + 1)

    def unreachable(self, failing: Sequence[Estimate]) -> str:
        texts = sorted({e.target.text for e in failing})
        return (f"no staffing of at most {self.problem.max_agents} agents per pool and interval meets "
                f"{', '.join(texts)} (raise --max-agents or relax the target)")

    # ------------------------------------------------------------------ down

    def down(self, best: Evaluation) -> Evaluation:
        """Fewer agents while every target stays met (then, flat, a cost-driven polish)."""
        if self.problem.per_interval:
            return self.down_intervals(best)
        return self.polish(self.down_flat(best))

    def polish(self, best: Evaluation) -> Evaluation:
        """Steepest descent on cost over one-agent moves of the flat levels: one pool -1 or +1, or
        one agent moved from a pool to another. A move is taken only if it keeps every target met
        and is cheaper with confidence (the one-sided bound of the paired cost difference < 0), so
        noise is never chased; at most :data:`MAX_ROUNDS` moves."""
        for _ in range(MAX_ROUNDS):
            paid = tuple(n for n in self.problem.vary if self.problem.scenario.pool(n).kind == "inhouse")
            moves = _moves(best.staffing, self.problem.vary, paid)
            if not moves:
                return best
            better = [ev for ev in self.evaluate(moves, "polish") if ev.feasible and self.cheaper(ev, best)]
            if not better:
                return best
            best = min(better, key=lambda ev: ev.cost_mean)
        return best

    def cheaper(self, ev: Evaluation, than: Evaluation) -> bool:
        """Whether ``ev`` costs less than ``than`` with the problem's confidence (paired replications)."""
        diff = np.subtract(ev.cost_per_rep, than.cost_per_rep)
        if len(diff) < 2 or not np.all(np.isfinite(diff)):
            return bool(np.mean(diff) < 0)
        _, _, _, high = confidence_interval(diff, 2.0 * self.problem.confidence - 1.0)
        return bool(high < 0)

    def down_flat(self, best: Evaluation) -> Evaluation:
        """Bisect each pool's flat level in turn until a pass changes nothing."""
        changed = True
        while changed:
            changed = False
            for name in self.problem.vary:
                lower = self.bisect(best, name)
                changed = changed or lower is not best
                best = lower
        return best

    def bisect(self, best: Evaluation, name: str) -> Evaluation:
        """The fewest agents of pool ``name`` (all else as in ``best``) that keep every target met:
        steps down (the first :func:`first_step`, then doubling) while met, then bisection of the last step."""
        level = max(best.staffing[name])
        step = first_step(level)
        failing = None
        while failing is None and level > 1:
            trial = max(1, level - step)
            ev = self.evaluate([_flat(best.staffing, name, trial)], "down")[0]
            if ev.feasible:
                best, level, step = ev, trial, 2 * step
            else:
                failing = trial
        while failing is not None and level - failing > 1:
            mid = (failing + level) // 2
            ev = self.evaluate([_flat(best.staffing, name, mid)], "down")[0]
            if ev.feasible:
                best, level = ev, mid
            else:
                failing = mid
        return best

    def down_intervals(self, best: Evaluation) -> Evaluation:
        """Per interval: every (pool, interval) place is searched at once, by bisection between
        its lowest passing count and its highest failing one (from the up phase, else found by
        galloping down: the first step :func:`first_step`, then doubling); one simulated staffing
        per round tries every open place.

        A place passes in a round when no failing target acts on it (see :meth:`places`). Service
        improves with agents everywhere, so a place that passes while its neighbours were lowered
        too passes with them higher. A place that fails is taken as needing more only when the
        interval before it did not miss on the mean (:meth:`own_failure`); otherwise its failure
        may be that interval's backlog carried over, and it is tried again (:meth:`bisect_places`).
        The combined staffing is then simulated, and raised where it fails (:meth:`up`).
        """
        high = {(n, i): a for n in self.problem.vary for i, a in enumerate(best.staffing[n])}
        low = {place: min(self.failed_at.get(place, 0), a - 1) for place, a in high.items()}
        self.bisect_places(high, low)
        return self.up(self.staffing_of(high), "down")

    def bisect_places(self, high: dict[tuple[str, int], int], low: dict[tuple[str, int], int]) -> None:
        """Narrow every place's (low, high] bracket at once, in place (see :meth:`down_intervals`).

        A place that fails while the interval before it misses on the mean is spared (its failure
        may be that interval's backlog): in the next round that interval is held at its passing
        count and the place tried again, its failure then its own. When the spared places form a
        ring (every interval of a pool's day spared: none can be held), all are taken as real so
        that the search goes on: a place can stay above its need there (docs/optimise.md).
        """
        step = {place: 0 if low[place] else first_step(a) for place, a in high.items()}  # bisect from a failure
        spared: set[tuple[str, int]] = set()
        for _ in range(MAX_ROUNDS):
            held = {self.before(place) for place in spared} - spared
            trial = {place: self.next_trial(high[place], low[place], step[place]) for place in high
                     if high[place] - low[place] > 1 and high[place] > 1 and place not in held}
            if not trial:
                break
            staffing = {n: tuple(trial.get((n, i), a) for i, a in enumerate(agents))
                        for n, agents in self.staffing_of(high).items()}
            ev = self.evaluate([staffing], "down")[0]
            failed, short = self.places(ev.failing()), self.short(ev)
            tried = {place for place in trial if place in failed}
            own = {place for place in tried if self.own_failure(place, short) or self.before(place) in held}
            spared = tried - own
            if spared and not {self.before(place) for place in spared} - spared:
                own, spared = tried, set()  # a ring: nothing to hold, take them all as real
            for place, count in trial.items():
                if place in own:
                    low[place], step[place] = count, 0  # bisect from now on
                elif place not in failed:
                    high[place] = count
                    step[place] = 2 * step[place] if step[place] else 0

    def before(self, place: tuple[str, int]) -> tuple[str, int]:
        """The same pool's interval before ``place`` (the day wrapping round)."""
        name, interval = place
        return name, (interval - 1) % self.problem.scenario.intervals_per_day

    @staticmethod
    def next_trial(high: int, low: int, step: int) -> int:
        """The next count to try at a place: ``step`` below ``high`` while galloping (never at or
        below ``low``, never below 1), else halfway between ``low`` and ``high``."""
        if step:
            return max(1, low + 1, high - step)
        return max(1, (low + high) // 2)

    def staffing_of(self, counts: dict[tuple[str, int], int]) -> Staffing:
        """A staffing from counts per (pool, interval)."""
        per_day = self.problem.scenario.intervals_per_day
        return {n: tuple(counts[(n, i)] for i in range(per_day)) for n in self.problem.vary}


def first_step(agents: int) -> int:
    """The first step up from ``agents``: a quarter of its square root (at least 1), the scale on
    which service changes (square-root staffing: a safety margin of beta·sqrt(load) agents), so a
    large pool is not raised one agent at a time; later steps double."""
    return max(1, round(math.sqrt(max(agents, 0)) / 4))


def _moves(staffing: Staffing, vary: Sequence[str], paid: Sequence[str]) -> list[Staffing]:
    """Flat staffings one agent away: a pool -1 (never below 1), a ``paid`` pool +1, or an agent
    moved between two pools. Only pools whose agents the client pays by the hour (in-house) may
    grow: a vendor's agents cost the client nothing per head, so adding them would always look
    cheaper (fewer waits) and the polish would staff the vendor for it."""
    level = {name: max(staffing[name]) for name in vary}
    steps = [{name: -1} for name in vary] + [{name: 1} for name in paid]
    steps += [{give: -1, take: 1} for give in vary for take in vary if give != take]
    out: list[Staffing] = []
    for step in steps:
        if all(level[name] + d >= 1 for name, d in step.items()):
            new: Staffing = dict(staffing)
            for name, d in step.items():
                new = _flat(new, name, level[name] + d)
            out.append(new)
    return out


def _flat(staffing: Staffing, name: str, level: int) -> Staffing:
    """``staffing`` with pool ``name`` at ``level`` agents in every interval."""
    return {**staffing, name: (level,) * len(staffing[name])}


def optimise(problem: Problem, executor: Executor | None = None, progress: bool | None = False) -> Outcome:
    """The cheapest staffing found for ``problem`` (see the module's docstring).

    ``progress``: a bar per batch of staffings on stderr (None: when stderr is a terminal).
    """
    return Search(problem, executor, progress).run()
