"""What each section of the report says: plain text, tables and notes (experiments/report/html.py
renders them), and the domain objects (pools, call types) written as table cells.

Every function here returns data, never HTML: a :class:`~experiments.report.html.Section` of
blocks. experiments/report/page.py decides what to show (its :class:`~experiments.report.page.Context`)
and adds the figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pandas as pd

from experiments.report.analysis import (
    break_even_intervals,
    efficient_frontier,
    invoice_summary,
    scenario_labels,
    scenario_rows,
    short_name,
    value_text,
    x_values,
)
from experiments.report.html import Block, Bullets, Cell, Note, Paragraph, Section, SubHeading, Table
from experiments.results.tables import shared_columns
from experiments.results.text import number, plus_minus
from models.demand import CallType
from models.pools import Pool

if TYPE_CHECKING:
    from experiments.report.page import Context



def with_ci(mean: object, low: object, high: object, spec: str, scale: float = 1.0) -> Cell:
    """The mean over ``[low – high]``; no interval when it is missing (one replication) or has no
    width (a cost fixed by the schedule)."""
    ends = number(low, spec, scale), number(high, spec, scale)
    note = "" if "–" in ends or ends[0] == ends[1] else f"[{ends[0]} – {ends[1]}]"
    return Cell(number(mean, spec, scale), note)


# ----------------------------------------------------------------------------- sections

HEADLINE = [("sl_frac", "service level %", ".1f", 100.0), ("asa_s", "ASA s", ".1f", 1.0),
            ("abandon_frac", "abandoned %", ".1f", 100.0), ("cost_per_resolved", "cost per resolved contact", ",.2f", 1.0),
            ("monthly_cost", "monthly cost", ",.0f", 1.0),
            ("monthly_quality_cost", "cost of poor service / month", ",.0f", 1.0),
            ("monthly_total_with_quality_cost", "total cost with poor service / month", ",.0f", 1.0)]


def _money(ctx: Context, label: str) -> str:
    return f"{label} ({ctx.currency})" if ctx.currency else label


def _metric_headers(ctx: Context) -> list[str]:
    return [_money(ctx, label) if "cost" in label else label for _, label, _, _ in HEADLINE]


def _metric_cells(row: Mapping[str, Any], short: bool = False) -> list[str | Cell]:
    """``mean [low – high]`` per headline metric, or ``mean ± half-width`` when ``short``. An
    interval is cut to the values the metric can take (every headline metric is >= 0, a fraction
    <= 1): a Student-t interval of a service level near 100% over few replications can reach past
    it, and the true mean cannot, so the cut interval covers it as often (docs/report.md)."""
    if short:
        return [plus_minus(row.get(m), row.get(f"{m}_low"), row.get(f"{m}_high"), spec, scale)
                for m, _, spec, scale in HEADLINE]
    return [with_ci(row.get(m), *_possible(m, row.get(f"{m}_low"), row.get(f"{m}_high")), spec, scale)
            for m, _, spec, scale in HEADLINE]


def _possible(metric: str, low: Any, high: Any) -> tuple[Any, Any]:
    """``(low, high)`` cut to the metric's possible values: >= 0, and <= 1 for a fraction."""
    if isinstance(low, (int, float)) and not math.isnan(low):
        low = max(float(low), 0.0)
    if metric.endswith("_frac") and isinstance(high, (int, float)) and not math.isnan(high):
        high = min(float(high), 1.0)
    return low, high


def _config(ctx: Context, row: Mapping[str, Any]) -> str:
    """``staffing: calls_per_h 20, inhouse.agents 6``: the study and swept values of one scenario."""
    values = ", ".join(f"{short_name(c)} {value_text(row[c])}" for c in ctx.params if pd.notna(row[c]))
    study = f"{row['study']}: " if row.get("study") else ""
    return study + (values or "as in its file")


def _value(value: Any) -> str:
    return "–" if pd.isna(value) else value_text(value)


def _values(wide: pd.DataFrame, column: str) -> str:
    """The values a parameter takes in ``wide``, in order."""
    return ", ".join(value_text(v) for v in sorted(wide[column].dropna().unique()))


