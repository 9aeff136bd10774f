"""The SimPy engine of one replication: arrivals, queues, agents, abandonment, repeats.

Speed matters, so the engine schedules plain SimPy events with callbacks instead of running one
process per call, keeps per-call state in flat lists indexed by call id, and draws its random
numbers in numpy batches. Abandonment needs no events: every queue is FCFS, so a caller whose
patience ran out is recognised (and counted as abandoned at the moment its patience ended) when
it reaches the head of a queue, which is exact for FCFS. With finite lines, a heap of the waiting
callers' deadlines gives the exact number still waiting when a call arrives.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import simpy
from simpy.core import NORMAL
from simpy.events import Event

from models.scenario import Scenario
from sim import streams
from sim.arrivals import FirstContacts
from sim.routing import WEEK_S, build_routing
from sim.staffing import StaffedTime, schedule_matrix

WAITING, ANSWERED, ABANDONED, BLOCKED, UNFINISHED, IN_SERVICE = 0, 1, 2, 3, 4, 5
OUTCOMES = ("waiting", "answered", "abandoned", "blocked", "unfinished")
REFILL = 1024


class _Draws:
    """A batch-refilled supply of draws from one distribution and one generator."""

    def __init__(self, dist, rng) -> None:
        self.dist, self.rng, self.values = dist, rng, []

    def next(self) -> float:
        if not self.values:
            self.values = self.dist.sample(self.rng, REFILL).tolist()[::-1]
        return self.values.pop()


class _Uniforms(_Draws):
    def next(self) -> float:
        if not self.values:
            self.values = self.rng.random(REFILL).tolist()[::-1]
        return self.values.pop()


class Engine:
    """One replication's state and event callbacks. Use :func:`run_engine`."""

    def __init__(self, scenario: Scenario, calls: FirstContacts, seed: int, rep: int,
                 horizon_s: float, drain_s: float) -> None:
        self.env = simpy.Environment()
        self.scenario, self.horizon_s, self.end_s = scenario, horizon_s, horizon_s + drain_s
        self.interval_s = scenario.interval_s
        self.per_day = scenario.intervals_per_day
        self.n_first = len(calls)
        self.routing = build_routing(scenario)
        self.lines = scenario.lines
        n_pools = len(scenario.pools)
        self.n_intervals = int(math.ceil(horizon_s / self.interval_s - 1e-9))
        week = 7 * self.per_day
        self.scheduled, self.available = schedule_matrix(scenario, max(self.n_intervals, week))
        self.staffed = StaffedTime(n_pools, self.n_intervals, self.interval_s)
        self.factor = [p.handle_factor for p in scenario.pools]
        self.resolution = [p.resolution_frac for p in scenario.pools]
        self.cap = [0] * n_pools
        self.busy = [0] * n_pools
        self.queue = [deque() for _ in range(n_pools)]
        self._init_calls(calls)
        self._init_repeat_draws(seed, rep)
        self.pending: dict[int, tuple[tuple[int, ...], int]] = {}  # call -> (stages, next stage)
        self.n_waiting = 0
        self.deadlines: list[tuple[float, int]] = []

    def _init_calls(self, calls: FirstContacts) -> None:
        self.arrival = calls.arrival_s.tolist()
        self.ctype = calls.call_type.tolist()
        self.base = calls.handle_s.tolist()
        self.deadline = (calls.arrival_s + calls.patience_s).tolist()
        self.u_split = calls.u_split.tolist()
        self.u_res = calls.u_resolve.tolist()
        n = self.n_first
        self.outcome = [WAITING] * n
        self.pool = [-1] * n
        self.start = [math.nan] * n
        self.handle = [math.nan] * n
        self.last_pool = [-1] * n
        self.offer = [math.nan] * n

    def _init_repeat_draws(self, seed: int, rep: int) -> None:
        def rng(*keys: int):
            return streams.stream(seed, rep, streams.REPEATS, *keys)
        self.repeat_delay = [_Draws(p.repeat_after, rng(streams.name_key(p.name), 0))
                             for p in self.scenario.pools]
        self.repeat_draws = []
        for ct in self.scenario.demand:
            key = streams.name_key(ct.name)
            self.repeat_draws.append((_Draws(ct.handle, rng(key, 1)), _Draws(ct.patience, rng(key, 2)),
                                      _Uniforms(None, rng(key, 3)), _Uniforms(None, rng(key, 4))))

    # ------------------------------------------------------------ scheduling

    def _schedule(self, delay: float, callback, value: int) -> None:
        event = Event(self.env)
        event._ok = True
        event._value = value
        event.callbacks.append(callback)
        self.env.schedule(event, NORMAL, delay)

    def run(self) -> float:
        """Simulate until the system empties after the horizon, or the drain limit; returns the end time."""
        for p in range(len(self.cap)):
            self.cap[p] = int(self.available[p, 0])
        if self.n_first:
            self._schedule(self.arrival[0], self._on_first_arrival, 0)
        self._schedule(self.interval_s, self._on_interval, 1)
        self.env.run(until=self.end_s)
        return self.env.now

    # ------------------------------------------------------------ arrivals and routing

    def _on_first_arrival(self, event: Event) -> None:
        c = event._value
        if c + 1 < self.n_first:
            self._schedule(self.arrival[c + 1] - self.env._now, self._on_first_arrival, c + 1)
        self._admit(c)

    def _on_repeat_arrival(self, event: Event) -> None:
        self._admit(event._value)

    def _admit(self, c: int) -> None:
        now = self.env._now
        week_interval = int((now % WEEK_S) // self.interval_s)
        routing = self.routing[self.ctype[c]]
        stages = routing.stages(week_interval, self.u_split[c])
        if self.lines is not None and self._in_system(now) >= self.lines:
            self.outcome[c] = BLOCKED
            self.last_pool[c] = stages[0]
            return
        if routing.overflow_s == 0:
            for p in stages:
                if self.busy[p] < self.cap[p]:
                    self._start(c, p, now, now)
                    return
            for p in stages:
                self.queue[p].append(c)
        else:
            p = stages[0]
            if self.busy[p] < self.cap[p]:
                self._start(c, p, now, now)
                return
            self.queue[p].append(c)
            if len(stages) > 1 and now + routing.overflow_s < self.deadline[c]:
                self.pending[c] = (stages, 1)
                self._schedule(routing.overflow_s, self._on_overflow, c)
        self.last_pool[c] = stages[-1] if routing.overflow_s == 0 else stages[0]
        self.offer[c] = now
        self._wait(c)

    def _wait(self, c: int) -> None:
        if self.lines is not None:
            self.n_waiting += 1
            heapq.heappush(self.deadlines, (self.deadline[c], c))

    def _in_system(self, now: float) -> int:
        """Calls waiting (patience not yet over) or in service at ``now``."""
        deadlines, outcome = self.deadlines, self.outcome
        while deadlines and deadlines[0][0] <= now:
            _, c = heapq.heappop(deadlines)
            if outcome[c] == WAITING:
                self._abandon(c)
        return self.n_waiting + sum(self.busy)

    def _on_overflow(self, event: Event) -> None:
        c = event._value
        if self.outcome[c] != WAITING:
            return
        now = self.env._now
        stages, k = self.pending[c]
        p = stages[k]
        if self.busy[p] < self.cap[p]:
            del self.pending[c]
            if self.lines is not None:
                self.n_waiting -= 1
            self._start(c, p, now, now)
            return
        self.queue[p].append(c)
        self.last_pool[c], self.offer[c] = p, now
        overflow_s = self.routing[self.ctype[c]].overflow_s
        if k + 1 < len(stages) and now + overflow_s < self.deadline[c]:
            self.pending[c] = (stages, k + 1)
            self._schedule(overflow_s, self._on_overflow, c)

    # ------------------------------------------------------------ service

    def _start(self, c: int, p: int, now: float, offered_at: float) -> None:
        self.busy[p] += 1
        self.outcome[c] = IN_SERVICE
        self.pool[c] = self.last_pool[c] = p
        self.start[c] = now
        self.offer[c] = offered_at
        h = self.base[c] * self.factor[p]
        self.handle[c] = h
        self._schedule(h, self._on_done, c)

    def _abandon(self, c: int) -> None:
        self.outcome[c] = ABANDONED
        self.pending.pop(c, None)
        if self.lines is not None:
            self.n_waiting -= 1

    def _on_done(self, event: Event) -> None:
        c = event._value
        p = self.pool[c]
        now = self.env._now
        self.outcome[c] = ANSWERED
        busy = self.busy[p] - 1
        if busy >= self.cap[p]:
            self.staffed.excess_changed(p, now, busy - self.cap[p])
        self.busy[p] = busy
        if self.u_res[c] >= self.resolution[p]:
            self._repeat(c, p, now)
        self._serve_queue(p, now)

    def _serve_queue(self, p: int, now: float) -> None:
        queue, outcome, deadline = self.queue[p], self.outcome, self.deadline
        while queue and self.busy[p] < self.cap[p]:
            c = queue.popleft()
            if outcome[c] != WAITING:
                continue
            if deadline[c] <= now:
                self._abandon(c)
                continue
            if self.lines is not None:
                self.n_waiting -= 1
            self._start(c, p, now, self._offered_at(c, p))

    def _offered_at(self, c: int, p: int) -> float:
        """When the waiting call ``c`` became eligible for pool ``p``."""
        entry = self.pending.pop(c, None)
        if entry is None:
            return self.arrival[c]
        return self.arrival[c] + entry[0].index(p) * self.routing[self.ctype[c]].overflow_s

    def _repeat(self, c: int, p: int, now: float) -> None:
        """The unresolved call ``c`` (served by ``p``) comes back as a new call."""
        t = now + self.repeat_delay[p].next()
        if t >= self.horizon_s:
            return
        handle, patience, split, resolve = self.repeat_draws[self.ctype[c]]
        new = len(self.arrival)
        for column, value in ((self.arrival, t), (self.ctype, self.ctype[c]), (self.base, handle.next()),
                              (self.u_split, split.next()), (self.u_res, resolve.next()),
                              (self.outcome, WAITING), (self.pool, -1), (self.start, math.nan),
                              (self.handle, math.nan), (self.last_pool, -1), (self.offer, math.nan)):
            column.append(value)
        self.deadline.append(t + patience.next())
        self._schedule(t - now, self._on_repeat_arrival, new)

    # ------------------------------------------------------------ staffing

    def _on_interval(self, event: Event) -> None:
        k = event._value
        now = self.env._now
        week = 7 * self.per_day
        index = k if k < self.available.shape[1] else k % week
        for p in range(len(self.cap)):
            self.staffed.close_interval(p, k - 1, now, self.cap[p])
            self.cap[p] = int(self.available[p, index])
            self.staffed.excess_changed(p, now, self.busy[p] - self.cap[p])
            self._serve_queue(p, now)
        if now < self.horizon_s or self._busy_or_waiting(now):
            self._schedule(self.interval_s, self._on_interval, k + 1)

    def _busy_or_waiting(self, now: float) -> bool:
        if any(self.busy):
            return True
        return any(self.outcome[c] == WAITING and self.deadline[c] > now for q in self.queue for c in q)

    # ------------------------------------------------------------ end of run

    def finish(self, end_s: float) -> None:
        """Settle calls still in the system at ``end_s``."""
        for c, state in enumerate(self.outcome):
            if state == WAITING:
                self.outcome[c] = ABANDONED if self.deadline[c] <= end_s else UNFINISHED
            elif state == IN_SERVICE:
                self.outcome[c] = UNFINISHED
