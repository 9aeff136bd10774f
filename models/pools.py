"""Agent pools: who answers the calls, when, how fast, how well, and at what price."""

from __future__ import annotations

from dataclasses import dataclass

from models.contracts import Contract
from models.distributions import Distribution, Exponential
from models.shifts import Shift, ShiftTemplate

KINDS = ("inhouse", "bpo")
LOCATIONS = ("local", "offshore")
#: Who sets a pool's agents: the client (``agents`` as given) or, for a BPO pool, the vendor
#: (the fewest agents per interval that meet its contract's SLA: experiments/optimise/vendor.py).
STAFFINGS = ("client", "vendor")


@dataclass(frozen=True)
class Pool:
    """A group of agents, in-house or at an outsourcer.

    Attributes:
        name: identifier used in routes and results (``pool`` column).
        kind: ``inhouse`` (paid by the hour) or ``bpo`` (paid by contract).
        location: ``local`` or ``offshore``.
        agents: scheduled agents for each interval of the day (heads on the schedule, paid); empty
            for a vendor-staffed pool until the vendor has planned it (see ``staffing``).
        shrinkage_frac: share of scheduled time not available for calls (breaks, training).
        handle_factor: multiplies a caller's handle time when this pool serves it.
        resolution_frac: first-contact resolution; an unresolved call comes back as a repeat.
        repeat_after: delay between the end of an unresolved call and its repeat (seconds).
        open_h: opening window (start, end) in hours of the client's clock; end < start wraps
            past midnight; outside it the pool has no agents.
        open_days: weekdays the pool is open (0 = Monday).
        wage_per_h: hourly wage (currency/h): the client's, in-house; the vendor's own (internal,
            not billed to the client) on a BPO pool, required when the vendor staffs it, optional
            otherwise; 0 when not known (the vendor's labour is then NaN).
        burden: fully loaded multiplier of the wage (benefits, facilities, overhead).
        contract: the BPO contract with the scenario's own client (``None`` for in-house pools, and
            for a BPO pool that serves other clients only: it bills the scenario's own client nothing).
        contracts: the BPO pool's contracts with other clients, (client, contract) pairs in file
            order; empty when the pool serves the scenario's own client only.
        overhead_per_month: fixed cost of running the pool per 30-day month (currency/month):
            supervision, seats and licences in-house; vendor management and governance for a BPO.
        transition_cost: one-off cost of moving the calls to a BPO pool (currency), spread over
            ``amortise_months`` months of the contract.
        amortise_months: months over which ``transition_cost`` is spread (> 0).
        shifts: in-house shift templates the optimiser may plan with (models/shifts.py).
        shift_plan: in-house agents per shift; when given, ``agents`` is its coverage (agents
            taking calls per interval, breaks left out) and the pool is paid by the shifts.
        staffing: who sets ``agents``: ``client`` or (BPO only) ``vendor``, see :data:`STAFFINGS`.
    """

    name: str
    kind: str
    location: str
    agents: tuple[int, ...]
    shrinkage_frac: float = 0.0
    handle_factor: float = 1.0
    resolution_frac: float = 1.0
    repeat_after: Distribution = Exponential(86400.0)
    open_h: tuple[float, float] = (0.0, 24.0)
    open_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    wage_per_h: float = 0.0
    burden: float = 1.0
    contract: Contract | None = None
    contracts: tuple[tuple[str, Contract], ...] = ()
    overhead_per_month: float = 0.0
    transition_cost: float = 0.0
    amortise_months: float = 12.0
    shifts: tuple[ShiftTemplate, ...] = ()
    shift_plan: tuple[Shift, ...] = ()
    staffing: str = "client"

    def contract_for(self, client: str) -> Contract | None:
        """The contract billing ``client``'s calls here (``""``: the scenario's own client);
        None if the pool has none with that client."""
        if not client:
            return self.contract
        return dict(self.contracts).get(client)

    @property
    def clients(self) -> tuple[str, ...]:
        """The clients this BPO pool bills: the scenario's own (``""``) first when it has ``contract``,
        then the others of ``contracts``; empty in-house."""
        others = tuple(name for name, _ in self.contracts)
        return ("", *others) if self.contract is not None else others

    @property
    def planned(self) -> bool:
        """Whether the agents are known: always for a client-staffed pool, once the vendor has
        planned them for a vendor-staffed one."""
        return self.staffing != "vendor" or bool(self.agents)

    def is_open(self, day: int, hour: float) -> bool:
        """Whether the window covers ``hour`` (0..24) of ``day``; a window past midnight
        belongs to the day it opens."""
        start, end = self.open_h
        if end - start >= 24 or (start == 0 and end == 24):
            return day % 7 in self.open_days
        if start <= end:
            return start <= hour < end and day % 7 in self.open_days
        if hour >= start:
            return day % 7 in self.open_days
        return hour < end and (day - 1) % 7 in self.open_days

    def scheduled(self, day: int, interval: int, interval_h: float) -> int:
        """Scheduled (paid) agents in ``interval`` of ``day``: zero while closed."""
        if not self.planned:
            raise ValueError(f"pool {self.name!r} is staffed by the vendor and not planned yet: run it through "
                             "experiments.results.run(), which plans it")
        hour = interval * interval_h
        return self.agents[interval] if self.is_open(day, hour) else 0

    def available(self, scheduled: int) -> int:
        """Agents taking calls out of ``scheduled`` after shrinkage (rounded half up)."""
        return int(scheduled * (1.0 - self.shrinkage_frac) + 0.5 + 1e-9)

    def fixed_cost_per_month(self) -> float:
        """Overhead plus amortised transition, per 30-day month (the scenario's currency)."""
        return self.overhead_per_month + self.transition_cost / self.amortise_months