def _threshold(ctx: Context) -> str:
    return f"{ctx.service_level_s:g} s" if ctx.service_level_s is not None else "each scenario's threshold"


def question_section(ctx: Context, question: str | None) -> Section:
    """The question (``question``, else ``meta["question"]``, else one built from the options), the
    service-level target, what was swept and how the headline scenarios were chosen."""
    options = ", ".join(ctx.wide["option"].astype(str).unique())
    asked = (question or ctx.result.meta.get("question")
             or f"What would each option ({options}) cost per month, and how long would its callers wait?")
    swept = "; ".join(f"{c} over {_values(ctx.wide, c)}" for c in ctx.params) or "nothing (one scenario per option)"
    where = ", ".join(f"{c} = {value_text(v)}" for c, v in ctx.reference.items())
    return Section("question", "What was asked", (Paragraph(asked), Bullets((
        f"Service-level target: {ctx.sl_target:.0%} of offered calls answered within {_threshold(ctx)}.",
        f"Swept: {swept}; {len(ctx.wide)} scenarios in all.",
        _how_chosen(ctx) + (f", at {where}." if where else "."),
    ))))


def _how_chosen(ctx: Context) -> str:
    if ctx.equal_service:
        return ("Options are compared at equal service: each option's headline scenario is its point of the "
                "equal-service study, staffed by the optimiser to the same targets, "
                f"{ctx.equal_service}, on replications the report does not use")
    return ("Each option's headline scenario is its cheapest one whose mean service level meets the target "
            "(or, if none does, its best-served one); the options are not staffed to equal service "
            "(an equal-service study, `optimise = {...}` in the sweep file, would do that)")


def headline_section(ctx: Context) -> Section:
    """Per option its headline scenario: service level and abandonment (%), ASA (s), cost per call
    and monthly cost (currency), each with its 95% interval, and the invoice's 95th percentile."""
    invoices = scenario_rows(ctx.result.invoices, ctx.headline["scenario_id"])
    p95 = invoice_summary(invoices).set_index("option")["p95"] if not invoices.empty else pd.Series(dtype=float)
    rows = [[row["option"], _config(ctx, row), *_metric_cells(row),
             number(p95.get(row["option"]), ",.0f"), "yes" if row["meets_target"] else "no"]
            for row in ctx.headline.to_dict("records")]
    headers = ["option", "scenario", *_metric_headers(ctx), _money(ctx, "invoice p95 per month"),
               f"meets {ctx.sl_target:.0%}"]
    note = ("Mean over replications, its 95% confidence interval below in brackets (cut to what the metric can "
            "be: 0 to 100%, no negative seconds or money). Monthly cost is what the "
            "client pays (in-house labour, BPO invoices and overheads) scaled to 30 days; the cost of poor "
            "service (lost callers, redials, repeat contacts, waiting, at the scenario's quality costs) comes "
            "on top, and options are chosen and ranked by the total with it. The invoice 95th percentile is "
            "over replications and billing months (– for options without a BPO).")
    if ctx.equal_service:
        note = f"Cost at equal service: {_equal_text(ctx)}. " + note
    table = Table.of(headers, rows, numeric=range(2, 2 + len(HEADLINE) + 1))
    return Section("headline", "Headline", (Note(note), table))


