"""Figures of experiment results: cost and waiting against staffing, volume and each other.

Every ``plot_*`` function takes a tidy frame (columns in docs/results.md, plus ``scenario_id``,
``option`` and one column per swept parameter named by its dotted path), draws on ``ax`` (a new
figure when ``None``), returns the Axes and never shows, saves or changes global settings. Inputs are
never modified. Fractions (``_frac``) are drawn as percent; bands are 95% Student-t confidence
intervals over replications.

The numbers they draw come from experiments/report/analysis.py (break-even volumes, efficient
frontier, intraday and invoice tables), which has no matplotlib: use it for tables and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from experiments.report.analysis import (
    X,
    break_even_points,
    curves,
    efficient_frontier,
    intraday_table,
    metric_rows,
    monthly_invoices,
    option_colors,
    param_columns,
    scenario_labels,
    wide_summary,
    x_columns,
)
from experiments.results.tables import ALL_POOLS

LINE_STYLES = ("-", "--", ":", "-.")


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
        return np.asarray(np.clip(values.to_numpy(float), self.low, self.high) * self.scale, dtype=float)


METRICS: dict[str, Metric] = {
    "sl_frac": Metric("service level (answered within target)", "%", 100.0, low=0.0, high=1.0),
    "asa_s": Metric("average speed of answer", "s", low=0.0),
    "abandon_frac": Metric("abandonment", "%", 100.0, low=0.0, high=1.0),
    "p_wait_frac": Metric("calls that had to wait", "%", 100.0, low=0.0, high=1.0),
    "occupancy_frac": Metric("agent occupancy", "%", 100.0, low=0.0, high=1.0),
    "monthly_cost": Metric("total cost per 30-day month", "", money=True, low=0.0),
    "monthly_total_with_quality_cost": Metric("cost with the cost of poor service, per 30-day month", "",
                                              money=True, low=0.0),
    "monthly_quality_cost": Metric("cost of poor service per 30-day month", "", money=True, low=0.0),
    "cost_per_resolved": Metric("cost per resolved contact", "", money=True, low=0.0),
    "cost_per_call": Metric("cost per answered call", "", money=True, low=0.0),
    "total_cost": Metric("total cost over the run", "", money=True, low=0.0),
    "labour_cost": Metric("in-house labour cost over the run", "", money=True, low=0.0),
    "vendor_cost": Metric("BPO invoices over the run", "", money=True, low=0.0),
    "offered_n": Metric("offered calls", "calls", low=0.0),
    "answered_n": Metric("answered calls", "calls", low=0.0),
}


# ----------------------------------------------------------------------------- axes helpers


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only when asked for a new figure: no import-time side effects

    _, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    return ax


def _param_label(x: X) -> str:
    columns = x_columns(x)
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
    for label, option, part in curves(rows, x):
        style = LINE_STYLES[drawn.get(option, 0) % len(LINE_STYLES)]  # same colour, next style
        drawn[option] = drawn.get(option, 0) + 1
        xs = part["_x"].to_numpy()
        color = colors.get(option)
        ax.plot(xs, part["mean"] * metric.scale, marker="o", ms=4, ls=style, color=color, label=label)
        if part[["ci_low", "ci_high"]].notna().any(axis=None):
            ax.fill_between(xs, metric.band(part["ci_low"]), metric.band(part["ci_high"]),
                            color=color, alpha=0.18, linewidth=0)


def _draw_stacked_base(ax: Axes, summary: pd.DataFrame, x: X, metric: str, base_metric: str, pool: str,
                       info: Metric, colors: Mapping[str, str] | None) -> None:
    """Per option a dashed line of ``base_metric`` and the gap up to ``metric`` lightly shaded."""
    top = {label: part for label, _, part in curves(metric_rows(summary, metric, pool), x)}
    colors = colors or option_colors(summary["option"].astype(str).tolist())
    for label, option, part in curves(metric_rows(summary, base_metric, pool), x):
        if label not in top:
            continue
        upper = top[label].set_index("_x")["mean"].reindex(part["_x"]).to_numpy(float)
        xs = part["_x"].to_numpy(float)
        color = colors.get(option)
        ax.plot(xs, part["mean"] * info.scale, ls="--", lw=1, color=color, label=f"{label}, bill alone")
        ax.fill_between(xs, part["mean"] * info.scale, upper * info.scale, color=color, alpha=0.08,
                        hatch="//", linewidth=0)


def _integer_x(ax: Axes, x: X) -> None:
    """Whole ticks on an axis of agents (there is no half an agent)."""
    if all(c.endswith(".agents") for c in x_columns(x)):
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


# ----------------------------------------------------------------------------- against volume


def plot_cost_vs_volume(summary: pd.DataFrame, x: X = "demand.support.calls_per_h", ax: Axes | None = None,
                        *, metric: str = "monthly_cost", pool: str = ALL_POOLS, currency: str = "",
                        colors: Mapping[str, str] | None = None, base_metric: str | None = None) -> Axes:
    """Monthly cost against call volume ``x``, one line per option with its CI band, and the
    break-even volumes (see :func:`break_even_points`) marked and labelled. With ``base_metric``
    (e.g. ``monthly_cost`` under ``monthly_total_with_quality_cost``) each option's base is drawn
    dashed and the gap up to ``metric`` shaded: the cost of poor service stacked on the bill."""
    ax = _axes(ax)
    info = _metric(metric)
    _draw_curves(ax, metric_rows(summary, metric, pool), x, info, colors)
    if base_metric is not None:
        _draw_stacked_base(ax, summary, x, metric, base_metric, pool, info, colors)
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
    for i, (sid, px, py) in enumerate(zip(points["scenario_id"], xs, ys, strict=True)):
        left = px <= middle
        text = ax.annotate(labels.get(str(sid), str(sid)), (px, py), textcoords="offset points",
                           xytext=(9 if left else -9, -12 if i % 2 else 5), ha="left" if left else "right",
                           fontsize="x-small")
        text.set_in_layout(False)


# ----------------------------------------------------------------------------- intraday


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


# ----------------------------------------------------------------------------- cost and the cost of poor service


def plot_cost_breakdown(summary: pd.DataFrame, ax: Axes | None = None, *, currency: str = "",
                        colors: Mapping[str, str] | None = None) -> Axes:
    """One bar per scenario (labelled by option): ``monthly_cost`` (labour and invoices) with
    ``monthly_quality_cost`` (the client's cost of poor service) stacked on it, each mean with the
    95% interval of the total as an error bar. ``summary``: the rows of the scenarios to show."""
    ax = _axes(ax)
    wide = wide_summary(summary)
    labels = wide["option"].astype(str).tolist()
    paid, quality = wide["monthly_cost"].to_numpy(float), wide["monthly_quality_cost"].to_numpy(float)
    total = "monthly_total_with_quality_cost"
    errors = np.abs(wide[[f"{total}_low", f"{total}_high"]].to_numpy(float).T - wide[total].to_numpy(float))
    bar_colors = [(colors or {}).get(label, "C0") for label in labels]
    ax.bar(labels, paid, color=bar_colors, label="labour and invoices")
    ax.bar(labels, quality, bottom=paid, color=bar_colors, alpha=0.35, hatch="//", edgecolor="0.3",
           label="cost of poor service")
    ax.errorbar(labels, paid + quality, yerr=np.nan_to_num(errors), fmt="none", ecolor="black", capsize=6,
                label="95% CI of the total")
    info = _metric("monthly_total_with_quality_cost")
    _format_y(ax, info)
    return _finish(ax, "What each option costs the client per month", "option", _axis_label(info, currency))



# ----------------------------------------------------------------------------- offers


def plot_offers(offers: pd.DataFrame, ax: Axes | None = None, *, currency: str = "",
                colors: Mapping[str, str] | None = None) -> Axes:
    """Per row of an offers table (experiments/results/offers.py): the mean monthly cost (circle) and,
    beside it, the total with the cost of poor service (square), each with its 95% CI as an error
    bar; one colour per option. The axis does not start at 0: it shows the differences between offers."""
    ax = _axes(ax)
    xs = np.arange(len(offers), dtype=float)
    colors = colors or option_colors(offers["option"].astype(str).tolist())
    point_colors = [colors.get(str(option), "C0") for option in offers["option"]]
    for shift, stem, marker, label in ((-0.15, "monthly_cost", "o", "labour, invoices and overheads"),
                                       (0.15, "total_with_quality_monthly", "s", "with the cost of poor service")):
        mean = offers[f"{stem}_mean"].to_numpy(float)
        errors = np.abs(offers[[f"{stem}_ci_low", f"{stem}_ci_high"]].to_numpy(float).T - mean)
        ax.errorbar(xs + shift, mean, yerr=np.nan_to_num(errors), fmt="none", ecolor="black", capsize=4)
        ax.scatter(xs + shift, mean, marker=marker, s=46, color=point_colors, edgecolor="black", zorder=3)
        ax.scatter([], [], marker=marker, s=46, color="0.75", edgecolor="black", label=label)  # legend: any colour
    several = offers["scenario_id"].nunique() > 1
    labels = scenario_labels(offers)
    ax.set_xticks(xs, [f"{row.offer}\n({labels[str(row.scenario_id)]})" if several else str(row.offer)
                       for row in offers.itertuples()], fontsize="small")
    ax.set_xlim(-0.6, len(offers) - 0.4)
    info = _metric("monthly_total_with_quality_cost")
    _format_y(ax, info)
    return _finish(ax, "Each offer priced on the same simulated calls (mean and 95% CI)", "offer",
                   _axis_label(Metric("cost per 30-day month", "", money=True), currency))
