"""The experiment report: one self-contained ``index.html`` (figures embedded) and each figure as PNG.

``write_report(result, out_dir)`` takes a :class:`~experiments.results.result.Result` and writes,
atomically each, ``out_dir/index.html`` and ``out_dir/<figure>.png``.
The page needs no network and no other file: CSS inline, images as ``data:`` URIs, no script.

What it shows, per option (the base scenarios compared): the *headline* scenario, which is the
cheapest one whose mean service level meets the target (or else the best served), at the reference
demand: ``at``, else the demand at which the staffing studies were run, else the middle of each
swept demand parameter. This module decides what to show and draws the figures (with plots.py);
experiments/report/sections.py writes each section's content as plain data, and
experiments/report/html.py renders the page from its Jinja2 template.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from experiments.report import html, plots, sections
from experiments.report.analysis import (
    at_values,
    choose,
    option_colors,
    param_columns,
    rank_cost,
    scenario_rows,
    short_name,
    studies_where,
    value_text,
    wide_summary,
)
from experiments.results.result import Result
from experiments.running.files import write_bytes
from models.offers import AS_SIMULATED

DEFAULT_SL_TARGET = 0.80


# ----------------------------------------------------------------------------- what the report shows


@dataclass(frozen=True)
class Context:
    """Everything the sections and figures share, computed once."""

    result: Result
    summary: pd.DataFrame              # result.summary(), computed once
    wide: pd.DataFrame                 # one row per scenario: ids, params, means and CIs
    params: list[str]                  # swept parameter columns
    agents: list[str]                  # the ``pools.*.agents`` ones
    volume: str | None                 # the first ``demand.*.calls_per_h`` one
    reference: dict[str, float]        # demand values of the headline and staffing figures
    headline: pd.DataFrame             # the chosen scenario of each option (rows of ``wide``)
    volume_summary: pd.DataFrame       # per option and volume the chosen scenario's summary rows
    sl_target: float
    currency: str
    service_level_s: float | None
    colors: dict[str, str]
    settings: dict[str, Any]
    cost: str                          # what options are ranked by (analysis.rank_cost)
    equal_service: str | None = None   # the goal the equal-service points were staffed to, if any

    @property
    def not_equal_options(self) -> list[str]:
        """Options compared beside equal-service ones that have no equal-service point themselves."""
        if not self.equal_service:
            return []
        ids = self.equal_ids
        equal = set(self.wide.loc[self.wide["scenario_id"].astype(str).isin(ids), "option"].astype(str))
        return [o for o in dict.fromkeys(self.wide["option"].astype(str)) if o not in equal]

    @property
    def recheck_missed(self) -> list[str]:
        """Equal-service points a fresh re-check found missing a target on the mean (after repairs)."""
        optimised = self.result.optimised
        if optimised is None or "recheck_means_met" not in optimised:
            return []
        missed = optimised[~optimised["recheck_means_met"].astype(bool)]
        return list(dict.fromkeys(missed["scenario_id"].astype(str)))

    @property
    def equal_ids(self) -> set[str]:
        """The scenarios staffed by the optimiser (an equal-service study)."""
        return equal_ids(self.result)


def _reference(wide: pd.DataFrame, demand: list[str], at: Mapping[str, float]) -> dict[str, float]:
    """``at``'s value of each demand parameter, else the one value of the studies that hold it fixed
    (the staffing curves are drawn there), else the middle of its swept values."""
    unknown = sorted(set(at) - set(demand))
    if unknown:
        raise ValueError(f"at: {', '.join(unknown)} is not a swept demand parameter; those are: {demand}")
    values = {}
    for column in demand:
        swept = sorted(wide[column].dropna().unique())
        fixed = studies_where(wide, column, varies=False)[column].dropna().unique()
        default = fixed[0] if len(fixed) == 1 and len(swept) > 1 else swept[(len(swept) - 1) // 2]
        values[column] = at[column] if column in at else default
        if values[column] not in swept:
            raise ValueError(f"at: {column} = {value_text(values[column])} was not run; swept values: "
                             f"{', '.join(value_text(v) for v in swept)}")
    return values


def _volume_summary(summary: pd.DataFrame, wide: pd.DataFrame, volume: str | None,
                    reference: dict[str, float], sl_target: float) -> pd.DataFrame:
    """Summary rows of the scenario chosen per option and volume, other parameters dropped (they
    were chosen, they do not make curves of their own)."""
    if volume is None:
        return summary.iloc[0:0]
    others = {c: v for c, v in reference.items() if c != volume}
    chosen = choose(at_values(studies_where(wide, volume, True), others), ["option", volume], sl_target)
    rows = summary[summary["scenario_id"].isin(chosen["scenario_id"])]
    return rows.drop(columns=[c for c in param_columns(rows) if c != volume])


def _scenario_attr(result: Result, name: str) -> list[Any]:
    values = [getattr(p.scenario, name) for p in result.points]
    if name == "currency" and not values:
        values = [s.get("currency") for s in result.meta.get("scenarios", {}).values() if isinstance(s, dict)]
    return list(dict.fromkeys(v for v in values if v is not None))


def build_context(result: Result, sl_target: float, at: Mapping[str, float]) -> Context:
    """What to show: the swept parameters, the reference demand and each option's headline scenario."""
    summary = result.summary()
    wide = wide_summary(summary)
    params = param_columns(summary)
    demand = [c for c in params if c.startswith("demand.")]
    volumes = [c for c in demand if c.endswith(".calls_per_h")]
    reference = _reference(wide, demand, at)
    volume = volumes[0] if volumes else None
    thresholds = _scenario_attr(result, "service_level_s")
    goal = _equal_service_goal(result)
    chosen = _equal_rows(wide, result)  # compare like with like: equal-service points when there are any
    return Context(
        result=result, summary=summary, wide=wide, params=params, agents=[c for c in params if c.endswith(".agents")],
        volume=volume, reference=reference, headline=choose(at_values(chosen, reference), ["option"], sl_target),
        volume_summary=_volume_summary(summary, chosen, volume, reference, sl_target), sl_target=sl_target,
        currency=" / ".join(_scenario_attr(result, "currency")),
        service_level_s=thresholds[0] if len(thresholds) == 1 else None,
        colors=option_colors(wide["option"].astype(str).tolist()), settings=asdict(result.settings),
        cost=rank_cost(summary), equal_service=goal)


