"""Tests of models.loading: scenario files to frozen, validated Scenario objects.

Good input: the bundled scenarios load, the baseline loads exactly as written, defaults are the
documented ones, optional features (CSV profiles, split, lines, weekday factors, opening hours)
load, the objects are frozen and their digest is stable. Distributions: analytic mean and variance
against large samples, with tolerances from the standard error.

Bad input: a table of scenario files, each the baseline with one small edit, and the exact one-line
message each must give (``{path}`` is the file written, ``{dir}`` its folder).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.budget import BudgetCalendar
from models.contracts import SLA, Contract, Tier
from models.demand import CallType, Redial
from models.distributions import (
    DISTRIBUTIONS,
    Deterministic,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Never,
    Uniform,
)
from models.fields import ScenarioError
from models.loading import load_scenario, scenario_from_dict
from models.pools import Pool
from models.quality import QualityCosts
from models.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "experiments" / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"
# The bad-input catalogue's own base: a byte-exact copy of the bundled baseline as it was when the
# catalogue was written (its cases quote its lines, byte offsets and line numbers), so that the
# bundled defaults can change without rewriting the catalogue.
BASE_TEXT = (ROOT / "tests" / "data" / "catalogue_base.toml").read_text(encoding="utf-8")
DATA = Path(__file__).resolve().parent / "data"

N_30MIN = 48  # intervals of a day at interval_min = 30


def edited(*pairs: tuple[str, str], text: str = BASE_TEXT) -> str:
    """``text`` with each ``old`` replaced by ``new``; each ``old`` must occur exactly once."""
    for old, new in pairs:
        assert text.count(old) == 1, f"edit target must occur once: {old!r}"
        text = text.replace(old, new)
    return text


def write(folder: Path, text: str, name: str = "scenario.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# Lines of the baseline used as edit targets.
CALLS = "calls_per_h = 540\n"
HANDLE = 'handle = { dist = "exponential", mean_s = 300 }'
PATIENCE = 'patience = { dist = "exponential", mean_s = 600 }'
ROUTE = 'route = ["inhouse", "offshore"]\n'
WAGE = "wage_per_h = 24.0\n"
BURDEN = "burden = 1.35\n"
INHOUSE_AGENTS = "agents = 40\n"
CONTRACT = "contract = { monthly_fee = 4000.0, per_minute = 0.55, billing_increment_s = 60 }"
CONTRACT_KEYS = ("billing_basis, billing_increment_s, escalation_per_year_frac, included_min, min_monthly, "
                 "monthly_fee, per_call, per_hour, per_minute, per_resolved, sla, sla_bonus_cap_frac, sla_cap_frac, "
                 "tiers, tiers_mode, wrap_min_per_call")
DEMAND_BLOCK = BASE_TEXT[BASE_TEXT.index("[[demand]]"):BASE_TEXT.index("[[pools]]")]
POOLS_BLOCK = BASE_TEXT[BASE_TEXT.index("[[pools]]"):]
TOP_END = "service_level_s = 20\n"  # last line before the first table header


# --------------------------------------------------------------------------- good input


def test_all_five_bundled_scenarios_are_there():
    assert sorted(p.name for p in SCENARIOS.glob("*.toml")) == [
        "all_inhouse.toml", "baseline.toml", "local_bpo.toml", "offshore_bpo.toml", "offshore_bpo_vendor.toml"]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_scenario_loads(path: Path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.source == str(path)
    assert scenario.interval_min == 30 and scenario.intervals_per_day == N_30MIN
    (support,) = scenario.demand
    assert support.rates_per_h == (540.0,) * N_30MIN and support.patience == Exponential(600.0)
    names = {p.name for p in scenario.pools}
    assert set(support.pools) <= names
    for pool in scenario.pools:
        assert len(pool.agents) == N_30MIN or (pool.staffing == "vendor" and not pool.agents)  # the vendor plans
        assert (pool.contract is None) == (pool.kind == "inhouse")


OPTIONS = ("all_inhouse.toml", "local_bpo.toml", "offshore_bpo.toml")


def test_the_bundled_options_share_demand_and_quality_costs_and_differ_only_in_their_pools():
    # Like with like: the three options of the bundled study see the same callers and value poor
    # service alike (issue 9: defaults must not lean towards an option).
    first, *others = (load_scenario(SCENARIOS / name) for name in OPTIONS)
    def callers(s: Scenario) -> list[CallType]:  # what the callers do, without where they are routed
        return [dataclasses.replace(ct, route=()) for ct in s.demand]

    for other in others:
        assert callers(other) == callers(first) and other.quality == first.quality
        assert other.calendar == first.calendar  # the same months, growth and forecast error for the budget
        assert (other.currency, other.interval_min, other.service_level_s) == ("USD", 30, 20.0)
    (support,) = first.demand
    assert support.handle == Exponential(380.0) and support.daily_cv == 0.10
    assert support.weekday_factors == (1.15, 1.10, 1.05, 1.05, 1.00, 0.85, 0.80)
    assert support.redial == Redial(frac=0.33, after=Exponential(300.0), max_attempts=3)
    assert first.quality == QualityCosts(lost_cost=10.0, redial_cost=0.0, repeat_cost=6.0, wait_cost_per_h=15.0)
    calendar = first.calendar
    assert calendar == BudgetCalendar(1, (1.06, 0.99, 1.03, 0.95, 0.95, 0.97, 1.01, 1.00, 0.99, 0.97, 1.02, 1.06),
                                      0.05, 0.06)
    assert sum(calendar.monthly_factors) == pytest.approx(12.0, abs=1e-12)  # the written demand is the year's average


def test_bundled_alternatives_read_their_specific_fields():
    inhouse = load_scenario(SCENARIOS / "all_inhouse.toml").pool("inhouse")
    assert (inhouse.agents[0], inhouse.shrinkage_frac, inhouse.wage_per_h, inhouse.burden) == (131, 0.30, 15.0, 2.25)
    assert inhouse.resolution_frac == 0.72
    sla = SLA(target_frac=0.80, threshold_s=60.0, credit_frac=0.01, cap_frac=0.12)
    local = load_scenario(SCENARIOS / "local_bpo.toml").pool("local_bpo")
    assert local.contract == Contract(per_minute=0.95, billing_increment_s=6.0, sla=sla)
    assert (local.agents[0], local.resolution_frac, local.location) == (92, 0.72, "local")
    offshore = load_scenario(SCENARIOS / "offshore_bpo.toml").pool("offshore")
    assert offshore.contract == Contract(per_minute=0.25, billing_increment_s=60.0, sla=sla)
    assert (offshore.agents[0], offshore.handle_factor, offshore.resolution_frac) == (142, 1.30, 0.58)


def test_baseline_loads_exactly_as_written():
    s = load_scenario(BASELINE)
    assert (s.name, s.currency, s.interval_min, s.service_level_s, s.lines) == ("retail-support", "EUR", 30, 20.0, None)
    assert s.source == str(BASELINE)
    assert s.demand == (CallType(
        name="support",
        rates_per_h=(540.0,) * N_30MIN,  # 540 calls/h in every one of the 48 half hours
        handle=Exponential(mean_s=300.0),
        patience=Exponential(mean_s=600.0),
        route=("inhouse", "offshore"),
        overflow_after_s=30.0,
    ),)
    assert s.demand[0].mean_rate_per_h() == 540.0  # exact: mean of 48 equal integers times mean weekday factor 1.0
    assert s.pools == (
        Pool(name="inhouse", kind="inhouse", location="local", agents=(40,) * N_30MIN,
             wage_per_h=24.0, burden=1.35),
        Pool(name="offshore", kind="bpo", location="offshore", agents=(10,) * N_30MIN,
             handle_factor=1.15, resolution_frac=0.85,
             contract=Contract(monthly_fee=4000.0, per_minute=0.55, billing_increment_s=60.0)),
    )
    # Exact types, not just equal values: floats where the model computes, ints for agents.
    assert all(type(r) is float for r in s.demand[0].rates_per_h)
    assert all(type(a) is int for a in s.pools[0].agents)
    assert type(s.service_level_s) is float
    assert s.pool("offshore").contract.per_minute == 0.55
    assert s.pool_index("offshore") == 1
    assert s.interval_s == 1800.0


MINIMAL = """
name = "minimal"

