"""A scenario has one representation: its TOML table is derived from the dataclass, exactly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from builders import pool, scenario

from experiments.results.pricing import reprice_pools
from experiments.study.points import expand
from models.contracts import Contract
from models.dumping import scenario_to_dict
from models.loading import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
FILES = [*sorted((ROOT / "experiments" / "scenarios").glob("*.toml")), ROOT / "tests" / "data" / "features.toml",
         ROOT / "tests" / "data" / "redials.toml", ROOT / "tests" / "data" / "talk_acw.toml"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_table_of_a_scenario_loads_as_the_same_scenario(path):
    # Exact equality of the frozen dataclasses (every field, floats bit for bit) and of the digest.
    loaded = load_scenario(path)
    again = scenario_from_dict(scenario_to_dict(loaded), source=loaded.source)
    assert again == loaded
    assert again.digest() == loaded.digest()


def test_the_table_says_a_constant_as_one_value_and_a_profile_as_a_list():
    table = scenario_to_dict(load_scenario(ROOT / "tests" / "data" / "features.toml"))
    sales, billing = table["demand"]
    assert "profile_csv" not in sales and len(sales["profile_per_h"]) == 24  # the CSV's rates, inline
    assert billing["profile_per_h"][:3] == [5.0, 5.0, 5.0]
    assert table["pools"][1]["agents"] == 15
    assert table["pools"][1]["contract"]["sla"]["cap_frac"] > 0


def test_a_scenario_changed_in_code_is_swept_with_its_change():
    # reprice_pools changes a contract with dataclasses.replace: a sweep of the changed scenario
    # must keep the new contract (a stale copy of the file's table would silently restore 1/min).
    base = scenario([pool("a", 2), pool("v", 2, kind="bpo")], route=["a", "v"])
    cheaper = reprice_pools(base, v={"contract": Contract(per_minute=0.25)})
    point = expand(cheaper, grid={"pools.a.agents": [3]})[0]
    assert point.scenario.pool("v").contract == Contract(per_minute=0.25)
    assert point.scenario.pool("a").agents == (3,) * 24
    renamed = dataclasses.replace(cheaper, service_level_s=45.0)
    assert expand(renamed, grid={"pools.a.agents": [3]})[0].scenario.service_level_s == 45.0


def test_the_table_is_plain_toml_data():
    # Only TOML types (str, int, float, bool, list, dict): it could be written as a file.
    def plain(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return isinstance(value, str | int | float | bool)

    for path in FILES:
        table = scenario_to_dict(load_scenario(path))
        assert plain(table), path
