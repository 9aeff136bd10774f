"""The staffing optimiser against queueing theory (issue 11, first part).

What is checked and why:
- stationary single-pool cases from 1 to 300 agents, Erlang C (no abandonment) and Erlang A
  (exponential patience): the optimiser's answer equals the exact minimal agents. Each case's
  arrival rate puts the exact minimum c* at a service level of 0.85 and its target a quarter of
  the way from SL(c* - 1) up to SL(c*): one agent less misses it in truth, c* meets it by three
  quarters of the step, more than the confidence half-width of the settings used (8 replications
  of 3 days), so the answer is decisive, not luck. Seeds are fixed;
- the search itself, from a start far below and far above the answer, reaches the same c*;
- targets written wrong are one line naming the allowed forms.
"""

from __future__ import annotations

import pytest
from builders import pool, scenario
from scipy.optimize import brentq

from experiments.optimise.search import Problem, optimise
from experiments.optimise.targets import parse_target
from experiments.running.executors import make_executor
from models.erlang import queue_metrics
from models.settings import RunSettings

SETTINGS = RunSettings(reps=8, days=3, warmup_h=1, seed=1, keep_calls=False)
HANDLE_S = 300.0


@pytest.fixture(scope="module")
def executor():
    ex = make_executor()
    yield ex
    ex.close()


def _case(c: int, patience: float | None):
    """(scenario, target text, c*): the rate at which c agents answer 85% within 20 s."""
    sl = lambda rate, n: queue_metrics(rate, HANDLE_S, n, 20.0, patience).service_level_frac
    top = c / HANDLE_S * (0.999 if patience is None else 1.5)
    rate = brentq(lambda r: sl(r, c) - 0.85, 1e-9, top)
    below = sl(rate, c - 1) if c > 1 else 0.0
    target = below + 0.25 * (sl(rate, c) - below)
    demand = {"calls_per_h": rate * 3600, "handle": {"dist": "exponential", "mean_s": HANDLE_S}}
    if patience is not None:
        demand["patience"] = {"dist": "exponential", "mean_s": patience}
    return scenario([pool("a", 1)], interval_min=60, **demand), f"sl_frac>={target:.6f}"


CASES = [(1, None), (3, 300.0), (8, None), (20, 600.0), (50, None), (100, 600.0),
         pytest.param(200, None, marks=pytest.mark.slow), pytest.param(300, 600.0, marks=pytest.mark.slow)]


@pytest.mark.parametrize(("agents", "patience"), CASES)
def test_stationary_answer_is_the_exact_erlang_minimum(executor, agents, patience):
    scn, target = _case(agents, patience)
    outcome = optimise(Problem(scn, (parse_target(target, scn),), ("a",), SETTINGS), executor)
    assert outcome.staffing["a"] == (agents,) * 24
    assert outcome.searched.feasible
    # the search saw one agent less fail (or it is the first agent)
    tried = {ev.staffing["a"][0]: ev.feasible for phase, seed, ev in outcome.log if seed == SETTINGS.seed}
    assert agents == 1 or tried.get(agents - 1) is False


@pytest.mark.parametrize("start", [2, 40])
def test_the_search_gets_there_from_far_below_and_far_above(executor, start):
    scn, target = _case(20, 600.0)
    problem = Problem(scn, (parse_target(target, scn),), ("a",), SETTINGS, start={"a": (start,) * 24})
    outcome = optimise(problem, executor)
    assert outcome.staffing["a"] == (20,) * 24
    raised = [ev for phase, _, ev in outcome.log[1:] if phase == "up"]
    lowered = [ev for phase, _, ev in outcome.log if phase == "down" and ev.staffing["a"][0] < start]
    assert raised if start < 20 else (lowered and outcome.log[0][2].feasible)


