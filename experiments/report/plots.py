"""Figures of experiment results: cost and waiting against staffing, volume and each other.

Every ``plot_*`` function takes a tidy frame (columns in docs/results.md, plus ``scenario_id``,
``option`` and one column per swept parameter named by its dotted path), draws on ``ax`` (a new
figure when ``None``), returns the Axes and never shows, saves or changes global settings. Inputs are
never modified. Fractions (``_frac``) are drawn as percent; bands are 95% Student-t confidence
intervals over replications.

The pure functions beside them (:func:`wide_summary`, :func:`break_even_points`,
:func:`efficient_frontier`, :func:`intraday_table`, :func:`monthly_invoices`,
:func:`invoice_summary`) return the numbers the figures show, for tables and tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from experiments.results.statistics import t_quantile
from experiments.results.tables import ALL_POOLS, ID_COLUMNS
from models.metrics import add_rates

SUMMARY_COLUMNS = frozenset({*ID_COLUMNS, "pool", "metric", "reps_n", "mean", "sd", "ci_low", "ci_high"})
#: counts summed over days and pools before the intraday rates are recomputed
INTRADAY_SUMS = ["offered_n", "answered_n", "answered_in_sl_n", "abandoned_n", "blocked_n",
                 "unfinished_n", "queued_n", "wait_answered_s", "busy_s", "staffed_s"]
LINE_STYLES = ("-", "--", ":", "-.")
X = str | Sequence[str]
"""An x column, or several coalesced (first non-missing), e.g. each option's own ``pools.*.agents``."""


@dataclass(frozen=True)
class Metric:
    """How a metric is labelled and scaled on an axis (``scale`` 100 shows a fraction as %);
    confidence bands are clipped to ``[low, high]``, the values the metric can take."""

    label: str
    unit: str
    scale: float = 1.0
    money: bool = False
    low: float = -np.inf
    high: float = np.inf

    def band(self, values: pd.Series) -> np.ndarray:
        """CI bound(s) on the axis scale, clipped to what the metric can take."""
        return np.clip(values.to_numpy(float), self.low, self.high) * self.scale


METRICS: dict[str, Metric] = {
    "sl_frac": Metric("service level (answered within target)", "%", 100.0, low=0.0, high=1.0),
    "asa_s": Metric("average speed of answer", "s", low=0.0),
    "abandon_frac": Metric("abandonment", "%", 100.0, low=0.0, high=1.0),
    "p_wait_frac": Metric("calls that had to wait", "%", 100.0, low=0.0, high=1.0),
    "occupancy_frac": Metric("agent occupancy", "%", 100.0, low=0.0, high=1.0),
    "monthly_cost": Metric("total cost per 30-day month", "", money=True, low=0.0),
    "cost_per_call": Metric("cost per answered call", "", money=True, low=0.0),
    "total_cost": Metric("total cost over the run", "", money=True, low=0.0),
    "labour_cost": Metric("in-house labour cost over the run", "", money=True, low=0.0),
    "vendor_cost": Metric("BPO invoices over the run", "", money=True, low=0.0),
    "offered_n": Metric("offered calls", "calls", low=0.0),
    "answered_n": Metric("answered calls", "calls", low=0.0),
}


# ----------------------------------------------------------------------------- frames


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; have {list(frame.columns)}")


def param_columns(summary: pd.DataFrame) -> list[str]:
    """The swept-parameter columns of a summary (every column that is not a summary column)."""
    return [c for c in summary.columns if c not in SUMMARY_COLUMNS]


def _x_columns(x: X) -> list[str]:
    return [x] if isinstance(x, str) else list(x)


def x_values(frame: pd.DataFrame, x: X) -> pd.Series:
    """Column ``x``, or the first non-missing of several columns ``x`` row by row (float)."""
    columns = _x_columns(x)
    _require(frame, columns, "x")
    return frame[columns].astype(float).bfill(axis=1).iloc[:, 0]