def equal_ids(result: Result) -> set[str]:
    """The scenarios of ``result`` staffed by the optimiser (an equal-service study)."""
    optimised = result.optimised
    return set() if optimised is None else set(optimised["scenario_id"].astype(str))


def _equal_rows(wide: pd.DataFrame, result: Result) -> pd.DataFrame:
    """The rows of the options' equal-service points (for the options that have any), else ``wide``."""
    ids = equal_ids(result)
    if not ids:
        return wide
    equal = wide["scenario_id"].astype(str).isin(ids)
    has_equal = wide["option"].isin(wide.loc[equal, "option"])
    return wide[equal | ~has_equal]


def _equal_service_goal(result: Result) -> str | None:
    """The goal text of the equal-service points ("; "-joined if studies differ), or None."""
    if result.optimised is None or result.optimised.empty:
        return None
    return "; ".join(dict.fromkeys(result.optimised["goal"].astype(str)))


# ----------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class FigureSpec:
    """One figure: file stem, title, the one-sentence caption saying what to look at, and how to draw."""

    name: str
    title: str
    caption: str
    draw: Callable[[Axes], Axes]


def _at_text(ctx: Context) -> str:
    """``", at support.calls_per_h 20"``: where the staffing and frontier figures are drawn."""
    return "".join(f", at {short_name(c)} {value_text(v)}" for c, v in ctx.reference.items())


def _staffing_specs(ctx: Context) -> list[FigureSpec]:
    if not ctx.agents:
        return []
    fixed = at_values(studies_where(ctx.wide, ctx.volume, False), ctx.reference)
    rows = scenario_rows(ctx.summary, fixed["scenario_id"])
    if rows.empty:
        return []
    at = _at_text(ctx)
    return [
        FigureSpec("cost_vs_agents", f"Monthly cost against staffing{at}",
                   "Compare the lines at the staffing each option needs to meet the target (next figure): "
                   "the lowest line there is the cheapest way to serve the calls.",
                   lambda ax: plots.plot_cost_vs_agents(rows, ctx.agents, ax, metric=ctx.cost, currency=ctx.currency,
                                                        colors=ctx.colors)),
        FigureSpec("service_vs_agents", f"Service level against staffing{at}",
                   f"Read off how many agents each option needs for its line to cross the dashed "
                   f"{ctx.sl_target:.0%} target; the shaded band is the 95% confidence interval.",
                   lambda ax: plots.plot_service_vs_agents(rows, ctx.agents, ax=ax, target=ctx.sl_target,
                                                           colors=ctx.colors)),
    ]


