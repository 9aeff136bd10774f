"""Offers: the saved results of a run priced under other contracts for their BPO pools, without
simulating again (``bposim offers``, docs/results.md "offers.csv").

:func:`offers_table` reprices a :class:`~experiments.results.result.Result` under each offer
(:meth:`Result.reprice <experiments.results.result.Result.reprice>`) and summarises every scenario
that has the offer's pool over its replications, beside the same figures under the contracts as
simulated (offer ``as simulated``). Money is in the scenario's currency, per 30-day month unless
a column says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from experiments.results.statistics import confidence_interval
from experiments.results.tables import by_point, concat_tables, points_info, with_ids
from models.offers import AS_SIMULATED, Offer

if TYPE_CHECKING:
    from experiments.results.result import Result

#: The file ``bposim offers`` writes (in the results folder unless ``--out`` says otherwise).
OFFERS_CSV = "offers.csv"
#: The columns after the ids (docs/results.md).
OFFER_COLUMNS = ["offer", "pool", "contract", "reps_n", "monthly_cost_mean", "monthly_cost_ci_low",
                 "monthly_cost_ci_high", "monthly_cost_p95", "invoice_monthly_mean", "credit_monthly_mean",
                 "cost_per_resolved_mean", "total_with_quality_monthly_mean", "total_with_quality_monthly_ci_low",
                 "total_with_quality_monthly_ci_high"]
#: The percentile of ``monthly_cost_p95`` (numpy's linear interpolation between order statistics).
PERCENTILE = 95.0


def offers_table(result: Result, offers: Sequence[Offer], level: float = 0.95) -> pd.DataFrame:
    """One row per (scenario, pool, offer): ``result`` priced under each offer and as simulated.

    Rows come in point order, then by pool (in the order the offers name them), then ``as
    simulated`` followed by the offers of that pool in their order; only scenarios that have the
    pool get its rows. ``level`` is that of the Student-t intervals.

    Raises:
        ValueError: the result's scenarios are not available (a scenario file changed since the
            run); two offers share a name, or one is named ``as simulated``; or an offer changes
            what the usage table counts (billing increment, wrap minutes, SLA threshold, billing
            basis) and the result has no calls table (the message names it ``offer[i].contract``).
    """
    if not result.points:
        raise ValueError("the scenarios of these results are not available (a scenario file changed or is gone "
                         "since the run); run it again to price offers")
    names = [offer.name for offer in offers]
    if AS_SIMULATED in names or len(set(names)) < len(names):
        raise ValueError(f"offer names must be unique and not {AS_SIMULATED!r}, got {names}")
    pools = list(dict.fromkeys(offer.pool for offer in offers))
    priced = {(AS_SIMULATED, pool): result for pool in pools}
    for i, offer in enumerate(offers):
        priced[(offer.name, offer.pool)] = _repriced(result, i, offer)
    parts = [_rows(table, name, pool, level) for (name, pool), table in priced.items()]
    if not parts:
        return pd.DataFrame(columns=[*points_info(result.runs).columns, *OFFER_COLUMNS])
    table = concat_tables(parts)
    points = {sid: i for i, sid in enumerate(result.scenario_ids)}
    keys = pd.DataFrame({"point": table["scenario_id"].astype(str).map(points), "pool": table["pool"].map(pools.index)})
    return table.iloc[keys.sort_values(["point", "pool"], kind="stable").index].reset_index(drop=True)


def _repriced(result: Result, i: int, offer: Offer) -> Result:
    """``result`` priced with ``offer``'s contract for its pool (ValueError naming ``offer[i]``)."""
    try:
        return result.reprice(**{offer.pool: {"contract": offer.contract}})
    except ValueError as exc:
        if result.calls is None:
            raise ValueError(f"offer[{i}].contract: offer {offer.name!r} changes the billing increment, wrap "
                             "minutes, SLA threshold or billing basis, so its bill needs the calls table, and these "
                             "results were saved without it (--no-calls); run again without --no-calls, or keep "
                             "those terms as run") from None
        raise ValueError(f"offer[{i}] ({offer.name!r}): {exc}") from None


def _rows(result: Result, offer: str, pool: str, level: float) -> pd.DataFrame:
    """The rows of one offer for ``pool``: one per scenario that has the pool."""
    info = points_info(result.runs)
    runs, pool_runs = by_point(result.runs), by_point(result.pool_runs)
    invoices = by_point(result.invoices)
    per_month = months_factor(result)
    contracts = {p.scenario_id: p.scenario.pool(pool).contract for p in result.points
                 if pool in {q.name for q in p.scenario.pools}}
    parts = []
    for i, sid in enumerate(info["scenario_id"].astype(str)):
        if sid not in contracts or pool not in set(pool_runs[sid]["pool"]):
            continue
        bills = invoices.get(sid, result.invoices.iloc[0:0])
        contract = contracts[sid]
        row = [offer, pool, contract.describe() if contract is not None else "",
               *_stats(runs[sid], bills[(bills["pool"] == pool) & _own(bills)], per_month, level)]
        parts.append(with_ids(pd.DataFrame([row], columns=OFFER_COLUMNS), info, i))
    return concat_tables(parts) if parts else pd.DataFrame(columns=[*info.columns, *OFFER_COLUMNS])


def _stats(runs: pd.DataFrame, invoices: pd.DataFrame, per_month: float, level: float) -> list[float]:
    """``reps_n`` and the statistics of OFFER_COLUMNS over one scenario's replications."""
    cost = runs["monthly_cost"].to_numpy(dtype=float)
    mean, _, low, high = confidence_interval(cost, level)
    with_quality = confidence_interval(runs["monthly_total_with_quality_cost"].to_numpy(dtype=float), level)
    bills = invoices.groupby("rep")[["invoice_cost", "credit_cost"]].sum().reindex(runs["rep"], fill_value=0.0)
    return [int((~np.isnan(cost)).sum()), mean, low, high, percentile(cost),
            float(bills["invoice_cost"].mean()) * per_month, float(bills["credit_cost"].mean()) * per_month,
            confidence_interval(runs["cost_per_resolved"].to_numpy(dtype=float), level)[0],
            with_quality[0], with_quality[2], with_quality[3]]


def _own(invoices: pd.DataFrame) -> pd.Series:
    """Which invoices are the scenario's own client's (all of them in a table without ``own_client``)."""
    if "own_client" not in invoices:
        return pd.Series(True, index=invoices.index)
    return invoices["own_client"].astype(bool)


def percentile(values: np.ndarray, q: float = PERCENTILE) -> float:
    """The ``q``-th percentile of the defined values (numpy's linear interpolation), NaN if none."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(np.percentile(values, q)) if len(values) else float("nan")


def months_factor(result: Result) -> float:
    """30 days / the measured days: what turns a total over the run into one per 30-day month (as
    ``monthly_cost`` of the runs table)."""
    settings = result.settings
    return 30.0 / ((settings.horizon_s - settings.warmup_s) / 86400.0)


def read_offers(folder: Path) -> pd.DataFrame | None:
    """The ``offers.csv`` of a results folder, or None when there is none."""
    path = Path(folder) / OFFERS_CSV
    return pd.read_csv(path) if path.is_file() else None
