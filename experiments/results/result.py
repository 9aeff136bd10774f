"""The one result type: every table of a run of one scenario or of many (a sweep), and what to do with them.

A :class:`Result` comes from :func:`experiments.results.runner.run` (one scenario is a batch of one
point) or from :func:`experiments.results.folder.read_results`, and goes to the report. Its tables
carry each point's ids and swept values on every row (docs/results.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.results.offers import offers_table
from experiments.results.pricing import billing_rules, priced_tables, reprice_pools, without_money
from experiments.results.statistics import confidence_interval, summarize
from experiments.results.tables import (
    ALL_POOLS,
    RUN_METRICS,
    STAT_COLUMNS,
    TABLES,
    by_point,
    concat_tables,
    id_columns,
    points_info,
    with_ids,
)
from experiments.study.points import SweepPoint, param_paths
from models.fields import suggest
from models.offers import Offer
from models.settings import RunSettings
from sim.usage import usage_from_calls


@dataclass
class Result:
    """Every table of a run; each row carries ``scenario_id, option, study`` and one column per swept
    path (named by the path), then the columns of docs/results.md.

    Attributes:
        points: the scenarios, in order (empty when read from a folder whose scenario files changed).
        settings: the run settings shared by all points.
        calls: one row per call (None with ``keep_calls=False``).
        intervals: per point, replication, interval and pool.
        usage: per point, replication, BPO pool and billing month: what its contract bills.
        contacts: per point, replication, call type and pool: what callers lived through.
        invoices: per point, replication, BPO pool, client and billing month: the invoice lines.
        pool_runs: per point, replication and pool: counts, rates and costs.
        runs: per point and replication: all pools together.
        meta: versions, settings, each point's digest and what was loaded or computed.
        optimised: per point of an equal-service study and varied pool, the staffing the optimiser
            found before the run (experiments/optimise/study.py; None without such studies).
        clients: per point, replication, BPO pool and client: its service at the pool and its
            invoices (experiments/results/clients.py; None when read from an older folder).
        vendor: per point, replication and BPO pool: the vendor's paid hours, occupancy, revenue,
            labour and margin (experiments/results/vendor.py; None when read from an older folder).
    """

    points: list[SweepPoint]
    settings: RunSettings
    calls: pd.DataFrame | None
    intervals: pd.DataFrame
    usage: pd.DataFrame
    contacts: pd.DataFrame
    invoices: pd.DataFrame
    pool_runs: pd.DataFrame
    runs: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    optimised: pd.DataFrame | None = None
    clients: pd.DataFrame | None = None
    vendor: pd.DataFrame | None = None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present, by name (``calls`` only when kept)."""
        return {name: table for name in TABLES if (table := getattr(self, name)) is not None}

    @property
    def param_columns(self) -> list[str]:
        """The swept dotted paths, one column each."""
        return param_paths(self.points) if self.points else id_columns(self.runs)[3:]

    @property
    def scenario_ids(self) -> list[str]:
        """Every point's id, in order."""
        return [str(sid) for sid in points_info(self.runs)["scenario_id"]]

    def point(self, scenario_id: str) -> SweepPoint:
        """The point with this id (ValueError naming the closest id if none)."""
        for point in self.points:
            if point.scenario_id == scenario_id:
                return point
        ids = tuple(self.scenario_ids)
        if scenario_id in ids:
            raise ValueError(f"the scenario of {scenario_id!r} is not available (its file changed since the run)")
        raise ValueError(f"no scenario {scenario_id!r}{suggest(scenario_id, ids)}")

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Per point, pool (and ``all``) and metric: ``reps_n, mean, sd, ci_low, ci_high`` over replications."""
        pools, totals = by_point(self.pool_runs), by_point(self.runs)
        info = points_info(self.runs)
        parts = []
        for i, sid in enumerate(info["scenario_id"].astype(str)):
            frame = pd.concat([pools[sid], totals[sid].assign(pool=ALL_POOLS)])
            parts.append(with_ids(summarize(frame, ["pool"], RUN_METRICS, level), info, i))
        return concat_tables(parts)

    def paired_differences(self, baseline_id: str, metrics: Sequence[str] | None = None,
                           pool: str = ALL_POOLS, level: float = 0.95) -> pd.DataFrame:
        """Per other point and metric: mean, sd and CI of (point − baseline) over paired replications.

        Replication r of every point saw the same arrivals (common random numbers), so the
        differences rep by rep vary far less than the metrics themselves. Pairs where the metric is
        undefined on either side are left out (``reps_n`` counts the pairs used). ``pool`` is a
        pool name or ``all``.
        """
        info = points_info(self.runs)
        if baseline_id not in set(info["scenario_id"].astype(str)):
            self.point(baseline_id)  # raises, naming the closest id
        metrics = list(metrics or RUN_METRICS)
        unknown = [m for m in metrics if m not in RUN_METRICS]
        if unknown:
            raise ValueError(f"unknown metric {unknown[0]!r}{suggest(unknown[0], tuple(RUN_METRICS))}")
        frame = self.runs if pool == ALL_POOLS else self.pool_runs[self.pool_runs["pool"] == pool]
        per_point = {sid: part.set_index("rep")[metrics] for sid, part in by_point(frame).items()}
        base = per_point.get(baseline_id)
        if base is None:
            raise ValueError(f"baseline {baseline_id!r} has no pool {pool!r}")
        parts = []
        for i, sid in enumerate(info["scenario_id"].astype(str)):
            if sid == baseline_id or sid not in per_point:
                continue
            diff = per_point[sid].sub(base).dropna(how="all")
            rows = []
            for metric in metrics:
                values = diff[metric].to_numpy(dtype=float)
                mean, sd, low, high = confidence_interval(values, level)
                rows.append([baseline_id, pool, metric, int((~np.isnan(values)).sum()), mean, sd, low, high])
            part = pd.DataFrame(rows, columns=["baseline_id", "pool", "metric", *STAT_COLUMNS])
            parts.append(with_ids(part, info, i))
        if not parts:
            return pd.DataFrame(columns=[*info.columns, "baseline_id", "pool", "metric", *STAT_COLUMNS])
        return concat_tables(parts)

    def reprice(self, **pool_changes: Mapping[str, Any]) -> Result:
        """The same simulated calls priced with new pool money fields, without simulating again.

        ``result.reprice(offshore={"contract": Contract(...)}, inhouse={"wage_per_h": 30.0})``
        changes those pools in every point that has them (KeyError if no point has one). Changes
        of anything but wages, burdens and contracts are refused (ValueError): simulate instead.
        New billing increments, wrap minutes or SLA thresholds need the calls table.
        """
        if not self.points:
            raise ValueError("reprice: the scenarios of this result are not available; run it again")
        known = {p.name for point in self.points for p in point.scenario.pools}
        unknown = sorted(set(pool_changes) - known)
        if unknown:
            raise KeyError(f"no pool named {', '.join(unknown)}")
        points = []
        for point in self.points:
            names = {p.name for p in point.scenario.pools}
            changes = {name: dict(c) for name, c in pool_changes.items() if name in names}
            points.append(SweepPoint(point.scenario_id, point.option, reprice_pools(point.scenario, **changes),
                                     point.params, point.study))
        return self._priced_as(points)

    def offers(self, offers: Sequence[Offer], level: float = 0.95) -> pd.DataFrame:
        """This result priced under each offer and as simulated: the ``offers.csv`` table
        (:func:`experiments.results.offers.offers_table`, columns in docs/results.md)."""
        return offers_table(self, offers, level)

    def _priced_as(self, points: list[SweepPoint]) -> Result:
        """This result's simulated tables priced under ``points``' scenarios (same ids, same order)."""
        info = points_info(self.runs)
        calls, intervals, usage, contacts = (by_point(t) if t is not None else {}
                                             for t in (self.calls, self.intervals, self.usage, self.contacts))
        parts: dict[str, list[pd.DataFrame]] = {name: [] for name in ("usage", "invoices", "clients", "vendor",
                                                                      "pool_runs", "runs")}
        for i, point in enumerate(points):
            old, new = self.points[i].scenario, point.scenario
            if without_money(new) != without_money(old):
                raise ValueError("reprice: the scenario differs in more than wages, burdens and contracts; "
                                 "simulate it instead")
            sid = point.scenario_id
            own = _own_columns(usage.get(sid, self.usage.iloc[0:0]))
            if billing_rules(new) != billing_rules(old):
                if self.calls is None:
                    raise ValueError("reprice: new billing increments, wrap minutes or SLA thresholds need the "
                                     "calls table (run without --no-calls)")
                own = usage_from_calls(_own_columns(calls[sid]), _own_columns(intervals[sid]), new,
                                       self.settings.warmup_s, self.settings.horizon_s)
            money = priced_tables(new, self.settings, _own_columns(intervals[sid]), own, _own_columns(contacts[sid]))
            for name, table in {"usage": own, **money}.items():
                parts[name].append(with_ids(table, info, i))
        tables = {name: concat_tables(frames) for name, frames in parts.items()}
        return Result(points, self.settings, self.calls, self.intervals, contacts=self.contacts, meta=dict(self.meta),
                      optimised=self.optimised, **tables)


def _own_columns(table: pd.DataFrame) -> pd.DataFrame:
    """A table with ids without its id and parameter columns (as one replication's tables are)."""
    return table.drop(columns=id_columns(table)).reset_index(drop=True)
