"""Scenario files (TOML) to validated, frozen :class:`Scenario` objects.

Every check happens here, at loading, and a failure is one :class:`ScenarioError` naming the file,
the field path and what is allowed: ``baseline.toml: pools[1].agents: must be >= 0, got -3``.
Rates per hour in files become the model's units here, once.
"""

from __future__ import annotations

import csv
import difflib
import tomllib
from pathlib import Path
from typing import Any

from models.budget import BudgetCalendar, calendar_problems
from models.contracts import BILLING_BASES, SLA, TIER_MODES, Contract, SLATerm, Tier, num_text, validate_contract
from models.demand import MAX_ATTEMPTS, CallType, Redial, interval_count
from models.distributions import DISTRIBUTIONS, Distribution, Exponential, Never
from models.fields import ScenarioError, Table, check_number, suggest
from models.loading_clients import check_clients, read_contracts
from models.loading_shifts import check_shift_cover, read_shift_keys
from models.pools import KINDS, LOCATIONS, STAFFINGS, Pool
from models.quality import QUALITY_KEYS, QualityCosts
from models.scenario import Scenario
from models.shifts import coverage
from models.sla import DEFAULT_CAP_FRAC, SLA_METRICS, staffable

MAX_RATE_PER_H = 1e6
MAX_AGENTS = 1_000_000
MAX_DURATION_S = 30 * 86400.0
MAX_MONEY = 1e9
MAX_PRIORITY = 1000  # a call type's priority is a whole number in [-MAX_PRIORITY, MAX_PRIORITY]


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and build the scenario in the TOML file ``path``."""
    path = Path(path)
    return scenario_from_dict(read_toml(path), source=str(path), base_dir=path.parent)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; every failure is a :class:`ScenarioError` naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "file not found") from None
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot be read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), "", f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"TOML syntax error: {exc}") from None


def scenario_from_dict(data: dict[str, Any], source: str = "", base_dir: Path | None = None) -> Scenario:
    """Build a Scenario from a parsed TOML table (``source`` names it in messages)."""
    top = Table(data, source)
    interval_min = top.take_int("interval_min", 30, low=1, high=1440)
    if 1440 % interval_min:
        raise top.error("interval_min", f"must divide a day of 1440 minutes (e.g. 15, 30, 60), got {interval_min}")
    n_intervals = interval_count(interval_min)
    pools = _read_pools(top, n_intervals)
    names = tuple(p.name for p in pools)
    quality = QualityCosts(**dict(_read_quality(top.take_table("quality", None))))
    name = top.take_str("name")
    scenario = Scenario(
        name=name,
        currency=top.take_str("currency", "USD"),
        interval_min=interval_min,
        service_level_s=top.take_float("service_level_s", 20.0, low=0, high=MAX_DURATION_S),
        lines=top.take_int("lines", None, low=1, high=10**8),
        demand=_read_demand(top, n_intervals, names, base_dir or Path("."), name),
        pools=pools,
        quality=quality,
        source=source,
        calendar=_read_calendar(top.take_table("calendar", None)),
    )
    top.done()
    check_clients(scenario)
    return scenario


def _read_calendar(t: Table | None) -> BudgetCalendar | None:
    """The optional ``[calendar]`` table (models/budget.py): types checked here, ranges by the model."""
    if t is None:
        return None
    listed = t.take_list("monthly_factors", [1.0] * 12)
    path = t.sub("monthly_factors")
    start = t.take_int("start_month", 1, low=-10**9)
    factors = tuple(check_number(v, f"{path}[{i}]", t.source) for i, v in enumerate(listed))
    growth = t.take_float("growth_per_year_frac", 0.0)
    cv = t.take_float("forecast_cv", 0.0)
    t.done()
    for field, message in calendar_problems(start, factors, growth, cv):
        raise t.error(field, message)
    return BudgetCalendar(start, factors, growth, cv)


def _items(top: Table, key: str) -> list[Table]:
    items = top.take_list(key, min_len=1)
    return [Table(item, top.source, f"{key}[{i}]") for i, item in enumerate(items)]


def _unique_name(table: Table, seen: set[str]) -> str:
    name = table.take_str("name")
    if name in seen:
        raise table.error("name", f"duplicate name {name!r}; names must be unique")
    seen.add(name)
    return name


# ---------------------------------------------------------------- pools

def _read_pools(top: Table, n_intervals: int) -> tuple[Pool, ...]:
    seen: set[str] = set()
    pools = tuple(_read_pool(t, n_intervals, seen) for t in _items(top, "pools"))
    _check_vendor_thresholds(top, pools)
    return pools


def _check_vendor_thresholds(top: Table, pools: tuple[Pool, ...]) -> None:
    """Vendor-staffed pools are planned together, judged at one service-level threshold: theirs
    must agree (the first pool that disagrees is named)."""
    seen: list[float] = []
    for i, pool in enumerate(pools):
        threshold = pool.contract.sl_threshold_s if pool.staffing == "vendor" and pool.contract else None
        if threshold is None:
            continue
        if seen and threshold != seen[0]:
            raise ScenarioError(top.source, f"pools[{i}].contract.sla", "vendor-staffed pools are planned together "
                                f"and must share one service-level threshold_s: {num_text(seen[0])} s before, "
                                f"got {num_text(threshold)} s")
        seen.append(threshold)


#: contract pricing keys a user may wrongly put on a pool itself
PRICE_KEYS = ("per_hour", "per_minute", "per_call", "per_resolved", "monthly_fee", "tiers")


def _read_pool(t: Table, n_intervals: int, seen: set[str]) -> Pool:
    name = _unique_name(t, seen)
    kind = t.take_str("kind", choices=KINDS)
    money: dict[str, Any]
    if kind == "inhouse":
        money = {"wage_per_h": t.take_float("wage_per_h", low=0, low_open=True, high=1e5),
                 "burden": t.take_float("burden", 1.0, low=1.0, high=10.0)}
        if t.has("contract"):
            raise t.error("contract", "only bpo pools have a contract; in-house pools have wage_per_h and burden")
        if t.has("contracts"):
            raise t.error("contracts", "only bpo pools serve other clients on their contracts; an in-house pool "
                                       "answers the scenario's own calls only")
        for key in PRICE_KEYS:
            if t.has(key):
                raise t.error(key, f"an in-house pool is not priced by {key}: it is paid wage_per_h x burden per "
                                   "paid hour (a bpo pool's contract table has the pricing keys)")
    else:
        contract = _read_own_contract(t)
        contracts = read_contracts(t.take_table("contracts", None), _read_contract)
        money = {"contract": contract, "contracts": contracts} | _read_staffing(t, contract)
        money |= {"transition_cost": t.take_float("transition_cost", 0.0, low=0, high=MAX_MONEY),
                  "amortise_months": t.take_float("amortise_months", 12.0, low=0, low_open=True, high=600)}
        if contract is None and money["transition_cost"] > 0:
            raise t.error("transition_cost", _NOT_OURS)
    if kind == "inhouse":
        if t.take_str("staffing", "client", choices=STAFFINGS) != "client":
            raise t.error("staffing", "only a bpo pool may be staffed by the vendor; an in-house pool's agents "
                                      "are the client's (staffing = \"client\")")
        for key in ("transition_cost", "amortise_months"):
            if t.has(key):
                raise t.error(key, "only bpo pools have a transition cost; an in-house pool has overhead_per_month")
    money["overhead_per_month"] = t.take_float("overhead_per_month", 0.0, low=0, high=MAX_MONEY)
    if kind == "bpo" and money["contract"] is None and money["overhead_per_month"] > 0:
        raise t.error("overhead_per_month", _NOT_OURS)
    interval_min = 1440 // n_intervals
    shifts, plan = read_shift_keys(t, kind, interval_min, MAX_AGENTS)
    pool = Pool(
        name=name, kind=kind, location=t.take_str("location", "local", choices=LOCATIONS),
        agents=(() if money.get("staffing") == "vendor"
                else coverage(plan, interval_min) if plan else _read_agents(t, n_intervals)),
        shrinkage_frac=t.take_float("shrinkage_frac", 0.0, low=0.0, high=0.99),
        handle_factor=t.take_float("handle_factor", 1.0, low=0.0, low_open=True, high=100.0),
        resolution_frac=t.take_float("resolution_frac", 1.0, low=0.0, high=1.0),
        repeat_after=_read_dist(t, "repeat_after", Exponential(86400.0)),
        open_h=_read_open_h(t), open_days=_read_open_days(t), shifts=shifts, shift_plan=plan, **money,
    )
    t.done()
    check_shift_cover(t, pool, interval_min)
    return pool


#: why a bpo pool without ``contract`` may not cost the scenario's own client anything
_NOT_OURS = ("must be 0 on a bpo pool without contract: it serves other clients only (contracts) and costs "
             "the scenario's own client nothing")


def _read_own_contract(t: Table) -> Contract | None:
    """A bpo pool's ``contract`` (the scenario's own client's): required unless the pool has
    ``contracts`` with other clients, and then only if the scenario's own calls reach it
    (models/loading_clients.py checks that)."""
    if t.has("contract") or t.has("contracts"):
        return _read_contract(t.take_table("contract")) if t.has("contract") else None
    raise t.error("contract", "is required: a bpo pool bills the scenario's own client under contract (and other "
                              "clients under contracts.<client>)" + t.typo_hint("contract"))


def _read_staffing(t: Table, contract: Contract | None) -> dict[str, Any]:
    """A bpo pool's ``staffing`` and, when the vendor staffs it, the vendor's own wage (its agents
    are left empty: the vendor plans them at run time, experiments/optimise/vendor.py)."""
    staffing = t.take_str("staffing", "client", choices=STAFFINGS)
    if staffing == "client":
        for key in ("wage_per_h", "burden"):
            if t.has(key):
                raise t.error(key, "only inhouse pools and vendor-staffed bpo pools (staffing = \"vendor\") have "
                                   "a wage; a client-staffed bpo pool is priced by its contract")
        return _read_vendor_wage(t)
    for key in ("vendor_wage_per_h", "vendor_burden"):
        if t.has(key):
            raise t.error(key, "a vendor-staffed pool gives the vendor's wage as wage_per_h and burden")
    if t.has("agents"):
        raise t.error("agents", "a vendor-staffed pool's agents are set by the vendor (per interval, to meet its "
                                "contract's SLA); leave agents out, or use staffing = \"client\"")
    if contract is None:
        raise t.error("contract", "is required on a vendor-staffed pool: the vendor staffs it to the SLA of the "
                                  "scenario's own client's contract")
    if not any(staffable(term.metric, term.target) for term in contract.terms):
        raise t.error("staffing", "a vendor-staffed pool needs an SLA term on sl_frac, asa_s or abandon_frac in "
                                  "its contract that some staffing could miss (the vendor staffs to meet it; "
                                  "resolution_frac cannot be staffed for, sl_frac >= 0 or abandon_frac <= 1 "
                                  "is met by one agent)")
    return {"staffing": "vendor",
            "wage_per_h": t.take_float("wage_per_h", low=0, low_open=True, high=1e5),
            "burden": t.take_float("burden", 1.0, low=1.0, high=10.0)}


def _read_vendor_wage(t: Table) -> dict[str, Any]:
    """A client-staffed bpo pool's optional ``vendor_wage_per_h`` and ``vendor_burden``: the vendor's
    own wage (internal, never billed), for its labour and margin in the ``vendor`` table."""
    if not t.has("vendor_wage_per_h"):
        if t.has("vendor_burden"):
            raise t.error("vendor_burden", "needs vendor_wage_per_h (the burden multiplies the vendor's wage)")
        return {}
    return {"wage_per_h": t.take_float("vendor_wage_per_h", low=0, low_open=True, high=1e5),
            "burden": t.take_float("vendor_burden", 1.0, low=1.0, high=10.0)}


def _read_agents(t: Table, n_intervals: int) -> tuple[int, ...]:
    value = t.raw("agents")
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and len(value) != n_intervals:
        raise t.error("agents", f"must be one number or one per interval of the day ({n_intervals}), got {len(value)} values")
    out = []
    for i, v in enumerate(values):
        path = t.sub("agents") + (f"[{i}]" if isinstance(value, list) else "")
        if isinstance(v, bool) or not isinstance(v, int):
            raise ScenarioError(t.source, path, f"must be a whole number of agents, got {v!r}")
        if not 0 <= v <= MAX_AGENTS:
            raise ScenarioError(t.source, path, f"must be between 0 and {MAX_AGENTS}, got {v}")
        out.append(v)
    if not any(out):
        raise t.error("agents", "must have at least one agent in some interval, got 0 everywhere")
    return tuple(out) * (n_intervals if len(out) == 1 else 1)


def _read_open_h(t: Table) -> tuple[float, float]:
    value = t.take_list("open_h", [0.0, 24.0])
    if len(value) != 2:
        raise t.error("open_h", f"must be [start, end] in hours, got {value!r}")
    path = t.sub("open_h")
    start = check_number(value[0], f"{path}[0]", t.source, low=0, high=24)
    if start >= 24:
        raise ScenarioError(t.source, f"{path}[0]", f"must be >= 0 and < 24, got {start:g}")
    end = check_number(value[1], f"{path}[1]", t.source, low=0, high=24)
    if start == end:
        raise t.error("open_h", f"start and end must differ (use [0, 24] for always open), got {value!r}")
    return start, end


def _read_open_days(t: Table) -> tuple[int, ...]:
    value = t.take_list("open_days", [0, 1, 2, 3, 4, 5, 6], min_len=1)
    for i, day in enumerate(value):
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise ScenarioError(t.source, f"{t.sub('open_days')}[{i}]",
                                f"must be a weekday 0 (Monday) to 6 (Sunday), got {day!r}")
    return tuple(sorted(set(value)))


def read_contract(raw: Any, source: str, path: str) -> Contract:
    """A contract table read exactly as a pool's ``contract`` in a scenario file (e.g. an offer's):
    ``raw`` the parsed TOML table, ``source`` the file and ``path`` the table's field path in
    messages (``offer[1].contract``). Raises :class:`ScenarioError` on any bad key or value."""
    return _read_contract(Table(raw, source, path))


def _read_contract(t: Table) -> Contract:
    tiers = tuple(_read_tier(Table(item, t.source, f"{t.sub('tiers')}[{i}]"))
                  for i, item in enumerate(t.take_list("tiers", [])))
    sla, terms = _read_sla_field(t)
    caps = {}
    for key in ("sla_cap_frac", "sla_bonus_cap_frac"):
        t.raw(key, None)  # a known key, even when absent
        if t.has(key) and not terms:
            raise t.error(key, "applies to a list of sla terms only (sla = [{metric = ...}, ...]); "
                               "a single sla table has its own cap_frac")
        if t.has(key):
            caps[key] = t.take_float(key, low=0, high=1)
    contract = Contract(
        monthly_fee=t.take_float("monthly_fee", 0.0, low=0, high=1e9),
        per_minute=t.take_float("per_minute", 0.0, low=0, high=1e4),
        tiers=tiers,
        included_min=t.take_float("included_min", 0.0, low=0, high=1e9),
        billing_increment_s=t.take_float("billing_increment_s", 1.0, low=0, low_open=True, high=3600),
        wrap_min_per_call=t.take_float("wrap_min_per_call", 0.0, low=0, high=60),
        min_monthly=t.take_float("min_monthly", 0.0, low=0, high=1e9),
        sla=sla,
        billing_basis=t.take_str("billing_basis", "handle", choices=BILLING_BASES),
        tiers_mode=t.take_str("tiers_mode", "graduated", choices=TIER_MODES),
        per_hour=t.take_float("per_hour", 0.0, low=0, high=1e4),
        per_call=t.take_float("per_call", 0.0, low=0, high=1e5),
        per_resolved=t.take_float("per_resolved", 0.0, low=0, high=1e5),
        sla_terms=terms,
        escalation_per_year_frac=t.take_float("escalation_per_year_frac", 0.0, low=-1, low_open=True, high=10),
        **caps,
    )
    t.done()
    for path, message in validate_contract(contract):
        raise ScenarioError(t.source, f"{t.path}.{path}", message)
    return contract


def _read_sla_field(t: Table) -> tuple[SLA | None, tuple[SLATerm, ...]]:
    """``sla``: a table (the classic single service-level term) or a list of terms."""
    if isinstance(t.raw("sla", None), list):
        items = t.take_list("sla", min_len=1)
        return None, tuple(_read_term(Table(item, t.source, f"{t.sub('sla')}[{i}]")) for i, item in enumerate(items))
    table = t.take_table("sla", None)
    return (None if table is None else _read_sla(table)), ()


def _read_term(t: Table) -> SLATerm:
    metric = t.take_str("metric", choices=tuple(SLA_METRICS))
    term = SLATerm(metric=metric,
                   target=t.take_float("target", low=0, high=MAX_DURATION_S if metric == "asa_s" else 1),
                   credit_frac=t.take_float("credit_frac", low=0, high=1),
                   threshold_s=t.take_float("threshold_s", None, low=0, high=MAX_DURATION_S),
                   bonus_frac=t.take_float("bonus_frac", 0.0, low=0, high=1))
    t.done()
    return term


def _read_tier(t: Table) -> Tier:
    tier = Tier(up_to_min=t.take_float("up_to_min", None, low=0, low_open=True),
                per_minute=t.take_float("per_minute", low=0, high=1e4))
    t.done()
    return tier


def _read_sla(t: Table) -> SLA:
    sla = SLA(target_frac=t.take_float("target_frac", low=0, high=1),
              threshold_s=t.take_float("threshold_s", low=0, high=MAX_DURATION_S),
              credit_frac=t.take_float("credit_frac", low=0, high=1),
              cap_frac=t.take_float("cap_frac", DEFAULT_CAP_FRAC, low=0, high=1))
    t.done()
    return sla


# ---------------------------------------------------------------- demand

def _read_demand(top: Table, n_intervals: int, pools: tuple[str, ...], base_dir: Path,
                 own: str) -> tuple[CallType, ...]:
    """The call types; ``own``: the scenario's name (a ``client`` naming it is the scenario's own)."""
    seen: set[str] = set()
    return tuple(_read_call_type(t, n_intervals, pools, base_dir, seen, own) for t in _items(top, "demand"))


def _read_call_type(t: Table, n_intervals: int, pools: tuple[str, ...], base_dir: Path, seen: set[str],
                    own: str) -> CallType:
    name = _unique_name(t, seen)
    client = t.take_str("client", "")
    if t.has("client") and not client.strip():
        raise t.error("client", "must name a client (leave it out for the scenario's own), got an empty name")
    route, split = _read_routing(t, pools)
    talk = _read_talk_acw(t)
    call_type = CallType(
        name=name,
        rates_per_h=_read_rates(t, n_intervals, base_dir),
        handle=None if talk else _read_handle(t),
        patience=_read_dist(t, "patience", Never()),
        route=route,
        overflow_after_s=t.take_float("overflow_after_s", 0.0, low=0, high=MAX_DURATION_S),
        split=split,
        priority=t.take_int("priority", 0, low=-MAX_PRIORITY, high=MAX_PRIORITY),
        weekday_factors=_read_weekday_factors(t),
        daily_cv=t.take_float("daily_cv", 0.0, low=0, high=5),
        redial=_read_redial(t),
        quality=_read_quality(t.take_table("quality", None)),
        talk=talk[0] if talk else None,
        acw=talk[1] if talk else None,
        client="" if client == own else client,
    )
    t.done()
    return call_type


def _read_handle(t: Table) -> Distribution:
    if not t.has("handle"):
        raise t.error("handle", "is required (or talk and acw instead: handle = talk + acw)")
    return _read_dist(t, "handle")


def _read_talk_acw(t: Table) -> tuple[Distribution, Distribution] | None:
    """``talk`` and ``acw`` of a call type given instead of ``handle``: both, or neither."""
    given = [key for key in ("talk", "acw") if t.raw(key, None) is not None]  # raw: both are known keys
    if not given:
        return None
    if t.has("handle"):
        raise t.error(given[0], "give either handle, or talk and acw (handle = talk + acw), not both")
    if len(given) == 1:
        missing = "acw" if given == ["talk"] else "talk"
        raise t.error(missing, f"is required with {given[0]} (handle = talk + acw; acw = after-call work)")
    return _read_dist(t, "talk"), _read_dist(t, "acw")


def _read_quality(table: Table | None) -> tuple[tuple[str, float], ...]:
    """The (key, value) pairs given in a ``quality`` table (costs of poor service, each >= 0)."""
    if table is None:
        return ()
    values = {key: table.take_float(key, None, low=0, high=MAX_MONEY) for key in QUALITY_KEYS}
    table.done()
    return tuple((key, value) for key, value in values.items() if value is not None)


def _read_redial(t: Table) -> Redial | None:
    """The optional ``redial`` table of a call type: ``{frac, after, max_attempts}``, all required."""
    table = t.take_table("redial", None)
    if table is None:
        return None
    frac = table.take_float("frac")
    if not 0.0 <= frac <= 1.0:
        raise table.error("frac", f"must be a fraction in [0, 1], got {frac:g}")
    after = _read_dist(table, "after")
    attempts = table.raw("max_attempts")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS:
        raise table.error("max_attempts", f"must be a whole number from 1 to {MAX_ATTEMPTS} (attempts per "
                          f"contact, the first try included), got {attempts!r}")
    table.done()
    return Redial(frac=frac, after=after, max_attempts=attempts)


def _read_rates(t: Table, n_intervals: int, base_dir: Path) -> tuple[float, ...]:
    given = [k for k in ("calls_per_h", "profile_per_h", "profile_csv") if t.has(k)]
    if len(given) != 1:
        found = ", ".join(given) if given else "none"
        hint = "" if given else _near_key(t, ("calls_per_h", "profile_per_h", "profile_csv"))
        raise t.error("", f"needs exactly one of calls_per_h, profile_per_h, profile_csv; found {found}{hint}")
    key = given[0]
    if key == "calls_per_h":
        rate = t.take_float(key, low=0, low_open=True, high=MAX_RATE_PER_H)
        return (rate,) * n_intervals
    if key == "profile_csv":
        return _read_profile_csv(t, base_dir, n_intervals)
    values = t.take_list(key)
    paths = [f"{t.sub(key)}[{i}]" for i in range(len(values))]
    return _check_profile(values, t.source, t.sub(key), paths, n_intervals)


def _check_profile(values: list[Any], source: str, path: str, item_paths: list[str], n_intervals: int) -> tuple[float, ...]:
    """Rates per interval; ``item_paths`` name each value in messages."""
    if len(values) != n_intervals:
        raise ScenarioError(source, path, f"must have one rate per interval of the day ({n_intervals}), got {len(values)}")
    rates = tuple(check_number(v, where, source, low=0, high=MAX_RATE_PER_H) for v, where in zip(values, item_paths, strict=True))
    if not any(rates):
        raise ScenarioError(source, path, "must have a rate > 0 in some interval, got 0 everywhere")
    return rates


def _read_profile_csv(t: Table, base_dir: Path, n_intervals: int) -> tuple[float, ...]:
    """Rates from a CSV file with a ``calls_per_h`` column, one row per interval of the day."""
    path = base_dir / t.take_str("profile_csv")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's byte-order mark
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise t.error("profile_csv", f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise t.error("profile_csv", f"cannot read {path}: {exc}") from None
    if not rows or "calls_per_h" not in rows[0]:
        raise ScenarioError(str(path), "calls_per_h", "the CSV needs a header with a calls_per_h column and one row per interval")
    values = []
    for i, row in enumerate(rows):
        try:
            values.append(float(row["calls_per_h"]))
        except (TypeError, ValueError):
            raise ScenarioError(str(path), f"row {i + 2}: calls_per_h", f"must be a number, got {row['calls_per_h']!r}") from None
    paths = [f"row {i + 2}: calls_per_h" for i in range(len(values))]
    return _check_profile(values, str(path), "calls_per_h", paths, n_intervals)


def _read_weekday_factors(t: Table) -> tuple[float, ...]:
    values = t.take_list("weekday_factors", [1.0] * 7)
    if len(values) != 7:
        raise t.error("weekday_factors", f"must have 7 values (Monday to Sunday), got {len(values)}")
    path = t.sub("weekday_factors")
    factors = tuple(check_number(v, f"{path}[{i}]", t.source, low=0, high=100) for i, v in enumerate(values))
    if not any(factors):
        raise t.error("weekday_factors", "must be > 0 on some day, got 0 everywhere")
    return factors


def _read_routing(t: Table, pools: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, float], ...]]:
    if t.has("route") == t.has("split"):
        raise t.error("", "needs exactly one of route = [pools in order] or split = {pool = fraction}")
    if t.has("route"):
        route = t.take_list("route", min_len=1)
        for i, name in enumerate(route):
            _check_pool_name(t, f"{t.sub('route')}[{i}]", name, pools)
        if len(set(route)) != len(route):
            raise t.error("route", f"must not name a pool twice, got {route!r}")
        t.raw("split", None)
        return tuple(route), ()
    split = t.take_table("split")
    items = []
    for name, frac in split.data.items():
        _check_pool_name(t, split.sub(name), name, pools)
        items.append((name, check_number(frac, split.sub(name), t.source, low=0, high=1)))
    total = sum(f for _, f in items)
    if abs(total - 1.0) > 1e-9:
        raise t.error("split", f"fractions must sum to 1, got {total:g}")
    t.raw("route", None)
    return (), tuple(items)


def _near_key(t: Table, wanted: tuple[str, ...]) -> str:
    """' (did you mean 'x' for 'y'?)' when a key of ``t`` looks like one of ``wanted``."""
    for key in t.data:
        match = difflib.get_close_matches(key, wanted, n=1, cutoff=0.6)
        if match and key not in wanted:
            return f" (did you mean {match[0]!r} for {key!r}?)"
    return ""


def _check_pool_name(t: Table, path: str, name: Any, pools: tuple[str, ...]) -> None:
    if name not in pools:
        hint = suggest(str(name), pools)
        raise ScenarioError(t.source, path, f"unknown pool {name!r}{hint}; pools are {', '.join(pools)}")


# ---------------------------------------------------------------- distributions

#: parameter -> (lower bound, bound excluded): durations are > 0 (a zero handle time or repeat
#: delay would let a run loop without time passing); only a uniform's low end may be 0.
_PARAM_LIMITS = {"mean_s": (0.0, True), "cv": (0.0, True), "value_s": (0.0, True),
                 "low_s": (0.0, False), "high_s": (0.0, True)}


def _read_dist(t: Table, key: str, default: Distribution | None = None) -> Distribution:
    if default is not None:
        table = t.take_table(key, None)
        if table is None:
            return default
    else:
        table = t.take_table(key)
    name = table.take_str("dist", choices=tuple(DISTRIBUTIONS))
    cls, params = DISTRIBUTIONS[name]
    kwargs: dict[str, Any] = {}
    for param in params:
        if param == "values_s":
            values = table.take_list(param, min_len=1)
            kwargs[param] = tuple(check_number(v, f"{table.sub(param)}[{i}]", t.source, low=0, low_open=True,
                                               high=MAX_DURATION_S)
                                  for i, v in enumerate(values))
            continue
        low, open_ = _PARAM_LIMITS[param]
        high = 100.0 if param == "cv" else MAX_DURATION_S
        kwargs[param] = table.take_float(param, low=low, low_open=open_, high=high)
    if name == "uniform" and kwargs["high_s"] < kwargs["low_s"]:
        raise table.error("high_s", f"must be >= low_s ({kwargs['low_s']:g}), got {kwargs['high_s']:g}")
    table.done()
    return cls(**kwargs)
