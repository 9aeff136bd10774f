"""Random streams addressed by (seed, rep, stream, key).

Every stream is ``numpy.random.SeedSequence(seed, spawn_key=(rep, stream_id, key))``: the same
(seed, rep) gives the same draws in every scenario (common random numbers) and on every worker.
The ids below are part of the results' identity: never renumber them, only add new ones.
A per-call-type stream uses ``key = name_key(call_type.name)`` so that adding a call type or a
pool leaves the other call types' draws unchanged.
"""

from __future__ import annotations

import zlib

import numpy as np

ARRIVALS = 0         # arrival counts and times of first contacts
HANDLE = 1           # base handle times of first contacts
PATIENCE = 2         # patience of first contacts
SPLIT = 3            # uniform per first contact for split routing
RESOLUTION = 4       # uniform per first contact: resolved on first contact?
DAILY = 5            # daily busyness factors
REPEATS = 6          # everything drawn for repeat calls (delay, handle, patience, split, resolution)
REDIALS = 7          # retrials: per call type, decision uniform (0), delay (1) and new patience (2)
BUDGET = 8           # bposim budget: the forecast error of each month's volume, key = budget month


def name_key(name: str) -> int:
    """A stable 32-bit key for a name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, rep: int, stream_id: int, *keys: int) -> np.random.Generator:
    """The generator of one stream of one replication (``keys`` address sub-streams)."""
    seq = np.random.SeedSequence(seed, spawn_key=(rep, stream_id, *keys))
    return np.random.Generator(np.random.PCG64(seq))
