"""Agents on duty per interval, estimated from a call log's ``agent`` column (docs/calibrate.md,
"Estimating staffing from the agent column").

The log shows when each agent served a call, not when the agent was there. The default estimator,
``presence_queue``, combines two facts:

- **presence**: an agent is on duty from the start of a service to the end of the next one when
  the gap between them is at most ``gap_min`` minutes (a longer gap is a break or the end of a
  shift); a lone service counts only while it lasts;
- **queue test**: a work-conserving switch never lets a caller wait while an available agent is
  idle, so whenever some caller is waiting, the agents available are exactly the agents busy
  (present agents who are idle then are doing other work, and do not count).

So at each second, agents = busy if a caller waits, else max(present, busy); the estimate of an
interval is the mean over its seconds. The alternatives kept for comparison: ``busy`` (busy time
over a fixed occupancy, wrong when the load is light), ``active`` (agents with a service in the
interval) and ``presence`` (without the queue test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.errors import CallLogError

#: estimator name -> one-line description (the ``method`` attribute of the estimates)
METHODS = {
    "presence_queue": "agents present (services joined by gaps up to {gap:g} min, or up to {max_gap:g} min "
                      "when the others took at most {per:g} calls each in it), only the busy ones while a caller waits",
    "presence": "agents present (services joined by gaps up to {gap:g} min, or up to {max_gap:g} min when the "
                "others took at most {per:g} calls each in it)",
    "active": "distinct agents with a service overlapping the interval",
    "busy": "busy agent-time / interval / occupancy {occ:g}",
}
#: a gap between two services of an agent up to this is on duty (min)
GAP_MIN = 15.0
#: a gap up to this is on duty if the others took few calls in it (min), see :func:`_presence`
MAX_GAP_MIN = 180.0
#: on average at most this many services started per other agent in a gap still on duty
PER_AGENT_N = 2.0
#: occupancy assumed by the ``busy`` estimator (fraction)
OCCUPANCY_FRAC = 0.85


def _services(log: pd.DataFrame) -> pd.DataFrame:
    """Answered calls with an agent: ``agent``, ``start``, ``end`` (datetime64[ns])."""
    if "agent" not in log.columns:
        raise CallLogError("the call log has no 'agent' column: give the staffing instead (--staffing)")
    answered = log[(log["outcome"] == "answered") & log["agent"].notna() & (log["agent"].astype(str) != "")]
    if answered.empty:
        raise CallLogError("the call log has no answered call with an agent: cannot estimate staffing")
    start = answered["arrival"] + pd.to_timedelta(answered["wait_s"], unit="s")
    return pd.DataFrame({"agent": answered["agent"].astype(str).to_numpy(), "start": start.to_numpy(),
                         "end": (start + pd.to_timedelta(answered["handle_s"], unit="s")).to_numpy()})


def _seconds(times: pd.Series | np.ndarray, origin: np.datetime64) -> np.ndarray:
    """Whole seconds since ``origin`` (rounded), int64."""
    delta = (np.asarray(times, dtype="datetime64[ns]") - origin) / np.timedelta64(1, "s")
    return np.rint(delta).astype(np.int64)


def _count(starts: np.ndarray, ends: np.ndarray, n: int) -> np.ndarray:
    """Number of spans [start, end) covering each second 0..n-1."""
    keep = ends > starts
    diff = (np.bincount(np.clip(starts[keep], 0, n), minlength=n + 1)
            - np.bincount(np.clip(ends[keep], 0, n), minlength=n + 1))
    return np.cumsum(diff[:n], dtype=np.int32)


def _others_per_gap(start: np.ndarray, agent: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each gap (lo, hi) of an agent: services other agents started in it, and how many other
    agents started one (``start``, ``agent``: every service; the gap's own agent has none in it)."""
    total = np.zeros(len(lo), dtype=np.int64)
    distinct = np.zeros(len(lo), dtype=np.int64)
    for name in np.unique(agent):
        own = np.sort(start[agent == name])
        n = np.searchsorted(own, hi, side="left") - np.searchsorted(own, lo, side="right")
        total += n
        distinct += n > 0
    return total, distinct


def _presence(services: pd.DataFrame, origin: np.datetime64, gap_s: float, max_gap_s: float,
              per_agent: float) -> tuple[np.ndarray, np.ndarray]:
    """Sessions [first, last) in seconds from ``origin``: an agent's services joined, so that each
    agent present counts once.

    Two services of an agent are in one session when the gap between them is at most ``gap_s``, or
    at most ``max_gap_s`` and the other agents started at most ``per_agent`` services each on
    average in it (a longest-idle-agent switch gives an idle agent the next call after each agent
    idle longer took one: an agent on duty waits about one call per colleague).
    """
    ordered = services.sort_values(["agent", "start"], kind="stable")
    start = _seconds(ordered["start"], origin)
    end = _seconds(ordered["end"], origin)
    agent = ordered["agent"].to_numpy()
    # the running end of an agent's services so far (overlapping services of one agent merge)
    run_end = pd.Series(end).groupby(agent).cummax().to_numpy()
    same_agent = agent[1:] == agent[:-1]
    gap = start[1:] - run_end[:-1]
    joined = same_agent & (gap <= gap_s)
    maybe = np.flatnonzero(same_agent & (gap > gap_s) & (gap <= max_gap_s))
    if len(maybe):
        total, distinct = _others_per_gap(start, agent, run_end[:-1][maybe], start[1:][maybe])
        joined[maybe] = total <= per_agent * np.maximum(distinct, 1)
    heads = np.flatnonzero(np.r_[True, ~joined])
    first = np.minimum.reduceat(start, heads)
    last = np.maximum.reduceat(run_end, heads)
    return first, last