[[demand]]
name = "calls"
calls_per_h = 100
handle = { dist = "exponential", mean_s = 180 }
route = ["own"]

[[pools]]
name = "own"
kind = "inhouse"
agents = 8
wage_per_h = 20

[[pools]]
name = "vendor"
kind = "bpo"
agents = 4
contract = { per_minute = 1 }

[[pools]]
name = "vendor_sla"
kind = "bpo"
agents = 4
contract = { per_minute = 1, sla = { target_frac = 0.8, threshold_s = 20, credit_frac = 0.01 } }
"""


def test_defaults_are_as_documented(tmp_path: Path):
    s = load_scenario(write(tmp_path, MINIMAL))
    # Scenario: USD, 30-minute intervals, SL threshold 20 s, unlimited lines.
    assert (s.currency, s.interval_min, s.service_level_s, s.lines) == ("USD", 30, 20.0, None)
    (calls,) = s.demand
    # Call type: callers never abandon, no overflow delay, flat week, no daily noise.
    assert calls.patience == Never()
    assert (calls.overflow_after_s, calls.split, calls.weekday_factors, calls.daily_cv) == (0.0, (), (1.0,) * 7, 0.0)
    own, vendor, vendor_sla = s.pools
    # Pool: local, no shrinkage, same speed, every call resolved, repeats after a day on average,
    # open around the clock every day, burden 1.
    assert own == Pool(name="own", kind="inhouse", location="local", agents=(8,) * N_30MIN,
                       shrinkage_frac=0.0, handle_factor=1.0, resolution_frac=1.0,
                       repeat_after=Exponential(86400.0), open_h=(0.0, 24.0),
                       open_days=(0, 1, 2, 3, 4, 5, 6), wage_per_h=20.0, burden=1.0, contract=None)
    # Contract: no fee, no tiers, nothing included, 1 s increments, no wrap, no minimum, no SLA.
    assert vendor.contract == Contract(monthly_fee=0.0, per_minute=1.0, tiers=(), included_min=0.0,
                                       billing_increment_s=1.0, wrap_min_per_call=0.0, min_monthly=0.0, sla=None)
    assert (vendor.wage_per_h, vendor.burden) == (0.0, 1.0)
    # SLA: 12% of the invoice at risk unless given.
    assert vendor_sla.contract.sla == SLA(target_frac=0.8, threshold_s=20.0, credit_frac=0.01, cap_frac=0.12)
    # The loader's defaults are the dataclasses' documented defaults.
    assert s == Scenario(name="minimal", demand=s.demand, pools=s.pools, source=s.source)
    assert calls == CallType(name="calls", rates_per_h=(100.0,) * N_30MIN,
                             handle=Exponential(180.0), route=("own",))
    assert own == Pool(name="own", kind="inhouse", location="local", agents=(8,) * N_30MIN, wage_per_h=20.0)
    assert vendor.contract == Contract(per_minute=1.0)


def test_scenario_from_dict_without_file():
    import tomllib
    s = scenario_from_dict(tomllib.loads(MINIMAL))
    assert s.source == "" and s.name == "minimal"
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict({"name": "x"}, source="inline")
    assert str(err.value) == "inline: pools: is required"


@pytest.mark.parametrize(("where", "message"), [
    (("pools",), "pools: must be a list, got NoneType None"),
    (("pools", 0, "contract"), "pools[0].contract: must be a table, got NoneType"),
    (("pools", 0, "open_h"), "pools[0].open_h: must be a list, got NoneType None"),
    (("demand", 0, "route"), "demand[0].route: must be a list, got NoneType None"),
])
def test_none_in_a_python_table_is_a_scenario_error_unless_the_field_is_optional(where, message):
    """A table built in Python (TOML has no null) may hold None: only an optional field may be None."""
    from models.dumping import scenario_to_dict
    table = scenario_to_dict(load_scenario(SCENARIOS / "offshore_bpo.toml"))
    node = table
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = None
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(table, source="inline")
    assert str(err.value) == f"inline: {message}"


def test_optional_features_load():
    s = load_scenario(DATA / "features.toml")
    assert (s.name, s.currency, s.interval_min, s.service_level_s, s.lines) == ("features", "GBP", 60, 30.0, 120)
    sales, billing = s.demand
    # profile_csv is read relative to the scenario file, one row per hour.
    assert sales.rates_per_h == (4.0, 3.0, 2.0, 2.0, 2.0, 3.0, 8.0, 20.0, 45.0, 70.0, 80.0, 80.0,
                                 75.0, 70.0, 70.0, 65.0, 60.0, 50.0, 40.0, 30.0, 20.0, 12.0, 8.0, 5.0)
    assert sales.split == (("day", 0.7), ("night", 0.3)) and sales.route == ()
    assert sales.pools == ("day", "night")
    assert sales.weekday_factors == (1.2, 1.1, 1.0, 1.0, 0.9, 0.5, 0.3)
    assert sales.daily_cv == 0.1
    assert sales.handle == Lognormal(240.0, 0.8) and sales.patience == Uniform(30.0, 330.0)
    assert billing.rates_per_h[8] == 40.0 and len(billing.rates_per_h) == 24
    assert billing.route == ("day", "night") and billing.overflow_after_s == 45.0 and billing.split == ()
    assert billing.handle == Gamma(400.0, 0.5) and billing.patience == Never()
    day, night = s.pools
    assert day.agents == (0,) * 8 + (12,) * 10 + (0,) * 6
    assert day.open_h == (8.0, 18.0)
    assert day.open_days == (0, 1, 2, 3, 4)  # given as [4, 0, 1, 2, 3]: sorted
    assert day.repeat_after == Deterministic(3600.0) and day.shrinkage_frac == 0.25
    assert night.open_h == (18.0, 8.0)  # wraps past midnight
    assert night.is_open(0, 23.0) and night.is_open(1, 3.0) and not night.is_open(0, 12.0)
    assert night.repeat_after == Empirical((600.0, 1200.0, 7200.0))
    assert night.contract == Contract(
        monthly_fee=1500.0, included_min=1000.0, billing_increment_s=30.0, wrap_min_per_call=0.5,
        min_monthly=3000.0,
        tiers=(Tier(5000.0, 0.60), Tier(20000.0, 0.50), Tier(None, 0.45)),
        sla=SLA(target_frac=0.75, threshold_s=45.0, credit_frac=0.02, cap_frac=0.12))


def test_profile_csv_relative_to_the_scenario_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "scenarios"
    (folder / "history").mkdir(parents=True)
    rates = [10 * (i % 7) + 5 for i in range(N_30MIN)]
    (folder / "history" / "week12.csv").write_text(
        "interval,calls_per_h,note\n" + "".join(f"{i},{r},x\n" for i, r in enumerate(rates)), encoding="utf-8")
    path = write(folder, edited((CALLS, 'profile_csv = "history/week12.csv"\n')))
    monkeypatch.chdir(tmp_path)  # somewhere else than the scenario's folder
    s = load_scenario(path)
    assert s.demand[0].rates_per_h == tuple(float(r) for r in rates)
    assert load_scenario(Path("scenarios") / "scenario.toml").demand[0].rates_per_h == s.demand[0].rates_per_h


def test_profile_per_h_and_agents_per_interval_load(tmp_path: Path):
    profile = [float(100 + i) for i in range(N_30MIN)]
    agents = [i % 5 + 1 for i in range(N_30MIN)]
    s = load_scenario(write(tmp_path, edited((CALLS, f"profile_per_h = {profile}\n"),
                                             (INHOUSE_AGENTS, f"agents = {agents}\n"))))
    assert s.demand[0].rates_per_h == tuple(profile)
    assert s.pools[0].agents == tuple(agents)


def test_integer_and_float_spellings_load_the_same(tmp_path: Path):
    a = load_scenario(write(tmp_path, BASE_TEXT, "a.toml"))
    b = load_scenario(write(tmp_path, edited((CALLS, "calls_per_h = 540.0\n"), (WAGE, "wage_per_h = 24\n")), "b.toml"))
    assert a == dataclasses.replace(b, source=a.source)


# --------------------------------------------------------------------------- frozen, digest


def test_scenario_objects_are_frozen():
    s = load_scenario(BASELINE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.pools[0].agents = (1,) * N_30MIN  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.demand[0].overflow_after_s = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.demand[0].handle.mean_s = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.pools[1].contract.per_minute = 0.0  # type: ignore[misc]
    # Sequences are tuples, so nothing can be appended or assigned in place.
    for seq in (s.pools, s.demand, s.pools[0].agents, s.demand[0].rates_per_h, s.demand[0].route):
        assert isinstance(seq, tuple)
    # Copies with a change are made with dataclasses.replace; the original is untouched.
    cheaper = dataclasses.replace(s, name="cheaper")
    assert cheaper.name == "cheaper" and s.name == "retail-support"


def test_digest_is_stable(tmp_path: Path):
    first = load_scenario(BASELINE).digest()
    assert len(first) == 16 and int(first, 16) >= 0
    assert load_scenario(BASELINE).digest() == first
    # Where the file lives, comments, blank lines and key order do not matter: only content does.
    copy = tmp_path / "elsewhere" / "copy.toml"
    copy.parent.mkdir()
    shutil.copy(BASELINE, copy)
    assert load_scenario(copy).digest() == first
    reordered = edited(('currency = "EUR"\n', ""), (TOP_END, TOP_END + 'currency = "EUR"\n# a comment\n\n'))
    assert load_scenario(write(tmp_path, reordered)).digest() == first
    # The same in a fresh interpreter (no dependence on hash randomisation or process state).
    code = ("import sys; from models.loading import load_scenario; "
            "print(load_scenario(sys.argv[1]).digest())")
    out = subprocess.run([sys.executable, "-c", code, str(BASELINE)], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={"PYTHONHASHSEED": "123", "PATH": ""})
    assert out.stdout.strip() == first


@pytest.mark.parametrize("change", [
    ('name = "retail-support"', 'name = "retail-support-2"'),
    ('currency = "EUR"', 'currency = "USD"'),
    (CALLS, "calls_per_h = 541\n"),
    (HANDLE, 'handle = { dist = "exponential", mean_s = 301 }'),
    (PATIENCE, 'patience = { dist = "gamma", mean_s = 600, cv = 1 }'),
    ("overflow_after_s = 30", "overflow_after_s = 31"),
    (ROUTE, 'route = ["offshore", "inhouse"]\n'),
    (INHOUSE_AGENTS, "agents = 41\n"),
    (BURDEN, "burden = 1.36\n"),
    ("per_minute = 0.55", "per_minute = 0.56"),
    ("resolution_frac = 0.85", "resolution_frac = 0.86"),
], ids=lambda c: c[1].split("=")[0].strip() if isinstance(c, tuple) else None)
def test_digest_changes_when_a_value_changes(tmp_path: Path, change: tuple[str, str]):
    base = load_scenario(BASELINE)
    other = load_scenario(write(tmp_path, edited(change)))
    assert other != dataclasses.replace(base, source=other.source)
    assert other.digest() != base.digest()


def test_digest_changes_with_replace():
    base = load_scenario(BASELINE)
    offshore = dataclasses.replace(base.pools[1], agents=(11,) * N_30MIN)
    assert dataclasses.replace(base, pools=(base.pools[0], offshore)).digest() != base.digest()
    assert dataclasses.replace(base, lines=500).digest() != base.digest()
    assert dataclasses.replace(base, source="x.toml").digest() == base.digest()


# --------------------------------------------------------------------------- distributions

DIST_SPECS = [
    ('{ dist = "exponential", mean_s = 300 }', Exponential(300.0)),
    ('{ dist = "lognormal", mean_s = 300, cv = 1.2 }', Lognormal(300.0, 1.2)),
    ('{ dist = "gamma", mean_s = 300, cv = 0.6 }', Gamma(300.0, 0.6)),
    ('{ dist = "gamma", mean_s = 50, cv = 2.5 }', Gamma(50.0, 2.5)),
    ('{ dist = "uniform", low_s = 60, high_s = 540 }', Uniform(60.0, 540.0)),
    ('{ dist = "deterministic", value_s = 300 }', Deterministic(300.0)),
    ('{ dist = "empirical", values_s = [60, 120, 120, 600, 1500] }', Empirical((60.0, 120.0, 120.0, 600.0, 1500.0))),
]


def test_every_distribution_is_covered():
    covered = {type(d) for _, d in DIST_SPECS} | {Never}
    assert covered == {cls for cls, _ in DISTRIBUTIONS.values()}


@pytest.mark.parametrize(("spec", "expected"), DIST_SPECS,
                         ids=["exponential", "lognormal", "gamma", "gamma_cv2.5", "uniform", "deterministic", "empirical"])
def test_distribution_loads_and_matches_its_analytic_moments(tmp_path: Path, spec: str, expected):
    dist = load_scenario(write(tmp_path, edited((HANDLE, f"handle = {spec}")))).demand[0].handle
    assert dist == expected
    n = 400_000
    x = dist.sample(np.random.default_rng(20240601), n)
    assert x.shape == (n,) and np.all(x >= 0) and np.all(np.isfinite(x))
    mean, var = float(x.mean()), float(x.var(ddof=1))
    if dist.variance_s2 == 0:
        assert np.all(x == dist.mean_s)
        return
    # Standard errors: of the mean sqrt(var/n); of the sample variance sqrt((m4 - var^2)/n), with the
    # fourth central moment estimated from the sample. 5 standard errors: a false alarm ~ 1 in 10^6.
    se_mean = math.sqrt(dist.variance_s2 / n)
    m4 = float(np.mean((x - mean) ** 4))
    se_var = math.sqrt(max(m4 - var**2, 0.0) / n)
    assert abs(mean - dist.mean_s) < 5 * se_mean, (mean, dist.mean_s, se_mean)
    assert abs(var - dist.variance_s2) < 5 * se_var, (var, dist.variance_s2, se_var)
    # The caller's generator is the only source of randomness: same seed, same draws.
    assert np.array_equal(dist.sample(np.random.default_rng(20240601), n), x)


def test_never_patience_is_infinite():
    never = Never()
    assert never.mean_s == math.inf and never.variance_s2 == math.inf
    assert np.all(np.isinf(never.sample(np.random.default_rng(1), 5)))


def test_lognormal_and_gamma_shapes_differ_at_equal_moments():
    """Same mean and cv, different families: a sanity check that cv is not ignored by either."""
    rng = np.random.default_rng(7)
    lo = Lognormal(300.0, 2.0).sample(rng, 200_000)
    ga = Gamma(300.0, 2.0).sample(rng, 200_000)
    assert np.median(lo) > np.median(ga)  # gamma with shape 1/4 piles up near 0


# --------------------------------------------------------------------------- bad input

TIERS_DOWN = ("contract = { monthly_fee = 4000.0, billing_increment_s = 60, tiers = ["
              "{ up_to_min = 1000, per_minute = 0.6 }, { up_to_min = 500, per_minute = 0.5 }, "
              "{ per_minute = 0.4 }] }")
TIERS_AND_FLAT = ("contract = { monthly_fee = 4000.0, per_minute = 0.55, billing_increment_s = 60, tiers = ["
                  "{ up_to_min = 1000, per_minute = 0.6 }, { per_minute = 0.5 }] }")
TIERS_LAST_BOUNDED = ("contract = { billing_increment_s = 60, tiers = ["
                      "{ up_to_min = 1000, per_minute = 0.6 }, { up_to_min = 5000, per_minute = 0.5 }] }")
SLA_PERCENT = ("contract = { monthly_fee = 4000.0, per_minute = 0.55, billing_increment_s = 60, "
               "sla = { target_frac = 80, threshold_s = 60, credit_frac = 0.01 } }")
SECOND_DEMAND = ('\n[[demand]]\nname = "support"\ncalls_per_h = 10\n'
                 'handle = { dist = "exponential", mean_s = 60 }\nroute = ["inhouse"]\n\n')
CSV_48 = "calls_per_h\n" + "540\n" * N_30MIN


AFTER = 'after = { dist = "exponential", mean_s = 300 }'  # a valid redial delay
MAX_ATTEMPTS_MESSAGE = "must be a whole number from 1 to 32767 (attempts per contact, the first try included)"


def case(id: str, edits: tuple[tuple[str, str], ...] | str | bytes | None, expected: str,
         files: dict[str, str | bytes] | None = None, xfail: str | None = None):
    """One bad scenario: the baseline with ``edits`` (or a whole text/bytes, or None: no file)."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(edits, expected, files or {}, id=id, marks=marks)


