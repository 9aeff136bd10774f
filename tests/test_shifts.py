"""Shifts for in-house pools (issue 11, item 3).

What is checked and why:
- the break model and the wrap past midnight, on hand-worked shifts (the intervals an agent works);
- the integer program: on small hand-made requirements its paid hours equal the cheapest of a
  brute-force enumeration of every shift count, its plan covers every interval, and hand-checked
  cases show that it uses the wrap (a 21:00 shift covers 00:00-03:00) and the break (an agent on
  break covers nothing);
- scenario files: a ``shift_plan`` derives the pool's agents, survives the round trip through
  models/dumping.py, and makes the labour cost follow the shifts (paid hours = agents × length_h
  per open day, breaks paid); bad shift input is one line, exit 2;
- the repair: a plan built from a requirement too low for the targets is raised where targets fail
  until every one is met;
- end to end: ``bposim optimise --per-interval`` on a small in-house scenario with a peaked day
  writes shifts.csv and an optimised.toml that loads, meets every target in every open interval on
  the fresh seed's mean, and is paid exactly the shifts' hours, no fewer than the requirement's.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from builders import pool, scenario

from experiments.optimise.shift_milp import cheapest_counts, cheapest_shifts
from models.dumping import scenario_to_dict
from models.loading import load_scenario, scenario_from_dict
from models.shifts import Shift, ShiftTemplate, coverage, template_shifts, working_mask


def worked(start_h, length_h, break_min, interval_min):
    return [int(i) for i in np.flatnonzero(working_mask(start_h, length_h, break_min, interval_min))]


# --------------------------------------------------------------------------- break and wrap


def test_a_night_shift_wraps_past_midnight_onto_the_same_day():
    # 22:00 + 8 h in hourly intervals: 22, 23, then 00:00-06:00 of the daily pattern.
    assert worked(22, 8, 0, 60) == [0, 1, 2, 3, 4, 5, 22, 23]


def test_the_break_is_whole_intervals_in_the_middle():
    # 06:00 + 8 h, 30-minute intervals: 16 intervals from 12; a 30-minute break is b = 1 interval
    # at offset (16 - 1) // 2 = 7, i.e. interval 19 (09:30-10:00) is off.
    assert worked(6, 8, 30, 30) == [i for i in range(12, 28) if i != 19]
    # hourly intervals: a 30-minute break rounds up to the whole hour at offset (8 - 1) // 2 = 3.
    assert worked(6, 8, 30, 60) == [6, 7, 8, 10, 11, 12, 13]
    # 90 minutes -> b = 2 at offset (8 - 2) // 2 = 3: 09:00-11:00 off.
    assert worked(6, 8, 90, 60) == [6, 7, 8, 11, 12, 13]
    # a break across midnight: 22:00 + 8 h, 60 minutes at offset 3 -> 01:00 off.
    assert worked(22, 8, 60, 60) == [0, 2, 3, 4, 5, 22, 23]


def test_coverage_adds_agents_of_every_shift():
    plan = [Shift(22, 8, 60, agents=2), Shift(6, 8, 0, agents=1), Shift(4, 4, 0, agents=3)]
    cov = coverage(plan, 60)
    assert cov[1] == 0 and cov[0] == 2 and cov[4] == 2 + 3 and cov[6] == 1 + 3 and cov[13] == 1 and cov[14] == 0


# --------------------------------------------------------------------------- the integer program

DAY_3H = 180  # minutes: 8 intervals of 3 h, small enough to enumerate
TEMPLATES_3H = (ShiftTemplate(9, (0, 6, 12, 18)), ShiftTemplate(12, (3, 15), break_min=180))


def brute_force(required, shifts, interval_min):
    """The least paid hours of any shift counts 0..max(required) whose coverage meets ``required``."""
    cover = np.array([s.working(interval_min) for s in shifts], dtype=int)
    cost = np.array([s.length_h for s in shifts])
    best = math.inf
    for counts in itertools.product(range(max(required) + 1), repeat=len(shifts)):
        x = np.array(counts)
        if (x @ cover >= np.asarray(required)).all():
            best = min(best, float(x @ cost))
    return best


@pytest.mark.parametrize("case", range(12))
def test_milp_equals_brute_force_and_covers_every_interval(case):
    rng = np.random.default_rng(case)
    required = rng.integers(0, 4, size=1440 // DAY_3H).tolist()
    shifts = [s for _, s in template_shifts(TEMPLATES_3H)]
    counts = cheapest_counts(required, shifts, DAY_3H)
    plan = [Shift(s.start_h, s.length_h, s.break_min, int(n)) for s, n in zip(shifts, counts, strict=True)]
    assert all(c >= r for c, r in zip(coverage(plan, DAY_3H), required, strict=True))
    assert float(counts @ np.array([s.length_h for s in shifts])) == brute_force(required, shifts, DAY_3H)


def test_milp_uses_the_wrap_past_midnight():
    # Needed: one agent 21:00-24:00 (interval 7) and 00:00-03:00 (interval 0). A 6 h shift from
    # 21:00 covers both through the wrap (6 paid hours); without the wrap it would take a 3 h
    # shift from 00:00 as well (9 hours).
    templates = (ShiftTemplate(6, (21,)), ShiftTemplate(3, (0,)))
    plan = cheapest_shifts([1, 0, 0, 0, 0, 0, 0, 1], templates, DAY_3H)
    assert [(k, s.start_h, s.agents) for k, s in plan] == [(0, 21, 1)]


def test_milp_knows_an_agent_on_break_covers_nothing():
    # A 9 h shift from 00:00 with a 3 h break works 00:00-03:00 and 06:00-09:00 (off 03:00-06:00),
    # so two agents needed 00:00-09:00 take 2 of it and 2 of the 3 h shift from 03:00: 24 paid
    # hours (18 would do if the break were ignored).
    templates = (ShiftTemplate(9, (0,), break_min=180), ShiftTemplate(3, (3,)))
    plan = cheapest_shifts([2, 2, 2, 0, 0, 0, 0, 0], templates, DAY_3H)
    assert [(k, s.start_h, s.agents) for k, s in plan] == [(0, 0, 2), (1, 3, 2)]
    assert sum(s.agents * s.length_h for _, s in plan) == 24


def test_milp_names_an_interval_no_shift_works():
    with pytest.raises(ValueError, match="no shift works in 06:00"):
        cheapest_shifts([1, 0, 1, 0, 0, 0, 0, 0], (ShiftTemplate(3, (0,)),), DAY_3H)


# --------------------------------------------------------------------------- scenario files


def _planned_pool(**extra):
    table = pool("a", 1, shift_plan=[{"start_h": 22, "length_h": 8, "break_min": 60, "agents": 2},
                                     {"start_h": 6, "length_h": 8, "agents": 1}],
                 shifts=[{"length_h": 8, "starts_h": list(range(24)), "break_min": 60}], **extra)
    del table["agents"]
    return table


def test_a_shift_plan_gives_the_agents_and_round_trips():
    scn = scenario([_planned_pool()])
    p = scn.pool("a")
    assert p.agents == coverage(p.shift_plan, 60)
    assert p.agents[:8] == (2, 0, 2, 2, 2, 2, 1, 1) and p.agents[22:] == (2, 2)
    again = scenario_from_dict(scenario_to_dict(scn), source=scn.source)
    assert again == scn
    assert "agents" not in scenario_to_dict(scn)["pools"][0]


def test_paid_hours_follow_the_shifts_on_open_days():
    # Open Monday to Friday; 7 days simulated from Monday, no warm-up: 5 open days, each paying
    # 2 × 8 + 1 × 8 = 24 agent-hours (the night shift's break paid), whatever the schedule's
    # interval-by-interval agents (2 × 7 + 1 × 8 = 22 working agent-hours a day) say.
    from experiments.results.runner import run
    from models.settings import RunSettings

    scn = scenario([_planned_pool(open_days=[0, 1, 2, 3, 4])])
    result = run(scn, RunSettings(reps=1, days=7, warmup_h=0, seed=1, keep_calls=False))
    row = result.pool_runs.iloc[0]
    assert row["paid_h"] == 24 * 5 and row["labour_cost"] == 24 * 5 * 10.0
    assert sum(scn.pool("a").agents) == 22


def _write(tmp_path: Path, pools: list[dict], interval_min: int = 60) -> Path:
    data = {"name": "t", "interval_min": interval_min, "demand": [
        {"name": "c", "calls_per_h": 60, "handle": {"dist": "exponential", "mean_s": 300}, "route": ["a"]}],
        "pools": pools}
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _with_template(**template):
    return pool("a", 5, shifts=[{"length_h": 8, "starts_h": [0, 8, 16]} | template])


BAD = [
    (_with_template(length_h=0), "pools[0].shifts[0].length_h: must be > 0, got 0"),
    (_with_template(length_h=25), "pools[0].shifts[0].length_h: must be > 0 and <= 24, got 25"),
    (_with_template(starts_h=[0, 8, 24]), "pools[0].shifts[0].starts_h[2]: must be >= 0 and < 24, got 24"),
    (_with_template(starts_h=[0, 8, -1]), "pools[0].shifts[0].starts_h[2]: must be >= 0 and <= 24, got -1"),
    (_with_template(starts_h=[0, 8.5, 16]), "pools[0].shifts[0].starts_h[1]: must be on a 60-minute interval "
                                            "boundary, got 8.5"),
    (_with_template(length_h=7.5), "pools[0].shifts[0].length_h: must be a whole number of 60-minute "
                                   "intervals, got 7.5 h"),
    (_with_template(break_min=480), "pools[0].shifts[0].break_min: must be >= 0 and < the shift's 480 minutes"),
    (_with_template(break_min=-5), "pools[0].shifts[0].break_min: must be >= 0, got -5"),
    (_with_template(break_min=30), "pools[0].shifts: no shift template works in 03:00-04:00, when the pool is open"),
    (_with_template(starts_h=[0, 8]), "pools[0].shifts: no shift template works in 16:00-17:00, when the pool is open"),
    (pool("a", 5, kind="bpo", shifts=[{"length_h": 8, "starts_h": [0, 8, 16]}]),
     "pools[0].shifts: only in-house pools have shifts"),
    (pool("a", 5, shift_plan=[{"start_h": 0, "length_h": 8, "agents": 2}]),
     "pools[0].agents: a pool with a shift_plan takes its agents from the plan"),
    ({k: v for k, v in pool("a", 5, shift_plan=[{"start_h": 0, "length_h": 8, "agents": 0}]).items() if k != "agents"},
     "pools[0].shift_plan: must put at least one agent on a shift"),
    ({k: v for k, v in pool("a", 5, shift_plan=[{"start_h": 0.5, "length_h": 8, "agents": 1}]).items()
      if k != "agents"}, "pools[0].shift_plan[0].start_h: must be on a 60-minute interval boundary, got 0.5"),
]


@pytest.mark.parametrize(("table", "message"), BAD, ids=range(len(BAD)))
def test_bad_shift_input_is_one_line_exit_2(tmp_path, capsys, table, message):
    from experiments.cli import main

    path = _write(tmp_path, [table])
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_bad_shift_input_stops_optimise_too(tmp_path, capsys):
    from experiments.cli import main

    path = _write(tmp_path, [BAD[0][0]])
    code = main(["optimise", str(path), "--per-interval", "--target", "sl_frac>=0.8", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and f"{path}: {BAD[0][1]}" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_a_pool_open_part_of_the_day_needs_cover_only_while_open(tmp_path):
    # Open 08:00-16:00: one 8 h shift from 08:00 covers it all (a closed night needs no template).
    path = _write(tmp_path, [pool("a", 5, open_h=[8, 16], shifts=[{"length_h": 8, "starts_h": [8]}])])
    assert load_scenario(path).pool("a").shifts == (ShiftTemplate(8, (8.0,)),)


# --------------------------------------------------------------------------- optimiser

PEAK_SETTINGS = {"reps": 4, "days": 7, "warmup_h": 24, "seed": 3}
TARGETS = ("sl_frac>=0.8", "abandon_frac<=0.05")
OPEN_DAYS = [0, 1, 2, 3, 4]


def _peaked_scenario() -> dict:
    """One in-house pool open 06:00-22:00 on weekdays, hourly intervals, two peaks (about 70 and
    45 calls/h), exponential handle and patience of 300 s; 8 h shifts with a 30-minute break
    (rounded to the hour) from 06:00 to 14:00, and 4 h shifts from 06:00 to 18:00."""
    hours = np.arange(24)
    peak = 15 + 60 * np.exp(-(((hours - 10.5) / 2.5) ** 2)) + 40 * np.exp(-(((hours - 17) / 2) ** 2))
    profile = [round(float(r), 1) if 6 <= h < 22 else 0.0 for h, r in enumerate(peak)]
    return {"name": "shifty", "interval_min": 60, "service_level_s": 20,
            "demand": [{"name": "c", "profile_per_h": profile, "route": ["a"],
                        "handle": {"dist": "exponential", "mean_s": 300},
                        "patience": {"dist": "exponential", "mean_s": 300},
                        "weekday_factors": [1, 1, 1, 1, 1, 0, 0]}],
            "pools": [{"name": "a", "kind": "inhouse", "wage_per_h": 20, "agents": 5, "open_h": [6, 22],
                       "open_days": OPEN_DAYS,
                       "shifts": [{"length_h": 8, "starts_h": list(range(6, 15)), "break_min": 30},
                                  {"length_h": 4, "starts_h": list(range(6, 19))}]}]}


@pytest.fixture(scope="module")
def executor():
    from experiments.running.executors import make_executor

    ex = make_executor(1)
    yield ex
    ex.close()


def test_a_plan_from_too_low_a_requirement_is_repaired_by_simulation(executor):
    # The search's answer is replaced by one agent fewer in every open interval: the plan covering
    # it fails somewhere on the search's seed, and the repair raises the requirement there until
    # every target is met.
    from experiments.optimise.evaluate import evaluate
    from experiments.optimise.search import Outcome, Problem
    from experiments.optimise.shifts import plan_shifts
    from experiments.optimise.targets import parse_target
    from models.settings import RunSettings

    scn = scenario_from_dict(_peaked_scenario(), source="peaked.toml")
    settings = RunSettings(**PEAK_SETTINGS, keep_calls=False)
    problem = Problem(scn, tuple(parse_target(t, scn) for t in TARGETS), ("a",), settings, per_interval=True)
    low = {"a": (0,) * 6 + (3, 4, 5, 6, 7, 7, 6, 5, 4, 4, 5, 6, 6, 4, 3, 3) + (0,) * 2}
    ev = evaluate(scn, [low], problem.targets, settings, executor, True)[0]
    shifted = plan_shifts(problem, Outcome(low, ev, ev, [("up", settings.seed, ev)]), executor)
    assert shifted is not None
    phases = [(phase, e.feasible) for phase, _, e in shifted.outcome.log[1:]]
    assert phases[0] == ("shifts", False) and shifted.outcome.searched.feasible
    plan = shifted.plans["a"]
    assert any(p > r for p, r in zip(plan.planned, plan.required, strict=True))
    assert all(c >= p for c, p in zip(plan.covered, plan.planned, strict=True))


def test_optimise_per_interval_writes_shifts_that_meet_the_targets_and_are_paid_by_the_shift(tmp_path, capsys,
                                                                                            executor):
    from experiments.cli import main
    from experiments.optimise.evaluate import evaluate
    from experiments.optimise.targets import parse_target
    from experiments.results.runner import run
    from models.settings import RunSettings

    path, out = tmp_path / "peaked.toml", tmp_path / "out"
    path.write_text(tomli_w.dumps(_peaked_scenario()), encoding="utf-8")
    args = [f"--{k.replace('_', '-')}={v}" for k, v in PEAK_SETTINGS.items()]
    code = main(["optimise", str(path), "--per-interval", *[f"--target={t}" for t in TARGETS], *args,
                 "--jobs", "1", "--out", str(out)])
    assert code == 0
    assert "paid" in capsys.readouterr().out
    shifts = pd.read_csv(out / "shifts.csv")
    cover = pd.read_csv(out / "shift_coverage.csv")
    found = load_scenario(out / "optimised.toml")
    planned = found.pool("a")
    assert list(shifts.columns) == ["pool", "template", "start_h", "length_h", "break_min", "agents"]
    assert [(s.start_h, s.length_h, s.break_min, s.agents) for s in planned.shift_plan] == list(
        shifts[["start_h", "length_h", "break_min", "agents"]].itertuples(index=False, name=None))
    open_ = cover[cover["open"]]
    assert open_["interval"].tolist() == list(range(6, 22))
    assert (open_["covered_n"] >= open_["required_n"]).all()
    assert [planned.agents[i] for i in range(24)] == cover["covered_n"].tolist()

    # Every target met in every open interval on the mean of the last fresh seed, by the file as it loads.
    evaluations = pd.read_csv(out / "evaluations.csv")
    fresh = int(evaluations.loc[evaluations["phase"] == "shifts-recheck", "seed"].iloc[-1])
    assert fresh > PEAK_SETTINGS["seed"]
    settings = RunSettings(**(PEAK_SETTINGS | {"seed": fresh}), keep_calls=False)
    targets = tuple(parse_target(t, found) for t in TARGETS)
    ev = evaluate(found, [{}], targets, settings, executor, True)[0]
    assert all(e.mean_met for e in ev.estimates)
    assert {e.interval for e in ev.estimates} == set(range(6, 22))

    # Paid hours: the shifts' (by hand from shifts.csv) on each measured open day, not the schedule's.
    measured_days = range(PEAK_SETTINGS["warmup_h"] // 24, PEAK_SETTINGS["days"])  # day 0 is a Monday
    open_days = sum(1 for d in measured_days if d % 7 in OPEN_DAYS)
    by_hand = float((shifts["agents"] * shifts["length_h"]).sum()) * open_days
    result = run(found, settings, executor=executor)
    assert result.pool_runs["paid_h"].tolist() == [by_hand] * PEAK_SETTINGS["reps"]
    required_h = float(open_["required_n"].sum()) * open_days  # hourly intervals
    assert by_hand >= required_h
