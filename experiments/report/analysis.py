"""The numbers behind the report: pure functions on tidy frames, no drawing (no matplotlib here).

Frames are those of a :class:`~experiments.results.result.Result` (columns in docs/results.md), with
``scenario_id``, ``option`` and one column per swept parameter named by its dotted path. Inputs are
never modified. Fractions (``_frac``) stay fractions; money is in the scenario's currency; times in
seconds (``_s``) or hours (``_h``) as their names say. Confidence intervals are 95% Student-t
intervals over replications.

experiments/report/plots.py draws these numbers; page.py and html.py put them in the report.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from numbers import Real

import numpy as np
import pandas as pd

from experiments.results.statistics import t_quantile
from experiments.results.tables import ALL_POOLS, ID_COLUMNS
from models.metrics import add_rates

SUMMARY_COLUMNS = frozenset({*ID_COLUMNS, "pool", "metric", "reps_n", "mean", "sd", "ci_low", "ci_high"})
#: counts summed over days and pools before the intraday rates are recomputed
INTRADAY_SUMS = ["offered_n", "answered_n", "answered_in_sl_n", "abandoned_n", "blocked_n",
                 "unfinished_n", "queued_n", "wait_answered_s", "busy_s", "staffed_s"]
X = str | Sequence[str]
"""An x column, or several coalesced (first non-missing), e.g. each option's own ``pools.*.agents``."""


# ----------------------------------------------------------------------------- frames