BAD = [
    # --- the file itself
    case("missing_file", None, "{path}: file not found"),
    case("toml_syntax_error", (("interval_min = 30", "interval_min = = 30"),),
         "{path}: TOML syntax error: Invalid value (at line 3, column 16)"),
    case("toml_unclosed_table", (("[[pools]]\nname = \"offshore\"", "[[pools]\nname = \"offshore\""),),
         "{path}: TOML syntax error: Expected ']]' at the end of an array declaration (at line 22, column 8)"),
    case("not_utf8", BASE_TEXT.replace("retail-support", "retail-supp\xe9rt").encode("latin-1"),
         "{path}: is not UTF-8 text (byte 19); save it as UTF-8"),
    # --- required fields
    case("missing_name", (('name = "retail-support"\n', ""),), "{path}: name: is required"),
    case("missing_demand", ((DEMAND_BLOCK, ""),), "{path}: demand: is required"),
    case("missing_pools", ((POOLS_BLOCK, ""),), "{path}: pools: is required"),
    case("empty_pools", ((POOLS_BLOCK, ""), (TOP_END, TOP_END + "pools = []\n")),
         "{path}: pools: must have at least 1 item(s), got 0"),
    case("missing_handle", ((HANDLE + "\n", ""),),
         "{path}: demand[0].handle: is required (or talk and acw instead: handle = talk + acw)"),
    case("talk_with_handle", ((HANDLE, HANDLE + '\ntalk = { dist = "exponential", mean_s = 240 }\n'
                                       'acw = { dist = "deterministic", value_s = 60 }'),),
         "{path}: demand[0].talk: give either handle, or talk and acw (handle = talk + acw), not both"),
    case("acw_with_handle", ((HANDLE, HANDLE + '\nacw = { dist = "deterministic", value_s = 60 }'),),
         "{path}: demand[0].acw: give either handle, or talk and acw (handle = talk + acw), not both"),
    case("talk_without_acw", ((HANDLE, 'talk = { dist = "exponential", mean_s = 240 }'),),
         "{path}: demand[0].acw: is required with talk (handle = talk + acw; acw = after-call work)"),
    case("acw_without_talk", ((HANDLE, 'acw = { dist = "exponential", mean_s = 60 }'),),
         "{path}: demand[0].talk: is required with acw (handle = talk + acw; acw = after-call work)"),
    case("talk_bad_dist", ((HANDLE, 'talk = { dist = "exponential", mean_s = -1 }\n'
                                    'acw = { dist = "deterministic", value_s = 60 }'),),
         "{path}: demand[0].talk.mean_s: must be > 0, got -1"),
    case("billing_basis_typo", ((CONTRACT, CONTRACT[:-2] + ', billing_basis = "talktime" }'),),
         "{path}: pools[1].contract.billing_basis: must be one of handle, talk, got 'talktime' (did you mean 'talk'?)"),
    case("missing_dist", ((HANDLE, "handle = { mean_s = 300 }"),), "{path}: demand[0].handle.dist: is required"),
    case("missing_dist_param", ((HANDLE, 'handle = { dist = "lognormal", mean_s = 300 }'),),
         "{path}: demand[0].handle.cv: is required"),
    case("missing_agents", ((INHOUSE_AGENTS, ""),), "{path}: pools[0].agents: is required"),
    case("missing_kind", (('kind = "bpo"\n', ""),), "{path}: pools[1].kind: is required"),
    case("missing_pool_name", (('name = "inhouse"\n', ""),), "{path}: pools[0].name: is required"),
    case("missing_wage_inhouse", ((WAGE, ""),), "{path}: pools[0].wage_per_h: is required"),
    case("missing_contract_bpo", ((CONTRACT, ""),), "{path}: pools[1].contract: is required: a bpo pool bills the "
         "scenario's own client under contract (and other clients under contracts.<client>)"),
    case("missing_rate", ((CALLS, ""),),
         "{path}: demand[0]: needs exactly one of calls_per_h, profile_per_h, profile_csv; found none"),
    case("two_rates", ((CALLS, CALLS + f"profile_per_h = {[540] * N_30MIN}\n"),),
         "{path}: demand[0]: needs exactly one of calls_per_h, profile_per_h, profile_csv; "
         "found calls_per_h, profile_per_h"),
    case("missing_sla_field", ((CONTRACT, "contract = { per_minute = 0.55, sla = { target_frac = 0.8, threshold_s = 60 } }"),),
         "{path}: pools[1].contract.sla.credit_frac: is required"),
    # --- wrong types
    case("rate_is_string", ((CALLS, 'calls_per_h = "540"\n'),),
         "{path}: demand[0].calls_per_h: must be a number, got a string '540'"),
    case("agents_fractional", ((INHOUSE_AGENTS, "agents = 40.5\n"),),
         "{path}: pools[0].agents: must be a whole number of agents, got 40.5"),
    case("agents_list_item_string", ((INHOUSE_AGENTS, f"agents = {[40] * 47 + ['x']}\n".replace("'", '"')),),
         "{path}: pools[0].agents[47]: must be a whole number of agents, got 'x'"),
    case("interval_is_float", (("interval_min = 30", "interval_min = 30.0"),),
         "{path}: interval_min: must be a whole number, got a number 30.0"),
    case("name_is_int", (('name = "retail-support"', "name = 42"),),
         "{path}: name: must be a string, got an integer 42"),
    case("name_empty", (('name = "retail-support"', 'name = "  "'),), "{path}: name: must not be empty"),
    case("handle_is_number", ((HANDLE, "handle = 300"),), "{path}: demand[0].handle: must be a table, got an integer"),
    case("route_is_string", ((ROUTE, 'route = "inhouse"\n'),),
         "{path}: demand[0].route: must be a list, got a string 'inhouse'"),
    case("wage_is_bool", ((WAGE, "wage_per_h = true\n"),),
         "{path}: pools[0].wage_per_h: must be a number, got a boolean True"),
    case("pool_is_not_a_table", ((POOLS_BLOCK, ""), (TOP_END, TOP_END + 'pools = ["inhouse"]\n')),
         "{path}: pools[0]: must be a table, got a string"),
    case("sla_is_number", ((CONTRACT, "contract = { per_minute = 0.55, sla = 0.8 }"),),
         "{path}: pools[1].contract.sla: must be a table, got a number"),
    # --- zero and negative
    case("rate_zero", ((CALLS, "calls_per_h = 0\n"),), "{path}: demand[0].calls_per_h: must be > 0, got 0"),
    case("rate_negative", ((CALLS, "calls_per_h = -540\n"),), "{path}: demand[0].calls_per_h: must be > 0, got -540"),
    case("profile_all_zero", ((CALLS, f"profile_per_h = {[0] * N_30MIN}\n"),),
         "{path}: demand[0].profile_per_h: must have a rate > 0 in some interval, got 0 everywhere"),
    case("profile_negative", ((CALLS, f"profile_per_h = {[540] * 47 + [-1]}\n"),),
         "{path}: demand[0].profile_per_h[47]: must be >= 0 and <= 1e+06, got -1"),
    case("handle_mean_zero", ((HANDLE, 'handle = { dist = "exponential", mean_s = 0 }'),),
         "{path}: demand[0].handle.mean_s: must be > 0, got 0"),
    case("handle_mean_negative", ((HANDLE, 'handle = { dist = "exponential", mean_s = -300 }'),),
         "{path}: demand[0].handle.mean_s: must be > 0, got -300"),
    case("handle_deterministic_zero", ((HANDLE, 'handle = { dist = "deterministic", value_s = 0 }'),),
         "{path}: demand[0].handle.value_s: must be > 0, got 0"),
    case("cv_zero", ((HANDLE, 'handle = { dist = "gamma", mean_s = 300, cv = 0 }'),),
         "{path}: demand[0].handle.cv: must be > 0, got 0"),
    case("agents_zero", ((INHOUSE_AGENTS, "agents = 0\n"),),
         "{path}: pools[0].agents: must have at least one agent in some interval, got 0 everywhere"),
    case("agents_negative", ((INHOUSE_AGENTS, "agents = -3\n"),),
         "{path}: pools[0].agents: must be between 0 and 1000000, got -3"),
    case("wage_negative", ((WAGE, "wage_per_h = -3\n"),), "{path}: pools[0].wage_per_h: must be > 0, got -3"),
    case("wage_zero", ((WAGE, "wage_per_h = 0\n"),), "{path}: pools[0].wage_per_h: must be > 0, got 0"),
    case("burden_below_one", ((BURDEN, "burden = 0.35\n"),),
         "{path}: pools[0].burden: must be >= 1 and <= 10, got 0.35"),
    case("handle_factor_zero", (("handle_factor = 1.15", "handle_factor = 0"),),
         "{path}: pools[1].handle_factor: must be > 0, got 0"),
    case("per_minute_negative", (("per_minute = 0.55", "per_minute = -0.55"),),
         "{path}: pools[1].contract.per_minute: must be >= 0 and <= 10000, got -0.55"),
    case("increment_zero", (("billing_increment_s = 60", "billing_increment_s = 0"),),
         "{path}: pools[1].contract.billing_increment_s: must be > 0, got 0"),
    case("overflow_negative", (("overflow_after_s = 30", "overflow_after_s = -30"),),
         "{path}: demand[0].overflow_after_s: must be >= 0 and <= 2.592e+06, got -30"),
    case("lines_zero", ((TOP_END, TOP_END + "lines = 0\n"),), "{path}: lines: must be between 1 and 100000000, got 0"),
    # --- fractions outside [0, 1]
    case("resolution_above_one", (("resolution_frac = 0.85", "resolution_frac = 1.5"),),
         "{path}: pools[1].resolution_frac: must be >= 0 and <= 1, got 1.5"),
    case("resolution_percent", (("resolution_frac = 0.85", "resolution_frac = 85"),),
         "{path}: pools[1].resolution_frac: must be >= 0 and <= 1, got 85"),
    case("shrinkage_negative", ((BURDEN, BURDEN + "shrinkage_frac = -0.1\n"),),
         "{path}: pools[0].shrinkage_frac: must be >= 0 and <= 0.99, got -0.1"),
    case("shrinkage_one", ((BURDEN, BURDEN + "shrinkage_frac = 1.0\n"),),
         "{path}: pools[0].shrinkage_frac: must be >= 0 and <= 0.99, got 1"),
    case("sla_target_percent", ((CONTRACT, SLA_PERCENT),),
         "{path}: pools[1].contract.sla.target_frac: must be >= 0 and <= 1, got 80"),
    case("split_fraction_above_one", ((ROUTE, "split = { inhouse = 1.2, offshore = -0.2 }\n"),),
         "{path}: demand[0].split.inhouse: must be >= 0 and <= 1, got 1.2"),
    # --- NaN and infinity
    case("rate_nan", ((CALLS, "calls_per_h = nan\n"),), "{path}: demand[0].calls_per_h: must be a finite number, got nan"),
    case("rate_inf", ((CALLS, "calls_per_h = inf\n"),), "{path}: demand[0].calls_per_h: must be a finite number, got inf"),
    case("wage_minus_inf", ((WAGE, "wage_per_h = -inf\n"),), "{path}: pools[0].wage_per_h: must be a finite number, got -inf"),
    case("patience_nan", ((PATIENCE, 'patience = { dist = "exponential", mean_s = nan }'),),
         "{path}: demand[0].patience.mean_s: must be a finite number, got nan"),
    case("overflow_inf", (("overflow_after_s = 30", "overflow_after_s = +inf"),),
         "{path}: demand[0].overflow_after_s: must be a finite number, got inf"),
    case("resolution_nan", (("resolution_frac = 0.85", "resolution_frac = nan"),),
         "{path}: pools[1].resolution_frac: must be a finite number, got nan"),
    case("profile_item_nan", ((CALLS, "profile_per_h = [" + ", ".join(["540"] * 47 + ["nan"]) + "]\n"),),
         "{path}: demand[0].profile_per_h[47]: must be a finite number, got nan"),
    case("tier_bound_inf", ((CONTRACT, "contract = { tiers = [{ up_to_min = inf, per_minute = 0.6 }, { per_minute = 0.5 }] }"),),
         "{path}: pools[1].contract.tiers[0].up_to_min: must be a finite number, got inf"),
    # --- absurdly large
    case("agents_huge", ((INHOUSE_AGENTS, "agents = 2000000\n"),),
         "{path}: pools[0].agents: must be between 0 and 1000000, got 2000000"),
    case("per_minute_huge", (("per_minute = 0.55", "per_minute = 1e9"),),
         "{path}: pools[1].contract.per_minute: must be >= 0 and <= 10000, got 1e+09"),
    case("handle_huge", ((HANDLE, 'handle = { dist = "uniform", low_s = 60, high_s = 1e12 }'),),
         "{path}: demand[0].handle.high_s: must be > 0 and <= 2.592e+06, got 1e+12"),
    case("rate_huge", ((CALLS, "calls_per_h = 1e9\n"),),
         "{path}: demand[0].calls_per_h: must be > 0 and <= 1e+06, got 1e+09"),
    case("service_level_huge", ((TOP_END, "service_level_s = 1e10\n"),),
         "{path}: service_level_s: must be >= 0 and <= 2.592e+06, got 1e+10"),
    case("lines_huge", ((TOP_END, TOP_END + "lines = 1_000_000_000_000\n"),),
         "{path}: lines: must be between 1 and 100000000, got 1000000000000"),
    # --- profiles: TOML list and CSV
    case("profile_wrong_length", ((CALLS, f"profile_per_h = {[540] * 24}\n"),),
         "{path}: demand[0].profile_per_h: must have one rate per interval of the day (48), got 24"),
    case("agents_wrong_length", ((INHOUSE_AGENTS, f"agents = {[40] * 24}\n"),),
         "{path}: pools[0].agents: must be one number or one per interval of the day (48), got 24 values"),
    case("weekday_factors_six", ((ROUTE, ROUTE + "weekday_factors = [1, 1, 1, 1, 1, 1]\n"),),
         "{path}: demand[0].weekday_factors: must have 7 values (Monday to Sunday), got 6"),
    case("csv_missing", ((CALLS, 'profile_csv = "missing.csv"\n'),),
         "{path}: demand[0].profile_csv: file not found: {dir}/missing.csv"),
    case("csv_empty", ((CALLS, 'profile_csv = "p.csv"\n'),),
         "{dir}/p.csv: calls_per_h: the CSV needs a header with a calls_per_h column and one row per interval",
         files={"p.csv": ""}),
    case("csv_wrong_column", ((CALLS, 'profile_csv = "p.csv"\n'),),
         "{dir}/p.csv: calls_per_h: the CSV needs a header with a calls_per_h column and one row per interval",
         files={"p.csv": "calls\n" + "540\n" * N_30MIN}),
    case("csv_malformed_value", ((CALLS, 'profile_csv = "p.csv"\n'),),
         "{dir}/p.csv: row 4: calls_per_h: must be a number, got '5a0'",
         files={"p.csv": "calls_per_h\n540\n540\n5a0\n" + "540\n" * 45}),
    case("csv_negative_value", ((CALLS, 'profile_csv = "p.csv"\n'),),
         "{dir}/p.csv: row 4: calls_per_h: must be >= 0 and <= 1e+06, got -540",
         files={"p.csv": "calls_per_h\n540\n540\n-540\n" + "540\n" * 45}),
    case("csv_wrong_length", ((CALLS, 'profile_csv = "p.csv"\n'),),
         "{dir}/p.csv: calls_per_h: must have one rate per interval of the day (48), got 24",
         files={"p.csv": "calls_per_h\n" + "540\n" * 24}),
    case("csv_not_utf8", ((CALLS, 'profile_csv = "p.csv"\n'),),
         "{path}: demand[0].profile_csv: cannot read {dir}/p.csv: 'utf-8' codec can't decode byte 0xe9 "
         "in position 13: invalid continuation byte",
         files={"p.csv": b"calls_per_h\nd\xe9but\n"}),
    # --- routing
    case("route_unknown_pool", ((ROUTE, 'route = ["inhouse", "ofshore"]\n'),),
         "{path}: demand[0].route[1]: unknown pool 'ofshore' (did you mean 'offshore'?); pools are inhouse, offshore"),
    case("route_unknown_pool_no_hint", ((ROUTE, 'route = ["inhouse", "vendor"]\n'),),
         "{path}: demand[0].route[1]: unknown pool 'vendor'; pools are inhouse, offshore"),
    case("route_twice", ((ROUTE, 'route = ["inhouse", "inhouse"]\n'),),
         "{path}: demand[0].route: must not name a pool twice, got ['inhouse', 'inhouse']"),
    case("route_empty", ((ROUTE, "route = []\n"),), "{path}: demand[0].route: must have at least 1 item(s), got 0"),
    case("duplicate_pool_name", (('name = "offshore"', 'name = "inhouse"'),),
         "{path}: pools[1].name: duplicate name 'inhouse'; names must be unique"),
    case("duplicate_call_type_name", ((POOLS_BLOCK, SECOND_DEMAND + POOLS_BLOCK),),
         "{path}: demand[1].name: duplicate name 'support'; names must be unique"),
    case("split_not_summing_to_one", ((ROUTE, "split = { inhouse = 0.5, offshore = 0.4 }\n"),),
         "{path}: demand[0].split: fractions must sum to 1, got 0.9"),
    case("split_unknown_pool", ((ROUTE, "split = { inhouse = 0.5, ofshore = 0.5 }\n"),),
         "{path}: demand[0].split.ofshore: unknown pool 'ofshore' (did you mean 'offshore'?); pools are inhouse, offshore"),
    case("route_and_split", ((ROUTE, ROUTE + "split = { inhouse = 0.5, offshore = 0.5 }\n"),),
         "{path}: demand[0]: needs exactly one of route = [pools in order] or split = {pool = fraction}"),
    case("neither_route_nor_split", ((ROUTE, ""),),
         "{path}: demand[0]: needs exactly one of route = [pools in order] or split = {pool = fraction}"),
    # --- retrials (redial): unknown key, frac outside 0..1, max_attempts < 1 or not whole, bad delay
    *[case(id, ((PATIENCE, PATIENCE + "\nredial = " + redial),), "{path}: demand[0].redial" + expected)
      for id, redial, expected in [
          ("redial_unknown_key", f"{{ frac = 0.4, {AFTER}, max_attempts = 3, delay_s = 5 }}",
           ".delay_s: unknown key; allowed keys: after, frac, max_attempts"),
          ("redial_frac_above_one", f"{{ frac = 1.5, {AFTER}, max_attempts = 3 }}",
           ".frac: must be a fraction in [0, 1], got 1.5"),
          ("redial_frac_negative", f"{{ frac = -0.1, {AFTER}, max_attempts = 3 }}",
           ".frac: must be a fraction in [0, 1], got -0.1"),
          ("redial_frac_text", f'{{ frac = "a third", {AFTER}, max_attempts = 3 }}',
           ".frac: must be a number, got a string 'a third'"),
          ("redial_max_attempts_zero", f"{{ frac = 0.4, {AFTER}, max_attempts = 0 }}",
           f".max_attempts: {MAX_ATTEMPTS_MESSAGE}, got 0"),
          ("redial_max_attempts_not_whole", f"{{ frac = 0.4, {AFTER}, max_attempts = 2.5 }}",
           f".max_attempts: {MAX_ATTEMPTS_MESSAGE}, got 2.5"),
          ("redial_max_attempts_too_many", f"{{ frac = 0.4, {AFTER}, max_attempts = 40000 }}",
           f".max_attempts: {MAX_ATTEMPTS_MESSAGE}, got 40000"),
          ("redial_max_attempts_missing", f"{{ frac = 0.4, {AFTER} }}", ".max_attempts: is required"),
          ("redial_after_unknown_dist",
           '{ frac = 0.4, after = { dist = "exponental", mean_s = 300 }, max_attempts = 3 }',
           ".after.dist: must be one of exponential, lognormal, gamma, deterministic, uniform, empirical, "
           "never, got 'exponental' (did you mean 'exponential'?)"),
          ("redial_after_negative_mean",
           '{ frac = 0.4, after = { dist = "exponential", mean_s = -5 }, max_attempts = 3 }',
           ".after.mean_s: must be > 0, got -5"),
          ("redial_after_not_a_table", "{ frac = 0.4, after = 300, max_attempts = 3 }",
           ".after: must be a table, got an integer"),
          ("redial_not_a_table", "0.4", ": must be a table, got a number"),
      ]],
    # --- quality costs: unknown key, negative, not a number, not a table; per call type the same
    *[case(id, ((TOP_END, TOP_END + "quality = " + table + "\n"),), "{path}: quality" + expected)
      for id, table, expected in [
          ("quality_unknown_key", "{ lost_cost = 10, abandon_cost = 5 }",
           ".abandon_cost: unknown key; allowed keys: lost_cost, redial_cost, repeat_cost, wait_cost_per_h"),
          ("quality_negative_cost", "{ lost_cost = -10 }", ".lost_cost: must be >= 0 and <= 1e+09, got -10"),
          ("quality_cost_text", '{ wait_cost_per_h = "15 $" }', ".wait_cost_per_h: must be a number, got a string '15 $'"),
          ("quality_not_a_table", "10", ": must be a table, got an integer"),
      ]],
    *[case(id, ((PATIENCE, PATIENCE + "\nquality = " + table),), "{path}: demand[0].quality" + expected)
      for id, table, expected in [
          ("call_type_quality_unknown_key", "{ repeat_costs = 4 }",
           ".repeat_costs: unknown key (did you mean 'repeat_cost'?); allowed keys: lost_cost, redial_cost, "
           "repeat_cost, wait_cost_per_h"),
          ("call_type_quality_negative_cost", "{ repeat_cost = -4 }", ".repeat_cost: must be >= 0 and <= 1e+09, got -4"),
      ]],
    # --- total cost of ownership: overheads and a BPO's transition
    case("overhead_negative", ((BURDEN, BURDEN + "overhead_per_month = -5\n"),),
         "{path}: pools[0].overhead_per_month: must be >= 0 and <= 1e+09, got -5"),
    case("transition_on_inhouse", ((BURDEN, BURDEN + "transition_cost = 5000\n"),),
         "{path}: pools[0].transition_cost: only bpo pools have a transition cost; an in-house pool has "
         "overhead_per_month"),
    case("amortise_months_zero", ((CONTRACT, CONTRACT + "\ntransition_cost = 5000\namortise_months = 0"),),
         "{path}: pools[1].amortise_months: must be > 0, got 0"),
    # --- unknown keys and names
    case("unknown_top_key", ((TOP_END, "servce_level_s = 20\n"),),
         "{path}: servce_level_s: unknown key (did you mean 'service_level_s'?); allowed keys: "
         "calendar, currency, demand, interval_min, lines, name, pools, quality, service_level_s"),
    case("unknown_top_key_no_hint", ((TOP_END, TOP_END + "author = \"me\"\n"),),
         "{path}: author: unknown key; allowed keys: "
         "calendar, currency, demand, interval_min, lines, name, pools, quality, service_level_s"),
    case("unknown_demand_key", (("overflow_after_s = 30", "overflow_after = 30"),),
         "{path}: demand[0].overflow_after: unknown key (did you mean 'overflow_after_s'?); allowed keys: "
         "acw, calls_per_h, client, daily_cv, handle, name, overflow_after_s, patience, priority, quality, redial, route, split, "
         "talk, weekday_factors"),
    case("unknown_pool_key", ((BURDEN, BURDEN + "shrinkage = 0.3\n"),),
         "{path}: pools[0].shrinkage: unknown key (did you mean 'shrinkage_frac'?); allowed keys: agents, "
         "burden, handle_factor, kind, location, name, open_days, open_h, overhead_per_month, repeat_after, "
         "resolution_frac, shift_plan, shifts, shrinkage_frac, staffing, wage_per_h"),
    case("unknown_contract_key", (("per_minute = 0.55", "per_minutes = 0.55"),),
         "{path}: pools[1].contract.per_minutes: unknown key (did you mean 'per_minute'?); allowed keys: "
         f"{CONTRACT_KEYS}"),
    # --- pricing models and SLA terms (issue 10)
    case("unknown_pricing_key", ((CONTRACT, "contract = { per_hours = 14.0 }"),),
         "{path}: pools[1].contract.per_hours: unknown key (did you mean 'per_hour'?); allowed keys: "
         f"{CONTRACT_KEYS}"),
    case("per_hour_on_inhouse_pool", ((WAGE, WAGE + "per_hour = 14.0\n"),),
         "{path}: pools[0].per_hour: an in-house pool is not priced by per_hour: it is paid wage_per_h x burden "
         "per paid hour (a bpo pool's contract table has the pricing keys)"),
    case("per_hour_with_per_minute", ((CONTRACT, "contract = { per_hour = 14.0, per_minute = 0.55 }"),),
         "{path}: pools[1].contract.per_hour: cannot be combined with per_minute or tiers: per_hour prices the "
         "agents' paid time, per_minute and tiers the calls' time; give one"),
    case("per_hour_negative", ((CONTRACT, "contract = { per_hour = -14.0 }"),),
         "{path}: pools[1].contract.per_hour: must be >= 0 and <= 10000, got -14"),
    case("tiers_mode_typo", ((CONTRACT, 'contract = { per_minute = 0.5, tiers_mode = "all-units" }'),),
         "{path}: pools[1].contract.tiers_mode: must be one of graduated, all_units, got 'all-units' "
         "(did you mean 'all_units'?)"),
    case("all_units_without_tiers", ((CONTRACT, 'contract = { per_minute = 0.5, tiers_mode = "all_units" }'),),
         "{path}: pools[1].contract.tiers_mode: 'all_units' needs tiers (it says how tiers price the month's "
         "minutes)"),
    case("sla_term_unknown_metric", ((CONTRACT, 'contract = { per_minute = 0.5, sla = [{ metric = "csat", '
                                                'target = 0.8, credit_frac = 0.01 }] }'),),
         "{path}: pools[1].contract.sla[0].metric: must be one of sl_frac, asa_s, abandon_frac, "
         "resolution_frac, got 'csat'"),
    case("sla_term_without_threshold", ((CONTRACT, 'contract = { per_minute = 0.5, sla = [{ metric = "sl_frac", '
                                                   'target = 0.8, credit_frac = 0.01 }] }'),),
         "{path}: pools[1].contract.sla[0].threshold_s: an sl_frac term needs threshold_s >= 0 seconds, got None"),
    case("sla_term_threshold_elsewhere", ((CONTRACT, 'contract = { per_minute = 0.5, sla = [{ metric = "asa_s", '
                                                     'target = 30, credit_frac = 0.01, threshold_s = 20 }] }'),),
         "{path}: pools[1].contract.sla[0].threshold_s: only an sl_frac term has a threshold; asa_s has none"),
    case("sla_term_twice", ((CONTRACT, 'contract = { per_minute = 0.5, sla = [{ metric = "asa_s", target = 30, '
                                       'credit_frac = 0.01 }, { metric = "asa_s", target = 20, credit_frac = 0.01 }] }'),),
         "{path}: pools[1].contract.sla[1].metric: 'asa_s' is judged by an earlier term; one term per metric"),
    case("sla_term_target_percent", ((CONTRACT, 'contract = { per_minute = 0.5, sla = [{ metric = "abandon_frac", '
                                                'target = 5, credit_frac = 0.01 }] }'),),
         "{path}: pools[1].contract.sla[0].target: must be >= 0 and <= 1, got 5"),
    case("sla_cap_with_single_table", ((CONTRACT, "contract = { per_minute = 0.5, sla_cap_frac = 0.1, sla = { "
                                                  "target_frac = 0.8, threshold_s = 60, credit_frac = 0.01 } }"),),
         "{path}: pools[1].contract.sla_cap_frac: applies to a list of sla terms only (sla = [{metric = ...}, "
         "...]); a single sla table has its own cap_frac"),
    case("escalation_beyond_minus_100", ((CONTRACT, "contract = { per_minute = 0.5, escalation_per_year_frac = -1.5 }"),),
         "{path}: pools[1].contract.escalation_per_year_frac: must be > -1, got -1.5"),
    case("unknown_sla_key", ((CONTRACT, "contract = { per_minute = 0.55, sla = { target_frac = 0.8, "
                                        "threshold_s = 60, credit_frac = 0.01, cap_fraction = 0.1 } }"),),
         "{path}: pools[1].contract.sla.cap_fraction: unknown key (did you mean 'cap_frac'?); allowed keys: "
         "cap_frac, credit_frac, target_frac, threshold_s"),
    case("unknown_dist_key", ((HANDLE, 'handle = { dist = "exponential", mean_s = 300, means = 300 }'),),
         "{path}: demand[0].handle.means: unknown key (did you mean 'mean_s'?); allowed keys: dist, mean_s"),
    case("unknown_dist_name", ((HANDLE, 'handle = { dist = "exponentail", mean_s = 300 }'),),
         "{path}: demand[0].handle.dist: must be one of exponential, lognormal, gamma, deterministic, uniform, "
         "empirical, never, got 'exponentail' (did you mean 'exponential'?)"),
    case("unknown_kind", (('kind = "bpo"', 'kind = "bpoo"'),),
         "{path}: pools[1].kind: must be one of inhouse, bpo, got 'bpoo' (did you mean 'bpo'?)"),
    case("unknown_location", (('location = "offshore"', 'location = "nearshore"'),),
         "{path}: pools[1].location: must be one of local, offshore, got 'nearshore'"),
    case("uniform_high_below_low", ((HANDLE, 'handle = { dist = "uniform", low_s = 300, high_s = 100 }'),),
         "{path}: demand[0].handle.high_s: must be >= low_s (300), got 100"),
    # --- intervals and opening hours
    case("interval_not_dividing_day", (("interval_min = 30", "interval_min = 7"),),
         "{path}: interval_min: must divide a day of 1440 minutes (e.g. 15, 30, 60), got 7"),
    case("interval_zero", (("interval_min = 30", "interval_min = 0"),),
         "{path}: interval_min: must be between 1 and 1440, got 0"),
    case("open_h_one_value", ((BURDEN, BURDEN + "open_h = [9]\n"),),
         "{path}: pools[0].open_h: must be [start, end] in hours, got [9]"),
    case("open_h_empty_window", ((BURDEN, BURDEN + "open_h = [9, 9]\n"),),
         "{path}: pools[0].open_h: start and end must differ (use [0, 24] for always open), got [9, 9]"),
    case("open_h_25", ((BURDEN, BURDEN + "open_h = [8, 25]\n"),),
         "{path}: pools[0].open_h[1]: must be >= 0 and <= 24, got 25"),
    case("open_h_starts_at_24", ((BURDEN, BURDEN + "open_h = [24, 0]\n"),),
         "{path}: pools[0].open_h[0]: must be >= 0 and < 24, got 24"),
    case("open_days_eight", ((BURDEN, BURDEN + "open_days = [0, 7]\n"),),
         "{path}: pools[0].open_days[1]: must be a weekday 0 (Monday) to 6 (Sunday), got 7"),
    # --- contract rules
    case("tiers_decreasing", ((CONTRACT, TIERS_DOWN),),
         "{path}: pools[1].contract.tiers[1].up_to_min: must be greater than tiers[0].up_to_min (1000), got 500"),
    case("tiers_with_per_minute", ((CONTRACT, TIERS_AND_FLAT),),
         "{path}: pools[1].contract.per_minute: must be 0 when tiers are given (tiers replace the flat price), got 0.55"),
    case("tiers_last_bounded", ((CONTRACT, TIERS_LAST_BOUNDED),),
         "{path}: pools[1].contract.tiers[1].up_to_min: the last tier must be unlimited (None) so every "
         "minute has a price, got 5000"),
    case("contract_on_inhouse", ((BURDEN, BURDEN + "contract = { per_minute = 1 }\n"),),
         "{path}: pools[0].contract: only bpo pools have a contract; in-house pools have wage_per_h and burden"),
    case("wage_on_bpo", ((CONTRACT, CONTRACT + "\nwage_per_h = 10"),),
         "{path}: pools[1].wage_per_h: only inhouse pools and vendor-staffed bpo pools (staffing = \"vendor\") have "
         "a wage; a client-staffed bpo pool is priced by its contract"),
]


