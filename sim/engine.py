"""The SimPy engine of one replication: arrivals, queues, agents, abandonment, repeats, redials.

Everything happens on SimPy's event calendar (ordered by time, priority and event id; reached
through sim/calendar.py, the one module that knows its private layout), but speed matters, so the
engine:

- schedules slim events with one callback instead of running one process per call;
- processes an arrival without a heap round trip when it is due before anything else on the
  calendar (exactly what the calendar would do next);
- needs no abandonment events: a caller whose patience ran out is settled, as abandoned at the
  moment its patience ended, when it comes out of a queue (exact for any order that serves the
  next caller still waiting: one whose patience is over is skipped, never served); with finite
  lines a heap of deadlines gives the exact number still waiting; only call types with redials get
  a patience-end event, so that a redial starts from the moment of abandonment;
- queues each pool's waiting calls in one FCFS deque, or, when call types have different
  priorities, in a :class:`~sim.queues.ClassQueue` (highest class first, FCFS within a class,
  non-preemptive) with the same operations, so the code is the same for both;
- keeps per-call state in compact typed arrays indexed by call id and draws numbers in batches.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np

from models.scenario import Scenario
from sim import streams
from sim.arrivals import FirstContacts
from sim.calendar import Calendar, Tick
from sim.callstore import CallStore
from sim.draws import Draws, HandleDraws
from sim.outcomes import ABANDONED, ANSWERED, BLOCKED, UNFINISHED, WAITING
from sim.queues import ClassQueue, class_ranks
from sim.recorder import Aggregates
from sim.routing import WEEK_S, build_routing
from sim.staffing import StaffedTime, schedule_matrix


class Engine:
    """One replication's state and event callbacks (see :func:`sim.replication.simulate`)."""

    def __init__(self, scenario: Scenario, days: Iterator[FirstContacts], seed: int, rep: int,
                 horizon_s: float, drain_s: float, aggregates: Aggregates | None = None) -> None:
        """``aggregates``: if given, settled calls are summed into it and dropped as the run goes."""
        self.calendar = Calendar()
        self.env = self.calendar.env
        self.scenario, self.horizon_s, self.end_s = scenario, horizon_s, horizon_s + drain_s
        self.interval_s = scenario.interval_s
        self.per_day = scenario.intervals_per_day
        self.routing = build_routing(scenario)
        self.static_stages = [r.static_stages() for r in self.routing]
        self.lines = scenario.lines
        n_pools = len(scenario.pools)
        self.n_intervals = math.ceil(horizon_s / self.interval_s - 1e-9)
        self.scheduled, self.available = schedule_matrix(scenario, max(self.n_intervals, 7 * self.per_day))
        self.staffed = StaffedTime(n_pools, self.n_intervals, self.interval_s)
        self.factor = [p.handle_factor for p in scenario.pools]
        self.resolution = [p.resolution_frac for p in scenario.pools]
        self.cap = [0] * n_pools
        self.busy = [0] * n_pools
        store = self.store = CallStore()
        # The store's columns as attributes, one lookup fewer on the hot path (the store changes
        # its arrays in place, never replaces them).
        self.arrival, self.ctype, self.base, self.deadline = store.arrival, store.ctype, store.base, store.deadline
        ranks = class_ranks([ct.priority for ct in scenario.demand])
        self.queue: list[deque[int] | ClassQueue] = (
            [deque() for _ in range(n_pools)] if ranks is None else [ClassQueue(ranks, self.ctype) for _ in range(n_pools)])
        self.u_split, self.u_res, self.outcome = store.u_split, store.u_res, store.outcome
        self.pool, self.last_pool, self.start, self.offer = store.pool, store.last_pool, store.start, store.offer
        self.redial = [ct.redial for ct in scenario.demand]
        self.has_redial = any(r is not None for r in self.redial)
        self.days, self.block_end, self.aggregates = days, 0, aggregates
        self._init_repeat_draws(seed, rep)
        self._init_redial_draws(seed, rep)
        self.pending: dict[int, tuple[tuple[int, ...], int]] = {}  # waiting call -> (stages, next stage)
        self.n_waiting = 0
        self.deadlines: list[tuple[float, int]] = []
        self._done_cb: list[Callable[[Tick], None]] = [self._on_done]
        self._arrival_cb: list[Callable[[Tick], None]] = [self._on_first_arrival]
        self._patience_cb: list[Callable[[Tick], None]] = [self._on_patience_end]

    def _init_repeat_draws(self, seed: int, rep: int) -> None:
        def rng(*keys: int) -> np.random.Generator:
            return streams.stream(seed, rep, streams.REPEATS, *keys)
        self.repeat_delay = [Draws(p.repeat_after, rng(streams.name_key(p.name), 0)) for p in self.scenario.pools]
        self.repeat_draws: list[tuple[HandleDraws, Draws, Draws, Draws]] = []
        for ct in self.scenario.demand:
            key = streams.name_key(ct.name)
            self.repeat_draws.append((HandleDraws(ct, rng(key, 1)), Draws(ct.patience, rng(key, 2)),
                                      Draws(None, rng(key, 3)), Draws(None, rng(key, 4))))

    def _init_redial_draws(self, seed: int, rep: int) -> None:
        """Per call type with redials: (decision uniform, delay, new patience), each its own sub-stream."""
        self.redial_draws: list[tuple[Draws, Draws, Draws] | None] = []
        for ct in self.scenario.demand:
            if ct.redial is None:
                self.redial_draws.append(None)
                continue
            key = streams.name_key(ct.name)
            draws = (Draws(None, streams.stream(seed, rep, streams.REDIALS, key, 0)),
                     Draws(ct.redial.after, streams.stream(seed, rep, streams.REDIALS, key, 1)),
                     Draws(ct.patience, streams.stream(seed, rep, streams.REDIALS, key, 2)))
            self.redial_draws.append(draws)

    def _next_day(self) -> int:
        """Load the next day with calls into the store; returns its first call's row, or -1 at the end."""
        if self.aggregates is not None:
            self._settle_front(self.aggregates)
        for calls in self.days:
            if len(calls):
                first = len(self.store)
                self.store.extend(calls)
                self.block_end = len(self.store)
                return first
        return -1

    # ------------------------------------------------------------ scheduling

    def _schedule(self, delay: float, callback: Callable[[Tick], None], value: int) -> None:
        self.calendar.at(self.env.now + delay, [callback], value)

    def run(self) -> float:
        """Simulate until the system empties after the horizon, or the drain limit; returns the end time."""
        for p in range(len(self.cap)):
            self.cap[p] = int(self.available[p, 0])
        first = self._next_day()
        if first >= 0:
            self._schedule(self.arrival[first], self._on_first_arrival, first)
        self._schedule(self.interval_s, self._on_interval, 1)
        self.env.run(until=self.end_s)
        return self.env.now

    # ------------------------------------------------------------ arrivals and routing

    def _on_first_arrival(self, event: Tick) -> None:
        """Admit first contact ``c``, then the following ones that are due before anything else."""
        c = event._value
        arrival, admit, calendar = self.arrival, self._admit, self.calendar
        next_time, advance = calendar.next_time, calendar.advance
        while True:
            admit(c)
            c += 1
            if c == self.block_end:
                c = self._next_day()
                if c < 0:
                    return
            t = arrival[c]
            if next_time() <= t:
                calendar.at(t, self._arrival_cb, c)
                return
            advance(t)

    def _on_repeat_arrival(self, event: Tick) -> None:
        """A repeat call arrives: it gets its row (and id) now."""
        self._admit(self.store.append_repeat(self.env.now, *event._value))

    def _admit(self, c: int) -> None:
        now = self.env.now
        ct = self.ctype[c]
        stages = self.static_stages[ct]
        if stages is None:
            stages = self.routing[ct].stages(int((now % WEEK_S) // self.interval_s), self.u_split[c])
        if self.lines is not None and self._in_system(now) >= self.lines:
            self.outcome[c] = BLOCKED
            self.last_pool[c] = stages[0]
            if self.has_redial:
                self._redial(c, now)
            return
        busy, cap = self.busy, self.cap
        p = stages[0]
        if busy[p] < cap[p]:
            self._start(c, p, now)
            return
        if len(stages) == 1:
            self.queue[p].append(c)
        elif self.routing[ct].overflow_s == 0:
            for p in stages:
                if busy[p] < cap[p]:
                    self._start(c, p, now)
                    return
            for p in stages:
                self.queue[p].append(c)
        else:
            self.queue[p].append(c)
            overflow_s = self.routing[ct].overflow_s
            if now + overflow_s < self.deadline[c]:
                self.pending[c] = (stages, 1)
                self._schedule(overflow_s, self._on_overflow, c)
        self.last_pool[c] = p
        self.offer[c] = now
        if self.lines is not None:
            self.n_waiting += 1
            heapq.heappush(self.deadlines, (self.deadline[c], c))
        if self.has_redial and self.redial[ct] is not None and self.deadline[c] < math.inf:
            # Redials start when the patience ends: abandon exactly then, not when found at a queue head.
            self.calendar.at(self.deadline[c], self._patience_cb, self.store.first_id + c)

    def _in_system(self, now: float) -> int:
        """Calls waiting (patience not yet over) or in service at ``now``."""
        deadlines, outcome = self.deadlines, self.outcome
        while deadlines and deadlines[0][0] <= now:
            _, c = heapq.heappop(deadlines)
            if outcome[c] == WAITING:
                self._abandon(c)
        return self.n_waiting + sum(self.busy)

    def _on_overflow(self, event: Tick) -> None:
        c = event._value
        if c < 0 or self.outcome[c] != WAITING:  # answered (and maybe dropped) or gone before its overflow
            return
        now = self.env.now
        stages, k = self.pending[c]
        p = stages[k]
        if self.busy[p] < self.cap[p]:
            self._take_waiting(c, p, now)
            return
        self.queue[p].append(c)
        self.last_pool[c], self.offer[c] = p, now
        overflow_s = self.routing[self.ctype[c]].overflow_s
        if k + 1 < len(stages) and now + overflow_s < self.deadline[c]:
            self.pending[c] = (stages, k + 1)
            self._schedule(overflow_s, self._on_overflow, c)

    # ------------------------------------------------------------ service

    def _start(self, c: int, p: int, now: float) -> None:
        """Pool ``p`` answers call ``c`` now (its handle time is base × factor, see CallStore.views)."""
        self.busy[p] += 1
        self.outcome[c] = ANSWERED
        self.pool[c] = p
        self.start[c] = now
        self.calendar.at(now + self.base[c] * self.factor[p], self._done_cb, c)

    def _take_waiting(self, c: int, p: int, now: float) -> None:
        """Start serving the waiting call ``c`` at pool ``p``."""
        if self.lines is not None:
            self.n_waiting -= 1
        entry = self.pending.pop(c, None)
        offered_at = self.arrival[c]
        if entry is not None:
            offered_at += entry[0].index(p) * self.routing[self.ctype[c]].overflow_s
        self.offer[c] = offered_at
        self._start(c, p, now)

    def _abandon(self, c: int) -> None:
        self.outcome[c] = ABANDONED
        self.pending.pop(c, None)
        if self.lines is not None:
            self.n_waiting -= 1
        if self.has_redial:
            self._redial(c, self.deadline[c])

    def _on_patience_end(self, event: Tick) -> None:
        """The patience of a waiting caller of a call type with redials ends (the value is its call id)."""
        c = event._value - self.store.first_id
        if c >= 0 and self.outcome[c] == WAITING:
            self._abandon(c)

    def _redial(self, c: int, t: float) -> None:
        """The caller of ``c``, abandoned or blocked at ``t``, may try again (a new attempt, a new row then)."""
        store, ct = self.store, self.ctype[c]
        redial, draws = self.redial[ct], self.redial_draws[ct]
        if redial is None or draws is None or store.attempt[c] >= redial.max_attempts:
            return
        decide, delay, patience = draws
        if decide.next() >= redial.frac:
            return
        at = t + delay.next()
        if at >= self.horizon_s:
            return
        store.redialed[c] = 1
        call = (ct, self.base[c], at + patience.next(), self.u_split[c], self.u_res[c], store.is_repeat[c],
                store.contact[c], store.attempt[c] + 1, store.talk[c])
        self.calendar.at(at, [self._on_redial_arrival], call)

    def _on_redial_arrival(self, event: Tick) -> None:
        """A redial arrives: it gets its row (and id) now, with its contact's draws."""
        self._admit(self.store.append_redial(self.env.now, *event._value))

    def _on_done(self, event: Tick) -> None:
        c = event._value
        p = self.pool[c]
        now = self.env.now
        busy = self.busy[p] - 1
        self.busy[p] = busy
        if self.u_res[c] >= self.resolution[p]:
            self._repeat(c, p, now)
        if busy >= self.cap[p]:
            self.staffed.excess_changed(p, now, busy - self.cap[p])
        elif self.queue[p]:
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
            self._take_waiting(c, p, now)

    def _repeat(self, c: int, p: int, now: float) -> None:
        """The unresolved call ``c`` (served by ``p``) comes back as a new call, drawn now."""
        delay = self.repeat_delay[p].next()
        if now + delay >= self.horizon_s:
            return
        ctype = self.ctype[c]
        handle, patience, split, resolve = self.repeat_draws[ctype]
        talk, base = handle.next()
        call = (ctype, base, now + delay + patience.next(), split.next(), resolve.next(), talk)
        self.calendar.at(now + delay, [self._on_repeat_arrival], call)

    # ------------------------------------------------------------ staffing

    def _on_interval(self, event: Tick) -> None:
        k = event._value
        now = self.env.now
        index = k if k < self.available.shape[1] else k % (7 * self.per_day)
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
        outcome = np.frombuffer(self.outcome, dtype=np.int8)
        deadline = np.frombuffer(self.deadline)
        waiting = outcome == WAITING
        outcome[waiting & (deadline <= end_s)] = ABANDONED
        outcome[(waiting & (deadline > end_s)) | self._in_service(end_s)] = UNFINISHED

    def _in_service(self, now: float, ending_now: bool = False) -> np.ndarray:
        """Which stored calls are being served at ``now`` (answered, not yet ended).

        ``ending_now``: count a call whose service ends exactly at ``now`` as still in service (its
        end event may still be on the calendar, behind the event being processed).
        """
        store = self.store
        pool = np.frombuffer(store.pool, dtype=np.int16)
        ends = np.frombuffer(store.start) + np.frombuffer(store.base) * np.append(self.factor, np.nan)[pool]
        busy = ends >= now if ending_now else ends > now
        serving: np.ndarray = (np.frombuffer(store.outcome, dtype=np.int8) == ANSWERED) & busy
        return serving

    # ------------------------------------------------------------ dropping settled calls

    def _settle_front(self, aggregates: Aggregates) -> None:
        """Sum up and drop the settled calls at the front of the store (runs without a calls table).

        Callers whose patience is over are settled as abandoned first (what the queue head would
        do later). Ids of dropped calls are never used again; the live ones move to the front, so
        the ids held by queues, the calendar and the deadline heap are shifted by the same amount.
        """
        now, store = self.env.now, self.store
        outcome = np.frombuffer(store.outcome, dtype=np.int8)
        expired = (outcome == WAITING) & (np.frombuffer(store.deadline) <= now)
        if self.has_redial:  # settled by their own patience-end event (at ``now``), which may redial
            with_redial = np.array([r is not None for r in self.redial])
            expired &= ~with_redial[np.frombuffer(store.ctype, dtype=np.int16)]
        outcome[expired] = ABANDONED
        if self.lines is not None:
            self.n_waiting -= int(expired.sum())
        live = np.flatnonzero((outcome == WAITING) | self._in_service(now, ending_now=True))
        n = int(live[0]) if len(live) else len(store)
        del outcome, expired, live
        if n == 0:
            return
        aggregates.add(store.views(n, now, self.factor))
        store.drop_front(n)
        self.block_end -= n
        self._shift_ids(n)

    def _shift_ids(self, n: int) -> None:
        """Every stored call id k >= n becomes k - n (smaller ids belong to dropped calls)."""
        self.queue = [q.shifted(n) if isinstance(q, ClassQueue) else deque(c - n for c in q if c >= n)
                      for q in self.queue]
        self.pending = {c - n: v for c, v in self.pending.items()}
        self.deadlines = [(t, c - n) for t, c in self.deadlines if c >= n]
        heapq.heapify(self.deadlines)
        holds_id = (self._on_first_arrival, self._on_overflow, self._on_done)  # bound methods: equal if same
        for event in self.calendar.ticks():
            if event.callbacks[0] in holds_id:
                # An overflow still scheduled for a dropped (already answered) call points nowhere: -1.
                event._value = event._value - n if event._value >= n else -1
