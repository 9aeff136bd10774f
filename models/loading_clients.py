"""Clients at loading: a BPO pool's ``contracts`` with other clients, and the checks that tie call
types' ``client`` to the contracts of the pools they reach.

A call type without ``client`` (or naming the scenario) is the scenario's own client's, billed under
each BPO pool's ``contract`` (which a pool serving other clients only leaves out); one naming another
client is billed under that pool's ``contracts.<client>``. The scenario's own call types reach no BPO
pool without ``contract``. Every call type of another client must reach BPO pools only, each with a
contract for that client, and every such contract must have a call type of its client routed to it.
A scenario with other clients' calls has no ``lines`` (they would be shared with those clients).
"""

from __future__ import annotations

from collections.abc import Callable

from models.contracts import Contract
from models.fields import ScenarioError, Table, suggest
from models.scenario import Scenario


def read_contracts(t: Table | None, read: Callable[[Table], Contract]) -> tuple[tuple[str, Contract], ...]:
    """A BPO pool's ``contracts = { acme = {...}, ... }`` as (client, contract) pairs in file order;
    ``read`` reads one contract table (models/loading.py's)."""
    if t is None:
        return ()
    pairs = []
    for client in list(t.data):
        if not client.strip():
            raise t.error(client, "a client's name must not be empty")
        pairs.append((client, read(t.take_table(client))))
    t.done()
    return tuple(pairs)


def check_clients(scenario: Scenario) -> None:
    """Raise :class:`ScenarioError` (the first problem: file, field path, message) unless every
    call type's client has a contract at each BPO pool it reaches and every contract a call type,
    and a scenario with other clients' calls leaves ``lines`` out."""
    _check_lines(scenario)
    _check_call_types(scenario)
    _check_contracts(scenario)


def _check_lines(scenario: Scenario) -> None:
    """No ``lines`` with another client's calls: the limit counts every call in the system, so our
    blocked calls would depend on the other clients' traffic (not ours to limit, nor to pay for)."""
    if scenario.lines is None:
        return
    for j, ct in enumerate(scenario.demand):
        if ct.client:
            raise ScenarioError(scenario.source, "lines", f"cannot limit the lines of a scenario with another "
                                f"client's calls (demand[{j}].client = {ct.client!r}): the limit would count "
                                "their calls with ours, so our blocked calls would depend on their traffic; "
                                "leave lines out")


def _check_call_types(scenario: Scenario) -> None:
    """Each other client's call type: a known client, reaching BPO pools with its contract only."""
    known = tuple(dict.fromkeys(name for pool in scenario.pools for name, _ in pool.contracts))
    for j, ct in enumerate(scenario.demand):
        if not ct.client:
            _check_own_call_type(scenario, j)
            continue
        where = f"demand[{j}].client"
        if ct.client not in known:
            listed = ", ".join(repr(k) for k in known) or "none"
            raise ScenarioError(scenario.source, where, f"unknown client {ct.client!r}{suggest(ct.client, known)}; "
                                f"clients with a contract at a bpo pool (pools[].contracts): {listed}")
        for name in ct.reaches:
            pool = scenario.pool(name)
            if pool.kind != "bpo":
                raise ScenarioError(scenario.source, where, f"{ct.client!r} is another client; its calls may "
                                    f"reach bpo pools only, not the in-house pool {name!r}")
            if pool.contract_for(ct.client) is None:
                raise ScenarioError(scenario.source, where, f"{ct.client!r} has no contract at pool {name!r}, "
                                    f"which this call type reaches; give pools[{scenario.pool_index(name)}]"
                                    f".contracts.{ct.client}")


def check_own_contracts(scenario: Scenario) -> None:
    """Raise :class:`ScenarioError` if a call type of the scenario's own client reaches a bpo pool
    without ``contract`` (e.g. after repricing it away)."""
    for j, ct in enumerate(scenario.demand):
        if not ct.client:
            _check_own_call_type(scenario, j)


def _check_own_call_type(scenario: Scenario, j: int) -> None:
    """The scenario's own call type ``j`` reaches no bpo pool without ``contract`` (one serving
    other clients only: it would answer our calls and bill nobody)."""
    ct = scenario.demand[j]
    for name in ct.reaches:
        pool = scenario.pool(name)
        if pool.kind == "bpo" and pool.contract is None:
            i = scenario.pool_index(name)
            raise ScenarioError(scenario.source, f"pools[{i}].contract", f"is required: call type {ct.name!r} "
                                f"(demand[{j}], the scenario's own client's) reaches this pool, which bills the "
                                "scenario's own client under contract")


def _check_contracts(scenario: Scenario) -> None:
    """Each pool's ``contracts.<client>``: not the scenario's own client, and a call type of that
    client routed to the pool."""
    for i, pool in enumerate(scenario.pools):
        for client, _ in pool.contracts:
            where = f"pools[{i}].contracts.{client}"
            if client == scenario.name:
                raise ScenarioError(scenario.source, where, f"{client!r} is the scenario's own client; "
                                    f"its contract is pools[{i}].contract")
            if not any(ct.client == client for ct in scenario.demand):
                raise ScenarioError(scenario.source, where, f"no call type has client = {client!r}; give its "
                                    "calls a [[demand]] table with client, or drop this contract")
            if not any(ct.client == client and pool.name in ct.reaches for ct in scenario.demand):
                raise ScenarioError(scenario.source, where, f"no call type of client {client!r} is routed to "
                                    f"pool {pool.name!r} (route, or split with a fraction > 0)")
