"""Edges of contract texts and loading that mutation testing showed unpinned (docs/mutation.md).

Every expected value here is worked out by hand in the comment beside it; all comparisons of text
are exact, and of numbers exact too unless a comment gives the tolerance and why.
"""

from __future__ import annotations

import pytest
from builders import pool, scenario

from experiments.results.pricing import reprice_pools
from models.contracts import SLA, Contract, Tier, num_text
from models.fields import ScenarioError, Table, _kind


def test_describe_prints_small_fees_minimum_and_fractional_minutes():
    # 0.5/month with 0.5 included minutes: both > 0 (not > 1), so both are printed; 0.5 min is not
    # whole, so 2 decimals; 0.015/min needs 3 decimals (4 printed, trailing zero dropped).
    c = Contract(monthly_fee=0.5, included_min=0.5, per_minute=0.015, billing_increment_s=6.0,
                 min_monthly=0.5)
    assert c.describe() == ("0.50/month incl. 0.50 min + 0.015/min over included, 6 s increments, "
                            "minimum 0.50/month")


def test_describe_included_minutes_without_fee():
    # no fee but 100 included minutes: "100 min included"
    assert Contract(included_min=100.0, per_minute=0.5).describe() == (
        "100 min included + 0.50/min over included, 1 s increments")


@pytest.mark.parametrize("per_minute, text", [
    (0.5, "0.50/min"),        # two decimals exactly: printed with 2, not "0.5"
    (0.125, "0.125/min"),     # needs 3: not rounded to 2 ("0.12")
    (0.0125, "0.0125/min"),   # needs 4
    (1234.5, "1,234.50/min"),  # thousands separator
])
def test_describe_prices(per_minute, text):
    assert Contract(per_minute=per_minute).describe() == f"{text}, 1 s increments"


def test_describe_tiers_and_sla():
    c = Contract(tiers=(Tier(1000.0, 1.0), Tier(None, 0.8)), wrap_min_per_call=0.5,
                 sla=SLA(target_frac=0.8, threshold_s=60.0, credit_frac=0.01, cap_frac=0.12))
    assert c.describe() == ("tiers 1.00/min to 1,000 min, 0.80/min beyond, 1 s increments, "
                            "+0.5 wrap min/call, SLA 80% within 60 s (1% credit/point, cap 12%)")


def test_num_text_switches_to_repr_at_1e15():
    assert num_text(1e15 - 1) == "999999999999999"    # whole and below 1e15: as an integer
    assert num_text(1e15) == "1000000000000000.0"     # from 1e15 on: repr of the float
    assert num_text(True) == "True"                   # bool is not a number here
    assert num_text(2.5) == "2.5"


@pytest.mark.parametrize("value, kind", [
    ([], "a list"), ({}, "a table"), ("x", "a string"), (1, "an integer"), (1.5, "a number"),
    (True, "a boolean"), (None, "NoneType"), (1j, "complex"),
])
def test_kind_names(value, kind):
    assert _kind(value) == kind


def test_table_refuses_a_non_table_naming_its_kind():
    with pytest.raises(ScenarioError) as err:
        Table([1], "f.toml", "pools")
    assert str(err.value) == "f.toml: pools: must be a table, got a list"


def _bpo_scenario(contract: dict):
    return scenario([pool("b", 2, kind="bpo", contract=contract)])


def test_tier_bounds_and_prices_are_checked():
    ok = _bpo_scenario({"tiers": [{"up_to_min": 0.5, "per_minute": 1e4}, {"per_minute": 0.0}]})
    assert ok.pools[0].contract.tiers == (Tier(0.5, 1e4), Tier(None, 0.0))   # 0.5 > 0 and 1e4 allowed
    for tiers, field in [
        ([{"up_to_min": 0, "per_minute": 1}, {"per_minute": 1}], "up_to_min"),      # must be > 0
        ([{"up_to_min": -1, "per_minute": 1}, {"per_minute": 1}], "up_to_min"),
        ([{"up_to_min": 10, "per_minute": -1}, {"per_minute": 1}], "per_minute"),   # must be >= 0
        ([{"up_to_min": 10, "per_minute": 10000.5}, {"per_minute": 1}], "per_minute"),  # <= 1e4
    ]:
        with pytest.raises(ScenarioError) as err:
            _bpo_scenario({"tiers": tiers})
        assert err.value.path == f"pools[0].contract.tiers[0].{field}", tiers


def test_profile_csv_with_one_row_for_one_interval_a_day(tmp_path):
    csv = tmp_path / "profile.csv"
    csv.write_text("calls_per_h\n30\n")
    scn = scenario([pool("a", 1)], interval_min=1440, profile_csv=str(csv))
    assert scn.demand[0].rates_per_h == (30.0,)


def test_weekday_factors_scale_the_mean_rate():
    # 60 calls/h every interval, every weekday factor 2: mean 120 calls/h
    scn = scenario([pool("a", 1)], weekday_factors=[2.0] * 7)
    assert scn.demand[0].mean_rate_per_h() == 120.0


def test_reprice_pools_names_every_unknown_pool():
    scn = scenario([pool("a", 1)])
    with pytest.raises(KeyError) as err:
        reprice_pools(scn, zz={"agents": 2}, yy={"agents": 3})
    assert err.value.args == ("no pool named yy, zz",)


def test_scenario_error_without_source_or_path():
    assert str(ScenarioError("", "pools", "bad")) == "pools: bad"      # no source: no "source: "
    assert str(ScenarioError("f.toml", "", "bad")) == "f.toml: bad"    # no path: no "path: "


def test_missing_file_error_has_an_empty_field_path(tmp_path):
    from models.loading import load_scenario
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "nope.toml")
    assert err.value.path == "" and err.value.message == "file not found"


def test_unknown_pool_key_error_names_it():
    with pytest.raises(KeyError) as err:
        scenario([pool("a", 1)]).pool("zz")
    assert err.value.args == ("zz",)
