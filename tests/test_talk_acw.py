"""Talk time and after-call work given apart (``talk`` + ``acw`` instead of ``handle``), and
contracts that bill talk time only (``billing_basis = "talk"``).

What is checked and why:
- handle = talk + acw for every answered call, and a pool's ``handle_factor`` scales both parts
  (hand-made calls, exact);
- the drawn parts follow their own distributions (means within 4 standard errors, fixed seed) and
  are drawn independently (correlation within 4 standard errors of 0);
- a call type that gives only ``handle`` has talk = handle and draws what it always did;
- each vendor's invoice recomputes, to the cent, from the calls table: billed minutes from the
  talk times for a talk-billed contract, from the handle times otherwise.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from builders import calls, pool, replay, scenario

from experiments.results.runner import run
from experiments.running.executors import SerialExecutor
from models.billing import BILLING_MONTH_S
from models.loading import load_scenario
from models.settings import RunSettings

TOML = Path(__file__).resolve().parent / "data" / "talk_acw.toml"
SETTINGS = RunSettings(reps=2, days=20, warmup_h=24, seed=5, keep_calls=True)  # one billing month of 19 days


@functools.cache
def result():
    return run(load_scenario(TOML), SETTINGS, executor=SerialExecutor(), progress=False)


def test_the_pool_factor_scales_talk_and_after_call_work_alike():
    scn = scenario([pool("a", 1, handle_factor=1.5)])
    rep = replay(scn, calls([0.0, 10.0], [100.0, 40.0], talk_s=[70.0, 40.0]))
    answered = rep.calls.sort_values("call_id")
    assert answered["handle_s"].tolist() == [150.0, 60.0]
    assert answered["talk_s"].tolist() == [105.0, 60.0]


def test_talk_and_acw_are_drawn_from_their_own_distributions_and_add_up():
    scn = load_scenario(TOML)
    factor = {p.name: p.handle_factor for p in scn.pools}
    table = result().tables["calls"]
    answered = table[table["outcome"] == "answered"]
    base = answered["pool"].astype(str).map(factor).to_numpy()
    talk = answered["talk_s"].to_numpy() / base
    acw = (answered["handle_s"].to_numpy() - answered["talk_s"].to_numpy()) / base
    claims = (answered["call_type"] == "claims").to_numpy()
    n = int(claims.sum())
    assert n > 50_000  # about 120/h x 24 h x 19 days x 2 replications, less abandonment
    # Lognormal talk (mean 240 s, cv 0.8) and gamma acw (mean 60 s, cv 0.5). Answered calls are
    # not a biased sample of handle times here: patience and handle are drawn independently.
    for values, mean, cv in ((talk[claims], 240.0, 0.8), (acw[claims], 60.0, 0.5)):
        assert abs(values.mean() - mean) < 4 * mean * cv / math.sqrt(n)
    assert abs(np.corrcoef(talk[claims], acw[claims])[0, 1]) < 4 / math.sqrt(n)
    assert (acw[claims] > 0).all()
    # A call type with one handle time: talk is the handle time, bit for bit.
    status = answered[~claims]
    assert (status["talk_s"] == status["handle_s"]).all()


def test_invoices_bill_talk_or_handle_time_as_each_contract_says():
    scn = load_scenario(TOML)
    tables = result().tables
    answered = tables["calls"][tables["calls"]["outcome"] == "answered"]
    assert SETTINGS.horizon_s - SETTINGS.warmup_s < BILLING_MONTH_S  # every call in month 0
    checked = 0
    for vendor, column in (("vendor_handle", "handle_s"), ("vendor_talk", "talk_s")):
        contract = scn.pool(vendor).contract
        assert contract is not None and contract.billing_basis == column.removesuffix("_s")
        mine = answered["pool"].astype(str) == vendor
        billed_s = np.ceil(answered.loc[mine, column] / 30.0) * 30.0
        expected = (billed_s / 60.0 + 0.25).groupby(answered.loc[mine, "rep"]).sum()
        invoices = tables["invoices"][tables["invoices"]["pool"] == vendor].set_index(["rep", "month"])
        for rep, minutes in expected.items():
            row = invoices.loc[(rep, 0)]
            assert math.isclose(row["billed_min"], minutes, rel_tol=1e-12)
            fee = 1000.0 * row["month_frac"]
            assert round(row["invoice_cost"], 2) == round(fee + 0.5 * minutes, 2)
            checked += 1
    assert checked == 2 * SETTINGS.reps and len(tables["invoices"]) == checked
    # Same calls, same price: billing talk time only is cheaper by about the after-call work.
    by_pool = tables["invoices"].groupby("pool")["billed_min"].sum()
    assert by_pool["vendor_talk"] < by_pool["vendor_handle"]


def test_a_run_without_the_calls_table_bills_the_same():
    kept = result().tables["invoices"]
    settings = RunSettings(reps=SETTINGS.reps, days=SETTINGS.days, warmup_h=SETTINGS.warmup_h, seed=SETTINGS.seed,
                           keep_calls=False)
    dropped = run(load_scenario(TOML), settings, executor=SerialExecutor(), progress=False).tables["invoices"]
    pd.testing.assert_frame_equal(kept, dropped)
