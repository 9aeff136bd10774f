"""The budget calendar (models/budget.py): the ``[calendar]`` table of a scenario, read, written
back and checked; the months, days and forecast factors it gives."""

from __future__ import annotations

import math

import pytest
from builders import pool, scenario

from models.budget import DAYS_IN_MONTH, BudgetCalendar
from models.dumping import scenario_to_dict
from models.fields import ScenarioError
from models.loading import scenario_from_dict

FACTORS = [1.06, 0.99, 1.03, 0.95, 0.95, 0.97, 1.01, 1.00, 0.99, 0.97, 1.02, 1.06]


def table(calendar: dict | None) -> dict:
    data = scenario_to_dict(scenario([pool("a", 2)]))
    if calendar is not None:
        data["calendar"] = calendar
    return data


def test_a_calendar_table_loads_and_writes_back_exactly():
    given = {"start_month": 7, "monthly_factors": FACTORS, "growth_per_year_frac": 0.05, "forecast_cv": 0.06}
    loaded = scenario_from_dict(table(given), source="s.toml")
    assert loaded.calendar == BudgetCalendar(7, tuple(FACTORS), 0.05, 0.06)
    written = scenario_to_dict(loaded)
    assert written["calendar"] == given
    assert scenario_from_dict(written, source="s.toml") == loaded


def test_no_calendar_table_is_none_and_an_empty_one_is_the_defaults():
    assert scenario_from_dict(table(None)).calendar is None
    assert "calendar" not in scenario_to_dict(scenario_from_dict(table(None)))
    empty = scenario_from_dict(table({})).calendar
    assert empty == BudgetCalendar() == BudgetCalendar(1, (1.0,) * 12, 0.0, 0.0)


def test_a_calendar_changes_the_digest_of_a_scenario():
    plain = scenario_from_dict(table(None))
    assert scenario_from_dict(table({"forecast_cv": 0.05})).digest() != plain.digest()


@pytest.mark.parametrize(("calendar", "message"), [
    ({"monthly_factors": [1.0] * 11}, "calendar.monthly_factors: must be 12 numbers (January first), got 11"),
    ({"monthly_factors": [1.0] * 13}, "calendar.monthly_factors: must be 12 numbers (January first), got 13"),
    ({"monthly_factors": [1.0, 0] + [1.0] * 10},
     "calendar.monthly_factors[1]: must be a finite number > 0 (the Feb multiplier of the demand as written), got 0"),
    ({"monthly_factors": [1.0] * 11 + ["x"]}, "calendar.monthly_factors[11]: must be a number, got a string 'x'"),
    ({"monthly_factors": 1.0}, "calendar.monthly_factors: must be a list, got a number 1.0"),
    ({"start_month": 13}, "calendar.start_month: must be a whole number from 1 (January) to 12 (December), got 13"),
    ({"start_month": 0}, "calendar.start_month: must be a whole number from 1 (January) to 12 (December), got 0"),
    ({"start_month": 1.5}, "calendar.start_month: must be a whole number, got a number 1.5"),
    ({"growth_per_year_frac": -1.5},
     "calendar.growth_per_year_frac: must be a finite number > -1 (-100% a year; 0.05 = +5%), got -1.5"),
    ({"growth_per_year_frac": -1},
     "calendar.growth_per_year_frac: must be a finite number > -1 (-100% a year; 0.05 = +5%), got -1"),
    ({"forecast_cv": -0.1},
     "calendar.forecast_cv: must be >= 0 and < 1 (0.06 = a 6% error of the monthly volume forecast), got -0.1"),
    ({"forecast_cv": 1},
     "calendar.forecast_cv: must be >= 0 and < 1 (0.06 = a 6% error of the monthly volume forecast), got 1"),
    ({"forcast_cv": 0.1}, "calendar.forcast_cv: unknown key (did you mean 'forecast_cv'?); allowed keys: "
                          "forecast_cv, growth_per_year_frac, monthly_factors, start_month"),
])
def test_bad_calendar_values_are_one_line_naming_file_and_field(calendar, message):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(table(calendar), source="s.toml")
    assert str(err.value) == f"s.toml: {message}"


def test_a_calendar_built_in_code_is_checked_too():
    with pytest.raises(ValueError, match=r"^calendar\.monthly_factors: must be 12 numbers \(January first\), got 11$"):
        BudgetCalendar(monthly_factors=(1.0,) * 11)
    with pytest.raises(ValueError, match=r"^calendar\.forecast_cv: must be >= 0 and < 1"):
        BudgetCalendar(forecast_cv=math.nan)


def test_months_days_labels_and_forecast_factors():
    cal = BudgetCalendar(start_month=11, monthly_factors=tuple(FACTORS), growth_per_year_frac=0.05)
    assert [cal.calendar_month(m) for m in range(4)] == [11, 12, 1, 2]
    assert [cal.days_in(m) for m in range(4)] == [30, 31, 31, 28]
    assert [cal.label(m) for m in (0, 2, 12, 25)] == ["Nov", "Jan", "Nov+1y", "Dec+2y"]
    assert cal.forecast_factor(0) == FACTORS[10]
    assert cal.forecast_factor(2) == FACTORS[0] * 1.05 ** (2 / 12)
    assert cal.forecast_factor(12) == pytest.approx(FACTORS[10] * 1.05, rel=1e-15)
    assert sum(DAYS_IN_MONTH) == 365
