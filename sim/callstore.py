"""Per-call state of a replication in compact typed arrays, indexed by call id.

The engine reads and writes single items (``array.array`` is as fast as a list for that, at
8 bytes a float instead of 32); the recorder reads whole columns as zero-copy numpy views. In a
run that keeps no per-call table, calls that have left the system are summarised and dropped
from the front (:meth:`CallStore.drop_front`), so memory stays flat however long the run.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.arrivals import FirstContacts
from sim.outcomes import BLOCKED, WAITING

#: column -> (array type code, numpy dtype)
COLUMNS = {
    "arrival": ("d", np.float64), "ctype": ("h", np.int16), "base": ("d", np.float64),
    "deadline": ("d", np.float64), "u_split": ("d", np.float64), "u_res": ("d", np.float64),
    "is_repeat": ("b", np.int8), "outcome": ("b", np.int8), "pool": ("h", np.int16),
    "last_pool": ("h", np.int16), "start": ("d", np.float64), "offer": ("d", np.float64),
    "contact": ("q", np.int64), "attempt": ("h", np.int16), "redialed": ("b", np.int8),
    "talk": ("d", np.float64),
}


#: how long a column is waited for while another thread still holds a numpy view of it (s)
VIEW_WAIT_S = 5.0


def resized(change: Callable[..., None], *args: Any) -> None:
    """``change(*args)``, an in-place resize of a column (append, extend, delete), retried while a
    numpy view of the column is still alive (BufferError) for at most :data:`VIEW_WAIT_S` seconds.

    This thread drops its views before resizing, but another thread may hold one for a moment: a
    sampling profiler (Dask workers run one) walks this thread's frames, and a frame it holds keeps
    the locals of a function that has returned (a dict of views) alive until it lets go.
    """
    deadline = time.monotonic() + VIEW_WAIT_S
    while True:
        try:
            change(*args)
            return
        except BufferError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.001)  # lets the other thread run and drop the frames it holds


class CallStore:
    """Typed per-call columns (the names of :data:`COLUMNS`), indexed by row.

    Attributes:
        first_id: the id of row 0 (ids of dropped calls are gone).
        arrival, base, deadline: arrival time, base handle time (before the pool's factor) and
            end of patience (s).
        ctype: call type index. u_split, u_res: the call's uniform draws for split routing and
            first-contact resolution. is_repeat: 1 for a repeat call. outcome: a code of
            :mod:`sim.outcomes`.
        pool, last_pool: the answering pool, the last pool waited for (-1: none).
        start, offer: when answered, when last offered to a pool (s; NaN: not yet).
        contact: the call id (not the row) of the first attempt of the call's contact.
        attempt: 1 for a first try, k for the (k - 1)-th redial of a contact.
        redialed: 1 when this attempt was abandoned or blocked and its caller tried again.
        talk: base talk time (before the pool's factor; the base handle time when the call type
            gives only ``handle``), s.

    The engine keeps references to these arrays: they are changed in place, never replaced.
    """

    def __init__(self) -> None:
        self.first_id = 0
        self.arrival: array[float] = array("d")
        self.ctype: array[int] = array("h")
        self.base: array[float] = array("d")
        self.deadline: array[float] = array("d")
        self.u_split: array[float] = array("d")
        self.u_res: array[float] = array("d")
        self.is_repeat: array[int] = array("b")
        self.outcome: array[int] = array("b")
        self.pool: array[int] = array("h")
        self.last_pool: array[int] = array("h")
        self.start: array[float] = array("d")
        self.offer: array[float] = array("d")
        self.contact: array[int] = array("q")
        self.attempt: array[int] = array("h")
        self.redialed: array[int] = array("b")
        self.talk: array[float] = array("d")

    def __len__(self) -> int:
        return len(self.arrival)

    def extend(self, calls: FirstContacts) -> None:
        """Append a block of first contacts (waiting, not yet arrived)."""
        n = len(calls)
        nan = np.full(n, np.nan)
        ids = self.first_id + len(self) + np.arange(n)
        values = {"arrival": calls.arrival_s, "ctype": calls.call_type, "base": calls.handle_s,
                  "deadline": calls.arrival_s + calls.patience_s, "u_split": calls.u_split,
                  "u_res": calls.u_resolve, "is_repeat": np.zeros(n), "outcome": np.full(n, WAITING),
                  "pool": np.full(n, -1), "last_pool": np.full(n, -1), "start": nan, "offer": nan,
                  "contact": ids, "attempt": np.ones(n), "redialed": np.zeros(n), "talk": calls.talk_s}
        for name, (_, dtype) in COLUMNS.items():
            resized(getattr(self, name).frombytes, np.asarray(values[name]).astype(dtype).tobytes())

    def append_repeat(self, arrival: float, ctype: int, base: float, deadline: float,
                      u_split: float, u_res: float, talk: float) -> int:
        """Append one repeat call arriving now (the first attempt of a new contact); returns its row."""
        return self.append_redial(arrival, ctype, base, deadline, u_split, u_res, 1, self.first_id + len(self), 1,
                                  talk)

    def append_redial(self, arrival: float, ctype: int, base: float, deadline: float, u_split: float,
                      u_res: float, is_repeat: int, contact: int, attempt: int, talk: float) -> int:
        """Append one attempt of contact ``contact`` (a call id) arriving now; returns its row."""
        for name, value in (("arrival", arrival), ("ctype", ctype), ("base", base), ("deadline", deadline),
                            ("u_split", u_split), ("u_res", u_res), ("is_repeat", is_repeat),
                            ("outcome", WAITING), ("pool", -1), ("last_pool", -1), ("start", np.nan),
                            ("offer", np.nan), ("contact", contact), ("attempt", attempt), ("redialed", 0),
                            ("talk", talk)):
            column = getattr(self, name)
            try:
                column.append(value)
            except BufferError:  # a view held by another thread for a moment (see resized); rare
                resized(column.append, value)
        return len(self.arrival) - 1

    def views(self, stop: int, end_s: float, factor: list[float]) -> dict[str, np.ndarray]:
        """Columns of rows [0, stop) as numpy arrays, with what the engine does not store derived:

        the handle and talk times as served (base × the pool's ``factor``), the last pool (the answering
        pool, else the last one waited for), the time offered to it (the start if answered at once)
        and the waits. Drop the dict before changing the store.
        """
        col = {name: np.frombuffer(getattr(self, name), dtype=dtype)[:stop]
               for name, (_, dtype) in COLUMNS.items()}
        answered = col["pool"] >= 0
        served_factor = np.append(factor, np.nan)[col["pool"]]
        handle = np.where(answered, col["base"] * served_factor, np.nan)
        talk = np.where(answered, col["talk"] * served_factor, np.nan)
        last_pool = np.where(answered, col["pool"], col["last_pool"])
        offer = np.where(np.isnan(col["offer"]), col["start"], col["offer"])
        blocked = col["outcome"] == BLOCKED
        ended = np.where(np.isnan(col["start"]), np.minimum(col["deadline"], end_s), col["start"])
        wait, pool_wait = ended - col["arrival"], ended - offer
        wait[blocked] = pool_wait[blocked] = 0.0
        return {"call_id": self.first_id + np.arange(stop, dtype=np.int64),
                "call_type": col["ctype"], "arrival_s": col["arrival"], "outcome": col["outcome"],
                "pool": col["pool"], "wait_s": wait, "handle_s": handle, "talk_s": talk,
                "is_repeat": col["is_repeat"].astype(bool), "last_pool": last_pool,
                "pool_wait_s": pool_wait, "start_s": col["start"], "contact_id": col["contact"],
                "attempt": col["attempt"], "redialed": col["redialed"].astype(bool), "u_res": col["u_res"]}

    def drop_front(self, n: int) -> None:
        """Forget rows [0, n) (settled calls already summarised); later rows move to the front."""
        for name in COLUMNS:
            resized(getattr(self, name).__delitem__, slice(0, n))
        self.first_id += n
