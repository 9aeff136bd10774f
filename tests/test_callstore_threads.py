"""A run without the calls table drops settled calls from its call store while another thread may
hold a numpy view of a column for a moment (a sampling profiler walking this thread's frames, as in
every Dask worker): the store waits for the view to go instead of failing with BufferError."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
from builders import pool, scenario

from models.settings import RunSettings
from sim import callstore
from sim.callstore import CallStore
from sim.replication import simulate


def _store(n: int) -> CallStore:
    store = CallStore()
    for i in range(n):
        store.append_repeat(float(i), 0, 60.0, float(i) + 100.0, 0.5, 0.5, 60.0)
    return store


def test_a_view_held_by_another_thread_is_waited_for():
    store = _store(10)
    holder = [np.frombuffer(store.arrival)]
    threading.Timer(0.05, holder.clear).start()
    store.drop_front(4)  # waits until the other thread lets go of its view
    assert list(store.arrival) == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0] and store.first_id == 4


def test_a_view_never_released_still_fails(monkeypatch):
    monkeypatch.setattr(callstore, "VIEW_WAIT_S", 0.02)
    store = _store(3)
    view = np.frombuffer(store.arrival)
    with pytest.raises(BufferError):
        store.drop_front(1)
    with pytest.raises(BufferError):
        store.append_repeat(5.0, 0, 60.0, 105.0, 0.5, 0.5, 60.0)
    del view


def test_a_run_watched_by_a_frame_sampling_thread_gives_the_same_tables():
    scn = scenario([pool("a", 5)], calls_per_h=600.0, handle={"dist": "exponential", "mean_s": 25.0},
                   patience={"dist": "exponential", "mean_s": 60.0})
    settings = RunSettings(days=8, warmup_h=4, keep_calls=False)
    alone = simulate(scn, settings, 0)
    main, stop = threading.get_ident(), threading.Event()

    def sample() -> None:  # holds the main thread's frames 2 ms of every 3, as a profiler walking them
        while not stop.is_set():
            frames, frame = [], sys._current_frames()[main]
            while frame is not None:
                frames.append(frame)
                frame = frame.f_back
            time.sleep(0.002)
            del frames, frame
            time.sleep(0.001)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        watched = simulate(scn, settings, 0)
    finally:
        stop.set()
        watcher.join()
    for name in ("intervals", "usage", "contacts"):
        pd.testing.assert_frame_equal(getattr(alone, name), getattr(watched, name), check_exact=True)