def metric_rows(summary: pd.DataFrame, metric: str, pool: str = ALL_POOLS) -> pd.DataFrame:
    """The summary rows of one metric and pool (ValueError naming what exists if there are none)."""
    _require(summary, ["scenario_id", "option", "pool", "metric", "mean", "ci_low", "ci_high"], "summary")
    rows = summary[(summary["metric"] == metric) & (summary["pool"] == pool)]
    if rows.empty:
        raise ValueError(f"summary: no rows for metric {metric!r} and pool {pool!r}; metrics: "
                         f"{sorted(summary['metric'].unique())}, pools: {sorted(summary['pool'].unique())}")
    return rows


def wide_summary(summary: pd.DataFrame, pool: str = ALL_POOLS) -> pd.DataFrame:
    """One row per scenario: ids (``scenario_id``, ``option``, ``study`` if any), parameters, and per
    metric its mean (``<metric>``) and CI (``<metric>_low``, ``<metric>_high``), in order of first
    appearance."""
    _require(summary, ["scenario_id", "option", "pool", "metric", "mean", "ci_low", "ci_high"], "summary")
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


def _lines(rows: pd.DataFrame, x: X) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """(label, option, rows sorted by x) per curve: one per option and value of every other
    parameter that varies; rows without an x value are left out."""
    rows = rows.assign(_x=x_values(rows, x)).dropna(subset=["_x"])
    others = [c for c in param_columns(rows) if c not in _x_columns(x) and c != "_x"
              and rows[c].nunique(dropna=True) > 1]
    for key, part in rows.groupby(["option", *others], sort=False, dropna=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        extra = [f"{short_name(c)}={value_text(v)}" for c, v in zip(others, key[1:]) if not pd.isna(v)]
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
    """A colour per option (``C0``, ``C1``... in order of first appearance); pass the same mapping
    to every figure of a report so an option keeps its colour."""
    return {option: f"C{i % 10}" for i, option in enumerate(dict.fromkeys(options))}


# ----------------------------------------------------------------------------- axes helpers


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only when asked for a new figure: no import-time side effects

    _, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    return ax


def _param_label(x: X) -> str:
    columns = _x_columns(x)
    if all(c.endswith(".agents") for c in columns):
        return "scheduled agents (" + ", ".join(c.split(".")[-2] for c in columns) + ")"
    if all(c.endswith(".calls_per_h") for c in columns):
        return "offered calls per hour (" + ", ".join(c.split(".")[-2] for c in columns) + ")"
    return " / ".join(columns)


def _metric(name: str) -> Metric:
    return METRICS.get(name, Metric(name.replace("_", " "), ""))


def _axis_label(metric: Metric, currency: str) -> str:
    unit = currency if metric.money else metric.unit
    return f"{metric.label} ({unit})" if unit else metric.label


def _format_y(ax: Axes, metric: Metric) -> None:
    decimals = 2 if metric.money and metric.label.startswith("cost per") else 0
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.{decimals}f}"))


def _draw_curves(ax: Axes, rows: pd.DataFrame, x: X, metric: Metric,
                 colors: Mapping[str, str] | None) -> None:
    """Mean line with markers and a CI band per curve."""
    colors = colors or option_colors(rows["option"].astype(str).tolist())
    drawn: dict[str, int] = {}
    for label, option, part in _lines(rows, x):
        style = LINE_STYLES[drawn.get(option, 0) % len(LINE_STYLES)]  # same colour, next style
        drawn[option] = drawn.get(option, 0) + 1
        xs = part["_x"].to_numpy()
        color = colors.get(option)
        ax.plot(xs, part["mean"] * metric.scale, marker="o", ms=4, ls=style, color=color, label=label)
        if part[["ci_low", "ci_high"]].notna().any(axis=None):
            ax.fill_between(xs, metric.band(part["ci_low"]), metric.band(part["ci_high"]),
                            color=color, alpha=0.18, linewidth=0)


def _integer_x(ax: Axes, x: X) -> None:
    """Whole ticks on an axis of agents (there is no half an agent)."""
    if all(c.endswith(".agents") for c in _x_columns(x)):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _finish(ax: Axes, title: str, xlabel: str, ylabel: str) -> Axes:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", framealpha=0.85)
    return ax


