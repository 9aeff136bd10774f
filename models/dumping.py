"""A Scenario back to its TOML table: the inverse of :mod:`models.loading`.

A scenario has one representation, the frozen dataclass. Whatever needs its table (sweeps set
values at dotted paths in it and rebuild; an optimiser writes a runnable file) derives it here, so
a scenario changed in code (``dataclasses.replace``) can never be reverted by a stale copy.

``scenario_from_dict(scenario_to_dict(s)) == s`` for every valid scenario (tests check it), except
that a vendor-staffed pool's plan (its agents) is not written: it loads unplanned, to be planned
again. Values are those of the dataclass, which keeps the file's units (rates per hour, seconds),
so the round trip is exact. A rate profile read from ``profile_csv`` comes back as ``profile_per_h``; a
constant profile or staffing as one number; a whole number as an integer (``540``, not ``540.0``,
as a person writes it: the loader reads either as the same float).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from models.budget import BudgetCalendar
from models.contracts import SLA, Contract, SLATerm, Tier
from models.demand import CallType
from models.distributions import DISTRIBUTIONS, Distribution
from models.pools import Pool
from models.quality import QualityCosts
from models.scenario import Scenario
from models.shifts import Shift, ShiftTemplate

_DIST_NAMES = {cls: name for name, (cls, _) in DISTRIBUTIONS.items()}


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The TOML table (plain dicts, lists, numbers, strings) that loads as ``scenario``."""
    table: dict[str, Any] = {
        "name": scenario.name,
        "currency": scenario.currency,
        "interval_min": scenario.interval_min,
        "service_level_s": scenario.service_level_s,
    }
    if scenario.lines is not None:
        table["lines"] = scenario.lines
    table["quality"] = _quality(scenario.quality)
    table["demand"] = [_call_type(ct) for ct in scenario.demand]
    table["pools"] = [_pool(p) for p in scenario.pools]
    if scenario.calendar is not None:
        table["calendar"] = {f.name: _listed(getattr(scenario.calendar, f.name)) for f in fields(BudgetCalendar)}
    whole: dict[str, Any] = _whole_numbers(table)
    return whole


def _whole_numbers(value: Any) -> Any:
    """``value`` with every float that is a whole number (below 2**53, exact) written as an int."""
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _listed(value: Any) -> Any:
    """A tuple as a list (TOML arrays), anything else as it is."""
    return list(value) if isinstance(value, tuple) else value


def dist_to_dict(dist: Distribution) -> dict[str, Any]:
    """``{"dist": name, <parameters>}`` of a distribution."""
    name = _DIST_NAMES[type(dist)]
    out: dict[str, Any] = {"dist": name}
    for key, attribute in DISTRIBUTIONS[name][1].items():
        value = getattr(dist, attribute)
        out[key] = _listed(value)
    return out


def _one_or_all(values: tuple[Any, ...]) -> Any:
    """One value if all are equal (as a file would say it), else the list."""
    return values[0] if len(set(values)) == 1 else list(values)


def _call_type(ct: CallType) -> dict[str, Any]:
    rates = _one_or_all(ct.rates_per_h)
    table: dict[str, Any] = {"name": ct.name}
    table["profile_per_h" if isinstance(rates, list) else "calls_per_h"] = rates
    if ct.talk is not None and ct.acw is not None:
        table["talk"], table["acw"] = dist_to_dict(ct.talk), dist_to_dict(ct.acw)
    elif ct.handle is not None:
        table["handle"] = dist_to_dict(ct.handle)
    table["patience"] = dist_to_dict(ct.patience)
    if ct.split:
        table["split"] = {name: frac for name, frac in ct.split}
    else:
        table["route"] = list(ct.route)
    table["overflow_after_s"] = ct.overflow_after_s
    if ct.priority:
        table["priority"] = ct.priority
    table["weekday_factors"] = list(ct.weekday_factors)
    table["daily_cv"] = ct.daily_cv
    if ct.redial is not None:
        table["redial"] = {"frac": ct.redial.frac, "after": dist_to_dict(ct.redial.after),
                           "max_attempts": ct.redial.max_attempts}
    if ct.quality:
        table["quality"] = dict(ct.quality)
    if ct.client:
        table["client"] = ct.client
    return table


def _quality(quality: QualityCosts) -> dict[str, float]:
    return {f.name: getattr(quality, f.name) for f in fields(QualityCosts)}


def _pool(pool: Pool) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": pool.name, "kind": pool.kind, "location": pool.location,
        "agents": _one_or_all(pool.agents), "shrinkage_frac": pool.shrinkage_frac,
        "handle_factor": pool.handle_factor, "resolution_frac": pool.resolution_frac,
        "repeat_after": dist_to_dict(pool.repeat_after),
        "open_h": list(pool.open_h), "open_days": list(pool.open_days),
    }
    if pool.shifts:
        table["shifts"] = [_template(t) for t in pool.shifts]
    if pool.shift_plan:  # the agents are derived from the plan (models/loading_shifts.py)
        del table["agents"]
        table["shift_plan"] = [_shift(s) for s in pool.shift_plan]
    if pool.staffing == "vendor":  # the vendor's plan is made at every run, never written down
        del table["agents"]
        table["staffing"] = pool.staffing
    if pool.kind == "inhouse" or pool.staffing == "vendor":
        table["wage_per_h"] = pool.wage_per_h
        table["burden"] = pool.burden
    elif pool.wage_per_h > 0:  # a client-staffed bpo pool's vendor wage (the vendor table's labour)
        table["vendor_wage_per_h"] = pool.wage_per_h
        table["vendor_burden"] = pool.burden
    if pool.kind == "bpo":
        if pool.contract is not None:  # none on a pool serving other clients only
            table["contract"] = contract_to_dict(pool.contract)
        if pool.contracts:
            table["contracts"] = {client: contract_to_dict(c) for client, c in pool.contracts}
        table["transition_cost"] = pool.transition_cost
        table["amortise_months"] = pool.amortise_months
    table["overhead_per_month"] = pool.overhead_per_month
    return table


def _template(template: ShiftTemplate) -> dict[str, Any]:
    return {"length_h": template.length_h, "starts_h": list(template.starts_h), "break_min": template.break_min}


def _shift(shift: Shift) -> dict[str, Any]:
    return {"start_h": shift.start_h, "length_h": shift.length_h, "break_min": shift.break_min,
            "agents": shift.agents}


def contract_to_dict(contract: Contract) -> dict[str, Any]:
    """The ``contract`` table of a BPO pool."""
    table: dict[str, Any] = {}
    for f in fields(Contract):
        value = getattr(contract, f.name)
        if f.name == "tiers":
            if value:
                table["tiers"] = [_tier(t) for t in value]
        elif f.name == "sla":
            if value is not None:
                table["sla"] = _sla(value)
        elif f.name == "sla_terms":
            if value:
                table["sla"] = [_term(t) for t in value]
        elif f.name in ("sla_cap_frac", "sla_bonus_cap_frac"):
            if contract.sla_terms:
                table[f.name] = value
        else:
            table[f.name] = value
    return table


def _tier(tier: Tier) -> dict[str, Any]:
    return {"per_minute": tier.per_minute} | ({} if tier.up_to_min is None else {"up_to_min": tier.up_to_min})


def _sla(sla: SLA) -> dict[str, Any]:
    return {f.name: getattr(sla, f.name) for f in fields(SLA)}


def _term(term: SLATerm) -> dict[str, Any]:
    table = {f.name: getattr(term, f.name) for f in fields(SLATerm)}
    return {key: value for key, value in table.items() if value is not None}