def _other_specs(ctx: Context) -> list[FigureSpec]:
    specs = []
    volume = ctx.volume
    if volume is not None:
        specs.append(_volume_spec(ctx, volume))
    rows = scenario_rows(ctx.summary, at_values(ctx.wide, ctx.reference)["scenario_id"])
    specs.append(FigureSpec(
        "cost_vs_service", f"Cost against service level, every scenario tried{_at_text(ctx)}",
        "Scenarios on the black line are the efficient frontier (no other is both cheaper and better "
        "served); any point off it pays more for the same or worse service.",
        lambda ax: plots.plot_cost_vs_service(rows, ax, cost=ctx.cost, target=ctx.sl_target, currency=ctx.currency,
                                              colors=ctx.colors)))
    return specs


def _volume_spec(ctx: Context, volume: str) -> FigureSpec:
    """Cost against volume: at equal service when the options were optimised to the same goal (the
    cost of poor service shaded between the bill and the total), else as each option was staffed."""
    base = "monthly_cost" if ctx.cost != "monthly_cost" else None
    if ctx.equal_service:
        title = "Monthly cost at equal service against call volume"
        caption = (f"Every option at every volume was staffed by the optimiser (bposim optimise) to the same "
                   f"targets, {ctx.equal_service}, searched on replications the report does not use; the "
                   "solid line is the total with the cost of poor service, the dashed line the bill alone, "
                   "the shading between them the cost of poor service. Where two solid lines cross the cheaper "
                   "option changes: break-even volumes are marked and listed, with their intervals, below.")
    else:
        title = "Monthly cost against call volume, each option as staffed in the sweep"
        caption = ("Not at equal service: each option keeps the staffing its sweep gives it (see the service "
                   "level of each point in the table of every scenario). Where two lines cross, the cheaper "
                   "option changes: break-even volumes are marked with a cross and listed below.")
    return FigureSpec("cost_vs_volume", title, caption,
                      lambda ax: plots.plot_cost_vs_volume(ctx.volume_summary, volume, ax, metric=ctx.cost,
                                                           currency=ctx.currency, colors=ctx.colors,
                                                           base_metric=base))


def _headline_specs(ctx: Context) -> list[FigureSpec]:
    specs = []
    headline = scenario_rows(ctx.summary, ctx.headline["scenario_id"])
    if ctx.cost != "monthly_cost" and not headline.empty:
        specs.append(FigureSpec(
            "cost_breakdown", "What each option costs the client per month, headline scenario of each option",
            "The hatched part is the cost of poor service (lost callers, redials, repeat contacts, waiting, "
            "at the scenario's quality costs): a cheaper bill bought with worse service shows here, not as a "
            "saving. Options are ranked by the whole bar.",
            lambda ax: plots.plot_cost_breakdown(headline, ax, currency=ctx.currency, colors=ctx.colors)))
    intervals = scenario_rows(ctx.result.intervals, ctx.headline["scenario_id"])
    if not intervals.empty:
        specs.append(FigureSpec(
            "intraday_sl", "Service level by time of day, headline scenario of each option",
            "Look for hours where a line dips below the dashed target: callers wait then, even when "
            "the daily average looks fine.",
            lambda ax: plots.plot_intraday(intervals, "sl_frac", ax, target=ctx.sl_target, colors=ctx.colors)))
    invoices = scenario_rows(ctx.result.invoices, ctx.headline["scenario_id"])
    if not invoices.empty:
        specs.append(FigureSpec(
            "invoice_distribution", "Monthly BPO invoice, headline scenario of each option",
            "Budget for the dashed red 95th-percentile month, not the mean: one month in twenty is "
            "that expensive or worse (in-house pools send no invoice).",
            lambda ax: plots.plot_invoice_distribution(invoices, ax, currency=ctx.currency, colors=ctx.colors)))
    return specs