def break_even_section(ctx: Context) -> Section:
    """The call volumes (calls/h) where the cheapest option changes, with the monthly cost there."""
    if ctx.volume is None:
        return Section("break-even", "Break-even volumes",
                       (Paragraph("Call volume was not swept, so there are no break-even volumes."),))
    wide = ctx.wide[ctx.wide["scenario_id"].isin(ctx.volume_summary["scenario_id"])]
    points = break_even_intervals(ctx.result.runs, wide, ctx.volume, ctx.cost)
    what = "cost with the cost of poor service" if ctx.cost != "monthly_cost" else "cost"
    staffed = (f"Staffing at each volume: {_equal_text(ctx)}"
               if ctx.equal_service else "Each option staffed at each volume as its headline is chosen (cheapest "
               "meeting the target, else best served; not equal service)")
    how = Note(f"{staffed}; crossings of the mean monthly {what} curves, interpolated linearly between the "
               f"swept volumes of {ctx.volume}. The interval is the range of volumes around the crossing where "
               "the 95% interval of the paired difference between the two options (same callers in both, "
               "replication by replication) contains 0: there the data cannot say which is cheaper; "
               "'beyond the sweep' when that range reaches the end of the swept volumes.")
    if points.empty:
        return Section("break-even", "Break-even volumes", (how, Paragraph(
            "No break-even inside the swept range: the options keep the same order of cost throughout.")))
    rows = [[p.option_a, p.option_b, f"{p.x:,.1f}", f"{_bound(p.x_low)} – {_bound(p.x_high)}", f"{p.cost:,.0f}",
             p.cheaper_below, p.option_b if p.cheaper_below == p.option_a else p.option_a]
            for p in points.itertuples()]
    headers = ["option", "versus", "break-even calls/h", "95% interval", _money(ctx, "monthly cost there"),
               "cheaper below", "cheaper above"]
    return Section("break-even", "Break-even volumes", (how, Table.of(headers, rows, numeric=(2, 3, 4))))


def _equal_text(ctx: Context) -> str:
    """Which options were staffed to equal service, to what, and what the fresh re-checks found."""
    others = ctx.not_equal_options
    who = "every option" if not others else "every option but " + ", ".join(others) + " (staffed as swept)"
    text = f"{who} staffed by the optimiser to {ctx.equal_service}"
    missed = ctx.recheck_missed
    if missed:
        text += (f"; on fresh replications after its repairs, {len(missed)} point(s) still missed a target on "
                 f"the mean ({', '.join(missed[:3])}{', ...' if len(missed) > 3 else ''}; optimised.csv)")
    return text


def _bound(value: float) -> str:
    return "beyond the sweep" if value != value else f"{value:,.0f}"


def _frontier_ids(ctx: Context) -> set[str]:
    """Scenarios on the efficient frontier among those with the same demand (fair comparisons only)."""
    demand = [c for c in ctx.reference]
    groups = ctx.wide.groupby(demand, dropna=False, observed=True) if demand else [(None, ctx.wide)]
    return {sid for _, part in groups for sid in efficient_frontier(part, cost=ctx.cost)["scenario_id"]}


def _param_groups(ctx: Context) -> list[tuple[str, list[str]]]:
    """(header, columns) of the parameters in tables (see results.tables.shared_columns)."""
    return shared_columns(ctx.wide, ctx.params, short_name)


def all_scenarios_section(ctx: Context) -> Section:
    """Every scenario: its parameters, mean ± 95% half-width of the headline metrics, and whether it
    is on the efficient frontier (row class ``good``)."""
    frontier = _frontier_ids(ctx)
    ids = ["option", *(["study"] if "study" in ctx.wide and ctx.wide["study"].astype(str).ne("").any() else [])]
    groups = _param_groups(ctx)
    wide = ctx.wide.assign(**{header: x_values(ctx.wide, columns) for header, columns in groups})
    records = wide.sort_values([*ids, *(header for header, _ in groups)]).to_dict("records")
    rows = [[*(r[c] for c in ids), *[_value(r[header]) for header, _ in groups], *_metric_cells(r, True),
             "yes" if r["scenario_id"] in frontier else ""] for r in records]
    headers = [*ids, *(header for header, _ in groups), *_metric_headers(ctx), "efficient frontier"]
    numeric = range(len(ids), len(ids) + len(groups) + len(HEADLINE))
    classes = ["good" if r["scenario_id"] in frontier else "" for r in records]
    note = ("Mean ± 95% confidence half-width. Frontier scenarios (no other with the same demand is both "
            "cheaper and better served) have a green edge.")
    return Section("all-scenarios", "Every scenario tried",
                   (Note(note), Table.of(headers, rows, numeric=numeric, row_classes=classes)))


