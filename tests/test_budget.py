"""The budget over a contract term (experiments/budget/, ``bposim budget``).

A small two-pool scenario (an in-house agent overflowing to a vendor with a fee, included minutes,
two tiers, a minimum, an SLA, overhead and an amortised transition) under a calendar with seasons,
growth and forecast error. Every money figure of ``budget.csv`` is recomputed from
``budget_months.parquet``; the scaled counts from a fresh simulation of the sampled days; the
escalation and the forecast error against their definitions; the tables are the same whatever the
executor; bad input is one line, exit 2, nothing written.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from builders import pool, scenario

from experiments.budget.month import overhead_cost
from experiments.budget.plan import (
    MONTH_STRIDE,
    PRICE_FIELDS,
    escalated,
    forecast_error,
    month_plans,
    planned_scenario,
    sample_settings,
)
from experiments.budget.run import run_budget
from experiments.budget.tables import budget_table
from experiments.cli import main
from experiments.running.executors import SerialExecutor
from models.budget import BudgetCalendar
from models.contracts import SLA, Contract, SLATerm, Tier
from models.invoicing import invoice
from models.quality import QualityCosts
from sim.replication import simulate

FACTORS = (1.2, 0.8, 1.0, 1.1, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
CONTRACT = {"monthly_fee": 100.0, "included_min": 1000.0, "billing_increment_s": 6, "min_monthly": 6000.0,
            "tiers": [{"up_to_min": 11000.0, "per_minute": 0.5}, {"per_minute": 0.4}],
            "sla": {"target_frac": 0.95, "threshold_s": 20, "credit_frac": 0.01}}
CALENDAR = BudgetCalendar(start_month=1, monthly_factors=FACTORS, growth_per_year_frac=0.1, forecast_cv=0.15)
QUALITY = QualityCosts(lost_cost=2.0, redial_cost=0.5, repeat_cost=1.0, wait_cost_per_h=5.0)


def small(calendar: BudgetCalendar | None = CALENDAR):
    """20 calls/h to an in-house agent, then a vendor (2 agents); about 0.1 s per sampled month."""
    scn = scenario([pool("a", 1, overhead_per_month=40.0),
                    pool("v", 2, kind="bpo", contract=CONTRACT, overhead_per_month=50.0, transition_cost=120.0,
                         amortise_months=1.5, resolution_frac=0.8)],
                   route=["a", "v"], calls_per_h=20.0, handle={"dist": "exponential", "mean_s": 180.0},
                   patience={"dist": "exponential", "mean_s": 300.0})
    return dataclasses.replace(scn, quality=QUALITY, calendar=calendar)


@pytest.fixture(scope="module")
def budget():
    scn = small()
    rows = run_budget(scn, months=4, reps=8, sample="7", seed=7, executor=SerialExecutor())
    return scn, rows, budget_table(rows, scn)


# --------------------------------------------------------------------------- every figure recomputed


def test_every_invoice_line_is_the_contract_priced_on_the_scaled_minutes(budget):
    scn, rows, _ = budget
    vendor = rows[rows["kind"] == "bpo"]
    assert len(vendor) == 4 * 8
    for row in vendor.itertuples():
        sla = None if math.isnan(row.sla_frac) else row.sla_frac
        lines = invoice(escalated(scn.pool("v").contract, row.escalation_factor), row.billed_min, 1.0, sla)
        assert (lines.fixed_cost, lines.usage_cost, lines.floor_cost, lines.credit_cost, lines.invoice_cost) == (
            row.fixed_cost, row.usage_cost, row.floor_cost, row.credit_cost, row.invoice_cost)
        assert row.tier_n == (1 if row.billed_min - 1000.0 <= 11000.0 else 2)
    # the case exercises what it claims to: both tiers, a binding minimum, an SLA credit, and not always
    assert set(vendor["tier_n"]) == {1, 2}
    assert 0 < (vendor["floor_cost"] > 0).sum() < len(vendor)
    assert 0 < (vendor["credit_cost"] < 0).sum() < len(vendor)


def test_labour_overhead_quality_and_totals_follow_their_definitions(budget):
    _, rows, _ = budget
    inhouse = rows[rows["pool"] == "a"]
    assert np.allclose(inhouse["labour_cost"], inhouse["paid_h"] * 10.0, rtol=1e-12, atol=0)
    assert (rows.loc[rows["pool"] == "v", "labour_cost"] == 0).all()
    overhead = {("a", m): 40.0 for m in range(4)} | {("v", 0): 130.0, ("v", 1): 90.0, ("v", 2): 50.0, ("v", 3): 50.0}
    assert [overhead[(p, m)] for p, m in zip(rows["pool"], rows["month"], strict=True)] == pytest.approx(
        rows["overhead_cost"].tolist(), rel=1e-15)
    quality = (rows["lost_n"] * 2.0 + rows["redial_n"] * 0.5 + rows["repeat_n"] * 1.0 + rows["wait_s"] / 3600 * 5.0)
    assert np.allclose(rows["quality_cost"], quality, rtol=1e-12, atol=1e-9)
    assert (rows["quality_cost"] > 0).all()
    parts = rows["labour_cost"] + rows["invoice_cost"] + rows["overhead_cost"] + rows["quality_cost"]
    assert (rows["total_cost"] == parts).all()


def test_budget_csv_is_the_percentiles_and_shares_of_the_months(budget):
    _, rows, table = budget
    money = ["labour_cost", "invoice_cost", "overhead_cost", "quality_cost", "total_cost"]
    by = rows.groupby(["rep", "month"])[money].sum()
    vendor = rows[rows["pool"] == "v"].set_index(["rep", "month"])
    for m in range(4):
        line = table[table["month"] == m].iloc[0]
        month = by.xs(m, level="month")
        for column in money:
            assert line[f"median_{column}"] == np.median(month[column])
            assert line[f"p95_{column}"] == np.percentile(month[column], 95)
        assert line["mean_total_cost"] == pytest.approx(month["total_cost"].mean(), rel=1e-15)
        tiers = vendor.xs(m, level="month")["tier_n"]
        usual = tiers.value_counts().sort_index().idxmax()
        assert line["tier_moves_frac"] == (tiers != usual).mean()
        assert line["floor_binds_frac"] == (vendor.xs(m, level="month")["floor_cost"] > 0).mean()
        assert line["sla_credit_frac"] == (vendor.xs(m, level="month")["credit_cost"] < 0).mean()
        assert (line["period"], line["calendar_month"], line["days_n"]) == (["Jan", "Feb", "Mar", "Apr"][m], m + 1,
                                                                          [31, 28, 31, 30][m])
    term = table.iloc[-1]
    assert term["period"] == "total" and pd.isna(term["month"]) and term["days_n"] == 120
    year = by.groupby("rep")[money].sum()
    for column in money:
        assert term[f"median_{column}"] == pytest.approx(np.median(year[column]), rel=1e-15)
        assert term[f"p95_{column}"] == pytest.approx(np.percentile(year[column], 95), rel=1e-15)
    assert term["floor_binds_frac"] == pytest.approx((vendor["floor_cost"] > 0).mean(), rel=1e-15)


def test_frequencies_of_what_no_contract_has_are_nan():
    scn = small(None)
    plain = dataclasses.replace(scn, pools=(scn.pools[0], dataclasses.replace(
        scn.pools[1], contract=Contract(per_minute=0.5))))
    table = budget_table(run_budget(plain, months=2, reps=2, executor=SerialExecutor()), plain)
    assert table[["floor_binds_frac", "sla_credit_frac", "tier_moves_frac"]].isna().all(axis=None)


def test_a_list_of_sla_terms_counts_as_an_sla():
    from models.contracts import SLATerm

    scn = small(None)
    terms = Contract(per_hour=10.0, sla_terms=(SLATerm("abandon_frac", 0.0, 0.01),))  # every month misses
    priced = dataclasses.replace(scn, pools=(scn.pools[0], dataclasses.replace(scn.pools[1], contract=terms)))
    rows = run_budget(priced, months=2, reps=2, executor=SerialExecutor())
    table = budget_table(rows, priced)
    vendor = rows[rows["pool"] == scn.pools[1].name]
    assert (vendor["credit_cost"] < 0).all() and (table["sla_credit_frac"] == 1.0).all()


def test_a_scenario_without_a_vendor_has_labour_and_no_invoice():
    scn = scenario([pool("a", 1)], calls_per_h=20.0)
    rows = run_budget(scn, months=2, reps=2, executor=SerialExecutor())
    assert (rows["invoice_cost"] == 0).all() and rows["sla_frac"].isna().all() and (rows["tier_n"] == 0).all()
    assert rows["total_cost"].tolist() == [24 * 31 * 10.0, 24 * 28 * 10.0] * 2


# --------------------------------------------------------------------------- the month's plan


def test_flat_calendar_months_are_the_scenario_and_counts_the_sample_times_the_days_ratio():
    scn = small(BudgetCalendar())
    rows = run_budget(scn, months=2, reps=2, sample="7", seed=3, executor=SerialExecutor())
    assert (rows["forecast_factor"] == 1.0).all() and (rows["volume_factor"] == 1.0).all()
    assert (rows["forecast_error"] == 1.0).all() and (rows["escalation_factor"] == 1.0).all()
    for plan in month_plans(BudgetCalendar(), 2, 2, 3, "7"):
        assert planned_scenario(scn, plan) == scn
        sampled = simulate(scn, sample_settings(plan, 3), plan.rep * MONTH_STRIDE + plan.month)
        assert sample_settings(plan, 3).days == 10 and sample_settings(plan, 3).warmup_h == 72
        got = rows[(rows["rep"] == plan.rep) & (rows["month"] == plan.month)].set_index("pool")
        ratio = [31, 28][plan.month] / 7
        offered = sampled.intervals.groupby("pool", observed=True)["offered_n"].sum()
        for name in ("a", "v"):
            assert got.at[name, "offered_n"] == offered[name] * ratio
            assert got.at[name, "lost_n"] == sampled.contacts.groupby("pool", observed=True)["lost_n"].sum()[name] * ratio
        usage = sampled.usage.sum()
        assert got.at["v", "billed_min"] == usage["billed_increments_n"] * 6 / 60 * ratio
        assert got.at["a", "paid_h"] == 7 * 24 * ratio


def test_staffing_follows_the_forecast_and_demand_the_actual_volume():
    scn = dataclasses.replace(small(), pools=tuple(dataclasses.replace(p, agents=(100,) * 24) for p in small().pools))
    plan = dataclasses.replace(month_plans(CALENDAR, 1, 1, 1, "7")[0], forecast_factor=1.1, forecast_error=0.9)
    month = planned_scenario(scn, plan)
    assert month.pools[0].agents == (110,) * 24  # 100 x 1.1 is 110.00000000000001 in floats: not 111
    plan = dataclasses.replace(plan, forecast_factor=1.101)
    month = planned_scenario(scn, plan)
    assert month.pools[1].agents == (111,) * 24
    assert month.demand[0].rates_per_h == (20.0 * 1.101 * 0.9,) * 24
    assert (month.quality, month.calendar, month.pools[1].contract) == (scn.quality, scn.calendar, scn.pools[1].contract)


def test_forecast_errors_have_mean_one_and_the_calendars_cv():
    cv, n_reps, n_months = 0.15, 400, 12
    draws = np.array([forecast_error(11, r, m, cv) for r in range(n_reps) for m in range(n_months)])
    n = len(draws)
    assert abs(draws.mean() - 1.0) < 4 * cv / math.sqrt(n)
    w = 1 + cv * cv  # lognormal: excess kurtosis w^4 + 2w^3 + 3w^2 - 6
    se_sd = cv / 2 * math.sqrt(2 / (n - 1) + (w**4 + 2 * w**3 + 3 * w**2 - 6) / n)
    assert abs(draws.std(ddof=1) - cv) < 4 * se_sd
    assert (draws > 0).all() and len(set(draws)) == n
    assert forecast_error(11, 0, 0, 0.0) == 1.0


def test_a_months_forecast_error_depends_on_seed_rep_and_month_only():
    short = month_plans(CALENDAR, 3, 2, 5, "7")
    long = month_plans(CALENDAR, 12, 4, 5, "full")
    pick = {(p.rep, p.month): p.forecast_error for p in long}
    assert [p.forecast_error for p in short] == [pick[(p.rep, p.month)] for p in short]
    assert [p.forecast_error for p in short] != [p.forecast_error for p in month_plans(CALENDAR, 3, 2, 6, "7")]
    assert [p.sampled_days_n for p in long[:3]] == [31, 28, 31]


# --------------------------------------------------------------------------- escalation


NOT_PRICES = {"tiers", "included_min", "billing_increment_s", "wrap_min_per_call", "sla", "billing_basis",
              "tiers_mode", "sla_terms", "sla_cap_frac", "sla_bonus_cap_frac", "escalation_per_year_frac"}


def test_every_field_of_a_contract_is_either_a_price_or_not():
    # A new field of Contract must be put in PRICE_FIELDS (escalated) or here (not): this fails until it is.
    names = {f.name for f in dataclasses.fields(Contract)}
    assert names <= set(PRICE_FIELDS) | NOT_PRICES, names - set(PRICE_FIELDS) - NOT_PRICES


def test_escalated_multiplies_every_price_and_nothing_else():
    sla = SLA(0.8, 60.0, 0.01)
    contract = Contract(monthly_fee=1000.0, tiers=(Tier(500.0, 0.9), Tier(None, 0.7)), included_min=100.0,
                        billing_increment_s=30.0, wrap_min_per_call=0.5, min_monthly=2000.0, sla=sla)
    up = escalated(contract, 1.25)
    assert up == dataclasses.replace(contract, monthly_fee=1250.0, min_monthly=2500.0,
                                     tiers=(Tier(500.0, 0.9 * 1.25), Tier(None, 0.7 * 1.25)))
    assert escalated(Contract(per_minute=0.8), 1.1).per_minute == 0.8 * 1.1
    assert escalated(contract, 1.0) == contract
    units = Contract(per_hour=14.0, per_call=0.5, per_resolved=1.5, sla_terms=(SLATerm("asa_s", 30.0, 0.01),))
    assert escalated(units, 1.1) == dataclasses.replace(units, per_hour=14.0 * 1.1, per_call=0.5 * 1.1,
                                                        per_resolved=1.5 * 1.1)


def test_month_m_prices_are_escalated_by_one_plus_e_to_the_m_over_12():
    scn = small(BudgetCalendar())
    vendor = Contract(per_minute=0.6, billing_increment_s=6.0, monthly_fee=300.0, escalation_per_year_frac=0.12)
    scn = dataclasses.replace(scn, pools=(scn.pools[0], dataclasses.replace(scn.pools[1], contract=vendor)))
    rows = run_budget(scn, months=14, reps=1, seed=2, executor=SerialExecutor())
    got = rows[rows["pool"] == "v"].set_index("month")
    for m in range(14):
        factor = 1.12 ** (m / 12)
        assert got.at[m, "escalation_factor"] == factor
        assert got.at[m, "fixed_cost"] == 300.0 * factor
        assert got.at[m, "usage_cost"] == 0.6 * factor * got.at[m, "billed_min"]
    assert got.at[12, "escalation_factor"] == pytest.approx(1.12, rel=1e-15)
    fte = Contract(per_hour=14.0, per_call=0.1, escalation_per_year_frac=-0.06)  # a falling price works too
    scn = dataclasses.replace(scn, pools=(scn.pools[0], dataclasses.replace(scn.pools[1], contract=fte)))
    got = run_budget(scn, months=3, reps=1, seed=2, executor=SerialExecutor()).set_index(["pool", "month"]).loc["v"]
    for m in range(3):
        factor = 0.94 ** (m / 12)
        assert got.at[m, "hourly_cost"] == 14.0 * factor * got.at[m, "paid_h"]
        assert got.at[m, "calls_cost"] == 0.1 * factor * got.at[m, "answered_n"]
    assert (rows.loc[rows["pool"] == "a", "escalation_factor"] == 1.0).all()  # in-house wages: no escalation
    assert rows.loc[rows["pool"] == "a", "labour_cost"].tolist() == (rows.loc[rows["pool"] == "a", "paid_h"] * 10).tolist()


def test_overhead_is_monthly_and_the_transition_is_amortised_over_its_months():
    vendor = small().pool("v")
    assert [overhead_cost(vendor, m) for m in range(3)] == [50 + 80.0, 50 + 40.0, 50.0]


# --------------------------------------------------------------------------- the command


SMALL_TOML = """name = "small"
interval_min = 60
[quality]
lost_cost = 2.0
wait_cost_per_h = 5.0
[calendar]
start_month = 11
monthly_factors = [1.2, 0.8, 1.0, 1.1, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
growth_per_year_frac = 0.1
forecast_cv = 0.15
[[demand]]
name = "c"
calls_per_h = 20
handle = { dist = "exponential", mean_s = 180 }
patience = { dist = "exponential", mean_s = 300 }
route = ["a", "v"]
[[pools]]
name = "a"
kind = "inhouse"
agents = 1
wage_per_h = 10
[[pools]]
name = "v"
kind = "bpo"
agents = 2
contract = { per_minute = 0.5, billing_increment_s = 6, min_monthly = 6000 }
"""
FILES = ["budget.csv", "budget_months.parquet", "fan.png", "meta.json"]


def _budget(tmp_path, name: str, *flags: str) -> tuple[pd.DataFrame, str]:
    source = tmp_path / "small.toml"
    source.write_text(SMALL_TOML, encoding="utf-8")
    out = tmp_path / name
    assert main(["budget", str(source), "--months", "3", "--reps", "3", "--seed", "4", "--out", str(out), *flags]) == 0
    assert sorted(p.name for p in out.iterdir()) == FILES
    return pd.read_parquet(out / "budget_months.parquet"), (out / "budget.csv").read_text()


def test_one_process_and_two_give_the_same_tables(tmp_path, capsys):
    one, csv_one = _budget(tmp_path, "one", "--jobs", "1")
    two, csv_two = _budget(tmp_path, "two", "--jobs", "2")
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert csv_one == csv_two
    assert list(one["label"].drop_duplicates()) == ["Nov", "Dec", "Jan"]
    out = capsys.readouterr().out
    assert "calendar of small.toml: from Nov" in out and "\nyear" not in out and "\ntotal" in out
    assert "a minimum binds:" in out and "an SLA credit is earned: – (no contract has one)" in out


def test_a_local_dask_cluster_gives_the_same_tables(tmp_path, capsys):
    one, _ = _budget(tmp_path, "one", "--jobs", "1")
    dask, _ = _budget(tmp_path, "dask", "--dask-local")
    pd.testing.assert_frame_equal(one, dask, check_exact=True)
    assert "on Dask LocalCluster (2 worker processes on 127.0.0.1)" in capsys.readouterr().out


def test_a_scenario_without_a_calendar_says_it_uses_the_defaults(tmp_path, capsys):
    source = tmp_path / "flat.toml"
    source.write_text(SMALL_TOML[:SMALL_TOML.index("[calendar]")] + SMALL_TOML[SMALL_TOML.index("[[demand]]"):])
    assert main(["budget", str(source), "--months", "12", "--reps", "1", "--jobs", "1", "--days-per-month", "7"]) == 0
    out = capsys.readouterr().out
    assert "flat.toml has no [calendar]: flat months, no growth, no forecast error (the defaults)\n" in out
    assert "\nyear " in out and "Dec" in out


BAD = [
    ("monthly_factors = [1.2, 0.8, 1.0, 1.1, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]",
     "monthly_factors = [1.2, 0.8, 1.0, 1.1, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]",
     "calendar.monthly_factors: must be 12 numbers (January first), got 11"),
    ("monthly_factors = [1.2, 0.8,", "monthly_factors = [1.2, 0,",
     "calendar.monthly_factors[1]: must be a finite number > 0 (the Feb multiplier of the demand as written), got 0"),
    ("start_month = 11", "start_month = 13",
     "calendar.start_month: must be a whole number from 1 (January) to 12 (December), got 13"),
    ("growth_per_year_frac = 0.1", "growth_per_year_frac = -1.5",
     "calendar.growth_per_year_frac: must be a finite number > -1 (-100% a year; 0.05 = +5%), got -1.5"),
    ("forecast_cv = 0.15", "forecast_cv = -0.1",
     "calendar.forecast_cv: must be >= 0 and < 1 (0.06 = a 6% error of the monthly volume forecast), got -0.1"),
    ("min_monthly = 6000 }", "min_monthly = 6000, escalation_per_year_frac = -1.5 }",
     "pools[1].contract.escalation_per_year_frac: must be > -1, got -1.5"),
    ("forecast_cv = 0.15", "forecast_cv = 0.15\nseason = 2",
     "calendar.season: unknown key; allowed keys: forecast_cv, growth_per_year_frac, monthly_factors, start_month"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD, ids=lambda v: v[:24] if isinstance(v, str) else v)
def test_bad_calendar_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, old, new, message):
    source = tmp_path / "bad.toml"
    assert SMALL_TOML.count(old) == 1
    source.write_text(SMALL_TOML.replace(old, new), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "budget.csv").write_text("an earlier budget\n")
    assert main(["budget", str(source), "--reps", "1", "--jobs", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"bposim: error: {source}: {message}\n" and captured.out == ""
    assert [p.name for p in out.iterdir()] == ["budget.csv"]
    assert (out / "budget.csv").read_text() == "an earlier budget\n"


@pytest.mark.parametrize(("flags", "message"), [
    (["--months", "0"], "argument --months: must be >= 1, got 0"),
    (["--months", "121"], "argument --months: must be at most 120, got 121"),
    (["--days-per-month", "10"], "argument --days-per-month: invalid choice: '10' (choose from '7', '14', '21', '28', 'full')"),
    (["--reps", "0"], "argument --reps: must be >= 1, got 0"),
    (["--jobs", "2", "--dask-local"], "argument --dask-local: not allowed with argument --jobs"),
])
def test_bad_flags_are_one_line_exit_2(tmp_path, capsys, flags, message):
    source = tmp_path / "small.toml"
    source.write_text(SMALL_TOML, encoding="utf-8")
    assert main(["budget", str(source), "--out", str(tmp_path / "out"), *flags]) == 2
    err = capsys.readouterr().err
    assert err == f"bposim: error: bposim budget: {message} (see bposim budget --help)\n"
    assert not (tmp_path / "out").exists()
