"""The yardstick: an idiomatic SimPy model of the reference workload.

One process per call, a ``simpy.Resource`` for the agents, and ``request | timeout(patience)``
for abandonment, as SimPy's own examples do. Random numbers are drawn in numpy batches up front so
that the comparison measures the simulation, not the random number generation.
"""

from __future__ import annotations

import numpy as np
import simpy

RATE_PER_S = 9 / 60
HANDLE_S = 300.0
PATIENCE_S = 600.0
AGENTS = 50
THRESHOLD_S = 20.0


def _caller(env, agents, arrival, handle, patience, stats):
    with agents.request() as request:
        fired = yield request | env.timeout(patience)
        if request in fired:
            wait = env.now - arrival
            stats["answered"] += 1
            stats["wait"] += wait
            stats["within"] += wait <= THRESHOLD_S
            stats["waited"] += wait > 0
            yield env.timeout(handle)
        else:
            stats["abandoned"] += 1
            stats["waited"] += 1


def _source(env, agents, gaps, handles, patiences, stats):
    for gap, handle, patience in zip(gaps, handles, patiences, strict=True):
        yield env.timeout(gap)
        env.process(_caller(env, agents, env.now, handle, patience, stats))


def run_yardstick(n_calls: int, seed: int) -> dict[str, float]:
    """Simulate ``n_calls`` arrivals and drain; the four outputs as fractions of offered calls."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / RATE_PER_S, n_calls).tolist()
    handles = rng.exponential(HANDLE_S, n_calls).tolist()
    patiences = rng.exponential(PATIENCE_S, n_calls).tolist()
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    stats = dict.fromkeys(("answered", "abandoned", "wait", "within", "waited"), 0.0)
    env.process(_source(env, agents, gaps, handles, patiences, stats))
    env.run()
    return {"calls": n_calls, "p_wait": stats["waited"] / n_calls,
            "asa_s": stats["wait"] / max(stats["answered"], 1),
            "abandon": stats["abandoned"] / n_calls, "sl": stats["within"] / n_calls}