def render(spec: FigureSpec, size: tuple[float, float] = (8.6, 5.0), dpi: int = 110) -> bytes:
    """The figure as PNG bytes (a pyplot-free Figure: no global state, any backend)."""
    fig = Figure(figsize=size, layout="constrained")
    spec.draw(fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


# ----------------------------------------------------------------------------- the page


def _figures_section(ctx: Context, out_dir: Path) -> html.Section:
    """Draw every figure, write each as ``out_dir/<name>.png`` and embed it in the section."""
    figures = []
    for spec in [*_staffing_specs(ctx), *_other_specs(ctx), *_headline_specs(ctx)]:
        png = render(spec)
        write_bytes(png, out_dir / f"{spec.name}.png")
        figures.append(html.Figure(anchor=f"fig-{spec.name}", src=html.png_data_uri(png), alt=spec.title,
                                   title=spec.title, caption=spec.caption))
    return html.Section("figures", "Figures", tuple(figures))


def _pooling_section(pooling: pd.DataFrame | None, currency: str, out_dir: Path) -> list[html.Section]:
    """"Why the vendor can be cheaper" from a pooling study (none without one); its figure is
    written as ``out_dir/pooling.png``."""
    if pooling is None or pooling.empty:
        return []
    from experiments.report.pooling_section import pooling_section

    section, png = pooling_section(pooling, currency)
    write_bytes(png, out_dir / "pooling.png")
    return [section]


def _offers_match(ctx: Context, offers: pd.DataFrame) -> bool:
    """Whether ``offers`` was made from these results: each of its scenarios is one of theirs, with
    their mean monthly cost as simulated (an offers.csv left beside results written again is not)."""
    mean = ctx.wide.set_index(ctx.wide["scenario_id"].astype(str))["monthly_cost"]
    ids = offers["scenario_id"].astype(str)
    base = offers[offers["offer"] == AS_SIMULATED]
    if not ids.isin(mean.index).all() or base.empty:
        return False
    ours = mean.loc[base["scenario_id"].astype(str)].to_numpy(float)
    return bool(np.allclose(base["monthly_cost_mean"].to_numpy(float), ours, rtol=1e-9, atol=0.0))


def _offers_section(ctx: Context, offers: pd.DataFrame | None, out_dir: Path) -> list[html.Section]:
    """The offers section (none without offers): the rows of each option's headline scenario (all
    rows if none is one of them) and their figure, written as ``out_dir/offers.png``; only a note if
    the offers were made from other results."""
    if offers is None or offers.empty:
        return []
    if not _offers_match(ctx, offers):
        return [html.Section("offers", "Offers", (html.Note(
            "The offers table given (offers.csv) was made from other results: its scenarios or their costs as "
            "simulated are not these. Run bposim offers on these results again."),))]
    rows = offers[offers["scenario_id"].astype(str).isin(ctx.headline["scenario_id"].astype(str))]
    rows = rows if not rows.empty else offers
    spec = FigureSpec("offers", "Monthly cost under each offer",
                      "Compare each offer with the contracts as simulated of the same scenario: all are priced on "
                      "the very same calls, so their difference is one of price, not of luck; the error bars show "
                      "how the month's cost varies between replications, not how sure the difference is.",
                      lambda ax: plots.plot_offers(rows, ax, currency=ctx.currency, colors=ctx.colors))
    png = render(spec)
    write_bytes(png, out_dir / f"{spec.name}.png")
    figure = html.Figure(anchor=f"fig-{spec.name}", src=html.png_data_uri(png), alt=spec.title, title=spec.title,
                         caption=spec.caption)
    return [sections.offers_section(ctx, rows, figure)]


def write_report(result: Result, out_dir: Path, *, title: str | None = None,
                 question: str | None = None, sl_target: float = DEFAULT_SL_TARGET,
                 at: Mapping[str, float] | None = None, offers: pd.DataFrame | None = None,
                 pooling: pd.DataFrame | None = None) -> Path:
    """Write ``out_dir/index.html`` and one PNG per figure; return the HTML path.

    Args:
        result: a Result (of a run or a sweep, or read from a results folder).
        out_dir: folder to write into (created if needed).
        title: page title (default ``meta["title"]`` or a generic one).
        question: the question the experiment answers (default ``meta["question"]`` or one built
            from the options and the sweep).
        sl_target: service-level target (fraction) used to pick each option's headline scenario.
        at: values of swept demand parameters for the headline and staffing figures (default: the
            middle of each sweep).
        offers: the offers table of ``bposim offers`` (offers.csv, ``Result.offers``): adds an
            "Offers" section at each option's headline scenario.
        pooling: the table of a ``bposim pooling`` study (pooling.csv): adds "Why the vendor can be
            cheaper", and its figure as ``pooling.png``.
    """
    out_dir = Path(out_dir)
    ctx = build_context(result, sl_target, dict(at or {}))
    title = title or ctx.result.meta.get("title") or "bposim experiment report"
    body = [sections.question_section(ctx, question), sections.headline_section(ctx), _figures_section(ctx, out_dir),
            sections.break_even_section(ctx), sections.all_scenarios_section(ctx),
            *_offers_section(ctx, offers, out_dir), *sections.vendor_sections(ctx),
            *_pooling_section(pooling, ctx.currency, out_dir), sections.scenarios_section(ctx),
            sections.method_section(ctx), sections.versions_section(ctx)]
    path = out_dir / "index.html"
    options = ", ".join(ctx.wide["option"].astype(str).unique())
    subtitle = f"Options: {options}; costs in {ctx.currency or 'each scenario currency'}"
    write_bytes(html.render_page(title, subtitle, body).encode("utf-8"), path)
    return path
