"""Usage recomputed from a saved calls table (sim.usage.usage_from_calls), on a hand-made table."""

from __future__ import annotations

import pandas as pd
from builders import pool, scenario

from sim.usage import USAGE_COLUMNS, usage_from_calls

SLA = {"target_frac": 0.8, "threshold_s": 20.0, "credit_frac": 0.01}


def _scenario():
    # pool a in-house, pool b a BPO at 1/min, 1 s increments, SLA threshold 20 s
    return scenario([pool("a", 1), pool("b", 1, kind="bpo", contract={"per_minute": 1.0, "sla": SLA})])


def test_usage_from_a_hand_made_calls_table():
    rows = [  # rep, arrival_s, outcome, pool, last_pool, handle_s, pool_wait_s (rep 1 first)
        (1, 10.0, "answered", "b", "b", 61.0, 10.0),     # rep 1: 61 increments, SLA met (10 <= 20)
        (0, 20.0, "answered", "b", "b", 30.0, 25.0),     # rep 0: 30 increments, SLA missed (25 > 20)
        (0, 30.0, "abandoned", "", "b", float("nan"), 40.0),  # offered to b for the SLA, not answered
        (0, 40.0, "blocked", "", "b", float("nan"), 0.0),     # neither answered nor SLA-offered
        (0, 50.0, "answered", "a", "a", 60.0, 0.0),      # in-house: no usage
    ]
    calls = pd.DataFrame(rows, columns=["rep", "arrival_s", "outcome", "pool", "last_pool", "handle_s",
                                        "pool_wait_s"])
    usage = usage_from_calls(calls, _scenario(), warmup_s=0.0, horizon_s=86400.0)
    assert list(usage.columns) == list(USAGE_COLUMNS)
    assert list(usage.index) == [0, 1]
    assert usage.values.tolist() == [
        [0, "b", 0, 1, 30, 2, 0],   # rep 0: answered 1, 30 increments, SLA offered 2, met 0
        [1, "b", 0, 1, 61, 1, 1],   # rep 1: answered 1, 61 increments, SLA offered 1, met 1
    ]


def test_usage_from_an_empty_calls_table():
    calls = pd.DataFrame(columns=["rep", "arrival_s", "outcome", "pool", "last_pool", "handle_s", "pool_wait_s"])
    usage = usage_from_calls(calls, _scenario(), warmup_s=0.0, horizon_s=86400.0)
    assert usage.empty and list(usage.columns) == list(USAGE_COLUMNS)
