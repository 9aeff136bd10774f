"""The cost of poor service: counted by the run, priced after it, recomputed here from the calls table."""

from __future__ import annotations

import numpy as np
import pytest
from builders import calls, pool, replay, scenario

from experiments.results.runner import assemble, run
from experiments.running.executors import SerialExecutor
from models.dumping import scenario_to_dict
from models.loading import load_scenario, scenario_from_dict
from models.settings import RunSettings

QUALITY = {"lost_cost": 10.0, "redial_cost": 2.0, "repeat_cost": 4.0, "wait_cost_per_h": 36.0}


def test_a_hand_made_hour_priced_by_hand():
    # One agent, 60 s handle, first-contact resolution 0.5 (the resolution draw decides).
    # c0 at 0: answered at once, draw 0.9 -> unresolved: its repeat comes back 2000 s after it ends,
    #    at 2060, and is answered at once (the repeat's own repeat would come after the 1 h horizon).
    # c1 at 10, patience 20: waits for the agent (busy until 60), abandons at 30 -> lost, waited 20 s.
    # c2 at 100: answered at once, draw 0.1 -> resolved.
    # Offered 4 (three first contacts and one repeat), answered 3, lost 1, redials 0, repeats 1,
    # waited 20 s. Quality cost = 1 x 10 (lost) + 1 x 4 (repeat) + 20/3600 h x 36 = 14.2.
    scn = scenario([pool("a", 1, resolution_frac=0.5, repeat_after={"dist": "deterministic", "value_s": 2000.0})])
    table = scenario_to_dict(scn) | {"quality": {"lost_cost": 10.0, "wait_cost_per_h": 36.0}}
    table["demand"][0]["quality"] = {"repeat_cost": 4.0}  # this call type's own, over the scenario's
    scn = scenario_from_dict(table)
    assert (scn.quality_of(0).repeat_cost, scn.quality_of(0).lost_cost) == (4.0, 10.0)
    first = calls([0, 10, 100], [60, 60, 60], patience_s=[1e9, 20, 1e9], u_resolve=[0.9, 0.9, 0.1])
    rep = replay(scn, first, days=1 / 24)
    assert rep.calls[["arrival_s", "is_repeat"]].values.tolist() == [[0, False], [10, False], [100, False],
                                                                     [2060, True]]
    resolved = rep.calls["resolved"].tolist()
    assert resolved[:3] == [False, False, True]  # the repeat's own draw decides its fourth value
    contacts = rep.contacts.iloc[0]
    assert (contacts["offered_n"], contacts["answered_n"], contacts["lost_n"], contacts["redial_n"],
            contacts["repeat_n"], contacts["wait_s"], contacts["resolved_n"]) == (4, 3, 1, 0, 1, 20.0, sum(resolved))
    runs = assemble(scn, RunSettings(reps=1, days=1 / 24), [[rep]]).runs.iloc[0]
    assert runs["quality_cost"] == pytest.approx(14.2, rel=1e-12)  # three terms summed: float rounding only
    assert runs["resolved_n"] == sum(resolved)
    assert runs["cost_per_resolved"] == runs["total_cost"] / sum(resolved)
    assert runs["total_with_quality_cost"] == runs["total_cost"] + runs["quality_cost"]


def _quality_scenario():
    table = scenario_to_dict(load_scenario("experiments/scenarios/baseline.toml"))
    table["quality"] = QUALITY
    table["demand"][0]["redial"] = {"frac": 0.5, "after": {"dist": "exponential", "mean_s": 300}, "max_attempts": 3}
    table["pools"][0]["resolution_frac"] = 0.8
    return scenario_from_dict(table, source="quality.toml")


def test_quality_cost_and_resolved_recompute_exactly_from_the_calls_table():
    result = run(_quality_scenario(), RunSettings(reps=2, days=1, warmup_h=2), executor=SerialExecutor())
    calls, pool_runs, runs = result.calls, result.pool_runs, result.runs
    lost = calls["outcome"].isin(["abandoned", "blocked"]) & ~calls["redialed"]
    redial = calls["attempt"] > 1
    repeat = calls["is_repeat"] & (calls["attempt"] == 1)
    per_call = (QUALITY["lost_cost"] * lost + QUALITY["redial_cost"] * redial + QUALITY["repeat_cost"] * repeat
                + QUALITY["wait_cost_per_h"] * calls["wait_s"] / 3600)
    assert lost.sum() > 0 and redial.sum() > 0 and repeat.sum() > 0  # every term is exercised
    frame = calls.assign(cost=per_call, resolved_n=calls["resolved"].astype(int), pool=calls["last_pool"])
    by_pool = frame.groupby(["rep", "pool"], observed=True)[["cost", "resolved_n"]].sum()
    got = pool_runs.set_index(["rep", "pool"])
    for key, row in by_pool.iterrows():
        # the run sums per (call type, pool) first, then per pool: the same terms in another order
        assert got.at[key, "quality_cost"] == pytest.approx(row["cost"], rel=1e-12)
        assert got.at[key, "resolved_n"] == row["resolved_n"]
    by_rep = frame.groupby("rep")[["cost", "resolved_n"]].sum()
    np.testing.assert_allclose(runs["quality_cost"], by_rep["cost"], rtol=1e-12)  # summation order only
    assert runs["resolved_n"].tolist() == by_rep["resolved_n"].tolist()
    assert (runs["cost_per_resolved"] == runs["total_cost"] / runs["resolved_n"]).all()
    assert (runs["total_with_quality_cost"] == runs["total_cost"] + runs["quality_cost"]).all()
    # resolved: answered, and the answering pool resolved it (the other answered calls came back)
    assert not (calls["resolved"] & (calls["outcome"] != "answered")).any()


def test_zero_quality_costs_cost_nothing_and_change_no_other_column():
    base = load_scenario("experiments/scenarios/baseline.toml")
    settings = RunSettings(reps=2, days=1)
    plain = run(base, settings, executor=SerialExecutor())
    assert (plain.runs["quality_cost"] == 0).all()
    assert (plain.runs["total_with_quality_cost"] == plain.runs["total_cost"]).all()
    priced = run(scenario_from_dict(scenario_to_dict(base) | {"quality": QUALITY}), settings, executor=SerialExecutor())
    assert (priced.runs["quality_cost"] > 0).all()
    same = [c for c in plain.runs.columns if "quality" not in c]
    assert priced.runs[same].equals(plain.runs[same])  # the calls are the same: only the price of service changes


def test_worse_service_costs_more_quality_in_every_replication():
    # The same offered calls (common random numbers) answered by fewer agents: abandonment, waiting
    # and redials go up, and so does the quality cost, replication by replication.
    table = scenario_to_dict(_quality_scenario())
    settings = RunSettings(reps=3, days=1, warmup_h=2)
    costs = {}
    for agents in (40, 30):
        table["pools"][0]["agents"] = agents
        costs[agents] = run(scenario_from_dict(table), settings, executor=SerialExecutor()).runs
    assert (costs[30]["abandon_frac"] > costs[40]["abandon_frac"]).all()
    assert (costs[30]["quality_cost"] > costs[40]["quality_cost"]).all()
