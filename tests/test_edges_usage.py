"""Usage recomputed from a saved calls table (sim.usage.usage_from_calls), on a hand-made table."""

from __future__ import annotations

import pandas as pd
from builders import pool, scenario

from sim.usage import USAGE_COLUMNS, usage_from_calls

SLA = {"target_frac": 0.8, "threshold_s": 20.0, "credit_frac": 0.01}


def _scenario():
    # pool a in-house, pool b a BPO at 1/min, 1 s increments, SLA threshold 20 s
    return scenario([pool("a", 1), pool("b", 1, kind="bpo", contract={"per_minute": 1.0, "sla": SLA})])


CALL_COLUMNS = ["rep", "arrival_s", "outcome", "pool", "last_pool", "handle_s", "pool_wait_s", "resolved"]


def _intervals(interval_s: float) -> pd.DataFrame:
    """Agents scheduled: rep 0 pool b 3 then 2 (5 agent-hours at 60 min), rep 1 pool b 4 (4 h); pool a 7."""
    rows = [(0, "b", 0.0, 3), (0, "b", interval_s, 2), (0, "a", 0.0, 7), (1, "b", 0.0, 4), (1, "a", 0.0, 7)]
    return pd.DataFrame(rows, columns=["rep", "pool", "start_s", "scheduled_n"])


def test_usage_from_a_hand_made_calls_table():
    rows = [  # rep, arrival_s, outcome, pool, last_pool, handle_s, pool_wait_s, resolved (rep 1 first)
        (1, 10.0, "answered", "b", "b", 61.0, 10.0, False),  # rep 1: 61 increments, SLA met (10 <= 20)
        (0, 20.0, "answered", "b", "b", 30.0, 25.0, True),   # rep 0: 30 increments, SLA missed (25 > 20)
        (0, 30.0, "abandoned", "", "b", float("nan"), 40.0, False),  # offered to b for the SLA, not answered
        (0, 40.0, "blocked", "", "b", float("nan"), 0.0, False),     # neither answered nor SLA-offered
        (0, 50.0, "answered", "a", "a", 60.0, 0.0, True),    # in-house: no usage
    ]
    calls = pd.DataFrame(rows, columns=CALL_COLUMNS)
    scen = _scenario()
    assert scen.interval_s == 3600.0
    usage = usage_from_calls(calls, _intervals(scen.interval_s), scen, warmup_s=0.0, horizon_s=86400.0)
    assert list(usage.columns) == list(USAGE_COLUMNS)
    assert list(usage.index) == [0, 1]
    # client, month, answered, increments, SLA offered, SLA met, abandoned, resolved, wait of the answered,
    # handled time, answered within service_level_s (20 s), paid hours (one client: all of the pool's)
    name = scen.name
    assert usage.values.tolist() == [
        [0, "b", name, 0, 1, 30, 2, 0, 1, 1, 25.0, 30.0, 0, 5.0],   # rep 0
        [1, "b", name, 0, 1, 61, 1, 1, 0, 0, 10.0, 61.0, 1, 4.0],   # rep 1
    ]


def test_usage_from_an_empty_calls_table():
    calls = pd.DataFrame(columns=CALL_COLUMNS)
    usage = usage_from_calls(calls, _intervals(3600.0), _scenario(), warmup_s=0.0, horizon_s=86400.0)
    assert usage.empty and list(usage.columns) == list(USAGE_COLUMNS)
