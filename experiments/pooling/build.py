"""The scenario of N clients at one vendor pool: ours and N − 1 copies of our calls.

Each copy's call types are ours renamed (``support.client2``), so its random streams are
independent of ours (streams are keyed by call type name, sim/streams.py) while client k's calls
are the same whatever N: the points of a study share their callers (common random numbers).
Only the chosen vendor pool is kept (with the dedicated pools of ``dedicated``), and every call of
every client is routed there. Three ways of sharing (:data:`POLICIES`):

- ``shared``: one queue, first come first served across clients (today's behaviour);
- ``priority``: our calls are answered before the other clients' (non-preemptive classes);
- ``dedicated``: each client has ``dedicated`` agents of its own and overflows to a shared group,
  which the optimiser staffs (the dedicated agents are fixed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from models.demand import CallType
from models.pools import Pool
from models.scenario import Scenario

POLICIES = ("shared", "priority", "dedicated")


@dataclass(frozen=True)
class Sharing:
    """How the clients share the vendor.

    Attributes:
        pool: The vendor's pool (a BPO pool of the scenario).
        policy: One of :data:`POLICIES`.
        dedicated: Agents of each client's own pool (``dedicated`` only, >= 1).
        overflow_after_s: With ``dedicated``: a client's call may go to the shared group once it
            has waited this long (s); 0 = to whichever of the two frees an agent first, its own first.
    """

    pool: str
    policy: str = "shared"
    dedicated: int = 0
    overflow_after_s: float = 0.0


def vendor_pool(scenario: Scenario, name: str | None) -> Pool:
    """The pool the study is about: ``name``, else the scenario's only BPO pool; ValueError (one line),
    also for a scenario with ``lines`` (a limit of calls in the system that every client's calls
    would share: refused with several clients, docs/scenarios.md)."""
    if scenario.lines is not None:
        raise ValueError(f"{scenario.source or scenario.name}: lines: a limit of calls in the system would be shared "
                         "by every client's calls; remove it to study several clients")
    bpo = [p.name for p in scenario.pools if p.kind == "bpo"]
    if not bpo:
        raise ValueError(f"{scenario.source or scenario.name}: no bpo pool: the pooling study needs the vendor's "
                         "pool (kind = \"bpo\")")
    if name is None:
        if len(bpo) != 1:
            raise ValueError(f"--pool: the scenario has {len(bpo)} bpo pools ({', '.join(bpo)}); name the vendor's")
        name = bpo[0]
    if name not in bpo:
        raise ValueError(f"--pool {name!r}: not a bpo pool of the scenario; bpo pools: {', '.join(bpo) or 'none'}")
    pool = scenario.pool(name)
    if pool.wage_per_h <= 0:
        raise ValueError(f"pool {name!r}: the vendor's labour needs its wage: give the pool vendor_wage_per_h "
                         "(and vendor_burden), or --vendor-wage-per-h")
    return pool


def with_vendor_wage(scenario: Scenario, name: str | None, wage_per_h: float) -> Scenario:
    """``scenario`` with the vendor's wage of its pool ``name`` (default: its only BPO pool) set."""
    if not (wage_per_h > 0 and wage_per_h < float("inf")):
        raise ValueError(f"--vendor-wage-per-h must be a number > 0, got {wage_per_h:g}")
    bpo = [p.name for p in scenario.pools if p.kind == "bpo"]
    chosen = name if name is not None else bpo[0] if len(bpo) == 1 else None
    return replace(scenario, pools=tuple(replace(p, wage_per_h=wage_per_h) if p.name == chosen else p
                                         for p in scenario.pools))


def client_name(k: int, scenario: Scenario) -> str:
    """The k-th client (1 = the scenario's own, named like it; then ``client2``, ``client3``...)."""
    return scenario.name if k == 1 else f"client{k}"


def own_types(scenario: Scenario) -> list[CallType]:
    """The scenario's own client's call types."""
    return [ct for ct in scenario.demand if not ct.client or ct.client == scenario.name]


def pooled(scenario: Scenario, sharing: Sharing, n: int) -> Scenario:
    """The scenario of ``n`` clients at the vendor's pool under ``sharing`` (see the module)."""
    base = scenario.pool(sharing.pool)
    base = replace(base, staffing="client", agents=base.agents or (1,) * scenario.intervals_per_day)
    clients = [client_name(k, scenario) for k in range(1, n + 1)]
    ours = own_types(scenario)
    top = max(ct.priority for ct in ours) - min(ct.priority for ct in ours) + 1
    demand, pools = [], []
    for k, client in enumerate(clients, start=1):
        route = (f"{base.name}.{client}", base.name) if sharing.policy == "dedicated" else (base.name,)
        lift = top if sharing.policy == "priority" and k == 1 else 0
        for ct in ours:
            demand.append(replace(ct, name=ct.name if k == 1 else f"{ct.name}.{client}",
                                  client="" if k == 1 else client, route=route, split=(),
                                  overflow_after_s=sharing.overflow_after_s, priority=ct.priority + lift))
        if sharing.policy == "dedicated":
            pools.append(_dedicated(base, client, k == 1, sharing.dedicated, scenario.intervals_per_day))
    others = tuple((c, base.contract) for c in clients[1:] if base.contract is not None)
    pools.append(replace(base, contracts=others))
    return replace(scenario, demand=tuple(demand), pools=tuple(pools))


def _dedicated(base: Pool, client: str, ours: bool, agents: int, per_day: int) -> Pool:
    """A client's own pool: the vendor pool's agents, serving that client only, under its contract
    (another client's pool has no contract with us: we are not billed there)."""
    if ours:  # its fixed costs stay with the shared group's contract (counted once)
        return replace(base, name=f"{base.name}.{client}", agents=(agents,) * per_day, contracts=(),
                       overhead_per_month=0.0, transition_cost=0.0)
    return replace(base, name=f"{base.name}.{client}", agents=(agents,) * per_day, contract=None,
                   contracts=((client, base.contract),) if base.contract is not None else (),
                   overhead_per_month=0.0, transition_cost=0.0)