@pytest.mark.parametrize(("text", "message"), [
    ("sl_frac=0.8", "write [POOL:]METRIC>=VALUE or <=VALUE"),
    ("service_level>=0.8", "unknown metric 'service_level'"),
    ("abandon_frac>=0.05", "abandon_frac is better lower, so its target is abandon_frac<=VALUE"),
    ("b:sl_frac>=0.8", "no pool 'b'"),
    ("sl_frac>=80", "must be a fraction strictly between 0 and 1, got 80"),
    ("asa_s<=-1", "asa_s must be a number of seconds > 0"),
])
def test_bad_targets_are_one_line(text, message):
    scn = scenario([pool("a", 1)])
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        parse_target(text, scn)
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- the command


def _small_file(tmp_path):
    import tomli_w

    from models.dumping import scenario_to_dict

    scn, _ = _case(8, None)
    path = tmp_path / "small.toml"
    path.write_text(tomli_w.dumps(scenario_to_dict(scn)), encoding="utf-8")
    return path


def test_the_command_writes_a_runnable_scenario_and_every_evaluation(tmp_path, capsys):
    import pandas as pd

    from experiments.cli import main
    from models.loading import load_scenario

    path, out = _small_file(tmp_path), tmp_path / "out"
    code = main(["optimise", str(path), "--target", "sl_frac>=0.75", "--reps", "4", "--days", "2",
                 "--warmup-h", "1", "--jobs", "1", "--out", str(out)])
    assert code == 0
    found = load_scenario(out / "optimised.toml")
    evaluations = pd.read_csv(out / "evaluations.csv")
    summary = pd.read_csv(out / "summary.csv")
    agents = found.pool("a").agents[0]
    # exact Erlang C at 61.2 calls/h x 300 s: 7 agents answer 69.3% within 20 s, 8 agents 85%
    assert agents == 8 and set(found.pool("a").agents) == {8}
    final = evaluations[evaluations["agents"] == f"a={agents}"]
    assert final["met"].all() and (evaluations[evaluations["agents"] == "a=7"]["met"] == False).all()  # noqa: E712
    assert summary["target"].tolist() == ["sl_frac>=0.75"] and bool(summary["met"].iloc[0])
    assert "staffing: a=8" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "abandon_frac>=0.1"], "abandon_frac is better lower"),
    (["--target", "sl_frac>=0.8", "--vary", "b"], "--vary 'b': no such pool"),
    (["--target", "sl_frac>=0.8", "--confidence", "1.5"], "--confidence must be >= 0.5 and < 1"),
    (["--target", "sl_frac>=0.999999", "--max-agents", "9"], "no staffing of at most 9 agents"),
])
def test_bad_command_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, args, message):
    from experiments.cli import main

    out = tmp_path / "out"
    code = main(["optimise", str(_small_file(tmp_path)), *args, "--reps", "2", "--days", "1", "--warmup-h", "1",
                 "--jobs", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (out / "optimised.toml").exists()


def test_two_pools_on_a_split_each_get_their_own_erlang_minimum(executor):
    # 60/40 split of one Poisson stream: each pool is its own M/M/c+M queue (thinning), so each
    # pool's exact minimum comes from Erlang A at its share of the rate.
    patience, rate = 600.0, 0.25  # calls/s in all: 150 and 100 Erlangs x 300 s -> 45 and 30 Erlangs
    pools = [pool("a", 1), pool("b", 1)]
    scn = scenario(pools, interval_min=60, calls_per_h=rate * 3600, split={"a": 0.6, "b": 0.4},
                   handle={"dist": "exponential", "mean_s": HANDLE_S},
                   patience={"dist": "exponential", "mean_s": patience})
    texts, expected = [], {}
    for name, share in (("a", 0.6), ("b", 0.4)):
        sl = lambda n, s=share: queue_metrics(rate * s, HANDLE_S, n, 20.0, patience).service_level_frac
        c = next(n for n in range(1, 200) if sl(n) >= 0.85)
        texts.append(f"{name}:sl_frac>={sl(c - 1) + 0.25 * (sl(c) - sl(c - 1)):.6f}")
        expected[name] = (c,) * 24
    targets = tuple(parse_target(t, scn) for t in texts)
    outcome = optimise(Problem(scn, targets, ("a", "b"), SETTINGS), executor)
    assert dict(outcome.staffing) == expected


@pytest.mark.slow
def test_overflow_optimum_equals_brute_force_enumeration(executor):
    # Pool a (30/h) first; a call waiting 10 s may also go to pool b (12/h). The cheapest staffing
    # meeting 80% within 20 s overall trades a's agents for b's. Brute force: every (a, b) of a grid
    # around it, simulated with the same seed and replications (common random numbers), judged by
    # the same bound, the cheapest feasible taken. The optimiser (search and polish) must land on it.
    from experiments.optimise.evaluate import evaluate

    scn = scenario([pool("a", 1, wage_per_h=30.0), pool("b", 1, wage_per_h=12.0)], interval_min=60,
                   calls_per_h=90, route=["a", "b"], overflow_after_s=10,
                   handle={"dist": "exponential", "mean_s": HANDLE_S},
                   patience={"dist": "exponential", "mean_s": 600.0})
    targets = (parse_target("sl_frac>=0.8", scn),)
    outcome = optimise(Problem(scn, targets, ("a", "b"), SETTINGS), executor)
    assert "repair" not in {phase for phase, _, _ in outcome.log}
    grid = [{"a": (na,) * 24, "b": (nb,) * 24} for na in range(1, 9) for nb in range(1, 15)]
    feasible = [ev for ev in evaluate(scn, grid, targets, SETTINGS, executor, False) if ev.feasible]
    best = min(feasible, key=lambda ev: ev.cost_mean)
    assert dict(outcome.staffing) == dict(best.staffing)
    assert max(best.staffing["a"]) < 8 and max(best.staffing["b"]) < 14  # inside the grid, not on its edge


@pytest.mark.slow
def test_a_peaked_day_meets_every_interval_where_stationary_erlang_a_does_not(executor):
    # One pool open 07:00-21:00 in 30-minute intervals, two peaks (about 200 and 140 calls/h),
    # targets in every open interval. Judged on a seed the search never saw: the optimised staffing
    # meets every target in every interval on the mean; staffing each interval by its own stationary
    # Erlang A figure (the warm start) misses some on the falling side of a peak, where the backlog
    # of the busier interval before carries over (docs/optimise.md gives the measured figures).
    import dataclasses

    import numpy as np

    from experiments.optimise.evaluate import evaluate
    from experiments.optimise.warm import warm_start

    hours = np.arange(48) / 2
    profile = [round(20 + 180 * np.exp(-((x - 11) / 3) ** 2) + 120 * np.exp(-((x - 16) / 2.5) ** 2), 1)
               for x in hours]
    scn = scenario([pool("a", 10, open_h=[7, 21])], interval_min=30, profile_per_h=profile,
                   handle={"dist": "exponential", "mean_s": HANDLE_S},
                   patience={"dist": "exponential", "mean_s": 300.0})
    targets = (parse_target("sl_frac>=0.8", scn), parse_target("abandon_frac<=0.05", scn))
    settings = RunSettings(reps=6, days=5, warmup_h=0, seed=2, keep_calls=False)
    outcome = optimise(Problem(scn, targets, ("a",), settings, per_interval=True), executor)
    stationary = warm_start(scn, ("a",), targets, True, 2000)
    fresh = dataclasses.replace(settings, seed=99)
    found, erlang = evaluate(scn, [outcome.staffing, stationary], targets, fresh, executor, True)
    assert len(found.estimates) == 2 * 28  # 28 open intervals, 2 targets each
    assert all(e.mean_met for e in found.estimates)
    assert any(not e.mean_met for e in erlang.estimates)
    # At 95% for all 56 together (Bonferroni), fresh replications meet every one at its marginal
    # 95% bound too, and the Bonferroni bound of being sure of all at once is >= 90% (it is the
    # sum of 56 doubts: marginal 95% per pair gives a few percent at best).
    from experiments.optimise.output import joint_sure_frac

    joint = optimise(Problem(scn, targets, ("a",), settings, per_interval=True, simultaneous=True), executor)
    both = evaluate(scn, [joint.staffing, outcome.staffing], targets, fresh, executor, True)
    assert all(e.met for e in both[0].estimates)
    assert joint_sure_frac(both[0].estimates) >= 0.9 > joint_sure_frac(both[1].estimates)
    assert sum(joint.staffing["a"]) > sum(outcome.staffing["a"])  # certainty for all costs agents


def test_simultaneous_judges_each_of_the_m_estimates_at_the_bonferroni_level(executor):
    # --simultaneous: the confidence holds for every (target, interval) together, so each of the m
    # estimates is judged at 1 - (1 - c) / m. The same staffing on the same seed judged
    # marginally at that level must give the very same estimates (bounds, verdicts, sure).
    from experiments.optimise.evaluate import evaluate

    scn = scenario([pool("a", 6)], interval_min=60, calls_per_h=50,
                   handle={"dist": "exponential", "mean_s": HANDLE_S})
    targets = (parse_target("sl_frac>=0.7", scn), parse_target("abandon_frac<=0.05", scn))
    settings = RunSettings(reps=3, days=1, warmup_h=0, seed=4, keep_calls=False)
    joint = evaluate(scn, [{"a": (6,) * 24}], targets, settings, executor, True, 0.9, simultaneous=True)[0]
    m = len(joint.estimates)
    assert m == 2 * 24
    each = evaluate(scn, [{"a": (6,) * 24}], targets, settings, executor, True, 1 - 0.1 / m)[0]
    assert joint.estimates == each.estimates
    marginal = evaluate(scn, [{"a": (6,) * 24}], targets, settings, executor, True, 0.9)[0]
    lower = [(j.bound, e.bound) for j, e in zip(joint.estimates, marginal.estimates, strict=True)
             if j.target.metric == "sl_frac"]
    assert all(j <= e for j, e in lower if j == j)  # the joint lower bounds are lower (wider intervals)
    assert sum(j < e for j, e in lower) > 20


class _CarryOver:
    """A stand-in for the simulation: interval i meets its target when it has its need and the
    interval before it (none before the first) has its own need (else its backlog carries over)."""

    def __init__(self, need):
        self.need, self.count = need, 0

    def evaluation(self, staffing):
        from experiments.optimise.evaluate import Estimate, Evaluation
        from experiments.optimise.targets import Target

        target, a = Target("sl_frac", ">=", 0.8, "p"), staffing["p"]
        ok = [a[i] >= n and (i == 0 or a[i - 1] >= self.need[i - 1]) for i, n in enumerate(self.need)]
        self.count += 1
        return Evaluation(dict(staffing), tuple(Estimate(target, i, 0.0, 0.0, m) for i, m in enumerate(ok)),
                          float(sum(a)), ())


@pytest.mark.parametrize(("need", "start"), [((50, 20, 20), (30, 30, 30)), ((40, 40, 40), (60, 60, 60)),
                                             ((20, 60, 20, 20), (30, 30, 30, 30))])
def test_the_per_interval_descent_does_not_blame_an_interval_for_its_predecessors_backlog(need, start):
    # Interval 1 fails at 30 in the first round only because interval 0 (need 50) is short: its
    # failure there must not make 30 its floor. The search lands exactly on the needs.
    from types import SimpleNamespace

    from experiments.optimise.search import Search

    fake = _CarryOver(need)
    problem = SimpleNamespace(per_interval=True, vary=("p",), max_agents=2000,
                              scenario=SimpleNamespace(intervals_per_day=len(need)))
    search = Search(problem, None)  # type: ignore[arg-type]
    search.evaluate = lambda staffings, phase, seed=None: [fake.evaluation(s) for s in staffings]  # type: ignore[method-assign]
    found = search.down(search.up({"p": start}, "up"))
    assert found.staffing["p"] == need
