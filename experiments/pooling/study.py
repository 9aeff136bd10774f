"""The pooling study: for each number of clients, the vendor pool staffed to every client's
target by the optimiser, then measured on the run's own replications.

One task per number of clients runs its whole search and measurement in one process (like an
equal-service point, experiments/optimise/study.py), so the points spread over the executor's
workers, locally or on Dask, with the same answer: the search uses the run's seed plus
:data:`~experiments.optimise.goal.SEARCH_SEED_OFFSET`, the measurement the run's seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from experiments.optimise.evaluate import client_service, staffed
from experiments.optimise.goal import SEARCH_SEED_OFFSET
from experiments.optimise.search import NoStaffing, Problem, optimise
from experiments.optimise.targets import OVERALL, Target, parse_target
from experiments.pooling.build import Sharing, client_name, pooled
from experiments.results.runner import run
from experiments.running.executors import Executor, SerialExecutor
from experiments.running.progress import Progress
from experiments.study.points import SweepPoint
from models.scenario import Scenario
from models.settings import RunSettings

#: per (clients_n, rep): what the vendor paid for and handled (docs/pooling.md)
REP_COLUMNS = ["clients_n", "rep", "paid_h", "paid_agents_n", "staffed_s", "busy_s", "labour_cost", "handled_min",
               "labour_per_min_cost"]
#: per (clients_n, rep, client): each client's service as its callers saw it
CLIENT_COLUMNS = ["clients_n", "rep", "client", "offered_n", "answered_n", "answered_in_sl_n", "abandoned_n",
                  "wait_answered_s", "sl_frac", "asa_s", "abandon_frac"]


@dataclass(frozen=True)
class Study:
    """What a pooling study runs.

    Attributes:
        scenario: The client's scenario (its own calls are copied for the other clients).
        sharing: The vendor pool and how clients share it.
        clients: The numbers of clients to study (each >= 1).
        targets: Targets as written, without a pool or client: each applies to every client.
        settings: The measured replications (reps, days, warm-up, seed); the search uses the same
            horizon on seed + SEARCH_SEED_OFFSET.
        confidence: One-sided confidence of each client's target in the search.
        max_agents: Most agents the searched pool may get.
    """

    scenario: Scenario
    sharing: Sharing
    clients: tuple[int, ...]
    targets: tuple[str, ...]
    settings: RunSettings
    confidence: float = 0.95
    max_agents: int = 2000


@dataclass(frozen=True)
class Point:
    """One number of clients: the staffing found and its measurement."""

    clients_n: int
    staffing: dict[str, tuple[int, ...]]
    evaluations_n: int
    reps: pd.DataFrame
    clients: pd.DataFrame


def client_targets(study: Study, scenario: Scenario) -> tuple[Target, ...]:
    """Each written target once per client of ``scenario``; ValueError (one line) if one names a
    pool or a client (they apply to every client) or is malformed."""
    out = []
    for text in study.targets:
        target = parse_target(text, scenario)
        if target.pool != OVERALL or target.client:
            raise ValueError(f"--target {text!r}: write it without a pool or client: it applies to every client's "
                             "calls, e.g. 'sl_frac>=0.8'")
        if target.metric == "occupancy_frac":
            raise ValueError(f"--target {text!r}: a client's target is on sl_frac, asa_s or abandon_frac")
        out += [replace(target, client=client_name(k, scenario)) for k in range(1, _clients_in(scenario) + 1)]
    return tuple(out)


def check_targets(study: Study) -> None:
    """ValueError (one line) unless the study's targets can be set for each of its clients."""
    client_targets(study, pooled(study.scenario, study.sharing, max(study.clients)))


def _clients_in(scenario: Scenario) -> int:
    return len({ct.client for ct in scenario.demand})


def problem(study: Study, n: int) -> Problem:
    """The search for ``n`` clients: the vendor's shared pool, each client's targets over the whole
    measured period, on the search's seed."""
    scenario = pooled(study.scenario, study.sharing, n)
    settings = replace(study.settings, seed=study.settings.seed + SEARCH_SEED_OFFSET, keep_calls=False)
    return Problem(scenario, client_targets(study, scenario), (study.sharing.pool,), settings, per_interval=False,
                   confidence=study.confidence, max_agents=study.max_agents, cost="total_cost")


def study_point(study: Study, n: int) -> Point:
    """Search then measure ``n`` clients, serially in this process (a worker's task)."""
    p = problem(study, n)
    try:
        with SerialExecutor() as executor:
            outcome = optimise(p, executor, progress=False)
            point = SweepPoint(f"clients={n}", p.scenario.name, staffed(p.scenario, outcome.staffing))
            result = run([point], replace(study.settings, keep_calls=False), executor=executor, progress=False)
    except NoStaffing as exc:
        raise NoStaffing(f"{n} clients: {exc}") from None
    return Point(n, dict(outcome.staffing), len(outcome.log), rep_rows(n, result.vendor, result.clients),
                 client_rows(n, result.contacts, point.scenario))


def rep_rows(n: int, vendor: pd.DataFrame, clients: pd.DataFrame) -> pd.DataFrame:
    """Per replication: the vendor's paid hours, labour and handled minutes over all its pools."""
    paid = vendor.groupby("rep")[["paid_h", "paid_agents_n", "staffed_s", "busy_s", "labour_cost"]].sum()
    handled = clients.groupby("rep")["handled_s"].sum() / 60.0
    frame = paid.assign(handled_min=handled, clients_n=n).reset_index()
    frame["labour_per_min_cost"] = frame["labour_cost"] / frame["handled_min"].where(frame["handled_min"] > 0)
    return frame[REP_COLUMNS]


def client_rows(n: int, contacts: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per (replication, client): its calls' service over every pool, as its callers saw it."""
    parts = [client_service(contacts, scenario, client_name(k, scenario)).reset_index()
             .assign(client=client_name(k, scenario)) for k in range(1, _clients_in(scenario) + 1)]
    return pd.concat(parts, ignore_index=True).assign(clients_n=n)[CLIENT_COLUMNS]


def run_study(study: Study, executor: Executor, progress: bool | None = None) -> list[Point]:
    """Every number of clients of ``study``, one task each on ``executor``, in the study's order.

    ``progress``: a bar of the points on stderr (None: when stderr is a terminal)."""
    check_targets(study)
    found: dict[int, Point] = {}
    bar = Progress(len(study.clients), label="pooling", enabled=progress)
    try:
        for k, point in executor.run(study_point, [(study, n) for n in study.clients]):
            found[k] = point
            bar.advance()
    finally:
        bar.close()
    return [found[k] for k in range(len(study.clients))]