def _target_line(ax: Axes, target: float | None, metric: Metric, vertical: bool = False) -> None:
    if target is None:
        return
    value = target * metric.scale
    text = f"target {value:g}{metric.unit if metric.unit == '%' else ''}"
    (ax.axvline if vertical else ax.axhline)(value, color="0.35", ls="--", lw=1, label=text)


# ----------------------------------------------------------------------------- against agents


def plot_cost_vs_agents(summary: pd.DataFrame, x: X, ax: Axes | None = None, metric: str = "monthly_cost",
                        *, pool: str = ALL_POOLS, currency: str = "",
                        colors: Mapping[str, str] | None = None) -> Axes:
    """Cost (``monthly_cost`` or ``cost_per_call``) against scheduled agents ``x``, one line per
    option (and value of any other swept parameter), with its 95% CI band."""
    ax = _axes(ax)
    info = _metric(metric)
    _draw_curves(ax, metric_rows(summary, metric, pool), x, info, colors)
    _format_y(ax, info)
    _integer_x(ax, x)
    return _finish(ax, f"{info.label.capitalize()} against staffing", _param_label(x),
                   _axis_label(info, currency))


def plot_service_vs_agents(summary: pd.DataFrame, x: X, metric: str = "sl_frac", ax: Axes | None = None,
                           *, pool: str = ALL_POOLS, target: float | None = None,
                           colors: Mapping[str, str] | None = None) -> Axes:
    """Service level, ASA, abandonment (or another rate) against agents ``x`` with 95% CI bands;
    fractions in %; ``target`` (a fraction for ``_frac`` metrics) as a dashed line."""
    ax = _axes(ax)
    info = _metric(metric)
    _draw_curves(ax, metric_rows(summary, metric, pool), x, info, colors)
    _target_line(ax, target, info)
    _integer_x(ax, x)
    return _finish(ax, f"{info.label.capitalize()} against staffing", _param_label(x),
                   _axis_label(info, ""))


# ----------------------------------------------------------------------------- break-even


def _crossings(xs: np.ndarray, ya: np.ndarray, yb: np.ndarray) -> list[tuple[float, float, bool]]:
    """(x, cost, a cheaper below) where two curves on a common grid change order."""
    d = ya - yb
    nonzero = np.flatnonzero(d != 0)
    out = []
    for j, k in zip(nonzero[:-1], nonzero[1:]):
        if np.sign(d[j]) == np.sign(d[k]):
            continue
        if k == j + 1:  # linear on the segment: interpolate the crossing
            t = d[j] / (d[j] - d[k])
            out.append((xs[j] + t * (xs[k] - xs[j]), ya[j] + t * (ya[k] - ya[j]), bool(d[j] < 0)))
        else:  # equal at sweep points in between: break even where they first meet
            out.append((xs[j + 1], ya[j + 1], bool(d[j] < 0)))
    return out


def _curves(summary: pd.DataFrame, x: X, metric: str, pool: str) -> dict[str, pd.Series]:
    """Mean metric by x per curve label (duplicates at one x averaged, NaN dropped)."""
    rows = metric_rows(summary, metric, pool).dropna(subset=["mean"])
    return {label: part.groupby("_x", observed=True)["mean"].mean() for label, _, part in _lines(rows, x)}