#: (column, label, format spec) of the offers table after its confidence-interval columns
OFFER_MONEY = [("monthly_cost_p95", "monthly cost p95", ",.0f"), ("invoice_monthly_mean", "BPO invoice / month", ",.0f"),
               ("credit_monthly_mean", "SLA credits / month", ",.0f"),
               ("cost_per_resolved_mean", "cost per resolved contact", ",.2f")]


def offers_section(ctx: Context, offers: pd.DataFrame, figure: Block | None) -> Section:
    """Each offer of ``bposim offers`` (the rows of offers.csv to show) beside the contracts as
    simulated: monthly cost with its interval, its 95th percentile, the pool's invoice and credits,
    cost per resolved contact and the total with the cost of poor service; the cheapest total per
    scenario and pool marked (row class ``good``)."""
    labels = scenario_labels(offers)
    best = offers.groupby(["scenario_id", "pool"], sort=False)["total_with_quality_monthly_mean"].transform("min")
    records = offers.assign(best=offers["total_with_quality_monthly_mean"] == best).to_dict("records")
    rows = [[labels[str(r["scenario_id"])], r["pool"], r["offer"], r["contract"],
             with_ci(r["monthly_cost_mean"], r["monthly_cost_ci_low"], r["monthly_cost_ci_high"], ",.0f"),
             *(number(r[column], spec) for column, _, spec in OFFER_MONEY),
             with_ci(r["total_with_quality_monthly_mean"], r["total_with_quality_monthly_ci_low"],
                     r["total_with_quality_monthly_ci_high"], ",.0f")] for r in records]
    headers = ["scenario", "pool", "offer", "contract", _money(ctx, "monthly cost"),
               *(_money(ctx, label) for _, label, _ in OFFER_MONEY), _money(ctx, "total cost with poor service / month")]
    reps = ", ".join(str(n) for n in dict.fromkeys(offers["reps_n"]))
    note = ("Other contracts for a BPO pool (bposim offers, offers.csv), priced on the same simulated calls as "
            "the contracts as simulated: the same service, another bill. Mean over replications, its 95% "
            f"confidence interval below in brackets; p95 is the 95th percentile of the monthly cost over the {reps} "
            "replication(s) (linear interpolation: rough with few replications). Credits are <= 0. The lowest "
            "total with the cost of poor service per scenario and pool has a green edge.")
    table = Table.of(headers, rows, numeric=range(4, len(headers)),
                     row_classes=["good" if r["best"] else "" for r in records])
    return Section("offers", "Offers", (Note(note), table, *((figure,) if figure is not None else ())))


def _scenario_part(point: Any, config: str) -> list[Block]:
    """A scenario as run: a sub-heading, its facts, its pools and its demand."""
    scenario = point.scenario
    facts = (f"From {scenario.source or 'code'}; service level counts calls answered within "
             f"{scenario.service_level_s:g} s; {scenario.interval_min}-minute intervals; costs in "
             f"{scenario.currency}" + (f"; {scenario.lines} lines" if scenario.lines else "") + ".")
    pools = Table.of(["pool", "kind", "location", "scheduled agents", "shrinkage", "handle-time factor",
                      "first-contact resolution", "open", "price"], [pool_cells(p) for p in scenario.pools])
    demand = Table.of(["call type", "calls/h (mean)", "handle time s (mean)", "patience s (mean)", "route"],
                      [demand_cells(c) for c in scenario.demand], numeric=(1, 2, 3))
    return [SubHeading(f"{point.option}: {config}"), Paragraph(facts), pools, demand]


def _sweep_table(ctx: Context) -> Paragraph | Table:
    """One row per study and option: the values of each parameter it sets."""
    if not ctx.params:
        return Paragraph("Nothing was swept: one scenario per option.")
    keys = [k for k in ("study", "option") if k in ctx.wide and ctx.wide[k].astype(str).ne("").any()]
    rows: list[list[object]] = []
    for key, part in ctx.wide.groupby(keys, sort=False, observed=True):
        values = "; ".join(f"{c}: {_values(part, c)}" for c in ctx.params if part[c].notna().any())
        rows.append([*(key if isinstance(key, tuple) else (key,)), values, len(part)])
    return Table.of([*keys, "values (dotted paths in the scenario file)", "scenarios"], rows, numeric=(len(keys) + 1,))


