"""Figures of experiment results: each returns labelled Axes, leaves its input alone, and the pure
functions behind them (break-even volumes, efficient frontier, intraday and invoice tables) give
hand-computed answers on hand-made frames."""

from __future__ import annotations

import ast
import functools
import itertools
import math
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from experiments.report import analysis, plots
from experiments.results.runner import run
from experiments.running.executors import SerialExecutor
from experiments.study.points import SweepPoint
from models.dumping import scenario_to_dict
from models.loading import load_scenario, scenario_from_dict
from models.settings import RunSettings

SCENARIOS = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"
VOLUME = "demand.support.calls_per_h"
#: option -> (file, its pool, scheduled agents swept); small so the whole grid runs in seconds
OPTIONS = {"all-inhouse": ("all_inhouse.toml", "inhouse", (4, 6)),
           "local-bpo": ("local_bpo.toml", "local_bpo", (3, 4)),
           "offshore-bpo": ("offshore_bpo.toml", "offshore", (4, 5))}
AGENTS = [f"pools.{pool}.agents" for _, pool, _ in OPTIONS.values()]
VOLUMES = (10.0, 20.0, 30.0)


def _variant(option: str, volume: float, agents: int):
    file, _, _ = OPTIONS[option]
    raw = scenario_to_dict(load_scenario(SCENARIOS / file))
    raw["demand"][0]["calls_per_h"] = volume
    raw["pools"][0]["agents"] = agents
    if option == "all-inhouse":
        raw["pools"][0]["wage_per_h"] = 12.0  # cheaper in-house, so break-evens fall inside this small sweep
    return scenario_from_dict(raw, source=str(SCENARIOS / file))


@functools.lru_cache(maxsize=1)
def experiment_tables() -> dict:
    """A small real experiment (3 options x 3 volumes x 2 staffing levels, 3 reps of 1 day): its
    Result (``result``), its tables by name (``summary`` included), points and meta. Shared by the
    tests: treat as read-only."""
    settings = RunSettings(reps=3, days=1)
    points = []
    for option, (_, pool, agent_values) in OPTIONS.items():
        for volume, agents in itertools.product(VOLUMES, agent_values):
            sid = f"{option}-{len(points):02d}"
            params = {VOLUME: volume, f"pools.{pool}.agents": agents}
            points.append(SweepPoint(sid, option, _variant(option, volume, agents), params))
    result = run(points, settings, executor=SerialExecutor(), progress=False)
    return result.tables | {"summary": result.summary(), "points": result.points, "meta": result.meta,
                            "result": result}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def tables() -> dict:
    return experiment_tables()


def at_volume(frame: pd.DataFrame, volume: float = 20.0) -> pd.DataFrame:
    return frame[frame[VOLUME] == volume]