#: days counted at once (memory: about 30 bytes per second of a chunk)
CHUNK_DAYS = 7


def _interval_means(log: pd.DataFrame, method: str, gap_min: float, origin: np.datetime64, days: int,
                    interval_s: int) -> np.ndarray:
    """Mean estimated agents per interval from ``origin`` over ``days``, by ``method``.

    Per second: busy / occupancy (``busy``); max(present, busy) (``presence``); busy while a
    caller waits, else max(present, busy) (``presence_queue``). Counted a week at a time.
    """
    services = _services(log)
    busy = (_seconds(services["start"], origin), _seconds(services["end"], origin))
    present = _presence(services, origin, gap_min * 60.0, MAX_GAP_MIN * 60.0, PER_AGENT_N)
    waited = log[log["wait_s"] > 0]
    waiting = (_seconds(waited["arrival"], origin),
               _seconds(waited["arrival"] + pd.to_timedelta(waited["wait_s"], unit="s"), origin))
    means = []
    for lo in range(0, days * 86400, CHUNK_DAYS * 86400):
        n = min(CHUNK_DAYS * 86400, days * 86400 - lo)
        busy_n = _count(busy[0] - lo, busy[1] - lo, n)
        if method == "busy":
            agents = busy_n / OCCUPANCY_FRAC
        else:
            agents = np.maximum(_count(present[0] - lo, present[1] - lo, n), busy_n).astype(np.float64)
            if method == "presence_queue":
                agents = np.where(_count(waiting[0] - lo, waiting[1] - lo, n) > 0, busy_n, agents)
        means.append(agents.reshape(-1, interval_s).mean(axis=1))
    return np.concatenate(means)


def _active(log: pd.DataFrame, origin: np.datetime64, n_intervals: int, interval_s: int) -> np.ndarray:
    """Distinct agents with a service overlapping each interval."""
    services = _services(log)
    first = _seconds(services["start"], origin) // interval_s
    last = np.maximum(first, (_seconds(services["end"], origin) - 1) // interval_s)
    pairs = {(a, k) for a, f, lo in zip(services["agent"], first, last, strict=True) for k in range(f, lo + 1)}
    counts = np.zeros(n_intervals)
    for _, k in pairs:
        if 0 <= k < n_intervals:
            counts[k] += 1
    return counts


def estimate_staffing_by_date(log: pd.DataFrame, interval_min: int = 30, method: str = "presence_queue",
                              gap_min: float = GAP_MIN) -> pd.DataFrame:
    """Mean agents on duty per (date, interval) of the log's calendar.

    Args:
        log: a tidy call log (docs/calibrate.md) with an ``agent`` column.
        interval_min: interval length (min), dividing 1440.
        method: one of :data:`METHODS` (default ``presence_queue``, see the module's docstring).
        gap_min: longest gap between an agent's services still counted on duty (min).

    Returns:
        columns ``date`` (datetime64, midnight), ``interval_start_h`` (hours), ``agents`` (mean
        agents on duty in the interval, float); every interval of every date from the log's first
        to its last; ``attrs['method']`` says how.
    """
    if method not in METHODS:
        raise CallLogError(f"staffing method: must be one of {', '.join(METHODS)}, got {method!r}")
    if interval_min <= 0 or 1440 % interval_min:
        raise CallLogError(f"interval_min: must divide 1440, got {interval_min}")
    origin = np.datetime64(log["arrival"].min().normalize(), "ns")
    days = int((log["arrival"].max().normalize() - log["arrival"].min().normalize()).days) + 1
    interval_s, per_day = interval_min * 60, 1440 // interval_min
    if method == "active":
        agents = _active(log, origin, days * per_day, interval_s)
    else:
        agents = _interval_means(log, method, gap_min, origin, days, interval_s)
    k = np.arange(days * per_day)
    frame = pd.DataFrame({"date": origin + (k // per_day) * np.timedelta64(1, "D"),
                          "interval_start_h": (k % per_day) * interval_min / 60.0, "agents": agents})
    frame.attrs["method"] = METHODS[method].format(gap=gap_min, max_gap=MAX_GAP_MIN, per=PER_AGENT_N, occ=OCCUPANCY_FRAC)
    return frame


def estimate_staffing(log: pd.DataFrame, interval_min: int = 30, method: str = "presence_queue",
                      gap_min: float = GAP_MIN) -> pd.DataFrame:
    """Mean agents on duty per (weekday, interval): the per-date estimates averaged over the log's
    dates of each weekday (see :func:`estimate_staffing_by_date`).

    Returns:
        columns ``weekday`` (0 = Monday .. 6), ``interval_start_h`` (hours), ``agents`` (float);
        ``attrs['method']`` a one-line description.
    """
    by_date = estimate_staffing_by_date(log, interval_min, method, gap_min)
    dates = set(log["arrival"].dt.normalize().unique())
    seen = by_date[by_date["date"].isin(dates)]
    frame = (seen.assign(weekday=seen["date"].dt.day_of_week)
             .groupby(["weekday", "interval_start_h"], as_index=False)["agents"].mean())
    frame.attrs["method"] = by_date.attrs["method"] + "; mean over the log's dates of each weekday"
    return frame
