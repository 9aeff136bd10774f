"""Tests of models.contracts: billing rules, invoices and validation.

Every expectation is computed by hand in the comment next to it.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.contracts import BILLING_MONTH_S, SLA, TIER_MODES, Contract, SLATerm, Tier, validate_contract
from models.invoicing import InvoiceLines, billed_minutes, invoice
from models.sla import SLA_METRICS

WEEK_FRAC = 7 / 30  # a 7-day horizon in a 30-day billing month


# Comparisons: an amount computed from integers and dyadic fractions (1.0, 0.5, 2.0, 3.5 ...) is
# exact in float64 and is asserted with ==. One that involves a decimal not exact in binary (0.95,
# 0.80, 2.05, 0.78, 7/30, a division by 60 ...) carries a few roundings of ~1.1e-16 relative each:
# close() allows 1e-12 relative, far below a cent (> 1e-6 relative on these amounts, all <= 6,000).
def close(expected: float):
    return pytest.approx(expected, rel=1e-12, abs=0.0)


def lines_total(lines: InvoiceLines) -> float:
    """The invoice as the sum of its lines (in the order invoice() adds them, so equal to the last bit)."""
    units = 0.0 + lines.hourly_cost + lines.calls_cost + lines.resolved_cost
    return lines.fixed_cost + lines.usage_cost + units + lines.floor_cost + lines.credit_cost + lines.bonus_cost


# --------------------------------------------------------------------------- billed_minutes


def test_billing_month_is_30_days():
    assert BILLING_MONTH_S == 30 * 24 * 3600.0  # 2,592,000 s


def test_six_second_increments():
    # 1 s -> 1 incr, 6 s -> 1, 7 s -> 2, 12.5 s -> 3: 7 increments * 6 s = 42 s = 0.7 min
    contract = Contract(billing_increment_s=6)
    assert billed_minutes(np.array([1.0, 6.0, 7.0, 12.5]), contract) == close(0.7)


def test_thirty_second_increments():
    # 29 -> 1, 30 -> 1, 31 -> 2, 90 -> 3: 7 * 30 s = 210 s = 3.5 min
    contract = Contract(billing_increment_s=30)
    assert billed_minutes(np.array([29.0, 30.0, 31.0, 90.0]), contract) == 3.5


def test_sixty_second_increments():
    # 59 -> 1, 60 -> 1, 61 -> 2, 180 -> 3: 7 whole minutes
    contract = Contract(billing_increment_s=60)
    assert billed_minutes(np.array([59.0, 60.0, 61.0, 180.0]), contract) == 7.0


def test_default_one_second_increment():
    # 0.4 s -> 1 s, 1.2 s -> 2 s: 3 s = 0.05 min
    assert billed_minutes(np.array([0.4, 1.2]), Contract()) == close(0.05)


def test_exact_multiples_are_not_rounded_up():
    # at 6 s: 6 -> 1, 12 -> 2, 600 -> 100 increments: 103 * 6 s = 618 s = 10.3 min
    contract = Contract(billing_increment_s=6)
    assert billed_minutes(np.array([6.0, 12.0, 600.0]), contract) == close(10.3)


def test_float_noise_does_not_add_an_increment():
    # 120.0000000001 s at 60 s is 2 min, not 3; 0.1 * 3 * 100 = 30.000000000000004 s at 30 s is 1 incr
    assert billed_minutes(np.array([120.0000000001]), Contract(billing_increment_s=60)) == 2.0
    assert billed_minutes(np.array([0.1 * 3 * 100]), Contract(billing_increment_s=30)) == 0.5


def test_real_excess_still_rounds_up():
    # 120.001 s is a real millisecond over 2 min: 3 min
    assert billed_minutes(np.array([120.001]), Contract(billing_increment_s=60)) == 3.0


def test_zero_length_call_bills_nothing_but_the_wrap():
    # 0 s -> 0 increments; with a 1-minute wrap the call bills 0 + 1 = 1 min
    assert billed_minutes(np.array([0.0]), Contract(billing_increment_s=60)) == 0.0
    assert billed_minutes(np.array([0.0]), Contract(billing_increment_s=60, wrap_min_per_call=1)) == 1.0


def test_empty_month_bills_zero():
    contract = Contract(billing_increment_s=60, wrap_min_per_call=1)
    assert billed_minutes(np.array([]), contract) == 0.0


def test_wrap_minutes_per_call():
    # 3 calls of 61 s at 60 s: 2 min each = 6 min, plus 0.5 wrap min * 3 calls = 1.5: 7.5 min
    contract = Contract(billing_increment_s=60, wrap_min_per_call=0.5)
    assert billed_minutes(np.array([61.0, 61.0, 61.0]), contract) == 7.5


def test_negative_or_nan_handle_time_is_refused():
    with pytest.raises(ValueError, match="handle_s"):
        billed_minutes(np.array([10.0, -1.0]), Contract())
    with pytest.raises(ValueError, match="handle_s"):
        billed_minutes(np.array([math.nan]), Contract())


def test_invalid_contract_is_refused_by_billing():
    with pytest.raises(ValueError, match="billing_increment_s"):
        billed_minutes(np.array([10.0]), Contract(billing_increment_s=0))


# --------------------------------------------------------------------------- usage pricing


def test_flat_per_minute():
    # 1,000 min * 0.95 = 950; fee 200 -> invoice 1,150
    lines = invoice(Contract(monthly_fee=200, per_minute=0.95), 1000.0)
    assert lines.fixed_cost == 200.0
    assert lines.usage_cost == close(950.0)
    assert lines.invoice_cost == close(1150.0)
    assert lines.billed_min == 1000.0


TIERED = Contract(tiers=(Tier(1000, 1.00), Tier(5000, 0.80), Tier(None, 0.60)))


def test_tiers_within_first_tier():
    # 800 min, all in tier 0: 800 * 1.00 = 800; exactly at the bound 1,000 -> 1,000
    assert invoice(TIERED, 800.0).usage_cost == 800.0
    assert invoice(TIERED, 1000.0).usage_cost == 1000.0


def test_tiers_straddling_two_tiers():
    # 3,000 min: 1,000 * 1.00 + 2,000 * 0.80 = 1,000 + 1,600 = 2,600
    assert invoice(TIERED, 3000.0).usage_cost == close(2600.0)


def test_tiers_straddling_three_tiers():
    # 7,000 min: 1,000 * 1.00 + 4,000 * 0.80 + 2,000 * 0.60 = 1,000 + 3,200 + 1,200 = 5,400
    assert invoice(TIERED, 7000.0).usage_cost == close(5400.0)


def test_tier_bounds_count_minutes_after_included():
    # included 500: 1,700 billed -> 1,200 billable: 1,000 * 1.00 + 200 * 0.80 = 1,160
    contract = Contract(tiers=TIERED.tiers, included_min=500)
    assert invoice(contract, 1700.0).usage_cost == close(1160.0)


# --------------------------------------------------------------------------- included minutes


INCLUDED = Contract(monthly_fee=300, per_minute=2.0, included_min=500)


def test_included_minutes_below():
    # 400 min < 500 included: usage 0, invoice = fee 300
    lines = invoice(INCLUDED, 400.0)
    assert lines.usage_cost == 0.0
    assert lines.invoice_cost == 300.0


def test_included_minutes_at():
    # 500 min = 500 included: usage 0
    assert invoice(INCLUDED, 500.0).usage_cost == 0.0


def test_included_minutes_above():
    # 600 min: 100 over * 2.00 = 200; invoice 300 + 200 = 500
    lines = invoice(INCLUDED, 600.0)
    assert lines.usage_cost == 200.0
    assert lines.invoice_cost == 500.0


# --------------------------------------------------------------------------- monthly minimum


def test_floor_binding():
    # fee 1,000 + 1,000 min * 1.00 = 2,000 < minimum 5,000: floor 3,000, invoice 5,000
    lines = invoice(Contract(monthly_fee=1000, per_minute=1.0, min_monthly=5000), 1000.0)
    assert lines.floor_cost == 3000.0
    assert lines.invoice_cost == 5000.0


def test_floor_not_binding():
    # fee 1,000 + 5,000 min * 1.00 = 6,000 >= minimum 5,000: floor 0, invoice 6,000
    lines = invoice(Contract(monthly_fee=1000, per_minute=1.0, min_monthly=5000), 5000.0)
    assert lines.floor_cost == 0.0
    assert lines.invoice_cost == 6000.0


# --------------------------------------------------------------------------- SLA credits

# fee 1,000 + 1,000 min * 1.00 -> subtotal 2,000 in every SLA test below
SLA_CONTRACT = Contract(monthly_fee=1000, per_minute=1.0, sla=SLA(0.80, 60, 0.01, cap_frac=0.12))


def test_sla_met_exactly_earns_no_credit():
    lines = invoice(SLA_CONTRACT, 1000.0, service_level_frac=0.80)
    assert lines.credit_cost == 0.0
    assert lines.invoice_cost == 2000.0
    assert lines.service_level_frac == 0.80


def test_sla_exceeded_earns_no_credit():
    assert invoice(SLA_CONTRACT, 1000.0, service_level_frac=0.95).credit_cost == 0.0


def test_sla_missed_by_two_points():
    # 78% vs 80%: 2 points * 1% = 2% of 2,000 = 40 credited; invoice 1,960
    lines = invoice(SLA_CONTRACT, 1000.0, service_level_frac=0.78)
    assert lines.credit_cost == close(-40.0)
    assert lines.invoice_cost == close(1960.0)


def test_sla_missed_by_thirty_points_is_capped():
    # 50% vs 80%: 30 points * 1% = 30% > cap 12%: credit 12% of 2,000 = 240; invoice 1,760
    lines = invoice(SLA_CONTRACT, 1000.0, service_level_frac=0.50)
    assert lines.credit_cost == close(-240.0)
    assert lines.invoice_cost == close(1760.0)


def test_sla_credit_applies_to_the_floored_invoice():
    # subtotal 2,000, minimum 3,000 -> floor 1,000; 2 points short: 2% of 3,000 = 60; invoice 2,940
    contract = Contract(monthly_fee=1000, per_minute=1.0, min_monthly=3000, sla=SLA(0.80, 60, 0.01))
    lines = invoice(contract, 1000.0, service_level_frac=0.78)
    assert lines.floor_cost == 1000.0
    assert lines.credit_cost == close(-60.0)
    assert lines.invoice_cost == close(2940.0)


@pytest.mark.parametrize("no_calls", [None, math.nan])
def test_month_without_calls_earns_no_credit(no_calls):
    lines = invoice(SLA_CONTRACT, 0.0, service_level_frac=no_calls)
    assert lines.credit_cost == 0.0
    assert math.isnan(lines.service_level_frac)
    assert lines.invoice_cost == 1000.0  # the fee alone


def test_no_sla_reports_nan_service_level_and_no_credit():
    lines = invoice(Contract(monthly_fee=1000, per_minute=1.0), 1000.0, service_level_frac=0.10)
    assert lines.credit_cost == 0.0
    assert math.isnan(lines.service_level_frac)


# --------------------------------------------------------------------------- FIGURES.md plan


def test_answering_service_plan_one_month():
    # 500 min for 1,050/month, overage 2.05/min, calls rounded up to the whole minute + 1 wrap min:
    #   200 calls of 61 s  -> 2 + 1 = 3 min each = 600 min
    #   100 calls of 120 s -> 2 + 1 = 3 min each = 300 min
    #    50 calls of 0.5 s -> 1 + 1 = 2 min each = 100 min
    # billed 1,000 min; overage 1,000 - 500 = 500 min * 2.05 = 1,025; invoice 1,050 + 1,025 = 2,075
    plan = Contract(
        monthly_fee=1050, per_minute=2.05, included_min=500, billing_increment_s=60, wrap_min_per_call=1
    )
    handle_s = np.concatenate([np.full(200, 61.0), np.full(100, 120.0), np.full(50, 0.5)])
    minutes = billed_minutes(handle_s, plan)
    assert minutes == 1000.0
    lines = invoice(plan, minutes)
    assert lines.usage_cost == close(1025.0)
    assert lines.invoice_cost == close(2075.0)


# --------------------------------------------------------------------------- pro rata


def test_pro_rata_week():
    # frac 7/30: fee 3,000 -> 700; included 300 -> 70; tier bound 1,000 -> 700/3; minimum 6,000 -> 1,400
    # billed 400 -> billable 330 = 700/3 at 1.00 + (330 - 700/3 = 290/3) at 0.50
    #   usage = 700/3 + 145/3 = 845/3 = 281.67; subtotal = 700 + 845/3 = 2945/3 = 981.67
    #   floor = 1,400 - 2945/3 = 1255/3 = 418.33; invoice 1,400
    contract = Contract(
        monthly_fee=3000, included_min=300, tiers=(Tier(1000, 1.0), Tier(None, 0.5)), min_monthly=6000
    )
    lines = invoice(contract, 400.0, month_frac=WEEK_FRAC)
    assert lines.fixed_cost == close(700.0)
    assert lines.usage_cost == close(845 / 3)
    assert lines.floor_cost == close(1255 / 3)
    assert lines.invoice_cost == close(1400.0)


def test_pro_rata_included_minutes():
    # frac 7/30 of 300 included = 70: 100 billed -> 30 over * 2.00 = 60; fee 700 -> invoice 760
    contract = Contract(monthly_fee=3000, per_minute=2.0, included_min=300)
    lines = invoice(contract, 100.0, month_frac=WEEK_FRAC)
    assert lines.usage_cost == close(60.0)
    assert lines.invoice_cost == close(760.0)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, math.nan])
def test_month_frac_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="month_frac"):
        invoice(Contract(), 0.0, month_frac=bad)


def test_month_frac_noise_above_one_is_clamped():
    lines = invoice(Contract(monthly_fee=1000), 0.0, month_frac=1.0 + 1e-12)
    assert lines.fixed_cost == 1000.0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="billed_min"):
        invoice(Contract(), -1.0)
    with pytest.raises(ValueError, match="service_level_frac"):
        invoice(SLA_CONTRACT, 10.0, service_level_frac=80.0)  # percent, not a fraction
    with pytest.raises(ValueError, match="tiers"):
        invoice(Contract(tiers=(Tier(1000, 1.0),)), 10.0)


# --------------------------------------------------------------------------- properties

_money = st.floats(0, 10_000, allow_nan=False)
_frac = st.floats(0, 1, allow_nan=False)


@st.composite
def contracts(draw: st.DrawFn) -> Contract:
    """Random valid contracts: flat or tiered, with or without SLA."""
    tiers: tuple[Tier, ...] = ()
    if draw(st.booleans()):
        bounds = sorted(set(draw(st.lists(st.floats(1, 1e5), max_size=3))))
        prices = draw(st.lists(st.floats(0, 5), min_size=len(bounds) + 1, max_size=len(bounds) + 1))
        tiers = tuple(Tier(b, p) for b, p in zip([*bounds, None], prices, strict=True))
    kind = draw(st.sampled_from(["none", "classic", "terms"]))
    sla = SLA(draw(_frac), 60.0, draw(_frac), draw(_frac)) if kind == "classic" else None
    terms = tuple(SLATerm(m, draw(st.floats(0, 60)) if m == "asa_s" else draw(_frac), draw(_frac),
                          60.0 if m == "sl_frac" else None, draw(_frac))
                  for m in SLA_METRICS if kind == "terms" and draw(st.booleans()))
    hourly = not tiers and draw(st.booleans())
    return Contract(
        monthly_fee=draw(_money),
        per_minute=0.0 if tiers or hourly else draw(st.floats(0, 5)),
        tiers=tiers,
        tiers_mode=draw(st.sampled_from(TIER_MODES)) if tiers else "graduated",
        included_min=draw(st.floats(0, 5000)),
        min_monthly=draw(_money),
        per_hour=draw(st.floats(0, 40)) if hourly else 0.0,
        per_call=draw(st.sampled_from([0.0, 0.5, 2.0])),
        per_resolved=draw(st.sampled_from([0.0, 1.0, 4.0])),
        sla=sla,
        sla_terms=terms,
        sla_cap_frac=draw(_frac) if terms else 0.12,
        sla_bonus_cap_frac=draw(_frac) if terms else 0.12,
    )


_minutes = st.floats(0, 1e5, allow_nan=False)
_month_frac = st.floats(0.01, 1.0)
_service_level = st.one_of(st.none(), _frac)


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(contracts(), _minutes, _month_frac, _service_level)
def test_invoice_never_negative_and_lines_sum(contract, minutes, frac, sl):
    assert validate_contract(contract) == []
    lines = invoice(contract, minutes, month_frac=frac, service_level_frac=sl)
    assert lines.invoice_cost >= 0.0
    assert lines.invoice_cost == lines_total(lines)
    assert lines.floor_cost >= 0.0 and lines.credit_cost <= 0.0 and lines.usage_cost >= 0.0


@settings(max_examples=100, deadline=None, database=None, derandomize=True)
@given(contracts(), _minutes, _minutes)
def test_more_minutes_never_cost_less_before_credit(contract, a, b):
    contract = replace(contract, tiers_mode="graduated")  # all-units volume discounts may (tests below)
    low, high = sorted((a, b))
    cost_low = invoice(contract, low)
    cost_high = invoice(contract, high)
    # Exact, no slack: the fee is the same product in both, and usage is built from max, min,
    # subtractions, products by prices >= 0 and sums of terms >= 0, each monotone in the minutes;
    # float rounding is monotone too, so the order of the exact values survives.
    assert cost_high.fixed_cost + cost_high.usage_cost >= cost_low.fixed_cost + cost_low.usage_cost


@settings(max_examples=100, deadline=None, database=None, derandomize=True)
@given(contracts(), _minutes, _month_frac, _service_level)
def test_pro_rata_scales_the_whole_invoice(contract, minutes, frac, sl):
    # a partial month with minutes scaled by frac costs frac times the full month, line by line.
    # The two sides round differently (minutes * frac - included * frac against frac * (minutes -
    # included), bound * frac, ...) and subtractions cancel, so the error is absolute, not relative:
    # a few ulps of the largest amount involved (fee 1e4 + 1e5 min at up to 5/min, ~5e5: ulp 6e-11).
    # Observed at most 1.2e-10 over 30,000 examples; 1e-8 leaves ~100x and is a millionth of a cent.
    full = invoice(contract, minutes, service_level_frac=sl)
    part = invoice(contract, minutes * frac, month_frac=frac, service_level_frac=sl)
    for name in ("fixed_cost", "usage_cost", "floor_cost", "credit_cost", "invoice_cost"):
        assert getattr(part, name) == pytest.approx(frac * getattr(full, name), rel=0.0, abs=1e-8)


# --------------------------------------------------------------------------- validation


def test_valid_contracts_have_no_problems():
    assert validate_contract(Contract()) == []
    assert validate_contract(TIERED) == []
    assert validate_contract(SLA_CONTRACT) == []


def test_tier_bounds_must_increase():
    contract = Contract(tiers=(Tier(1000, 1.0), Tier(500, 0.8), Tier(None, 0.6)))
    assert validate_contract(contract) == [
        ("tiers[1].up_to_min", "must be greater than tiers[0].up_to_min (1000), got 500")
    ]


def test_only_last_tier_may_be_unlimited():
    contract = Contract(tiers=(Tier(None, 1.0), Tier(None, 0.8)))
    assert validate_contract(contract) == [
        ("tiers[0].up_to_min", "only the last tier may be unlimited (None); give a bound in minutes")
    ]


def test_last_tier_must_be_unlimited():
    contract = Contract(tiers=(Tier(1000, 1.0), Tier(5000, 0.8)))
    assert validate_contract(contract) == [
        ("tiers[1].up_to_min", "the last tier must be unlimited (None) so every minute has a price, got 5000")
    ]


def test_tier_bound_and_price_must_be_positive():
    contract = Contract(tiers=(Tier(0, -1.0), Tier(None, 0.5)))
    assert validate_contract(contract) == [
        ("tiers[0].per_minute", "must be a finite number >= 0, got -1"),
        ("tiers[0].up_to_min", "must be a finite number > 0 minutes, got 0"),
    ]


def test_flat_price_and_tiers_are_exclusive():
    contract = Contract(per_minute=0.9, tiers=(Tier(None, 0.8),))
    assert validate_contract(contract) == [
        ("per_minute", "must be 0 when tiers are given (tiers replace the flat price), got 0.9")
    ]


def test_money_and_minutes_must_be_nonnegative():
    contract = Contract(
        monthly_fee=-1, per_minute=-0.5, included_min=-10, wrap_min_per_call=-1, min_monthly=math.nan
    )
    assert validate_contract(contract) == [
        ("monthly_fee", "must be a finite number >= 0, got -1"),
        ("per_minute", "must be a finite number >= 0, got -0.5"),
        ("included_min", "must be a finite number >= 0, got -10"),
        ("wrap_min_per_call", "must be a finite number >= 0, got -1"),
        ("min_monthly", "must be a finite number >= 0, got nan"),
    ]


@pytest.mark.parametrize("increment", [0, -6, math.inf])
def test_billing_increment_must_be_positive(increment):
    problems = validate_contract(Contract(billing_increment_s=increment))
    assert [path for path, _ in problems] == ["billing_increment_s"]
    assert problems[0][1].startswith("must be a finite number > 0 seconds, got ")


def test_sla_fields():
    contract = Contract(sla=SLA(target_frac=80, threshold_s=-5, credit_frac=1.5, cap_frac=-0.1))
    assert validate_contract(contract) == [
        ("sla.target_frac", "must be a fraction in [0, 1], got 80"),
        ("sla.credit_frac", "must be a fraction in [0, 1], got 1.5"),
        ("sla.cap_frac", "must be a fraction in [0, 1], got -0.1"),
        ("sla.threshold_s", "must be a finite number >= 0, got -5"),
    ]


def test_non_number_is_reported_not_raised():
    assert validate_contract(Contract(monthly_fee="4000")) == [  # type: ignore[arg-type]
        ("monthly_fee", "must be a finite number >= 0, got '4000'")
    ]


# --------------------------------------------------------------------------- describe


def test_describe_flat():
    contract = Contract(monthly_fee=4000, per_minute=0.55, billing_increment_s=60)
    assert contract.describe() == "4,000.00/month + 0.55/min, 60 s increments"


def test_describe_plan_with_included_minutes_and_wrap():
    plan = Contract(
        monthly_fee=1050, per_minute=2.05, included_min=500, billing_increment_s=60, wrap_min_per_call=1
    )
    assert plan.describe() == (
        "1,050.00/month incl. 500 min + 2.05/min over included, 60 s increments, +1 wrap min/call"
    )


def test_describe_tiers_minimum_and_sla():
    contract = Contract(
        tiers=(Tier(10_000, 0.95), Tier(None, 0.85)),
        billing_increment_s=6,
        min_monthly=5000,
        sla=SLA(0.8, 60, 0.01),
    )
    assert contract.describe() == (
        "tiers 0.95/min to 10,000 min, 0.85/min beyond, 6 s increments, minimum 5,000.00/month, "
        "SLA 80% within 60 s (1% credit/point, cap 12%)"
    )


def test_describe_free_contract():
    # increments are said only when minutes are priced (they change nothing otherwise)
    assert Contract().describe() == "no charges"