def scenarios_section(ctx: Context) -> Section:
    """Each headline scenario's facts, pools and demand as run, then the values swept per study and option."""
    points = {str(p.scenario_id): p for p in ctx.result.points if getattr(p, "scenario", None) is not None}
    parts: list[Block] = []
    for row in ctx.headline.to_dict("records"):
        if str(row["scenario_id"]) in points:
            parts += _scenario_part(points[str(row["scenario_id"])], f"headline scenario ({_config(ctx, row)})")
    if not parts:
        parts = [Note("The scenario objects did not come with these tables; the sweep below lists what varied.")]
    return Section("scenarios", "Scenarios and sweep as run", (*parts, SubHeading("Sweep"), _sweep_table(ctx)))


def method_section(ctx: Context) -> Section:
    """Replications, horizon, warm-up (h), seed, common random numbers, intervals, definitions."""
    s = {key: f"{value:g}" if isinstance(value, float) else value for key, value in ctx.settings.items()}
    runs = (f"{s.get('reps', '?')} replication(s) of every scenario, each over {s.get('days', '?')} simulated "
            f"day(s) (day 0 a Monday) after a warm-up of {s.get('warmup_h', 0)} h whose calls are simulated but "
            f"not counted; calls still waiting at the end are followed for up to {s.get('drain_h', '?')} h.")
    return Section("method", "Method", (Bullets((
        runs,
        f"Root seed {s.get('seed', '?')}. Replication r of every scenario draws from the same random streams "
        "(common random numbers), so differences between scenarios come from the scenarios, not the draw.",
        "Confidence intervals: 95% Student-t over replications, mean ± t(0.975, n − 1) × sd / √n, n the "
        "replications in which the metric is defined.",
        f"Service level = calls answered within {_threshold(ctx)} / offered calls; ASA = mean wait of answered "
        "calls; abandonment = abandoned / offered (definitions: docs/results.md).",
        "Costs are computed after the run: in-house = scheduled agent-hours × wage × burden; BPO = the "
        "contract's invoice per 30-day billing month (part months pro rata, scaled to 30 days here).",
    )),))


def versions_section(ctx: Context) -> Section:
    """The git commit, package versions and each scenario's content hash."""
    meta = ctx.result.meta
    versions = dict(meta.get("versions") or {}) | {"matplotlib (report)": metadata.version("matplotlib")}
    scenarios = meta.get("scenarios") or {}
    items = scenarios.items() if isinstance(scenarios, Mapping) else [(s.get("name", ""), s) for s in scenarios]
    hashes = [[name, info.get("hash", ""), info.get("source", "")] for name, info in items if isinstance(info, Mapping)]
    parts: list[Block] = [Paragraph(f"bposim git commit: {meta.get('git_commit', 'unknown')}"),
                          Table.of(["package", "version"], sorted(versions.items()))]
    if hashes:
        parts.append(Table.of(["scenario", "content hash", "file"], hashes, keys=()))
    return Section("versions", "Versions", tuple(parts))


# ----------------------------------------------------------------------------- domain objects as text

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _clock(hours: float) -> str:
    """``8.5`` -> ``08:30``."""
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def pool_cells(pool: Pool) -> list[str]:
    """Table cells describing one agent pool (money via ``Contract.describe()``)."""
    low, high = (min(pool.agents), max(pool.agents)) if pool.agents else (0, 0)
    agents = f"{low}" if low == high else f"{low}–{high} by interval"
    if pool.staffing == "vendor":
        agents = f"{agents} (the vendor's plan)" if pool.agents else "set by the vendor"
    days = "every day" if len(pool.open_days) == 7 else " ".join(DAYS[d] for d in pool.open_days)
    opening = f"{_clock(pool.open_h[0])}–{_clock(pool.open_h[1])}, {days}"
    if pool.contract is not None:
        price = pool.contract.describe()
    elif pool.kind == "bpo":  # serves other clients only
        price = "no contract with us"
    else:
        price = f"{pool.wage_per_h:,.2f}/h × burden {pool.burden:g} = {pool.wage_per_h * pool.burden:,.2f}/h"
    if pool.contracts:
        price += "; the vendor's other clients: " + ", ".join(client for client, _ in pool.contracts)
    return [pool.name, pool.kind, pool.location, agents, f"{pool.shrinkage_frac:.0%}", f"{pool.handle_factor:g}",
            f"{pool.resolution_frac:.0%}", opening, price]


