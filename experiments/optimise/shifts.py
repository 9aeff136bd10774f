"""Shifts for in-house pools: the per-interval staffing found by the search becomes the cheapest
set of shifts covering it, checked and repaired by simulation.

For each varied in-house pool with shift templates (``shifts``), after a ``per_interval`` search:

1. **requirement**: ``r_i``, the search's agents in each interval of the day where the pool is
   open (0 where it is closed: nothing is required there);
2. **plan**: the cheapest shifts covering ``r`` (experiments/optimise/shift_milp.py); the pool's
   agents become the plan's coverage and its pay the plan's paid hours;
3. **check and repair**: the plans are simulated as the search simulates a staffing (same
   targets, confidence, seed and replications). Where a target fails, the requirement there is
   raised to one above the coverage (a pool without shifts gets one agent more there) and the plan
   solved again, until every target is met. Coverage only adds agents to the search's staffing
   (``coverage >= r``), so with service rising in agents a repair is rare;
4. **re-check** on fresh replications (seeds after every one the search used), repaired as the
   search does (a fresh *mean* that misses, at most :data:`~experiments.optimise.search.RECHECKS`
   seeds in all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from experiments.optimise.evaluate import Estimate, Evaluation, Staffing, evaluate
from experiments.optimise.search import MAX_ROUNDS, RECHECKS, Outcome, Problem
from experiments.optimise.shift_milp import cheapest_shifts
from experiments.running.executors import Executor
from models.scenario import Scenario
from models.shifts import Shift, break_mask, coverage, open_intervals

Plans = Mapping[str, tuple[tuple[int, Shift], ...]]
"""(template index, shift with agents) of each pool planned, by pool name."""


@dataclass(frozen=True)
class PoolPlan:
    """The shift plan of one pool and what it covers.

    Attributes:
        pool: The pool's name.
        shifts: (template index, shift with its agents > 0), in the templates' order.
        required: The search's agents per interval of the day where the pool is open (0 where closed).
        planned: The requirement the last plan was solved for (``required`` raised by repairs).
        covered: Agents taking calls per interval of the day under the plan.
        on_break: Agents of the plan on their (paid) break per interval of the day.
        open_: Whether the pool is open in each interval of the day (on some weekday).
    """

    pool: str
    shifts: tuple[tuple[int, Shift], ...]
    required: tuple[int, ...]
    planned: tuple[int, ...]
    covered: tuple[int, ...]
    on_break: tuple[int, ...]
    open_: tuple[bool, ...]

    @property
    def plan(self) -> tuple[Shift, ...]:
        return tuple(s for _, s in self.shifts)

    def paid_h_per_day(self) -> float:
        """Paid agent-hours per open day: sum of agents × length_h (breaks paid)."""
        return float(sum(s.agents * s.length_h for s in self.plan))


@dataclass
class ShiftOutcome:
    """The plans, the scenario that carries them, and the optimisation's outcome with them.

    ``outcome``: the staffing (coverage for planned pools), its evaluation on the search's seed
    and on the last fresh seed, and the log of the search followed by the shifts' evaluations.
    """

    plans: dict[str, PoolPlan]
    scenario: Scenario
    outcome: Outcome


def shift_pools(problem: Problem) -> tuple[str, ...]:
    """The varied in-house pools with shift templates (none unless the search is per interval)."""
    if not problem.per_interval:
        return ()
    pools = [problem.scenario.pool(n) for n in problem.vary]
    return tuple(p.name for p in pools if p.kind == "inhouse" and p.shifts)


def with_plans(scenario: Scenario, plans: Plans) -> Scenario:
    """``scenario`` whose planned pools carry their plan and its coverage as their agents."""
    def planned(name: str) -> tuple[Shift, ...]:
        return tuple(s for _, s in plans[name])

    pools = tuple(replace(p, shift_plan=planned(p.name), agents=coverage(planned(p.name), scenario.interval_min))
                  if p.name in plans else p for p in scenario.pools)
    return replace(scenario, pools=pools)


def plan_shifts(problem: Problem, outcome: Outcome, executor: Executor | None = None,
                progress: bool | None = False) -> ShiftOutcome | None:
    """Shift plans for the pools of :func:`shift_pools` from ``outcome`` (None when there are none)."""
    names = shift_pools(problem)
    return _Planner(problem, outcome, names, executor, progress).run() if names else None


class _Planner:
    """One planning: requirement, plan, check and repair, re-check (see the module's docstring)."""

    def __init__(self, problem: Problem, outcome: Outcome, names: tuple[str, ...], executor: Executor | None,
                 progress: bool | None) -> None:
        self.problem, self.names, self.executor, self.progress = problem, names, executor, progress
        self.interval_min = problem.scenario.interval_min
        self.open = {n: open_intervals(problem.scenario.pool(n), self.interval_min) for n in names}
        self.required = {n: tuple(int(a) if o else 0 for a, o in zip(outcome.staffing[n], self.open[n], strict=True))
                         for n in names}
        self.staffing: Staffing = outcome.staffing
        self.log = list(outcome.log)
        self.fresh = max(seed for _, seed, _ in outcome.log) + 1

    def run(self) -> ShiftOutcome:
        need = {n: list(r) for n, r in self.required.items()}
        others = {n: list(self.staffing[n]) for n in self.problem.vary if n not in self.names}
        searched, plans = self.cover(need, others, "shifts")
        recheck = searched
        for k in range(RECHECKS):
            recheck = self.evaluate(plans, others, "shifts-recheck", self.fresh + k)
            missed = [e for e in recheck.estimates if not e.mean_met]
            if not missed or k == RECHECKS - 1:
                break
            self.raise_at(missed, plans, need, others)
            searched, plans = self.cover(need, others, "shifts-repair")
        result = Outcome(searched.staffing, searched, recheck, self.log)
        pool_plans = {n: self.pool_plan(n, plans[n], need[n]) for n in self.names}
        return ShiftOutcome(pool_plans, with_plans(self.problem.scenario, plans), result)

    def cover(self, need: dict[str, list[int]], others: dict[str, list[int]],
              phase: str) -> tuple[Evaluation, Plans]:
        """Plan for ``need``, simulate, raise where targets fail, until all are met (on the search's seed)."""
        for _ in range(MAX_ROUNDS):
            plans = {n: cheapest_shifts(need[n], self.problem.scenario.pool(n).shifts, self.interval_min)
                     for n in self.names}
            ev = self.evaluate(plans, others, phase)
            if ev.feasible:
                return ev, plans
            if not self.raise_at(ev.failing(), plans, need, others):
                raise ValueError(f"{', '.join(sorted({e.target.text for e in ev.failing()}))} fails where no varied "
                                 "pool is open to take more agents")
        raise ValueError(f"no shift plan met every target after {MAX_ROUNDS} rounds of repair")

    def raise_at(self, failing: Sequence[Estimate], plans: Plans, need: dict[str, list[int]],
                 others: dict[str, list[int]]) -> bool:
        """Raise the requirement to one above the coverage where a target fails (planned pools),
        or add an agent there (other varied pools); whether anything was raised."""
        vary, raised = self.problem.vary, False
        for name, i in sorted({(n, e.interval) for e in failing
                               for n in ((e.target.pool,) if e.target.pool in vary else vary)}):
            if name in plans and not self.open[name][i]:
                continue  # an overall target failing where this pool is closed: nothing to plan there
            if name in plans:
                need[name][i] = max(need[name][i], self.coverage(plans[name])[i] + 1)
                top = need[name][i]
            else:
                others[name][i] += 1
                top = others[name][i]
            if top > self.problem.max_agents:
                raise ValueError(f"no shift plan of at most {self.problem.max_agents} agents per interval meets "
                                 f"{', '.join(sorted({e.target.text for e in failing}))} (raise --max-agents)")
            raised = True
        return raised

    def coverage(self, shifts: tuple[tuple[int, Shift], ...]) -> tuple[int, ...]:
        return coverage([s for _, s in shifts], self.interval_min)

    def evaluate(self, plans: Plans, others: Mapping[str, Sequence[int]], phase: str,
                 seed: int | None = None) -> Evaluation:
        """The plans (with the other varied pools' staffing) simulated and judged as the search does."""
        p = self.problem
        settings = p.settings if seed is None else replace(p.settings, seed=seed)
        staffing = {n: tuple(a) for n, a in others.items()}
        label = f"{phase} {len(self.log) + 1}"
        ev = evaluate(with_plans(p.scenario, plans), [staffing], p.targets, settings, self.executor, True,
                      p.confidence, p.cost, self.progress, label, p.simultaneous)[0]
        full = {n: staffing[n] if n in staffing else self.coverage(plans[n]) for n in p.vary}
        ev = replace(ev, staffing=full)
        self.log.append((phase, settings.seed, ev))
        return ev

    def pool_plan(self, name: str, shifts: tuple[tuple[int, Shift], ...], need: Sequence[int]) -> PoolPlan:
        breaks = np.zeros(len(need), dtype=np.int64)
        for _, s in shifts:
            breaks += s.agents * break_mask(s.start_h, s.length_h, s.break_min, self.interval_min)
        return PoolPlan(name, shifts, self.required[name], tuple(need), self.coverage(shifts),
                        tuple(int(b) for b in breaks), tuple(bool(o) for o in self.open[name]))