def _build(tmp_path: Path, edits, files: dict[str, str | bytes]) -> Path:
    path = tmp_path / "scenario.toml"
    if isinstance(edits, bytes):
        path.write_bytes(edits)
    elif isinstance(edits, str):
        path.write_text(edits, encoding="utf-8")
    elif edits is not None:
        path.write_text(edited(*edits), encoding="utf-8")
    for name, content in files.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return path


def test_bad_table_is_big_enough():
    assert len(BAD) >= 30
    assert len({p.id for p in BAD}) == len(BAD)


@pytest.mark.parametrize(("edits", "expected", "files"), BAD)
def test_bad_scenario_gives_one_exact_line(tmp_path: Path, edits, expected: str, files):
    path = _build(tmp_path, edits, files)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert message == expected.replace("{path}", str(path)).replace("{dir}", str(tmp_path))
    assert "\n" not in message


@pytest.mark.parametrize("edits, expected, files", BAD)
def test_bad_scenario_through_the_cli_is_one_line_exit_2_and_harmless(tmp_path: Path, capsys, edits,
                                                                       expected: str, files):
    """The catalogue of bad input as a user meets it: ``bposim run FILE --out DIR`` where DIR already
    holds results. One line on stderr, exit status 2, no traceback, the results untouched."""
    from experiments.cli import main
    path = _build(tmp_path, edits, files)
    out = tmp_path / "results"
    out.mkdir()
    (out / "runs.parquet").write_bytes(b"earlier results")
    status = main(["run", str(path), "--reps", "1", "--days", "1", "--out", str(out)])
    captured = capsys.readouterr()
    expected_line = expected.replace("{path}", str(path)).replace("{dir}", str(tmp_path))
    assert status == 2
    assert captured.err == f"bposim: error: {expected_line}\n"
    assert captured.out == "" and "Traceback" not in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["runs.parquet"]
    assert (out / "runs.parquet").read_bytes() == b"earlier results"


