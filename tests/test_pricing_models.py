"""Every pricing model and SLA term, recomputed by hand (issue 10 items 1-2).

What is checked and why:
- all-units against graduated tiers at, just below and just above every boundary, and pro rata,
  with amounts worked out in the comments (exact in binary where written with ==);
- each SLA metric's direction and unit (points are percentage points, seconds for asa_s),
  credits and bonuses capped together with every term scaled in proportion, and a metric with
  no call having no effect;
- a simulated run of three vendors (an FTE deal with four SLA terms and bonuses, a per-call and
  per-resolved deal, an all-units tiered deal): every invoice line recomputes from the calls and
  intervals tables with pandas and the formulas of docs/scenarios.md, not with models.invoicing;
- the same invoices when the contracts are put back on a run priced under other ones
  (``Result.reprice``), so pricing from the usage table needs no new simulation.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.results.runner import run
from experiments.running.executors import SerialExecutor
from models.billing import BILLING_MONTH_S
from models.contracts import Contract, SLATerm, Tier
from models.invoicing import invoice, tier_reached
from models.loading import load_scenario
from models.settings import RunSettings
from models.sla import adjustment

TOML = Path(__file__).resolve().parent / "data" / "pricing_models.toml"
SETTINGS = RunSettings(reps=2, days=40, warmup_h=24, seed=3, keep_calls=True)  # months of 30 and 9 days


@functools.cache
def result():
    return run(load_scenario(TOML), SETTINGS, executor=SerialExecutor(), progress=False)


def close(expected: float):
    return pytest.approx(expected, rel=1e-12, abs=1e-9)


# --------------------------------------------------------------------------- tiers

TIERS = (Tier(1000.0, 1.0), Tier(3000.0, 0.5), Tier(None, 0.25))
GRADUATED = Contract(tiers=TIERS)
ALL_UNITS = Contract(tiers=TIERS, tiers_mode="all_units")


@pytest.mark.parametrize(("minutes", "tier", "graduated", "all_units"), [
    (0.0, 1, 0.0, 0.0),
    (999.5, 1, 999.5, 999.5),
    (1000.0, 1, 1000.0, 1000.0),            # at the bound: still tier 1
    (1000.5, 2, 1000.25, 500.25),           # 1000 + 0.5 x 0.5 | 1000.5 x 0.5: all-units falls
    (2999.5, 2, 1999.75, 1499.75),          # 1000 + 1999.5 x 0.5 | 2999.5 x 0.5
    (3000.0, 2, 2000.0, 1500.0),
    (3000.5, 3, 2000.125, 750.125),         # 2000 + 0.5 x 0.25 | 3000.5 x 0.25
    (10000.0, 3, 3750.0, 2500.0),           # 2000 + 7000 x 0.25 | 10000 x 0.25
])
def test_all_units_against_graduated_around_each_boundary(minutes, tier, graduated, all_units):
    assert tier_reached(GRADUATED, minutes) == tier
    assert invoice(GRADUATED, minutes).usage_cost == graduated
    assert invoice(ALL_UNITS, minutes).usage_cost == all_units
    assert invoice(ALL_UNITS, minutes).tier_n == tier


def test_all_units_pro_rata_and_after_included_minutes():
    # half a month: bounds 500 and 1500; 600 billable minutes reach tier 2, all at 0.5 -> 300
    assert invoice(ALL_UNITS, 600.0, month_frac=0.5).usage_cost == 300.0
    # 800 included (400 in half a month): 1900 billed -> 1500 billable: tier 2 at its bound -> 750
    contract = Contract(tiers=TIERS, tiers_mode="all_units", included_min=800.0)
    lines = invoice(contract, 1900.0, month_frac=0.5)
    assert (lines.tier_n, lines.usage_cost) == (2, 750.0)


def test_no_tiers_reach_tier_zero():
    assert invoice(Contract(per_minute=0.5), 100.0).tier_n == 0


# --------------------------------------------------------------------------- per hour, call, resolved


def test_unit_prices_and_the_floor():
    contract = Contract(monthly_fee=100.0, per_call=2.0, per_resolved=0.5, min_monthly=1000.0)
    # 100 + 2 x 300 + 0.5 x 200 = 800 -> floor 200
    lines = invoice(contract, 0.0, calls_n=300, resolved_n=200)
    assert (lines.calls_cost, lines.resolved_cost, lines.floor_cost, lines.invoice_cost) == (600.0, 100.0, 200.0, 1000.0)
    hourly = invoice(Contract(per_hour=14.5), 0.0, paid_h=720.0)
    assert (hourly.hourly_cost, hourly.invoice_cost) == (10440.0, 10440.0)  # 14.5 x 720


# --------------------------------------------------------------------------- SLA terms

TERMS = (
    SLATerm("sl_frac", 0.80, 0.01, threshold_s=60.0, bonus_frac=0.005),
    SLATerm("asa_s", 30.0, 0.002, bonus_frac=0.001),
    SLATerm("abandon_frac", 0.05, 0.01),
    SLATerm("resolution_frac", 0.75, 0.01, bonus_frac=0.01),
)


def test_each_metric_has_its_direction_and_unit():
    # sl 0.75 (5 points short: 5%), ASA 40 s (10 s over: 2%), abandon 0.07 (2 points over: 2%),
    # resolution 0.80 (5 points beyond: bonus 5%); caps 20% and 10%: none binds. Base 1000.
    measured = {"sl_frac": 0.75, "asa_s": 40.0, "abandon_frac": 0.07, "resolution_frac": 0.80}
    adj = adjustment(TERMS, 1000.0, measured, 0.20, 0.10)
    assert adj.by_metric["sl_frac"] == pytest.approx(-50.0, rel=1e-12)
    assert adj.by_metric["asa_s"] == pytest.approx(-20.0, rel=1e-12)
    assert adj.by_metric["abandon_frac"] == pytest.approx(-20.0, rel=1e-12)
    assert adj.by_metric["resolution_frac"] == pytest.approx(50.0, rel=1e-12)
    assert adj.credit_cost == pytest.approx(-90.0, rel=1e-12) and adj.bonus_cost == pytest.approx(50.0, rel=1e-12)


def test_beating_targets_earns_bonuses_and_caps_scale_terms_in_proportion():
    # sl 0.90 (10 points beyond x 0.5% = 5%), ASA 10 s (20 s under x 0.1% = 2%), resolution 0.85
    # (10 points x 1% = 10%): bonuses 17% capped at 8.5% -> each halved: 25, 10, 50 on a base of 1000.
    # abandon 0.08 (3 points x 1% = 3%) under a 2% cap -> -20, all of it from abandon.
    measured = {"sl_frac": 0.90, "asa_s": 10.0, "abandon_frac": 0.08, "resolution_frac": 0.85}
    adj = adjustment(TERMS, 1000.0, measured, 0.02, 0.085)
    assert adj.by_metric == pytest.approx({"sl_frac": 25.0, "asa_s": 10.0, "abandon_frac": -20.0,
                                           "resolution_frac": 50.0}, rel=1e-12)
    assert (adj.credit_cost, adj.bonus_cost) == (pytest.approx(-20.0, rel=1e-12), pytest.approx(85.0, rel=1e-12))
    assert sum(adj.by_metric.values()) == pytest.approx(adj.credit_cost + adj.bonus_cost, rel=1e-12)


def test_a_metric_without_calls_has_no_effect():
    adj = adjustment(TERMS, 1000.0, {"sl_frac": math.nan, "asa_s": math.nan}, 0.2, 0.2)
    assert adj.credit_cost == 0.0 and adj.bonus_cost == 0.0 and set(adj.by_metric.values()) == {0.0}


def test_invoice_applies_terms_on_charges_and_floor():
    contract = Contract(per_call=1.0, min_monthly=1000.0, sla_terms=TERMS[:2], sla_cap_frac=0.5,
                        sla_bonus_cap_frac=0.5)
    # 600 calls -> 600 + floor 400 = 1000; sl 0.70 (10 points short: 10%), ASA 20 s (10 s under: 1%)
    lines = invoice(contract, 0.0, 1.0, 0.70, calls_n=600, measured={"asa_s": 20.0})
    assert lines.credit_cost == pytest.approx(-100.0, rel=1e-12) and lines.bonus_cost == pytest.approx(10.0, rel=1e-12)
    assert lines.invoice_cost == pytest.approx(910.0, rel=1e-12)


# --------------------------------------------------------------------------- a simulated run, by hand


def _hand_usage(calls: pd.DataFrame, intervals: pd.DataFrame, scn) -> pd.DataFrame:
    """Per (rep, pool, month), from the calls and intervals tables: the quantities contracts bill."""
    warmup = SETTINGS.warmup_s
    month = lambda t: np.minimum(((t - warmup) // BILLING_MONTH_S).astype(int), 1)
    frame = calls.assign(month=month(calls["arrival_s"].to_numpy()))
    rows = []
    for pool in scn.pools:
        c = pool.contract
        billed = frame["talk_s" if c.billing_basis == "talk" else "handle_s"]
        frame["increments"] = np.ceil(billed / c.billing_increment_s * (1 - 1e-9))
        for (rep, m), part in frame.groupby(["rep", "month"]):
            mine = part[(part["pool"] == pool.name) & (part["outcome"] == "answered")]
            at_pool = part[(part["last_pool"] == pool.name) & part["outcome"].isin(["answered", "abandoned"])]
            staffed = intervals[(intervals["rep"] == rep) & (intervals["pool"] == pool.name)]
            staffed = staffed[month(staffed["start_s"].to_numpy()) == m]
            rows.append({
                "rep": rep, "pool": pool.name, "month": m, "answered": len(mine),
                "minutes": mine["increments"].sum() * c.billing_increment_s / 60 + c.wrap_min_per_call * len(mine),
                "offered": len(at_pool), "met": int((mine["pool_wait_s"] <= 60.0).sum()),
                "abandoned": int((at_pool["outcome"] == "abandoned").sum()),
                "resolved": int(mine["resolved"].sum()), "wait": mine["pool_wait_s"].sum(),
                "paid_h": staffed["scheduled_n"].sum() * scn.interval_s / 3600,
            })
    return pd.DataFrame(rows)


def _hand_invoice(c: Contract, u: pd.Series, frac: float) -> dict[str, float]:
    """One invoice by the formulas of docs/scenarios.md."""
    billable = max(0.0, u["minutes"] - c.included_min * frac)
    bounds = [t.up_to_min * frac if t.up_to_min is not None else math.inf for t in c.tiers]
    if c.tiers:
        tier = next(i for i, b in enumerate(bounds) if billable <= b)
        usage = c.tiers[tier].per_minute * billable  # every contract here with tiers is all-units
    else:
        tier, usage = -1, c.per_minute * billable
    charges = (c.monthly_fee * frac + usage + c.per_hour * u["paid_h"] + c.per_call * u["answered"]
               + c.per_resolved * u["resolved"])
    base = charges + max(0.0, c.min_monthly * frac - charges)
    values = {"sl_frac": u["met"] / u["offered"], "asa_s": u["wait"] / u["answered"],
              "abandon_frac": u["abandoned"] / u["offered"], "resolution_frac": u["resolved"] / u["answered"]}
    better = {"sl_frac": 1, "asa_s": -1, "abandon_frac": -1, "resolution_frac": 1}
    credits, bonuses = {}, {}
    for t in c.sla_terms:
        gap = better[t.metric] * (values[t.metric] - t.target) * (1 if t.metric == "asa_s" else 100)
        credits[t.metric], bonuses[t.metric] = t.credit_frac * max(0, -gap), t.bonus_frac * max(0, gap)
    credit, bonus = sum(credits.values()), sum(bonuses.values())
    judged = {"sla_frac": values["sl_frac"]} if c.sl_threshold_s is not None else {}
    return judged | {"usage_cost": usage, "tier_n": tier + 1, "credit_cost": -base * min(c.sla_cap_frac, credit),
            "bonus_cost": base * min(c.sla_bonus_cap_frac, bonus),
            "invoice_cost": base * (1 - min(c.sla_cap_frac, credit) + min(c.sla_bonus_cap_frac, bonus)),
            "sla_abandon_cost": -base * credits.get("abandon_frac", 0) * min(1, c.sla_cap_frac / credit) if credit else 0,
            "asa_s": values["asa_s"], "resolution_frac": values["resolution_frac"]}


def test_every_invoice_line_recomputes_from_the_calls_and_intervals_tables():
    res = result()
    scn = res.points[0].scenario
    usage = _hand_usage(res.calls, res.intervals, scn)
    invoices = res.invoices.set_index(["rep", "pool", "month"])
    assert len(invoices) == len(usage) == 2 * 3 * 2
    for _, u in usage.iterrows():
        row = invoices.loc[(u["rep"], u["pool"], u["month"])]
        frac = 1.0 if u["month"] == 0 else 9 / 30
        assert row["month_frac"] == close(frac)
        contract = scn.pool(u["pool"]).contract
        assert row["paid_h"] == close(u["paid_h"]) and row["answered_n"] == u["answered"]
        assert row["resolved_n"] == u["resolved"] and row["billed_min"] == close(u["minutes"])
        assert row["hourly_cost"] == close(contract.per_hour * u["paid_h"])
        assert row["calls_cost"] == close(contract.per_call * u["answered"])
        assert row["resolved_cost"] == close(contract.per_resolved * u["resolved"])
        for name, expected in _hand_invoice(contract, u, frac).items():
            assert row[name] == close(expected), (u["pool"], u["month"], name)


def test_the_run_exercises_every_model_and_term():
    # so that the recomputation above cannot pass vacuously
    inv = result().invoices
    fte, per_call, tiered = (inv[inv["pool"] == name] for name in ("fte", "per_call", "tiered"))
    assert (fte["hourly_cost"] > 0).all() and (per_call["calls_cost"] > 0).all()
    assert (per_call["resolved_cost"] > 0).all() and set(tiered["tier_n"]) >= {2}
    assert (fte["credit_cost"] < 0).all() and (fte["bonus_cost"] > 0).all()
    for column in ("sla_sl_cost", "sla_asa_cost", "sla_abandon_cost"):
        assert (fte[column] < 0).all()
    assert (fte["sla_resolution_cost"] > 0).all()
    sums = fte[["sla_sl_cost", "sla_asa_cost", "sla_abandon_cost", "sla_resolution_cost"]].sum(axis=1)
    assert np.allclose(sums, fte["credit_cost"] + fte["bonus_cost"], rtol=1e-12, atol=1e-9)


def test_repricing_from_usage_gives_the_same_invoices():
    res = result()
    scn = res.points[0].scenario
    flat = {name: {"contract": Contract(per_minute=1.0)} for name in ("fte", "per_call", "tiered")}
    back = {p.name: {"contract": p.contract} for p in scn.pools}
    again = res.reprice(**flat).reprice(**back)
    pd.testing.assert_frame_equal(again.invoices, res.invoices)