def require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """ValueError naming ``name``, the missing columns and those present, if ``frame`` lacks any."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; have {list(frame.columns)}")


def param_columns(summary: pd.DataFrame) -> list[str]:
    """The swept-parameter columns of a summary (every column that is not a summary column)."""
    return [c for c in summary.columns if c not in SUMMARY_COLUMNS]


def x_columns(x: X) -> list[str]:
    """``x`` as a list of column names."""
    return [x] if isinstance(x, str) else list(x)


def x_values(frame: pd.DataFrame, x: X) -> pd.Series:
    """Column ``x``, or the first non-missing of several columns ``x`` row by row (float, in the
    parameter's own unit: agents, calls per hour...)."""
    columns = x_columns(x)
    require(frame, columns, "x")
    return frame[columns].astype(float).bfill(axis=1).iloc[:, 0]


def metric_rows(summary: pd.DataFrame, metric: str, pool: str = ALL_POOLS) -> pd.DataFrame:
    """The summary rows of one metric and pool (ValueError naming what exists if there are none)."""
    require(summary, ["scenario_id", "option", "pool", "metric", "mean", "ci_low", "ci_high"], "summary")
    rows = summary[(summary["metric"] == metric) & (summary["pool"] == pool)]
    if rows.empty:
        raise ValueError(f"summary: no rows for metric {metric!r} and pool {pool!r}; metrics: "
                         f"{sorted(summary['metric'].unique())}, pools: {sorted(summary['pool'].unique())}")
    return rows


def wide_summary(summary: pd.DataFrame, pool: str = ALL_POOLS) -> pd.DataFrame:
    """One row per scenario: ids (``scenario_id``, ``option``, ``study`` if any), parameters, and per
    metric its mean (``<metric>``, in the metric's unit) and CI (``<metric>_low``, ``<metric>_high``),
    in order of first appearance."""
    require(summary, ["scenario_id", "option", "pool", "metric", "mean", "ci_low", "ci_high"], "summary")
    rows = summary[summary["pool"] == pool]
    id_columns = [c for c in ID_COLUMNS if c in summary.columns]
    ids = rows[[*id_columns, *param_columns(summary)]].drop_duplicates("scenario_id")
    parts = [rows.pivot(index="scenario_id", columns="metric", values=value).add_suffix(suffix)
             for value, suffix in (("mean", ""), ("ci_low", "_low"), ("ci_high", "_high"))]
    values = pd.concat(parts, axis=1).reset_index()
    values.columns.name = None
    return ids.merge(values, on="scenario_id", how="left").reset_index(drop=True)


def value_text(value: object) -> str:
    """A parameter value as short text: ``20`` for 20.0, ``0.55``, or the text itself."""
    return f"{value:g}" if isinstance(value, Real) and not isinstance(value, bool) else str(value)


def scenario_rows(frame: pd.DataFrame, ids: Iterable[str]) -> pd.DataFrame:
    """The rows of ``frame`` whose ``scenario_id`` is one of ``ids`` (an empty frame as it is)."""
    return frame[frame["scenario_id"].isin(list(ids))] if not frame.empty else frame


def short_name(column: str) -> str:
    """``pools.inhouse.agents`` -> ``inhouse.agents``."""
    return ".".join(column.split(".")[-2:])


def curves(rows: pd.DataFrame, x: X) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """(label, option, rows sorted by x) per curve: one per option and value of every other
    parameter that varies; the x value of each row is in column ``_x``; rows without one are left out."""
    rows = rows.assign(_x=x_values(rows, x)).dropna(subset=["_x"])
    others = [c for c in param_columns(rows) if c not in x_columns(x) and c != "_x"
              and rows[c].nunique(dropna=True) > 1]
    for key, part in rows.groupby(["option", *others], sort=False, dropna=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        extra = [f"{short_name(c)}={value_text(v)}" for c, v in zip(others, key[1:], strict=True) if not pd.isna(v)]
        label = str(key[0]) + (f" ({', '.join(extra)})" if extra else "")
        yield label, str(key[0]), part.sort_values("_x")


def scenario_labels(frame: pd.DataFrame, params: Sequence[str] | None = None) -> dict[str, str]:
    """A short label per scenario: its option, then its study and the values of the parameters that
    vary in ``frame`` (``params``; default: the dotted-path columns), e.g. ``local-bpo
    (local_bpo.agents=4)``; the scenario id where that would not tell two scenarios apart."""
    ids = frame.drop_duplicates("scenario_id")
    params = [c for c in frame.columns if "." in c] if params is None else list(params)
    varying = [c for c in ["study", *params] if c in ids and ids[c].nunique(dropna=True) > 1]
    labels = {}
    for row in ids.to_dict("records"):
        parts = [str(row[c]) if c == "study" else f"{short_name(c)}={value_text(row[c])}"
                 for c in varying if pd.notna(row[c]) and row[c] != ""]
        labels[str(row["scenario_id"])] = str(row["option"]) + (f" ({', '.join(parts)})" if parts else "")
    twice = {label for label in labels.values() if list(labels.values()).count(label) > 1}
    return {sid: sid if label in twice else label for sid, label in labels.items()}


def option_colors(options: Sequence[str]) -> dict[str, str]:
    """A colour per option (matplotlib's cycle names ``C0``, ``C1``... in order of first appearance);
    pass the same mapping to every figure of a report so an option keeps its colour."""
    return {option: f"C{i % 10}" for i, option in enumerate(dict.fromkeys(options))}


# ----------------------------------------------------------------------------- choosing scenarios


def at_values(wide: pd.DataFrame, values: Mapping[str, float]) -> pd.DataFrame:
    """Rows whose parameters equal ``values`` (or are missing: the option has no such parameter)."""
    keep = pd.Series(True, index=wide.index)
    for column, value in values.items():
        keep &= wide[column].isna() | (wide[column] == value)
    return wide[keep]


#: what options are ranked by: the monthly total with the client's cost of poor service
RANK_COST = "monthly_total_with_quality_cost"


def rank_cost(frame: pd.DataFrame) -> str:
    """The cost metric to rank by: :data:`RANK_COST`, or ``monthly_cost`` for results made before it
    existed (``frame``: a wide frame, or a summary with a ``metric`` column)."""
    names = set(frame["metric"]) if "metric" in frame.columns else set(frame.columns)
    return RANK_COST if RANK_COST in names else "monthly_cost"


def choose(wide: pd.DataFrame, by: list[str], sl_target: float) -> pd.DataFrame:
    """Per group of ``by``: the cheapest scenario (by :func:`rank_cost`: cost with the cost of poor
    service) whose mean ``sl_frac`` meets ``sl_target`` (a fraction), else the best-served one;
    ``meets_target`` says which."""
    cost = rank_cost(wide)
    picks = []
    for _, part in wide.dropna(subset=["sl_frac", cost]).groupby(by, sort=False, dropna=False, observed=True):
        good = part[part["sl_frac"] >= sl_target]
        picks.append(good.loc[good[cost].idxmin()] if len(good) else part.loc[part["sl_frac"].idxmax()])
    out = pd.DataFrame(picks, columns=wide.columns).reset_index(drop=True)
    return out.assign(meets_target=out["sl_frac"] >= sl_target)


def studies_where(wide: pd.DataFrame, column: str | None, varies: bool) -> pd.DataFrame:
    """Rows of the studies (per option) in which ``column`` takes several values (``varies``) or one;
    all rows if there are no studies, no such column, or no such study (a plain grid)."""
    if column is None or "study" not in wide or wide["study"].nunique() < 2:
        return wide
    values = wide.groupby(["study", "option"], observed=True)[column].transform("nunique")
    keep = values > 1 if varies else values <= 1
    return wide[keep] if keep.any() else wide


# ----------------------------------------------------------------------------- break-even


def _crossings(xs: np.ndarray, ya: np.ndarray, yb: np.ndarray) -> list[tuple[float, float, bool]]:
    """(x, cost, a cheaper below) where two curves on a common grid change order."""
    d = ya - yb
    nonzero = np.flatnonzero(d != 0)
    out = []
    for j, k in itertools.pairwise(nonzero):
        if np.sign(d[j]) == np.sign(d[k]):
            continue
        if k == j + 1:  # linear on the segment: interpolate the crossing
            t = d[j] / (d[j] - d[k])
            out.append((xs[j] + t * (xs[k] - xs[j]), ya[j] + t * (ya[k] - ya[j]), bool(d[j] < 0)))
        else:  # equal at sweep points in between: break even where they first meet
            out.append((xs[j + 1], ya[j + 1], bool(d[j] < 0)))
    return out


def _mean_curves(summary: pd.DataFrame, x: X, metric: str, pool: str) -> dict[str, pd.Series]:
    """Mean metric by x per curve label (duplicates at one x averaged, NaN dropped)."""
    rows = metric_rows(summary, metric, pool).dropna(subset=["mean"])
    return {label: part.groupby("_x", observed=True)["mean"].mean() for label, _, part in curves(rows, x)}


def break_even_points(summary: pd.DataFrame, x: X, metric: str = "monthly_cost",
                      pool: str = ALL_POOLS) -> pd.DataFrame:
    """Where two options' mean cost curves cross, by linear interpolation between sweep points.

    Returns one row per crossing: ``option_a``, ``option_b`` (curve labels, as in the legends),
    ``x`` (the break-even value of the swept parameter, in its unit, e.g. calls per hour), ``cost``
    (the metric there, e.g. money per 30-day month) and ``cheaper_below`` (which of the two is cheaper
    at lower ``x``), sorted by ``x``. Curves are compared only over the range of ``x`` both cover;
    tangent points (touching without changing order) are not break-even points.
    """
    mean_curves = _mean_curves(summary, x, metric, pool)
    rows = []
    for (a, ca), (b, cb) in itertools.combinations(mean_curves.items(), 2):
        low, high = max(ca.index.min(), cb.index.min()), min(ca.index.max(), cb.index.max())
        grid = np.union1d(ca.index, cb.index)
        grid = grid[(grid >= low) & (grid <= high)]
        ya, yb = (np.interp(grid, c.index.to_numpy(float), c.to_numpy(float)) for c in (ca, cb))
        rows += [(a, b, xc, cost, a if a_below else b) for xc, cost, a_below in _crossings(grid, ya, yb)]
    columns = ["option_a", "option_b", "x", "cost", "cheaper_below"]
    return pd.DataFrame(rows, columns=columns).sort_values("x", ignore_index=True)


def break_even_intervals(runs: pd.DataFrame, wide: pd.DataFrame, x: str, metric: str,
                         level: float = 0.95) -> pd.DataFrame:
    """Break-even volumes with their intervals, from the paired replications of two options.

    ``wide``: one row per scenario used (``scenario_id``, ``option`` and the volume column ``x``);
    ``runs``: per scenario and replication, ``metric`` (money per month). At each volume both
    options cover, the per-replication difference of the two costs (paired: the same seed and
    replication give the same callers to every option) has a mean and a Student-t interval at
    ``level``; between volumes all three are interpolated linearly. A break-even volume is where
    the mean difference changes sign; its interval is the range of volumes around it where the
    difference's interval contains 0 (where the data cannot tell which option is cheaper), with
    ``x_low``/``x_high`` NaN when that range runs past the swept volumes (the bound is outside).

    Returns ``option_a``, ``option_b``, ``x``, ``x_low``, ``x_high`` (calls per hour, or the unit of
    ``x``), ``cost`` (mean ``metric`` there) and ``cheaper_below``, sorted by ``x``.
    """
    require(runs, ["scenario_id", "rep", metric], "runs")
    keyed = runs[["scenario_id", "rep", metric]].merge(wide[["scenario_id", "option", x]], on="scenario_id")
    table = keyed.pivot_table(index=[x, "rep"], columns="option", values=metric, observed=True)
    rows = []
    for a, b in itertools.combinations(list(dict.fromkeys(wide["option"].astype(str))), 2):
        if a not in table or b not in table:
            continue
        diff = (table[a] - table[b]).dropna().groupby(level=0)
        stats = diff.agg(["mean", "std", "count"]).dropna()
        stats = stats[stats["count"] >= 2]
        if len(stats) < 2:
            continue
        xs = stats.index.to_numpy(float)
        n = stats["count"].to_numpy(float)
        half = np.asarray(t_quantile(n - 1, level)) * stats["std"].to_numpy(float) / np.sqrt(n)
        mean = stats["mean"].to_numpy(float)
        cost_b = table[b].groupby(level=0).mean().reindex(stats.index).to_numpy(float)
        for xc, _, a_below in _crossings(xs, mean, np.zeros_like(mean)):
            low, high = _undecided(xs, mean - half, mean + half, xc)
            cost = float(np.interp(xc, xs, cost_b))
            rows.append((a, b, xc, low, high, cost, a if a_below else b))
    columns = ["option_a", "option_b", "x", "x_low", "x_high", "cost", "cheaper_below"]
    return pd.DataFrame(rows, columns=columns).sort_values("x", ignore_index=True)


def _undecided(xs: np.ndarray, low: np.ndarray, high: np.ndarray, at: float) -> tuple[float, float]:
    """The range of x around ``at`` where the interpolated interval [low, high] contains 0 (bounds
    NaN where it reaches the ends of ``xs``), found on a fine grid (1/2000 of the range)."""
    grid = np.union1d(np.linspace(xs[0], xs[-1], 2001), [at])
    inside = (np.interp(grid, xs, low) <= 0) & (np.interp(grid, xs, high) >= 0)
    k = int(np.searchsorted(grid, at))
    lo = hi = k
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    while hi < len(grid) - 1 and inside[hi + 1]:
        hi += 1
    return (math.nan if lo == 0 else float(grid[lo])), (math.nan if hi == len(grid) - 1 else float(grid[hi]))


# ----------------------------------------------------------------------------- cost against service


def efficient_frontier(frame: pd.DataFrame, cost: str = "monthly_cost", service: str = "sl_frac",
                       pool: str = ALL_POOLS) -> pd.DataFrame:
    """The non-dominated scenarios: none other is at least as cheap and at least as well served
    while strictly better on one. ``frame`` is wide (columns ``cost`` and ``service``, one row per
    scenario) or a tidy summary (made wide with :func:`wide_summary` for ``pool``). Rows with a
    missing value are left out; the result is sorted by cost (then service, best first)."""
    wide = wide_summary(frame, pool) if "metric" in frame.columns else frame
    require(wide, [cost, service], "efficient_frontier")
    wide = wide.dropna(subset=[cost, service])
    c = wide[cost].to_numpy(float)
    s = wide[service].to_numpy(float)
    no_worse = (c[None, :] <= c[:, None]) & (s[None, :] >= s[:, None])
    better = (c[None, :] < c[:, None]) | (s[None, :] > s[:, None])
    dominated = (no_worse & better).any(axis=1)
    return wide[~dominated].sort_values([cost, service], ascending=[True, False], ignore_index=True)


# ----------------------------------------------------------------------------- intraday


def intraday_table(intervals: pd.DataFrame, metric: str = "sl_frac", pool: str | None = None,
                   level: float = 0.95) -> pd.DataFrame:
    """Per scenario and interval of the day: ``hour`` (interval start, h), ``mid_h`` (its middle, h),
    ``reps_n``, ``mean``, ``ci_low``, ``ci_high`` of ``metric`` (in its unit) across replications.

    Counts are first summed over the days (and over pools, unless ``pool`` picks one) of each
    replication and the rate recomputed from the sums (models.metrics), so busy intervals weigh
    more than quiet ones; the interval is a Student-t interval over replications at ``level``.
    """
    require(intervals, ["scenario_id", "option", "rep", "pool", "start_s", *INTRADAY_SUMS], "intervals")
    rows = intervals if pool is None else intervals[intervals["pool"] == pool]
    rows = rows.assign(hour=(rows["start_s"] % 86400.0) / 3600.0)
    keys = ["scenario_id", "option", "hour"]
    per_rep = add_rates(rows.groupby([*keys, "rep"], as_index=False, sort=True, observed=True)[INTRADAY_SUMS].sum())
    by_hour = per_rep.groupby(keys, as_index=False, sort=False, observed=True)[metric]
    out = by_hour.agg(mean="mean", sd="std", reps_n="count")
    half = t_quantile(out["reps_n"] - 1, level) * out["sd"] / np.sqrt(out["reps_n"])
    length_h = out.groupby("scenario_id", observed=True)["hour"].transform(_interval_h)
    return out.assign(mid_h=out["hour"] + length_h / 2, ci_low=out["mean"] - half, ci_high=out["mean"] + half)


def _interval_h(hours: pd.Series) -> float:
    """Interval length (h) from the interval starts of one scenario: their smallest gap."""
    starts = np.unique(hours.to_numpy(float))
    return float(np.diff(starts).min()) if len(starts) > 1 else 24.0


# ----------------------------------------------------------------------------- invoices


def monthly_invoices(invoices: pd.DataFrame) -> pd.DataFrame:
    """The scenario's own client's invoices of all BPO pools (``own_client``, when the table has it)
    added up per scenario, replication and billing month, with ``monthly_invoice_cost`` =
    ``invoice_cost / month_frac`` (money per 30-day month: part months scaled to 30 days)."""
    require(invoices, ["scenario_id", "option", "rep", "month", "month_frac", "invoice_cost"], "invoices")
    if "own_client" in invoices:
        invoices = invoices[invoices["own_client"].astype(bool)]
    keys = ["scenario_id", "option", "rep", "month"]
    money = invoices.astype({"invoice_cost": float, "month_frac": float})  # empty frames come as object
    out = money.groupby(keys, as_index=False, sort=False, observed=True).agg(
        invoice_cost=("invoice_cost", "sum"), month_frac=("month_frac", "max"))
    return out.assign(monthly_invoice_cost=out["invoice_cost"] / out["month_frac"])


def invoice_summary(invoices: pd.DataFrame, by: str = "option") -> pd.DataFrame:
    """Per ``by``: ``months_n``, ``mean``, ``p95`` (95th percentile, linear) and ``max`` of the
    monthly invoice (money per 30-day month, see :func:`monthly_invoices`); ``scaled`` says whether
    part months were scaled."""
    months = monthly_invoices(invoices)
    grouped = months.groupby(by, sort=False, observed=True)
    out = grouped["monthly_invoice_cost"].agg(months_n="count", mean="mean", max="max")
    out["p95"] = grouped["monthly_invoice_cost"].quantile(0.95)
    out["scaled"] = grouped["month_frac"].min() < 1
    return out.reset_index()