def test_bad_file_that_is_a_directory(tmp_path: Path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path)
    assert str(err.value) == f"{tmp_path}: cannot be read: Is a directory"


def test_csv_errors_still_raise_scenario_errors(tmp_path: Path):
    """Whatever the wording (see the xfail cases), a bad CSV is a ScenarioError naming the CSV."""
    for name, content in {"short.csv": "calls_per_h\n" + "540\n" * 24,
                          "nan.csv": "calls_per_h\n" + "540\n" * 47 + "nan\n"}.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        path = write(tmp_path, edited((CALLS, f'profile_csv = "{name}"\n')))
        with pytest.raises(ScenarioError, match=str(tmp_path / name)):
            load_scenario(path)


def test_integer_too_large_for_a_float(tmp_path: Path):
    path = write(tmp_path, edited((CALLS, "calls_per_h = 1" + "0" * 400 + "\n")))
    with pytest.raises(ScenarioError, match=r"demand\[0\]\.calls_per_h: must be "):
        load_scenario(path)


def test_profile_csv_with_byte_order_mark_loads(tmp_path: Path):
    (tmp_path / "excel.csv").write_bytes(b"\xef\xbb\xbf" + CSV_48.encode())
    path = write(tmp_path, edited((CALLS, 'profile_csv = "excel.csv"\n')))
    assert load_scenario(path).demand[0].rates_per_h == (540.0,) * N_30MIN


def test_typo_in_a_required_key_points_at_the_typo(tmp_path: Path):
    path = write(tmp_path, edited((HANDLE, 'handle = { dist = "exponential", mean = 300 }')))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (f"{path}: demand[0].handle.mean_s: is required "
                              "(found unknown key 'mean'; did you mean 'mean_s'?)")

def test_misspelt_rate_key_is_suggested(tmp_path: Path):
    path = write(tmp_path, edited((CALLS, "calls_per_hour = 540\n")))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (f"{path}: demand[0]: needs exactly one of calls_per_h, profile_per_h, profile_csv; "
                              "found none (did you mean 'calls_per_h' for 'calls_per_hour'?)")
