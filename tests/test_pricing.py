"""Pricing after the run, from hand-made calls with hand-computed bills."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from builders import calls, pool, replay, scenario

from experiments.results.pricing import reprice_pools
from experiments.results.runner import assemble
from models.billing import billing_months
from models.contracts import Contract
from models.settings import RunSettings


# Money with a factor not exact in binary (a day is 1/30 month, 0.12 cap, 0.65 ...) carries a few
# roundings of ~1.1e-16 relative each: 1e-12 relative, where a cent on these amounts is >= 1e-4.
# Amounts made of integers and dyadic fractions (0.5, 2.5, 5 min) are exact and compared with ==.
def close(expected: float):
    return pytest.approx(expected, rel=1e-12, abs=0.0)


VENDOR = {"monthly_fee": 300.0, "per_minute": 0.5, "billing_increment_s": 60.0,
          "sla": {"target_frac": 0.9, "threshold_s": 30.0, "credit_frac": 0.01, "cap_frac": 0.12}}


def _priced(scn, first, days=1.0):
    settings = RunSettings(reps=1, days=days)
    return assemble(scn, settings, [[replay(scn, first, days=days)]])


def test_labour_cost_is_scheduled_hours_times_wage_times_burden():
    # 2 agents for 24 h at 20/h with burden 1.5: 2 * 24 * 20 * 1.5 = 1440 for the day,
    # whatever the calls (shrinkage does not reduce paid hours).
    scn = scenario([pool("a", 2, wage_per_h=20.0, burden=1.5, shrinkage_frac=0.3)])
    result = _priced(scn, calls([0, 10], [100, 100]))
    assert result.runs["labour_cost"].tolist() == [1440.0]
    assert result.runs["vendor_cost"].tolist() == [0.0]
    assert result.runs["cost_per_call"].tolist() == [720.0]
    assert result.runs["monthly_cost"].tolist() == [1440.0 * 30]


def test_vendor_invoice_of_one_day_from_the_calls_it_answered():
    # BPO with one agent. Calls: 61 s -> 2 min, 120 s -> 2 min, 1 s -> 1 min (60 s increments): 5 min.
    # Arrivals 0, 1, 200: c1 waits 60 s (> 30 s threshold), the others 0 s: SL = 2/3.
    # One day = 1/30 month: fee 300/30 = 10; usage 5 * 0.5 = 2.5; subtotal 12.5.
    # SLA 90% missed by 23.33 points -> 23.3% capped at 12%: credit -1.5; invoice 11.0.
    scn = scenario([pool("v", 1, kind="bpo", contract=VENDOR)])
    result = _priced(scn, calls([0, 1, 200], [61, 120, 1]))
    inv = result.invoices.iloc[0]
    assert inv["billed_min"] == 5.0
    assert inv["fixed_cost"] == close(10.0) and inv["usage_cost"] == 2.5  # 5 * 0.5: exact
    assert inv["credit_cost"] == close(-1.5) and inv["invoice_cost"] == close(11.0)
    assert inv["sla_frac"] == 2 / 3  # 2 / 3 in both: the same single rounding
    assert result.runs["vendor_cost"].iloc[0] == close(11.0)


def test_sla_measures_wait_from_the_moment_the_call_reached_the_vendor():
    # In-house first, vendor after 30 s. c0 holds the in-house agent; c1 reaches the vendor at 40 s
    # and is answered at once: 0 s at the vendor although it waited 30 s in all -> SLA met, no credit.
    scn = scenario([pool("a", 1), pool("v", 1, kind="bpo", contract=VENDOR)],
                   route=["a", "v"], overflow_after_s=30.0)
    result = _priced(scn, calls([0, 10], [100, 100]))
    inv = result.invoices.set_index("pool").loc["v"]
    assert inv["sla_frac"] == 1.0 and inv["credit_cost"] == 0.0


def test_billing_months_are_30_days_from_the_end_of_the_warmup():
    # Exact: 604,800 / 2,592,000 is one correctly rounded division of integers, as is 7 / 30 (the
    # same rational); 1,296,000 / 2,592,000 = 0.5 is dyadic.
    assert billing_months(0.0, 7 * 86400.0) == [7 / 30]
    assert billing_months(0.0, 45 * 86400.0) == [1.0, 0.5]
    assert billing_months(86400.0, 31 * 86400.0) == [1.0]


def test_a_long_horizon_gets_one_invoice_per_month_with_calls_in_their_month():
    # 45 days: a call on day 1 and one on day 40 are billed in months 0 and 1.
    scn = scenario([pool("v", 1, kind="bpo", contract={"monthly_fee": 300.0, "per_minute": 1.0})])
    result = _priced(scn, calls([86400.0, 40 * 86400.0], [60.0, 120.0]), days=45.0)
    inv = result.invoices.set_index("month")
    assert inv["billed_min"].tolist() == [1.0, 2.0]
    assert inv["fixed_cost"].tolist() == [300.0, 150.0]


def test_repricing_changes_the_money_not_the_calls():
    scn = scenario([pool("v", 1, kind="bpo", contract={"per_minute": 1.0, "billing_increment_s": 60.0})])
    first = calls([0, 100], [61, 10])
    before = _priced(scn, first)
    cheaper = reprice_pools(scn, v={"contract": Contract(per_minute=0.5, billing_increment_s=6.0)})
    after = before.reprice(v={"contract": cheaper.pool("v").contract})
    # 61 s -> 66 s, 10 s -> 12 s = 78 s = 1.3 min at 0.5 = 0.65 (was 3 min at 1.0 = 3.0).
    assert before.runs["vendor_cost"].iloc[0] == 3.0
    assert after.runs["vendor_cost"].iloc[0] == close(0.65)
    assert after.calls.equals(before.calls)
    with pytest.raises(KeyError):
        reprice_pools(scn, nope={"agents": (1,) * 24})
    with pytest.raises(KeyError):
        before.reprice(nope={"wage_per_h": 1.0})
    with pytest.raises(ValueError, match="more than wages"):
        before.reprice(v={"agents": (2,) * 24})


def test_repricing_keeps_the_optimised_table():
    # an equal-service result repriced (an offer, Result.reprice) is still one at equal service: the
    # staffing its optimiser found (the report's equal-service figures and its missed-target note)
    # must stay with it
    scn = scenario([pool("v", 1, kind="bpo", contract={"per_minute": 1.0})])
    before = _priced(scn, calls([0, 100], [61, 10]))
    optimised = pd.DataFrame({"scenario_id": [before.scenario_ids[0]], "goal": ["sl_frac>=0.8"],
                              "recheck_means_met": [True]})
    before = dataclasses.replace(before, optimised=optimised)
    after = before.reprice(v={"contract": Contract(per_minute=0.5)})
    assert after.optimised is not None
    pd.testing.assert_frame_equal(after.optimised, optimised)


def test_overheads_and_an_amortised_transition_are_costs_of_the_month():
    # One day = 1/30 month. In-house pool: 2 agents x 24 h x 20/h = 960 labour, overhead 3,000 per
    # month -> 100. BPO pool: no calls reach it (no charges), overhead 600 per month and a 12,000
    # transition over 12 months = 1,600 per month -> 1,600 / 30 = 53.33...
    scn = scenario([pool("a", 2, wage_per_h=20.0, overhead_per_month=3000.0),
                    pool("v", 1, kind="bpo", overhead_per_month=600.0, transition_cost=12000.0, amortise_months=12)])
    result = _priced(scn, calls([0], [10]))
    costs = result.pool_runs.set_index("pool")
    assert costs.at["a", "labour_cost"] == 960.0 and costs.at["a", "overhead_cost"] == 100.0
    assert costs.at["a", "total_cost"] == 1060.0
    assert costs.at["v", "overhead_cost"] == close(1600.0 / 30)
    assert result.runs["total_cost"].iloc[0] == close(1060.0 + 1600.0 / 30)
    assert result.runs["overhead_cost"].iloc[0] == close(100.0 + 1600.0 / 30)
