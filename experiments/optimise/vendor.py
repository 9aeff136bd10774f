"""The vendor staffs its own pool (issue 11 item 2): the fewest agents per interval that meet its SLA.

A BPO pool with ``staffing = "vendor"`` has no agents in its file: before a run simulates it,
:func:`vendor_staffed` plans it as a vendor would, with the project's optimiser
(:func:`experiments.optimise.search.optimise`, ``per_interval=True``, varying the scenario's
vendor-staffed pools together, every other pool as the client set it):

- **targets** from the contract's SLA terms (:func:`vendor_targets`): ``sl_frac`` ->
  ``POOL:sl_frac>=target``, judged at the term's ``threshold_s`` (the plan is evaluated on a copy
  of the scenario whose ``service_level_s`` is that threshold; vendor-staffed pools of one scenario
  share it, models/loading.py checks); ``asa_s`` -> ``POOL:asa_s<=target``; ``abandon_frac`` ->
  ``POOL:abandon_frac<=target``. ``resolution_frac`` cannot be staffed for (more agents do not
  resolve more) and is ignored; a term whose target any staffing meets (service level 0, abandon 1)
  too;
- **its own replications**: seed :func:`vendor_seed` (derived from the run's seed, different from
  it, so the vendor does not tune on the very callers the client then sees), ``min(reps,
  PLAN_REPS)`` replications of the run's days and warm-up, no calls table;
- **in expectation**: confidence :data:`PLAN_CONFIDENCE` (0.5: each interval's target is judged
  on the mean over the replications): the vendor staffs to meet the SLA on average, as a planner
  does with Erlang tables, not with a 95% safety margin the client is not paying for.

A planned pool keeps ``staffing = "vendor"`` and gets its agents; :attr:`Pool.planned` is what
:func:`vendor_staffed` checks, so a planned scenario is never planned again (the optimiser's own
evaluations run through ``run()``, on staffings whose vendor pools are all set).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from experiments.optimise.evaluate import staffed
from experiments.optimise.search import NoStaffing, Problem, optimise
from experiments.optimise.targets import DIRECTIONS, Target
from experiments.running.executors import Executor
from experiments.study.points import SweepPoint
from models.fields import ScenarioError
from models.pools import Pool
from models.scenario import Scenario
from models.settings import RunSettings
from models.sla import staffable

PLAN_REPS = 4
"""Most replications the vendor plans on (fewer when the run has fewer)."""

PLAN_CONFIDENCE = 0.5
"""One-sided confidence of the vendor's targets: 0.5 judges each on the mean (in expectation)."""

VENDOR_STREAM = 0x56454E44
"""Spawn key of the vendor's seed ("VEND"); a constant, never renumbered."""


def needs_plan(points: Sequence[SweepPoint]) -> bool:
    """Whether some point has a vendor-staffed pool not planned yet."""
    return any(not p.planned for point in points for p in point.scenario.pools)


def vendor_staffed(points: Sequence[SweepPoint], settings: RunSettings,
                   executor: Executor | None) -> list[SweepPoint]:
    """``points`` with every unplanned vendor-staffed pool planned (each point on its own; the
    others returned as they are)."""
    return [replace(point, scenario=plan(point.scenario, settings, executor))
            if needs_plan([point]) else point for point in points]


def vendor_planned(problem: Problem, executor: Executor | None) -> Problem:
    """``problem`` with its scenario's vendor-staffed pools planned once, before a client's search,
    at the client's starting staffing (the scenario's own agents) and the problem's settings; the
    search then keeps that plan (the vendor's agents are not the client's to vary)."""
    if all(p.planned for p in problem.scenario.pools):
        return problem
    return replace(problem, scenario=plan(problem.scenario, problem.settings, executor))


def plan(scenario: Scenario, settings: RunSettings, executor: Executor | None) -> Scenario:
    """``scenario`` with its vendor-staffed pools at the vendor's plan (see the module's docstring).

    Raises:
        ScenarioError: no staffing within the optimiser's maximum meets a pool's SLA (one line).
    """
    vendor = tuple(p.name for p in scenario.pools if not p.planned)
    targets = tuple(t for name in vendor for t in vendor_targets(scenario.pool(name)))
    problem = Problem(judged(scenario), targets, vendor, planning_settings(settings), per_interval=True,
                      confidence=PLAN_CONFIDENCE)
    try:
        outcome = optimise(problem, executor)
    except NoStaffing as exc:
        index = scenario.pool_index(vendor[0])
        raise ScenarioError(scenario.source, f"pools[{index}].contract.sla",
                            f"the vendor cannot staff to meet it: {exc}") from None
    return staffed(scenario, outcome.staffing)


def vendor_targets(pool: Pool) -> tuple[Target, ...]:
    """The optimiser's targets for a vendor-staffed pool: one per staffable SLA term of its contract
    that some staffing must work for (``resolution_frac`` and targets met by any staffing left out)."""
    terms = pool.contract.terms if pool.contract is not None else ()
    out = []
    for term in terms:
        if term.metric not in DIRECTIONS or not staffable(term.metric, term.target):
            continue
        out.append(Target(term.metric, DIRECTIONS[term.metric], float(term.target), pool.name))
    return tuple(out)


def judged(scenario: Scenario) -> Scenario:
    """The scenario the plan is judged on: its ``service_level_s`` at the vendor pools' SLA threshold."""
    thresholds = [p.contract.sl_threshold_s for p in scenario.pools if not p.planned and p.contract is not None]
    known = [t for t in thresholds if t is not None]
    return replace(scenario, service_level_s=float(known[0])) if known else scenario


def vendor_seed(seed: int) -> int:
    """The vendor's planning seed: derived from the run's ``seed`` through its own spawn key."""
    return int(np.random.SeedSequence(seed, spawn_key=(VENDOR_STREAM,)).generate_state(1)[0])


def planning_settings(settings: RunSettings) -> RunSettings:
    """The vendor's replications: its own seed, at most :data:`PLAN_REPS` of the run's days, no calls."""
    return replace(settings, seed=vendor_seed(settings.seed), reps=min(settings.reps, PLAN_REPS),
                   keep_calls=False)

