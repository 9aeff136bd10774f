"""Edges of the staffing search (agents_for_service_level) that mutation testing showed unpinned.

All values are hand-checkable: with no calls one agent always suffices (service level 1); M/M/1/1
with a load of 1 erlang answers exactly half the calls (Erlang B: B(1, 1) = 1/2), at once.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.distributions import Empirical
from models.erlang import agents_for_service_level, queue_metrics


def test_no_calls_need_one_agent():
    # rate 0: load 0, one agent meets any target below 1 at once (no bisection below it)
    assert agents_for_service_level(0.0, 60.0, 0.8, 20.0) == 1
    assert agents_for_service_level(0.0, 60.0, 0.8, 20.0, mean_patience_s=30.0) == 1


def test_a_ceiling_of_one_agent_or_one_line_is_allowed():
    assert agents_for_service_level(0.0, 60.0, 0.8, 20.0, max_agents=1) == 1
    assert agents_for_service_level(0.0, 60.0, 0.8, 20.0, lines=1) == 1


def test_a_target_met_exactly_counts_as_met():
    # M/M/1/1, 1 call/min, 1 min handle: blocked half the time, otherwise answered at once
    assert queue_metrics(1 / 60, 60.0, 1, 20.0, lines=1).service_level_frac == 0.5   # exact in floats
    assert agents_for_service_level(1 / 60, 60.0, 0.5, 20.0, lines=1) == 1


def test_default_ceiling_is_100000_agents():
    # 100,000.5 erlangs of M/M/c need at least 100,001 agents: over the default ceiling
    with pytest.raises(ValueError, match=r"^no staffing <= 100000 agents"):
        agents_for_service_level(100_000.5, 1.0, 0.0, 20.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"target_frac": -0.1}, r"^target_frac: must be finite and >= 0.0, got -0.1$"),
    ({"max_agents": 0}, r"^max_agents: must be >= 1, got 0$"),
    ({"lines": 0}, r"^lines: must be >= 1, got 0$"),
    ({"rate_per_s": -1.0}, r"^rate_per_s: must be finite and >= 0.0, got -1.0$"),
    ({"mean_handle_s": 0.0}, r"^mean_handle_s: must be finite and > 0.0, got 0.0$"),
])
def test_bad_arguments_are_named(kwargs, message):
    args = {"rate_per_s": 0.0, "mean_handle_s": 60.0, "target_frac": 0.8, "threshold_s": 20.0} | kwargs
    with pytest.raises(ValueError, match=message):
        agents_for_service_level(**args)


def test_a_handle_time_below_one_second_is_fine():
    # 0.5 s handle, no calls: one agent (the check is > 0, not >= 1)
    assert agents_for_service_level(0.0, 0.5, 0.8, 20.0) == 1


def test_empirical_samples_are_float_seconds():
    draws = Empirical((60, 120)).sample(np.random.default_rng(1), 4)
    assert draws.dtype == np.float64
    assert set(draws.tolist()) <= {60.0, 120.0}