def fewest_agents(frame: pd.DataFrame) -> pd.DataFrame:
    """Per option, the rows of its smaller staffing level, agent columns dropped: one curve each."""
    agents = analysis.x_values(frame, AGENTS)
    smallest = agents.groupby(frame["option"]).transform("min")
    return frame[agents == smallest].drop(columns=AGENTS)


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def band_count(ax) -> int:
    return sum(type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection") for c in ax.collections)


# ----------------------------------------------------------------------------- against agents


def test_cost_vs_agents_has_one_line_and_band_per_option(tables):
    ax = plots.plot_cost_vs_agents(at_volume(tables["summary"]), AGENTS, currency="EUR")
    assert len(ax.get_lines()) == 3
    assert band_count(ax) == 3
    assert legend_texts(ax) == list(OPTIONS)
    assert "agents" in ax.get_xlabel() and "EUR" in ax.get_ylabel() and ax.get_title()
    xs = sorted(ax.get_lines()[0].get_xdata())
    assert xs == [4.0, 6.0]  # all-inhouse's two staffing levels


def test_cost_vs_agents_draws_a_line_per_other_swept_value(tables):
    ax = plots.plot_cost_vs_agents(tables["summary"], AGENTS, metric="cost_per_call")
    assert len(ax.get_lines()) == 9  # 3 options x 3 volumes
    assert any("calls_per_h=20" in text for text in legend_texts(ax))
    assert "cost per answered call" in ax.get_ylabel()


def test_service_vs_agents_shows_fractions_as_percent_with_a_target(tables):
    rows = at_volume(tables["summary"])
    ax = plots.plot_service_vs_agents(rows, AGENTS, target=0.8)
    assert len(ax.get_lines()) == 3 + 1  # options + target line
    assert band_count(ax) == 3
    assert "%" in ax.get_ylabel() and "agents" in ax.get_xlabel()
    sl = rows[(rows["metric"] == "sl_frac") & (rows["pool"] == "all")]["mean"]
    drawn = np.concatenate([line.get_ydata() for line in ax.get_lines()[:3]])
    assert sorted(drawn) == sorted(sl * 100)  # exact: the same means times the same 100
    for _, high in (p.get_paths()[0].vertices.T for p in ax.collections):
        assert high.max() <= 100.0  # bands clipped to what a fraction can be: 1.0 * 100 is exact


def test_service_vs_agents_asa_in_seconds(tables):
    ax = plots.plot_service_vs_agents(at_volume(tables["summary"]), AGENTS, metric="asa_s")
    assert ax.get_ylabel() == "average speed of answer (s)"


def test_unknown_metric_is_a_clear_error(tables):
    with pytest.raises(ValueError, match="no rows for metric 'sla_frac'"):
        plots.plot_service_vs_agents(tables["summary"], AGENTS, metric="sla_frac")


# ----------------------------------------------------------------------------- break-even


def _costs(option: str, xs, ys) -> pd.DataFrame:
    """Hand-made summary rows of monthly cost for one option along a sweep of ``x``."""
    return pd.DataFrame({"scenario_id": [f"{option}-{x}" for x in xs], "option": option, "x": xs,
                         "pool": "all", "metric": "monthly_cost", "reps_n": 5, "mean": ys,
                         "sd": 0.0, "ci_low": ys, "ci_high": ys})


def test_break_even_of_two_straight_lines_on_different_grids():
    # a = 1000 + 10 x; b = 7000 flat: equal at x = 600, where both cost 7000
    xa = np.array([0.0, 200, 400, 800, 1000])
    summary = pd.concat([_costs("a", xa, 1000 + 10 * xa), _costs("b", [0.0, 500, 1000], [7000.0] * 3)])
    points = analysis.break_even_points(summary, "x")
    assert len(points) == 1
    row = points.iloc[0]
    assert (row.option_a, row.option_b, row.cheaper_below) == ("a", "b", "a")
    # Interpolated at t = 1/3 of the segment 500..800: a few roundings of ~1.1e-16 relative each.
    assert row.x == pytest.approx(600.0, rel=1e-12, abs=0.0)
    assert row.cost == pytest.approx(7000.0, rel=1e-12, abs=0.0)


def test_break_even_exactly_at_a_sweep_point_is_found_once():
    # c falls 8000 -> 6000: equals b's 7000 exactly at the sweep point x = 500
    summary = pd.concat([_costs("b", [0.0, 500, 1000], [7000.0] * 3),
                         _costs("c", [0.0, 500, 1000], [8000.0, 7000.0, 6000.0])])
    points = analysis.break_even_points(summary, "x")
    assert points[["x", "cost", "cheaper_below"]].values.tolist() == [[500.0, 7000.0, "b"]]


def test_touching_or_parallel_curves_and_disjoint_ranges_do_not_break_even():
    summary = pd.concat([
        _costs("b", [0.0, 500, 1000], [7000.0] * 3),
        _costs("touch", [0.0, 500, 1000], [8000.0, 7000.0, 8000.0]),  # meets b, does not cross
        _costs("cheap", [0.0, 1000], [100.0, 100.0]),
        _costs("later", [2000.0, 3000], [0.0, 9000.0]),  # no x range in common with the others
    ])
    assert analysis.break_even_points(summary, "x").empty


def test_break_even_with_several_crossings_sorted_by_x():
    # d zig-zags around b = 7000: crosses at 250 (down) and 750 (up)
    summary = pd.concat([_costs("b", [0.0, 1000], [7000.0, 7000.0]),
                         _costs("d", [0.0, 500, 1000], [8000.0, 6000.0, 8000.0])])
    points = analysis.break_even_points(summary, "x")
    # Interpolated at t = 1/2 between integers: dyadic, exact.
    assert points["x"].tolist() == [250.0, 750.0]
    assert points["cheaper_below"].tolist() == ["b", "d"]


def test_cost_vs_volume_marks_the_break_even_volumes(tables):
    rows = fewest_agents(tables["summary"])
    points = analysis.break_even_points(rows, VOLUME)
    ax = plots.plot_cost_vs_volume(rows, VOLUME, currency="EUR")
    assert len(ax.get_lines()) == 3
    assert len(ax.collections) == 3 + (not points.empty)  # bands (+ the break-even markers)
    assert "calls per hour" in ax.get_xlabel() and "EUR" in ax.get_ylabel()
    if not points.empty:
        markers = ax.collections[-1].get_offsets()
        assert np.asarray(markers)[:, 0].tolist() == points["x"].tolist()  # the same numbers, drawn


# ----------------------------------------------------------------------------- frontier


FRONTIER_CASES = pd.DataFrame({
    # id:           F     A     B     C     D     E     G
    "scenario_id": ["F", "A", "B", "C", "D", "E", "G"],
    "option": ["x"] * 7,
    "monthly_cost": [90.0, 100, 120, 150, 200, 120, 200],
    "sl_frac": [0.60, 0.70, 0.85, 0.80, 0.95, 0.85, 0.90],
})
# C is dominated by B (cheaper and better); G by D (same cost, better); B and E tie and both stay.
FRONTIER = ["F", "A", "B", "E", "D"]


def test_efficient_frontier_on_a_wide_frame():
    front = analysis.efficient_frontier(FRONTIER_CASES)
    assert front["scenario_id"].tolist() == FRONTIER
    assert front["monthly_cost"].is_monotonic_increasing and front["sl_frac"].is_monotonic_increasing


def test_efficient_frontier_on_a_tidy_summary_and_other_columns():
    long = FRONTIER_CASES.melt(id_vars=["scenario_id", "option"], var_name="metric", value_name="mean")
    long = long.assign(pool="all", reps_n=3, sd=0.0, ci_low=long["mean"], ci_high=long["mean"])
    assert analysis.efficient_frontier(long)["scenario_id"].tolist() == FRONTIER
    ranked = FRONTIER_CASES.rename(columns={"monthly_cost": "c", "sl_frac": "s"})
    assert analysis.efficient_frontier(ranked, cost="c", service="s")["scenario_id"].tolist() == FRONTIER


def test_efficient_frontier_leaves_out_missing_values():
    frame = pd.concat([FRONTIER_CASES, pd.DataFrame({"scenario_id": ["N"], "option": ["x"],
                                                     "monthly_cost": [1.0], "sl_frac": [np.nan]})])
    assert analysis.efficient_frontier(frame)["scenario_id"].tolist() == FRONTIER


def test_cost_vs_service_highlights_the_frontier(tables):
    rows = at_volume(tables["summary"])
    ax = plots.plot_cost_vs_service(rows, target=0.8, currency="EUR")
    assert len(ax.collections) == 3  # one scatter per option
    assert sum(len(c.get_offsets()) for c in ax.collections) == rows["scenario_id"].nunique()
    frontier_line, _target_line = ax.get_lines()  # exactly two lines: the frontier and the target
    assert len(frontier_line.get_xdata()) == len(analysis.efficient_frontier(rows))
    assert legend_texts(ax) == [*OPTIONS, "efficient frontier", "target 80%"]
    assert "%" in ax.get_xlabel() and "EUR" in ax.get_ylabel()


# ----------------------------------------------------------------------------- intraday


def _intervals(rep: int, day: int, interval: int, pool: str, offered: int, in_sl: int) -> dict:
    zeros = dict.fromkeys(analysis.INTRADAY_SUMS, 0)
    return zeros | {"scenario_id": "s", "option": "o", "rep": rep, "pool": pool, "day": day,
                    "start_s": day * 86400.0 + interval * 1800.0, "offered_n": offered,
                    "answered_n": offered, "answered_in_sl_n": in_sl}


def test_intraday_rates_come_from_counts_summed_over_days_and_pools():
    # rep 0, 00:00: day 0 inhouse 8/10 + day 1 inhouse 1/10 + day 1 bpo 0/0 -> 9/20 = 0.45
    # rep 1, 00:00: 20/20 = 1.0.  Mean over reps 0.725.  00:30 is quiet (no calls): NaN.
    rows = [_intervals(0, 0, 0, "inhouse", 10, 8), _intervals(0, 1, 0, "inhouse", 10, 1),
            _intervals(0, 1, 0, "bpo", 0, 0), _intervals(1, 0, 0, "inhouse", 20, 20),
            _intervals(0, 0, 1, "inhouse", 0, 0), _intervals(1, 0, 1, "inhouse", 0, 0)]
    table = analysis.intraday_table(pd.DataFrame(rows))
    first = table.iloc[0]
    assert (first.hour, first.mid_h, first.reps_n) == (0.0, 0.25, 2)
    # 9/20 and the mean are a few roundings of ~1.1e-16 relative each from 0.725: 1e-12 relative.
    assert first["mean"] == pytest.approx(0.725, rel=1e-12, abs=0.0)
    half = math.tan(math.pi * 0.475) * np.std([0.45, 1.0], ddof=1) / np.sqrt(2)  # t(0.975, 1) = tan(0.475 pi)
    # tan near pi/2 magnifies the rounding of its argument ~20 times: still ~1e-14 relative at most.
    assert (first.ci_low, first.ci_high) == pytest.approx((0.725 - half, 0.725 + half), rel=1e-12, abs=0.0)
    assert np.isnan(table.iloc[1]["mean"])


def test_intraday_one_line_per_scenario(tables):
    ids = ["all-inhouse-03", "local-bpo-09", "offshore-bpo-14"]
    intervals = tables["intervals"][tables["intervals"]["scenario_id"].isin(ids)]
    ax = plots.plot_intraday(intervals, target=0.8)
    assert len(ax.get_lines()) == 3 + 1
    assert band_count(ax) == 3
    assert legend_texts(ax)[:3] == list(OPTIONS)
    assert ax.get_xlim() == (0.0, 24.0) and "time of day" in ax.get_xlabel() and "%" in ax.get_ylabel()
    assert len(ax.get_lines()[0].get_xdata()) == 48  # 30-minute intervals


def test_intraday_labels_scenarios_when_an_option_has_several(tables):
    intervals = tables["intervals"][tables["intervals"]["option"] == "local-bpo"]
    ax = plots.plot_intraday(intervals, "asa_s")
    assert len(ax.get_lines()) == 6
    assert "local-bpo (support.calls_per_h=10, local_bpo.agents=3)" in legend_texts(ax)
    assert ax.get_ylabel() == "average speed of answer (s)"


def test_scenario_labels_name_the_study_and_fall_back_to_ids():
    frame = pd.DataFrame({"scenario_id": ["v1", "v2", "s1", "s2"], "option": "o",
                          "study": ["volume", "volume", "staffing", "staffing"],
                          "pools.p.agents": [4, 6, 4, 4], "demand.c.calls_per_h": [10, 20, 20, 20]})
    labels = analysis.scenario_labels(frame)
    assert labels["v1"] == "o (volume, p.agents=4, c.calls_per_h=10)"
    assert labels["s1"] == "s1" and labels["s2"] == "s2"  # same study and values: only the ids differ
    assert analysis.scenario_labels(frame.iloc[:1]) == {"v1": "o"}


# ----------------------------------------------------------------------------- invoices


def test_monthly_invoices_add_pools_and_scale_part_months():
    invoices = pd.DataFrame({"scenario_id": "s", "option": "o", "rep": [0, 0, 1], "pool": ["a", "b", "a"],
                             "month": 0, "month_frac": 7 / 30, "invoice_cost": [600.0, 100.0, 1400.0]})
    months = analysis.monthly_invoices(invoices)
    # Division by 7/30 (not exact in binary): a few roundings, 1e-12 relative.
    assert months["monthly_invoice_cost"].tolist() == pytest.approx([3000.0, 6000.0], rel=1e-12, abs=0.0)
    summary = analysis.invoice_summary(invoices).iloc[0]
    assert (summary.months_n, summary.scaled) == (2, True)
    assert summary.p95 == pytest.approx(3000 + 0.95 * 3000, rel=1e-12, abs=0.0)  # the same, and 0.95


def test_invoice_distribution_marks_mean_and_95th_percentile(tables):
    invoices = tables["invoices"][tables["invoices"]["scenario_id"].isin(["local-bpo-09", "offshore-bpo-14"])]
    ax = plots.plot_invoice_distribution(invoices, currency="EUR")
    assert len(ax.collections) == 2  # dots of the two BPO options
    assert len(ax.get_lines()) == 4  # mean and p95 of each
    assert legend_texts(ax) == ["mean", "95th percentile"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["local-bpo\n(3 months)", "offshore-bpo\n(3 months)"]
    assert "30-day month" in ax.get_ylabel() and "EUR" in ax.get_ylabel()
    assert "month_frac" in ax.get_title()  # part months scaled, and it says so
    p95 = analysis.invoice_summary(invoices)["p95"].tolist()
    assert [line.get_ydata()[0] for line in ax.get_lines()[1::2]] == p95  # the same numbers, drawn


def test_invoice_distribution_without_invoices_says_why(tables):
    ax = plots.plot_invoice_distribution(tables["invoices"].iloc[0:0])
    assert "no BPO invoices" in ax.texts[0].get_text()


# ----------------------------------------------------------------------------- contract of every plot


def _calls(tables: dict) -> tuple[list, dict]:
    summary = at_volume(tables["summary"])
    some = tables["intervals"]["scenario_id"].isin(["all-inhouse-03", "local-bpo-09"])
    return [
        ("summary", lambda f, ax=None: plots.plot_cost_vs_agents(f, AGENTS, ax)),
        ("summary", lambda f, ax=None: plots.plot_service_vs_agents(f, AGENTS, "abandon_frac", ax)),
        ("volume", lambda f, ax=None: plots.plot_cost_vs_volume(f, VOLUME, ax)),
        ("summary", lambda f, ax=None: plots.plot_cost_vs_service(f, ax)),
        ("intervals", lambda f, ax=None: plots.plot_intraday(f, "sl_frac", ax)),
        ("invoices", lambda f, ax=None: plots.plot_invoice_distribution(f, ax)),
    ], {"summary": summary, "volume": fewest_agents(tables["summary"]),
        "intervals": tables["intervals"][some], "invoices": tables["invoices"]}


def test_plots_leave_their_input_unchanged(tables):
    calls, frames = _calls(tables)
    for key, draw in calls:
        frame = frames[key].copy(deep=True)
        draw(frame)
        pd.testing.assert_frame_equal(frame, frames[key])


def test_plots_draw_on_the_axes_given_without_pyplot(tables):
    calls, frames = _calls(tables)
    before = plt.get_fignums()
    for key, draw in calls:
        ax = Figure().add_subplot()
        assert draw(frames[key], ax) is ax
        assert ax.get_xlabel() or ax.get_xticklabels()
        assert ax.get_ylabel() and ax.get_title()
    assert plt.get_fignums() == before  # no pyplot figure was opened


def test_importing_plots_has_no_side_effects():
    # rcParams.copy(), not dict(rcParams): reading the "backend" key would itself import pyplot
    code = ("import matplotlib, sys; before = matplotlib.rcParams.copy(); import experiments.report.plots; "
            "print('matplotlib.pyplot' in sys.modules, matplotlib.rcParams.copy() == before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    assert "matplotlib.use" not in Path(plots.__file__).read_text()


def test_analysis_imports_no_matplotlib():
    # the numbers behind the figures (and the page's sections) must be usable where matplotlib is not
    code = ("import sys; import experiments.report.analysis, experiments.report.html, experiments.report.sections; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["[]"]
    tree = ast.parse(Path(analysis.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] == "matplotlib"}  # not even inside a function