def break_even_points(summary: pd.DataFrame, x: X, metric: str = "monthly_cost",
                      pool: str = ALL_POOLS) -> pd.DataFrame:
    """Where two options' mean cost curves cross, by linear interpolation between sweep points.

    Returns one row per crossing: ``option_a``, ``option_b`` (curve labels, as in the legends),
    ``x`` (the break-even value of the swept parameter), ``cost`` (the metric there) and
    ``cheaper_below`` (which of the two is cheaper at lower ``x``), sorted by ``x``. Curves are
    compared only over the range of ``x`` both cover; tangent points (touching without changing
    order) are not break-even points.
    """
    curves = _curves(summary, x, metric, pool)
    rows = []
    for (a, ca), (b, cb) in itertools.combinations(curves.items(), 2):
        low, high = max(ca.index.min(), cb.index.min()), min(ca.index.max(), cb.index.max())
        grid = np.union1d(ca.index, cb.index)
        grid = grid[(grid >= low) & (grid <= high)]
        ya, yb = (np.interp(grid, c.index.to_numpy(float), c.to_numpy(float)) for c in (ca, cb))
        rows += [(a, b, xc, cost, a if a_below else b) for xc, cost, a_below in _crossings(grid, ya, yb)]
    columns = ["option_a", "option_b", "x", "cost", "cheaper_below"]
    return pd.DataFrame(rows, columns=columns).sort_values("x", ignore_index=True)


def plot_cost_vs_volume(summary: pd.DataFrame, x: X = "demand.support.calls_per_h", ax: Axes | None = None,
                        *, metric: str = "monthly_cost", pool: str = ALL_POOLS, currency: str = "",
                        colors: Mapping[str, str] | None = None) -> Axes:
    """Monthly cost against call volume ``x``, one line per option with its CI band, and the
    break-even volumes (see :func:`break_even_points`) marked and labelled."""
    ax = _axes(ax)
    info = _metric(metric)
    _draw_curves(ax, metric_rows(summary, metric, pool), x, info, colors)
    points = break_even_points(summary, x, metric, pool)
    if not points.empty:
        ax.scatter(points["x"], points["cost"] * info.scale, s=70, marker="X", color="black", zorder=5,
                   label="break-even volume")
        for i, row in enumerate(points.itertuples()):
            ax.annotate(f"{row.x:,.0f}/h", (row.x, row.cost * info.scale), xytext=(6, -14 - 11 * (i % 2)),
                        textcoords="offset points", fontsize="small")
    _format_y(ax, info)
    return _finish(ax, f"{info.label.capitalize()} against call volume", _param_label(x),
                   _axis_label(info, currency))


# ----------------------------------------------------------------------------- cost against service


def efficient_frontier(frame: pd.DataFrame, cost: str = "monthly_cost", service: str = "sl_frac",
                       pool: str = ALL_POOLS) -> pd.DataFrame:
    """The non-dominated scenarios: none other is at least as cheap and at least as well served
    while strictly better on one. ``frame`` is wide (columns ``cost`` and ``service``, one row per
    scenario) or a tidy summary (made wide with :func:`wide_summary` for ``pool``). Rows with a
    missing value are left out; the result is sorted by cost (then service, best first)."""
    wide = wide_summary(frame, pool) if "metric" in frame.columns else frame
    _require(wide, [cost, service], "efficient_frontier")
    wide = wide.dropna(subset=[cost, service])
    c = wide[cost].to_numpy(float)
    s = wide[service].to_numpy(float)
    no_worse = (c[None, :] <= c[:, None]) & (s[None, :] >= s[:, None])
    better = (c[None, :] < c[:, None]) | (s[None, :] > s[:, None])
    dominated = (no_worse & better).any(axis=1)
    return wide[~dominated].sort_values([cost, service], ascending=[True, False], ignore_index=True)