def demand_cells(call_type: CallType) -> list[str]:
    """Table cells describing one call type: mean volume, handle time, patience, routing."""
    if call_type.route:
        route = " → ".join(call_type.route)
        if len(call_type.route) > 1:
            route += f" (next pool after each {call_type.overflow_after_s:g} s of waiting)"
    else:
        route = ", ".join(f"{name} {frac:.0%}" for name, frac in call_type.split)
    patience = call_type.patience.mean_s
    return [call_type.name, f"{call_type.mean_rate_per_h():,.1f}", f"{call_type.mean_handle_s:,.0f}",
            "never abandons" if math.isinf(patience) else f"{patience:,.0f}", route]


#: (column, label, format spec, scale to a month) of the vendor table in the report
VENDOR_CELLS = [("clients_n", "clients", ",.0f", False), ("paid_agents_n", "paid agents", ",.1f", False),
                ("occupancy_frac", "occupancy", ".0%", False), ("revenue_cost", "revenue / month", ",.0f", True),
                ("labour_cost", "vendor labour / month", ",.0f", True), ("margin_cost", "margin / month", ",.0f", True),
                ("margin_frac", "margin", ".0%", False)]
#: (column, label, format spec, scale to a month) of the per-client table in the report
CLIENT_CELLS = [("offered_n", "offered / month", ",.0f", True), ("sl_frac", "service level", ".1%", False),
                ("asa_s", "ASA (s)", ",.1f", False), ("abandon_frac", "abandoned", ".1%", False),
                ("invoice_cost", "invoices / month", ",.0f", True)]


def vendor_sections(ctx: Context) -> list[Section]:
    """"The vendor's view" (results' ``vendor`` and ``clients`` tables, means over replications),
    when a BPO pool serves several clients or its vendor's wage is known; else none."""
    vendor, clients = ctx.result.vendor, ctx.result.clients
    if vendor is None or vendor.empty or not ((vendor["clients_n"] > 1).any() or vendor["labour_cost"].notna().any()):
        return []
    settings = ctx.result.settings
    per_month = 30.0 * 86400.0 / (settings.horizon_s - settings.warmup_s)
    blocks: list[Block] = [Note("Per BPO pool, the vendor's side (bposim's vendor table): the agents it pays for, "
                                "how busy they are, what all its clients pay it, its labour at its own wage and "
                                "what is left. Means over replications; money per 30-day month.")]
    blocks.append(_means_table(ctx, vendor, ["pool"], VENDOR_CELLS, per_month))
    if clients is not None and (vendor["clients_n"] > 1).any():
        blocks += [SubHeading("Each client's service at the shared pools"),
                   _means_table(ctx, clients, ["pool", "client"], CLIENT_CELLS, per_month)]
    return [Section("vendor", "The vendor's view", tuple(blocks))]


def _means_table(ctx: Context, frame: pd.DataFrame, keys: list[str],
                 cells: list[tuple[str, str, str, bool]], per_month: float) -> Table:
    """One row per scenario and ``keys``: the mean over replications of each of ``cells``."""
    labels = scenario_labels(frame)
    columns = [column for column, _, _, _ in cells]
    means = frame.groupby(["scenario_id", *keys], observed=True, sort=False)[columns].mean().reset_index()
    rows = [[labels[str(r["scenario_id"])], *(r[k] for k in keys),
             *(number(r[c], spec, per_month if monthly else 1.0) for c, _, spec, monthly in cells)]
            for r in means.to_dict("records")]
    headers = ["scenario", *keys, *(_money(ctx, label) if c.endswith("_cost") else label for c, label, _, _ in cells)]
    return Table.of(headers, rows, numeric=range(1 + len(keys), len(headers)))
