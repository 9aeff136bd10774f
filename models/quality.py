"""The client's cost of poor service: what lost callers, redials, repeat contacts and waiting cost.

Poor service is never free for the client: a caller who gives up may be a lost sale or a lost
customer, a redial or a repeat contact is the client's customer spending effort again, and waiting
is time the client's customers lose. These costs are set per scenario (``[quality]``) and may be
overridden per call type (a ``quality`` table in ``[[demand]]``); all default to 0, all are in the
scenario's currency. They are priced after the run from the ``contacts`` table (results/pricing.py)
and included in every total the report ranks by (``total_with_quality_cost``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

#: keys of a ``quality`` table, in order
QUALITY_KEYS = ("lost_cost", "redial_cost", "repeat_cost", "wait_cost_per_h")


@dataclass(frozen=True)
class QualityCosts:
    """Money per unit of poor service (the scenario's currency).

    Attributes:
        lost_cost: per contact that leaves unserved for good (its last attempt abandoned or blocked).
        redial_cost: per redial attempt (attempt 2, 3, ... of a contact).
        repeat_cost: per repeat contact, caused by an unresolved first contact.
        wait_cost_per_h: per hour spent waiting, every attempt.
    """

    lost_cost: float = 0.0
    redial_cost: float = 0.0
    repeat_cost: float = 0.0
    wait_cost_per_h: float = 0.0

    def is_zero(self) -> bool:
        """True when poor service costs nothing here (every key 0)."""
        return all(getattr(self, f.name) == 0 for f in fields(self))

    def cost(self, lost_n: float, redial_n: float, repeat_n: float, wait_s: float) -> float:
        """The cost of these counts (contacts, attempts, contacts, seconds waited)."""
        return (self.lost_cost * lost_n + self.redial_cost * redial_n + self.repeat_cost * repeat_n
                + self.wait_cost_per_h * wait_s / 3600.0)
