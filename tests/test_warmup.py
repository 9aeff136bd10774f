"""Warm-up honesty: a warm-up too short for repeats and redials to build up is said, in one line."""

from __future__ import annotations

import math

import pytest
from builders import pool, scenario

from models.distributions import Deterministic, Exponential, Uniform
from models.warmup import delay_quantile_s, warmup_need, warmup_warning


def test_delay_quantiles():
    assert delay_quantile_s(Deterministic(3600.0)) == 3600.0  # every draw is the value
    # uniform 0..1000 s: the 90th percentile is 900 s; 20,000 draws estimate it within a few
    # seconds (se = sqrt(0.09/20000) x 1000 s ≈ 2.1 s), and the fixed generator gives one answer
    assert delay_quantile_s(Uniform(0.0, 1000.0)) == pytest.approx(900.0, abs=10.0)
    # exponential, mean 1 h: m ln 10 = 2.303 h; se ≈ 0.021 m (the density at the quantile is 0.1/m)
    assert delay_quantile_s(Exponential(3600.0)) / 3600 == pytest.approx(math.log(10), abs=0.1)


def test_the_longest_delay_that_comes_back_sets_the_need():
    # a: resolves everything (no repeats); b: repeats after 10 h; c: repeats after 30 h but no call
    # type reaches it; a 20 h redial delay on the call type.
    scn = scenario([pool("a", 5), pool("b", 5, resolution_frac=0.7, repeat_after={"dist": "deterministic", "value_s": 36000}),
                    pool("c", 5, resolution_frac=0.7, repeat_after={"dist": "deterministic", "value_s": 108000})],
                   route=["a", "b"], redial={"frac": 0.3, "after": {"dist": "deterministic", "value_s": 72000},
                                             "max_attempts": 2})
    need = warmup_need(scn)
    assert need is not None and (need.hours, need.what) == (20.0, "redials of call type c")
    assert warmup_warning([scn], 20.0) is None
    assert warmup_warning([scn], 19.0) == (
        "a warm-up of 19 h is short: the redials of call type c reach 90% of their steady level only after "
        "20.0 h, so the first measured days see fewer of them; use --warmup-h 20 or more")


def test_a_pool_split_0_brings_no_repeats():
    # b repeats after 30 h, but the call type splits 0 to it: no call reaches it, no repeat comes back
    scn = scenario([pool("a", 5), pool("b", 5, resolution_frac=0.7, repeat_after={"dist": "deterministic",
                                                                                 "value_s": 108000})],
                   split={"a": 1.0, "b": 0.0})
    assert warmup_need(scn) is None


def test_no_repeats_no_redials_no_warning():
    assert warmup_need(scenario([pool("a", 5)])) is None
    assert warmup_warning([scenario([pool("a", 5)])], 0.0) is None


def test_bposim_run_says_when_its_warm_up_is_short(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    scn = tmp_path / "s.toml"
    scn.write_text('name = "s"\ninterval_min = 60\n[[demand]]\nname = "c"\ncalls_per_h = 30\n'
                   'handle = { dist = "exponential", mean_s = 60 }\nroute = ["a"]\n'
                   '[[pools]]\nname = "a"\nkind = "inhouse"\nagents = 3\nwage_per_h = 10\nresolution_frac = 0.7\n'
                   'repeat_after = { dist = "deterministic", value_s = 7200 }\n', encoding="utf-8")

    def stderr(*flags: str) -> str:
        done = subprocess.run([sys.executable, "-m", "experiments.cli", "run", str(scn), "--reps", "1", "--days", "1",
                               *flags], cwd=root, capture_output=True, text=True, timeout=120, check=True)
        return done.stderr

    assert stderr() == ("bposim: warning: a warm-up of 0 h is short: the repeat calls of pool a reach 90% of their "
                        "steady level only after 2.0 h, so the first measured days see fewer of them; "
                        "use --warmup-h 2 or more\n")
    assert stderr("--warmup-h", "2") == ""
