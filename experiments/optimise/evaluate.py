"""One or more staffings simulated under common random numbers, and each target judged on them.

A staffing gives the varied pools' agents per interval of the day (as a scenario's ``agents``).
Every staffing of a batch is simulated with the same seed and replications, so two staffings see
the same callers and their difference is measured far more precisely than either alone.

A target is judged on the replications' values of its metric (a ratio of sums over the measured
period, or over each interval of the day across days with ``per_interval``; intervals where the
pools judged are closed or get no call are not judged): met when the one-sided
``confidence`` bound (the lower bound of a ``>=`` target, the upper of a ``<=`` one; Student-t
over replications) is on the right side of the target. A client's target (``@CLIENT:``) is judged
over the whole period on the ``contacts`` counts of its call types (as its callers see them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.optimise.targets import OVERALL, Target, client_types
from experiments.results.runner import run
from experiments.results.statistics import confidence_interval
from experiments.running.executors import Executor
from experiments.study.points import SweepPoint
from models.metrics import COUNT_COLUMNS, add_rates
from models.scenario import Scenario, Staffing
from models.settings import RunSettings

WHOLE = -1
"""The interval of an estimate over the whole measured period."""


@dataclass(frozen=True)
class Estimate:
    """A target's metric on one staffing, over the whole period or one interval of the day.

    Attributes:
        target: The target judged.
        interval: The interval of the day (0-based), or :data:`WHOLE`.
        mean: Mean over replications of the metric.
        bound: The one-sided confidence bound that is compared with the target (nan with one
            replication: then the mean is used).
        met: Whether the bound meets the target.
        sure_frac: How sure the replications make it that the metric meets the target: the
            Student-t probability that the true mean is on the target's side (0..1; 0.5 when the
            mean sits on the target; nan with one replication).
    """

    target: Target
    interval: int
    mean: float
    bound: float
    met: bool
    sure_frac: float = math.nan

    @property
    def mean_met(self) -> bool:
        """Whether the mean (not the bound) meets the target."""
        return self.target.met_by(self.mean)


@dataclass(frozen=True)
class Evaluation:
    """One staffing, its estimates and its cost.

    Attributes:
        staffing: The varied pools' agents.
        estimates: Every target's estimate(s).
        cost_mean: Mean over replications of the cost column (currency per measured period).
        cost_per_rep: The cost of each replication (paired with other staffings of the batch).
    """

    staffing: Staffing
    estimates: tuple[Estimate, ...]
    cost_mean: float
    cost_per_rep: tuple[float, ...]

    @property
    def feasible(self) -> bool:
        """Every target met (at its confidence bound) wherever it is judged."""
        return all(e.met for e in self.estimates)

    def failing(self) -> list[Estimate]:
        return [e for e in self.estimates if not e.met]


def staffed(scenario: Scenario, staffing: Staffing) -> Scenario:
    """``scenario`` with the varied pools' agents replaced (and any shift plan of theirs dropped:
    they are paid by the schedule)."""
    return scenario.with_agents(staffing)


def evaluate(scenario: Scenario, staffings: Sequence[Staffing], targets: Sequence[Target], settings: RunSettings,
             executor: Executor | None, per_interval: bool, confidence: float = 0.95,
             cost: str = "total_with_quality_cost", progress: bool | None = False,
             label: str = "staffings", simultaneous: bool = False) -> list[Evaluation]:
    """Simulate every staffing (same seed and replications) and judge every target on each.

    ``progress``: a bar of the batch's tasks on stderr, labelled ``label`` (None: when stderr is a terminal).
    ``simultaneous``: the ``confidence`` holds for all the m estimates of a staffing together
    (Bonferroni: each is judged at 1 - (1 - confidence) / m), not for each alone.
    """
    points = [SweepPoint(f"staffing-{k}", scenario.name, staffed(scenario, s)) for k, s in enumerate(staffings)]
    result = run(points, settings, executor=executor, progress=progress, name=label)
    out = []
    for k, staffing in enumerate(staffings):
        sid = points[k].scenario_id
        intervals = result.intervals[result.intervals["scenario_id"] == sid]
        runs = result.runs[result.runs["scenario_id"] == sid].sort_values("rep")
        contacts = result.contacts[result.contacts["scenario_id"] == sid]
        values = [v for t in targets for v in (_client_values(t, contacts, scenario) if t.client
                                                 else _values(t, intervals, scenario, per_interval))]
        each = 1.0 - (1.0 - confidence) / max(len(values), 1) if simultaneous else confidence
        estimates = tuple(_estimate(t, interval, v, each) for t, interval, v in values)
        costs = runs[cost].to_numpy(dtype=float)
        out.append(Evaluation(dict(staffing), estimates, float(costs.mean()), tuple(costs.tolist())))
    return out


def _values(target: Target, intervals: pd.DataFrame, scenario: Scenario,
            per_interval: bool) -> list[tuple[Target, int, np.ndarray]]:
    """The target's metric per replication, over the whole period or per interval of the day where
    it is judged: (target, interval, values)."""
    rows = intervals if target.pool == OVERALL else intervals[intervals["pool"] == target.pool]
    keys = ["rep"]
    if per_interval:
        rows = rows.assign(of_day=rows["interval"] % scenario.intervals_per_day)
        keys.append("of_day")
    columns = ["scheduled_n", "staffed_s", "busy_s", *COUNT_COLUMNS]
    values = add_rates(rows.groupby(keys, observed=True, as_index=False)[columns].sum())
    base = "staffed_s" if target.metric == "occupancy_frac" else "offered_n"
    judged: list[tuple[Target, int, np.ndarray]] = []
    groups = values.groupby("of_day") if per_interval else [(WHOLE, values)]
    for interval, part in groups:
        if (part[base] <= 0).all() or (part["scheduled_n"] <= 0).all():
            continue  # closed, or no calls: nothing to judge (calls waiting for the opening count later)
        judged.append((target, int(interval), part[target.metric].to_numpy(dtype=float)))
    return judged


#: the per-call-type counts of the ``contacts`` table a client's service is computed from
CLIENT_COUNTS = ["offered_n", "answered_n", "answered_in_sl_n", "abandoned_n", "wait_answered_s"]


def client_service(contacts: pd.DataFrame, scenario: Scenario, client: str) -> pd.DataFrame:
    """One client's service per replication (index ``rep``), as its callers see it: the ``contacts``
    counts of its call types summed over every pool (:data:`CLIENT_COUNTS`), and ``sl_frac``,
    ``asa_s`` and ``abandon_frac`` from them (NaN without calls)."""
    rows = contacts[contacts["call_type"].astype(str).isin(client_types(scenario, client))]
    sums = rows.groupby("rep")[CLIENT_COUNTS].sum().sort_index()
    offered = sums["offered_n"].where(sums["offered_n"] > 0)
    return sums.assign(sl_frac=sums["answered_in_sl_n"] / offered,
                       asa_s=sums["wait_answered_s"] / sums["answered_n"].where(sums["answered_n"] > 0),
                       abandon_frac=sums["abandoned_n"] / offered)


def _client_values(target: Target, contacts: pd.DataFrame,
                   scenario: Scenario) -> list[tuple[Target, int, np.ndarray]]:
    """A client's target: its metric per replication over the whole measured period
    (:func:`client_service`); nothing to judge when the client had no call."""
    service = client_service(contacts, scenario, target.client)
    if service.empty or (service["offered_n"] <= 0).all():
        return []
    return [(target, WHOLE, service[target.metric].to_numpy(dtype=float))]


def _estimate(target: Target, interval: int, values: np.ndarray, confidence: float) -> Estimate:
    """The mean and one-sided bound of ``values`` (one per replication) against ``target``."""
    from scipy.special import stdtr  # Student-t CDF

    mean, sd, low, high = confidence_interval(values, 2.0 * confidence - 1.0)
    bound = low if target.op == ">=" else high
    judged = mean if np.isnan(bound) else bound
    n = int((~np.isnan(values)).sum())
    if n >= 2 and sd > 0:
        sure = float(stdtr(n - 1, -target.gap(mean) / (sd / math.sqrt(n))))
    else:
        sure = math.nan if n < 2 else float(target.met_by(mean))
    return Estimate(target, interval, mean, bound, bool(target.met_by(judged)), sure)
