"""The Scenario: everything that describes the call center and the deal, nothing about how to run it.

Run controls (replications, seed, horizon, warm-up) live in ``RunSettings``, never here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from models.budget import BudgetCalendar
from models.demand import CallType, interval_count
from models.pools import Pool
from models.quality import QualityCosts

Staffing = Mapping[str, tuple[int, ...]]
"""Agents per interval of the day, by pool name."""


@dataclass(frozen=True)
class Scenario:
    """A validated, immutable description of one call center and its outsourcing deal.

    Attributes:
        name: label used in results and reports.
        demand: call types.
        pools: agent pools.
        currency: currency of every ``_cost`` column.
        interval_min: length of a staffing and reporting interval (minutes).
        service_level_s: threshold T of the service level "answered within T seconds".
        lines: maximum calls in the system (waiting + in service); ``None`` for unlimited.
        quality: the client's costs of poor service (a call type may have its own).
        source: the file it was loaded from (for messages), "" if built in code.
        calendar: seasons, growth and forecast error over the months of a budget (``[calendar]``,
            used by ``bposim budget`` only; ``None``: flat months, no growth, no forecast error).

    Its TOML table, when one is needed (sweeps), is derived from it: ``models.dumping``.
    """

    name: str
    demand: tuple[CallType, ...]
    pools: tuple[Pool, ...]
    currency: str = "USD"
    interval_min: int = 30
    service_level_s: float = 20.0
    lines: int | None = None
    quality: QualityCosts = QualityCosts()
    source: str = ""
    calendar: BudgetCalendar | None = None

    @property
    def interval_s(self) -> float:
        """Interval length in seconds."""
        return self.interval_min * 60.0

    @property
    def intervals_per_day(self) -> int:
        return interval_count(self.interval_min)

    def pool(self, name: str) -> Pool:
        """The pool called ``name`` (KeyError if none)."""
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise KeyError(name)

    def pool_index(self, name: str) -> int:
        return [p.name for p in self.pools].index(name)

    def with_agents(self, agents: Mapping[str, Sequence[int]]) -> Scenario:
        """A copy whose named pools get these agents per interval of the day (others unchanged); a
        shift plan of theirs is dropped (they are then paid by the schedule)."""
        pools = tuple(replace(p, agents=tuple(int(a) for a in agents[p.name]), shift_plan=()) if p.name in agents
                      else p for p in self.pools)
        return replace(self, pools=pools)

    def digest(self) -> str:
        """A short stable hash of the scenario's content (for ``meta`` and result folders)."""
        text = repr(replace(self, source=""))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def clients(self) -> tuple[str, ...]:
        """Every client, the scenario's own (``""``) first, then the others by first appearance
        in ``demand`` (a call type's ``client``)."""
        return ("", *dict.fromkeys(ct.client for ct in self.demand if ct.client))

    def client_name(self, client: str) -> str:
        """A client as named in results: ``""`` (the scenario's own) is the scenario's ``name``."""
        return client or self.name

    def quality_of(self, call_type: int) -> QualityCosts:
        """The costs of poor service of call type ``call_type`` (an index into ``demand``)."""
        own = self.demand[call_type].quality
        return replace(self.quality, **dict(own)) if own else self.quality