def plot_cost_vs_service(summary: pd.DataFrame, ax: Axes | None = None, *, cost: str = "monthly_cost",
                         service: str = "sl_frac", pool: str = ALL_POOLS, target: float | None = None,
                         currency: str = "", colors: Mapping[str, str] | None = None) -> Axes:
    """Cost against service for every scenario in ``summary`` (one marker colour per option) with
    the efficient frontier drawn as a line through its ringed points (named when there are few).
    Give it scenarios facing the same demand: a frontier across call volumes compares unlike things."""
    ax = _axes(ax)
    wide = wide_summary(summary, pool)
    cinfo, sinfo = _metric(cost), _metric(service)
    colors = colors or option_colors(wide["option"].astype(str).tolist())
    for option, part in wide.groupby("option", sort=False, observed=True):
        ax.scatter(part[service] * sinfo.scale, part[cost] * cinfo.scale, s=28, alpha=0.8,
                   color=colors.get(str(option)), label=str(option))
    front = efficient_frontier(wide, cost, service)
    ax.plot(front[service] * sinfo.scale, front[cost] * cinfo.scale, color="black", lw=1.2, marker="o",
            ms=10, mfc="none", label="efficient frontier")
    _name_points(ax, front.drop_duplicates([service, cost]), scenario_labels(wide, param_columns(summary)),
                 service, cost, sinfo, cinfo)
    _target_line(ax, target, sinfo, vertical=True)
    _format_y(ax, cinfo)
    return _finish(ax, "Cost against service: every scenario tried", _axis_label(sinfo, ""),
                   _axis_label(cinfo, currency))


def _name_points(ax: Axes, points: pd.DataFrame, labels: Mapping[str, str], x: str, y: str,
                 xinfo: Metric, yinfo: Metric, most: int = 8) -> None:
    """Label a few points beside them, towards the middle of the plot, outside the layout."""
    if len(points) > most or points.empty:
        return
    xs, ys = points[x] * xinfo.scale, points[y] * yinfo.scale
    middle = (xs.min() + xs.max()) / 2
    for i, (sid, px, py) in enumerate(zip(points["scenario_id"], xs, ys)):
        left = px <= middle
        text = ax.annotate(labels.get(str(sid), str(sid)), (px, py), textcoords="offset points",
                           xytext=(9 if left else -9, -12 if i % 2 else 5), ha="left" if left else "right",
                           fontsize="x-small")
        text.set_in_layout(False)


# ----------------------------------------------------------------------------- intraday


def intraday_table(intervals: pd.DataFrame, metric: str = "sl_frac", pool: str | None = None,
                   level: float = 0.95) -> pd.DataFrame:
    """Per scenario and interval of the day: ``hour`` (interval start, h), ``mid_h`` (its middle),
    ``reps_n``, ``mean``, ``ci_low``, ``ci_high`` of ``metric`` across replications.

    Counts are first summed over the days (and over pools, unless ``pool`` picks one) of each
    replication and the rate recomputed from the sums (models.metrics), so busy intervals weigh
    more than quiet ones; the interval is a Student-t interval over replications.
    """
    _require(intervals, ["scenario_id", "option", "rep", "pool", "start_s", *INTRADAY_SUMS], "intervals")
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


def plot_intraday(intervals: pd.DataFrame, metric: str = "sl_frac", ax: Axes | None = None, *,
                  pool: str | None = None, target: float | None = None,
                  colors: Mapping[str, str] | None = None) -> Axes:
    """``metric`` (SL, ASA...) by interval of the day, one line per scenario (labelled by option),
    mean over replications of the day-aggregated rate with a 95% CI band (see :func:`intraday_table`)."""
    ax = _axes(ax)
    info = _metric(metric)
    table = intraday_table(intervals, metric, pool)
    colors = colors or option_colors(table["option"].astype(str).tolist())
    labels = scenario_labels(intervals)
    rank = {option: i for i, option in enumerate(colors)}  # legend in the options' order
    groups = sorted(table.groupby("scenario_id", sort=False, observed=True),
                    key=lambda group: rank.get(str(group[1]["option"].iat[0]), len(rank)))
    for i, (sid, part) in enumerate(groups):
        color = colors.get(str(part["option"].iat[0]), f"C{i % 10}")
        ax.plot(part["mid_h"], part["mean"] * info.scale, color=color, lw=1.6, label=labels[str(sid)])
        ax.fill_between(part["mid_h"], info.band(part["ci_low"]), info.band(part["ci_high"]),
                        color=color, alpha=0.12, linewidth=0)
    _target_line(ax, target, info)
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])
    days = intervals["day"].nunique() if "day" in intervals else 1
    title = f"Intraday {info.label}: each interval over {days} day(s), mean of replications"
    return _finish(ax, title, "time of day (interval middle)", _axis_label(info, ""))


