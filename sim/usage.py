"""What each BPO pool did per client and billing month: the quantities its contracts bill, no prices.

Per (pool, client, month), over the calls of that client's call types only: answered calls,
billing increments of their billed times (handle or talk time, as the pool's contract's
``billing_basis`` says, under its own increment), the calls last offered
to the pool that were answered or abandoned (the SLA's offered calls), those answered within the
SLA threshold of reaching the pool, those abandoned, the contacts it answered and resolved, the
seconds its answered calls waited at it, their handle time as served, those answered within the
scenario's ``service_level_s`` of reaching the pool, and the client's share of the pool's paid
(scheduled) agent-hours: all of them when the pool serves one client, else in proportion to each
client's handled time in the month (equal shares in a month without handled calls). The contract
counted under is the pool's ``contract`` for the scenario's own client, ``contracts.<client>`` for
another. Pricing (experiments/results/pricing.py) turns these into invoices.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from models.billing import month_count, month_of
from models.invoicing import billed_increments
from models.scenario import Scenario
from sim.contacts import resolved
from sim.outcomes import ABANDONED, ANSWERED

#: counted from the calls, in this order in :func:`usage_counts`' last axis
CALL_COUNTS = ["answered_n", "billed_increments_n", "sla_offered_n", "sla_met_n", "abandoned_n", "resolved_n",
               "wait_answered_s", "handled_s", "within_sl_n"]
USAGE_COLUMNS = ["rep", "pool", "client", "month", *CALL_COUNTS, "paid_h"]


def usage_counts(arrays: dict[str, np.ndarray], scenario: Scenario, warmup_s: float,
                 horizon_s: float) -> np.ndarray:
    """Counts of shape (pools, clients, months, len(CALL_COUNTS)), clients as in
    ``scenario.clients``, counts in the order of :data:`CALL_COUNTS`.

    ``arrays`` holds per-call columns as from CallStore.views, with ``resolved`` (bool) or the
    ``u_res`` draws it is derived from.
    """
    months = month_count(warmup_s, horizon_s)
    clients = scenario.clients
    out = np.zeros((len(scenario.pools), len(clients), months, len(CALL_COUNTS)))
    keep = arrays["arrival_s"] >= warmup_s
    client_of = np.array([clients.index(ct.client) for ct in scenario.demand], dtype=np.int64)
    client = client_of[arrays["call_type"][keep].astype(np.int64)]
    month = month_of(arrays["arrival_s"][keep], warmup_s, months)
    outcome, pool, last = arrays["outcome"][keep], arrays["pool"][keep], arrays["last_pool"][keep]
    wait = arrays["pool_wait_s"][keep]
    if "resolved" in arrays:
        solved = arrays["resolved"][keep]
    else:
        solved = resolved(arrays, np.array([p.resolution_frac for p in scenario.pools]))[keep]
    handle = arrays["handle_s"][keep]
    for p, spec in enumerate(scenario.pools):
        for name in spec.clients:
            contract = spec.contract_for(name)
            assert contract is not None
            c = clients.index(name)
            mine = client == c
            answered = (outcome == ANSWERED) & (pool == p) & mine
            increments = np.zeros(len(month))
            billed_s = arrays[f"{contract.billing_basis}_s"][keep][answered]
            increments[answered] = billed_increments(billed_s, contract)
            abandoned = (last == p) & (outcome == ABANDONED) & mine
            threshold = contract.sl_threshold_s
            met = answered & (wait <= (np.inf if threshold is None else threshold))
            weights = (answered, increments, answered | abandoned, met, abandoned, answered & solved,
                       np.where(answered, wait, 0.0), np.where(answered, handle, 0.0),
                       answered & (wait <= scenario.service_level_s))
            for k, values in enumerate(weights):
                out[p, c, :, k] = np.bincount(month, weights=values.astype(float), minlength=months)
    return out


def paid_hours(pool: np.ndarray, start_s: np.ndarray, scheduled_n: np.ndarray, scenario: Scenario,
               warmup_s: float, horizon_s: float) -> np.ndarray:
    """Paid agent-hours of shape (pools, months): scheduled agents × interval length, by the
    billing month of each interval's start (intervals starting before the warm-up's end left out).

    Args:
        pool: Pool index of each (interval, pool) row.
        start_s: Start of each row's interval (s).
        scheduled_n: Agents scheduled (paid) in each row's interval.
    """
    months = month_count(warmup_s, horizon_s)
    keep = start_s >= warmup_s
    month = month_of(start_s[keep], warmup_s, months)
    index = pool[keep].astype(np.int64) * months + month
    hours = scheduled_n[keep] * (scenario.interval_s / 3600.0)
    totals = np.bincount(index, weights=hours.astype(float), minlength=len(scenario.pools) * months)
    return totals.reshape(len(scenario.pools), months)


def usage_frame(counts: np.ndarray, paid_h: np.ndarray, scenario: Scenario, rep: int) -> pd.DataFrame:
    """The usage table of one replication from its call counts and paid hours (BPO pools only, each
    client it serves, the scenario's own first, every month)."""
    clients = scenario.clients
    rows = []
    for p, spec in enumerate(scenario.pools):
        served = [clients.index(name) for name in spec.clients]
        for c, name in zip(served, spec.clients, strict=True):
            shares = paid_shares(counts[p][served][:, :, CALL_COUNTS.index("handled_s")], served.index(c))
            rows += [[rep, spec.name, scenario.client_name(name), m, *counts[p, c, m], paid_h[p, m] * shares[m]
                      if len(served) > 1 else paid_h[p, m]] for m in range(counts.shape[2])]
    frame = pd.DataFrame(rows, columns=USAGE_COLUMNS)
    floats = {"wait_answered_s", "handled_s", "paid_h"}
    text = {"pool", "client"}
    return frame.astype({name: float if name in floats else np.int64 for name in USAGE_COLUMNS if name not in text}
                        | dict.fromkeys(text, object))


def paid_shares(handled_s: np.ndarray, client: int) -> np.ndarray:
    """Per month, the share (0..1) of a pool's paid hours that falls to one of the clients it serves:
    its handled time over all of theirs, equal shares in a month without handled time.

    Args:
        handled_s: handled time (s) of shape (clients served, months).
        client: the row of ``handled_s`` whose shares are wanted.
    """
    total = handled_s.sum(axis=0)
    equal = np.full(handled_s.shape[1], 1.0 / handled_s.shape[0])
    shares: np.ndarray = np.where(total > 0, handled_s[client] / np.where(total > 0, total, 1.0), equal)
    return shares


def usage_from_calls(calls: pd.DataFrame, intervals: pd.DataFrame, scenario: Scenario, warmup_s: float,
                     horizon_s: float) -> pd.DataFrame:
    """The usage table recomputed from a saved calls table and intervals table (e.g. under other contracts)."""
    names = [p.name for p in scenario.pools]
    frames = []
    for rep, part in calls.groupby("rep", sort=True):
        arrays = {
            "arrival_s": part["arrival_s"].to_numpy(),
            "call_type": _call_types(part, scenario),
            "outcome": _codes(part["outcome"], ["answered", "abandoned"], [ANSWERED, ABANDONED]),
            "pool": _codes(part["pool"], names, range(len(names))),
            "last_pool": _codes(part["last_pool"], names, range(len(names))),
            "handle_s": part["handle_s"].to_numpy(),
            "pool_wait_s": part["pool_wait_s"].to_numpy(),
            "resolved": part["resolved"].to_numpy(dtype=bool),
        }
        if "talk_s" in part:  # needed by a contract with billing_basis = "talk"
            arrays["talk_s"] = part["talk_s"].to_numpy()
        counts = usage_counts(arrays, scenario, warmup_s, horizon_s)
        own = intervals[intervals["rep"] == rep]
        paid = paid_hours(_codes(own["pool"], names, range(len(names))), own["start_s"].to_numpy(dtype=float),
                          own["scheduled_n"].to_numpy(dtype=float), scenario, warmup_s, horizon_s)
        frames.append(usage_frame(counts, paid, scenario, int(rep)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=USAGE_COLUMNS)


def _call_types(calls: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Call-type codes of a calls table; a table without ``call_type`` is allowed when every call
    type is the scenario's own client's (the client is then all that counting needs)."""
    if "call_type" in calls:
        return _codes(calls["call_type"], [ct.name for ct in scenario.demand], range(len(scenario.demand)))
    if len(scenario.clients) > 1:
        raise ValueError("usage_from_calls: a scenario with several clients needs the calls' call_type column")
    return np.zeros(len(calls), dtype=np.int64)


def _codes(column: pd.Series, names: list[str], codes: Iterable[int]) -> np.ndarray:
    """Integer codes of a categorical or string column: ``names[i]`` -> ``codes[i]``, else -1."""
    position = pd.Index(names).get_indexer(column.astype(str))
    lookup = np.append(np.asarray(list(codes), dtype=np.int64), -1)
    coded: np.ndarray = lookup[position]
    return coded
