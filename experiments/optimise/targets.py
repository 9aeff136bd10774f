"""Service targets of a staffing optimisation: ``[POOL:]METRIC OP VALUE``.

Metrics are those of the ``intervals`` table (models/metrics.py), each with the one direction that
makes sense: more agents raise ``sl_frac`` and lower ``asa_s``, ``abandon_frac`` and
``occupancy_frac``. A target without a pool applies to all pools together (``overall``).

A client's target, ``@CLIENT:METRIC OP VALUE``, applies to one client's calls (its call types) over
every pool, as its callers see them (the ``contacts`` table's counts, docs/results.md), over the
whole measured period: ``sl_frac``, ``asa_s`` or ``abandon_frac``. The scenario's own client is
named like the scenario.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from models.fields import suggest
from models.scenario import Scenario

#: metric -> the comparison a target on it must use
DIRECTIONS: dict[str, str] = {"sl_frac": ">=", "asa_s": "<=", "abandon_frac": "<=", "occupancy_frac": "<="}
OVERALL = "overall"
CLIENT_METRICS = ("sl_frac", "asa_s", "abandon_frac")
_PATTERN = re.compile(r"^\s*(?:(?:@(?P<client>[^:<>=\s]+)|(?P<pool>[^:<>=@\s]+))\s*:\s*)?"
                      r"(?P<metric>[a-z_]+)\s*(?P<op><=|>=)\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class Target:
    """One service target.

    Attributes:
        metric: One of :data:`DIRECTIONS`.
        op: ``">="`` or ``"<="`` (the metric's direction).
        value: The bound: a fraction in [0, 1], or seconds for ``asa_s``.
        pool: The pool it applies to, or :data:`OVERALL` for all pools together.
        client: The client whose calls it applies to (over every pool, the whole measured
            period), or ``""`` for every client's calls.
    """

    metric: str
    op: str
    value: float
    pool: str = OVERALL
    client: str = ""

    @property
    def text(self) -> str:
        """The target as written: ``"offshore:sl_frac>=0.8"``, ``"@acme:sl_frac>=0.8"``."""
        head = f"@{self.client}:" if self.client else "" if self.pool == OVERALL else f"{self.pool}:"
        return f"{head}{self.metric}{self.op}{self.value:g}"

    def met_by(self, bound: float) -> bool:
        """Whether a (conservative) estimate ``bound`` of the metric meets the target."""
        return bound >= self.value if self.op == ">=" else bound <= self.value

    def gap(self, estimate: float) -> float:
        """How far ``estimate`` is on the wrong side of the target (<= 0 when met)."""
        return self.value - estimate if self.op == ">=" else estimate - self.value


def parse_target(text: str, scenario: Scenario, label: str = "--target") -> Target:
    """The target written ``[POOL:]METRIC OP VALUE``; ValueError (one line, allowed values) if bad.

    ``label`` names where it was written in messages (``--target``, or a sweep file's field).
    """
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"{label} {text!r}: write [POOL:]METRIC>=VALUE or <=VALUE, e.g. 'sl_frac>=0.8', "
                         f"'offshore:abandon_frac<=0.05' or, for one client's calls, '@acme:sl_frac>=0.8'")
    metric, op, pool = match["metric"], match["op"], match["pool"] or OVERALL
    if metric not in DIRECTIONS:
        raise ValueError(f"{label} {text!r}: unknown metric {metric!r}{suggest(metric, tuple(DIRECTIONS))}; "
                         f"allowed: {', '.join(DIRECTIONS)}")
    if op != DIRECTIONS[metric]:
        better = "higher" if DIRECTIONS[metric] == ">=" else "lower"
        raise ValueError(f"{label} {text!r}: {metric} is better {better}, so its target is {metric}"
                         f"{DIRECTIONS[metric]}VALUE")
    names = tuple(p.name for p in scenario.pools)
    if pool != OVERALL and pool not in names:
        raise ValueError(f"{label} {text!r}: no pool {pool!r}{suggest(pool, names)}; pools: {', '.join(names)}")
    client = match["client"] or ""
    if client:
        _check_client(text, metric, client, scenario, label)
    return Target(metric, op, _value(text, metric, match["value"], label), pool, client)


def client_names(scenario: Scenario) -> tuple[str, ...]:
    """Every client with calls in the scenario, the scenario's own (named like it) first."""
    return tuple(dict.fromkeys([scenario.name, *(ct.client or scenario.name for ct in scenario.demand)]))


def client_types(scenario: Scenario, client: str) -> tuple[str, ...]:
    """The names of ``client``'s call types (the scenario's own: those without a ``client``)."""
    return tuple(ct.name for ct in scenario.demand if (ct.client or scenario.name) == client)


def _check_client(text: str, metric: str, client: str, scenario: Scenario, label: str) -> None:
    names = client_names(scenario)
    if client not in names:
        raise ValueError(f"{label} {text!r}: no client {client!r}{suggest(client, names)}; "
                         f"clients: {', '.join(names)}")
    if metric not in CLIENT_METRICS:
        raise ValueError(f"{label} {text!r}: a client's target is on {', '.join(CLIENT_METRICS)}, not {metric}")


def _value(text: str, metric: str, raw: str, label: str) -> float:
    """The target's bound, checked: seconds >= 0 for asa_s, else a fraction in (0, 1)."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{label} {text!r}: the value must be a number, got {raw!r}") from None
    if metric == "asa_s":
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{label} {text!r}: asa_s must be a number of seconds > 0, got {raw}")
    elif not 0.0 < value < 1.0:
        raise ValueError(f"{label} {text!r}: {metric} must be a fraction strictly between 0 and 1, got {raw}")
    return value


def parse_targets(texts: Sequence[str], vary: Sequence[str] | None, scenario: Scenario,
                  label: str = "--target", per_interval: bool = False) -> tuple[tuple[Target, ...], tuple[str, ...]]:
    """The targets and the varied pools (default: every pool whose agents the client sets), each
    checked; ValueError (one line) if bad. ``label`` names where they were written in messages;
    ``per_interval``: the targets are to be judged per interval (a client's target cannot be)."""
    targets = tuple(parse_target(text, scenario, label) for text in texts)
    for target in targets:
        if target.client and per_interval:
            where = "--per-interval" if label == "--target" else "per_interval = true"
            raise ValueError(f"{label} {target.text!r}: a client's target is judged over the whole measured "
                             f"period, not per interval: drop {where} or the '@{target.client}:'")
    names = tuple(p.name for p in scenario.pools)
    client = tuple(p.name for p in scenario.pools if p.staffing == "client")
    chosen = tuple(dict.fromkeys(vary)) if vary else client
    flag = "--vary" if label == "--target" else "vary"
    for name in chosen:
        if name not in names:
            raise ValueError(f"{flag} {name!r}: no such pool{suggest(name, names)}; pools: {', '.join(names)}")
        if name not in client:
            raise ValueError(f"{flag} {name!r}: its agents are set by the vendor (staffing = \"vendor\"), "
                             "not by the client")
    if not chosen:
        raise ValueError("no pool to vary: every pool's agents are set by the vendor")
    return targets, chosen