# ----------------------------------------------------------------------------- invoices


def monthly_invoices(invoices: pd.DataFrame) -> pd.DataFrame:
    """Invoices of all BPO pools added up per scenario, replication and billing month, with
    ``monthly_invoice_cost`` = ``invoice_cost / month_frac`` (part months scaled to 30 days)."""
    _require(invoices, ["scenario_id", "option", "rep", "month", "month_frac", "invoice_cost"], "invoices")
    keys = ["scenario_id", "option", "rep", "month"]
    money = invoices.astype({"invoice_cost": float, "month_frac": float})  # empty frames come as object
    out = money.groupby(keys, as_index=False, sort=False, observed=True).agg(
        invoice_cost=("invoice_cost", "sum"), month_frac=("month_frac", "max"))
    return out.assign(monthly_invoice_cost=out["invoice_cost"] / out["month_frac"])


def invoice_summary(invoices: pd.DataFrame, by: str = "option") -> pd.DataFrame:
    """Per ``by``: ``months_n``, ``mean``, ``p95`` (95th percentile, linear) and ``max`` of the
    monthly invoice (see :func:`monthly_invoices`); ``scaled`` says whether part months were scaled."""
    months = monthly_invoices(invoices)
    grouped = months.groupby(by, sort=False, observed=True)
    out = grouped["monthly_invoice_cost"].agg(months_n="count", mean="mean", max="max")
    out["p95"] = grouped["monthly_invoice_cost"].quantile(0.95)
    out["scaled"] = grouped["month_frac"].min() < 1
    return out.reset_index()


def plot_invoice_distribution(invoices: pd.DataFrame, ax: Axes | None = None, *, currency: str = "",
                              by: str = "option", colors: Mapping[str, str] | None = None) -> Axes:
    """Each month's BPO invoice (one dot per replication and month) per option, with the mean
    (solid) and 95th percentile (dashed red) marked: can the client pay the bill in a bad month?"""
    ax = _axes(ax)
    months = monthly_invoices(invoices)
    colors = colors or option_colors(months["option"].astype(str).tolist())
    scaled = bool((months["month_frac"] < 1).any())
    groups = list(months.groupby(by, sort=False, observed=True))
    for i, (name, part) in enumerate(groups):
        _invoice_strip(ax, i, part["monthly_invoice_cost"].to_numpy(float), colors.get(str(name), f"C{i % 10}"))
    ax.set_xticks(range(len(groups)), [f"{name}\n({len(part)} months)" for name, part in groups])
    ax.set_xlim(-0.6, len(groups) - 0.4)
    if not groups:
        ax.text(0.5, 0.5, "no BPO invoices (in-house pools are paid by the hour)", ha="center",
                transform=ax.transAxes)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    note = "\n(part months scaled to 30 days: invoice / month_frac)" if scaled else ""
    unit = f" ({currency})" if currency else ""
    return _finish(ax, f"Monthly BPO invoice: the spread a client must budget for{note}", "",
                   f"invoice per 30-day month{unit}")


def _invoice_strip(ax: Axes, i: int, values: np.ndarray, color: str) -> None:
    """Dots (deterministic spread, no random jitter), mean and 95th percentile of one group."""
    order = np.argsort(np.argsort(values))
    spread = ((order * 0.618034) % 1.0 - 0.5) * 0.4
    ax.scatter(i + spread, values, s=16, alpha=0.6, color=color)
    mean, p95 = float(np.mean(values)), float(np.percentile(values, 95))
    ax.plot([i - 0.3, i + 0.3], [mean, mean], color="black", lw=2, label="mean" if i == 0 else None)
    ax.plot([i - 0.3, i + 0.3], [p95, p95], color="tab:red", ls="--", lw=2,
            label="95th percentile" if i == 0 else None)
    ax.annotate(f"p95 {p95:,.0f}", (i + 0.3, p95), xytext=(3, 3), textcoords="offset points",
                fontsize="small", color="tab:red")
