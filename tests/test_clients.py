"""Several clients at one vendor (issue 12 items 1-2): per-client usage, invoices and service, and
the vendor's view.

What is checked and why:
- two clients share two BPO pools on different contracts (ours per minute with an SLA credit at
  one pool and per agent-hour at the other; globex per call and per resolved contact, and per
  agent-hour): every client's invoice lines recompute from *its own* calls in the calls table with
  pandas and the formulas of docs/scenarios.md (not models.invoicing), paid hours of a shared FTE
  pool split by handled time as docs/results.md says;
- our costs count our invoices only (pool_runs' vendor_cost, runs' totals, quality), while the
  vendor's revenue is every client's invoices and its margin that revenue minus its labour;
- the ``clients`` table's service counts recompute from each client's calls;
- bad input is one line and exit 2; results do not depend on the number of workers.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.results.folder import read_results
from experiments.results.runner import run
from experiments.running.executors import SerialExecutor
from models.billing import BILLING_MONTH_S
from models.dumping import scenario_to_dict
from models.loading import load_scenario, scenario_from_dict
from models.settings import RunSettings

TOML = Path(__file__).resolve().parent / "data" / "two_clients.toml"
SETTINGS = RunSettings(reps=2, days=35, warmup_h=24, seed=5, keep_calls=True)  # months of 30 and 4 days


@functools.cache
def result():
    return run(load_scenario(TOML), SETTINGS, executor=SerialExecutor(), progress=False)


def close(expected: float):
    return pytest.approx(expected, rel=1e-12, abs=1e-9)


def _month(t: np.ndarray) -> np.ndarray:
    return np.minimum(((t - SETTINGS.warmup_s) // BILLING_MONTH_S).astype(int), 1)


def _hand_usage(res) -> pd.DataFrame:
    """Per (rep, pool, client, month), from the calls and intervals tables: what each contract bills."""
    scn = res.points[0].scenario
    owner = {ct.name: ct.client or scn.name for ct in scn.demand}
    calls = res.calls.assign(month=_month(res.calls["arrival_s"].to_numpy()),
                             client=res.calls["call_type"].astype(str).map(owner))
    rows = []
    for pool in scn.pools:
        staffed = res.intervals[res.intervals["pool"] == pool.name]
        paid = (staffed.assign(month=_month(staffed["start_s"].to_numpy()))
                .groupby(["rep", "month"])["scheduled_n"].sum() * scn.interval_s / 3600)
        for client in pool.clients:
            c = pool.contract_for(client)
            name = client or scn.name
            for (rep, m), part in calls[calls["client"] == name].groupby(["rep", "month"]):
                mine = part[(part["pool"] == pool.name) & (part["outcome"] == "answered")]
                at_pool = part[(part["last_pool"] == pool.name) & part["outcome"].isin(["answered", "abandoned"])]
                increments = np.ceil(mine["handle_s"] / c.billing_increment_s * (1 - 1e-9))
                threshold = c.sl_threshold_s if c.sl_threshold_s is not None else np.inf
                rows.append({"rep": rep, "pool": pool.name, "client": name, "month": m, "answered": len(mine),
                             "minutes": increments.sum() * c.billing_increment_s / 60, "offered": len(at_pool),
                             "met": int((mine["pool_wait_s"] <= threshold).sum()),
                             "within": int((mine["pool_wait_s"] <= scn.service_level_s).sum()),
                             "abandoned": int((at_pool["outcome"] == "abandoned").sum()),
                             "resolved": int(mine["resolved"].sum()), "wait": mine["pool_wait_s"].sum(),
                             "handled": mine["handle_s"].sum(), "pool_paid_h": paid[(rep, m)]})
    usage = pd.DataFrame(rows)
    # a pool's paid hours, split between its clients by their handled time in the month
    total = usage.groupby(["rep", "pool", "month"])["handled"].transform("sum")
    return usage.assign(paid_h=usage["pool_paid_h"] * usage["handled"] / total)


def _hand_invoice(c, u: pd.Series, frac: float) -> dict[str, float]:
    """One invoice by the formulas of docs/scenarios.md (no tiers, no included minutes here)."""
    charges = (c.monthly_fee * frac + c.per_minute * u["minutes"] + c.per_hour * u["paid_h"]
               + c.per_call * u["answered"] + c.per_resolved * u["resolved"])
    base = charges + max(0.0, c.min_monthly * frac - charges)
    credit = 0.0
    if c.sla is not None:
        short = max(0.0, c.sla.target_frac - u["met"] / u["offered"]) * 100
        credit = -base * min(c.sla.cap_frac, c.sla.credit_frac * short)
    return {"usage_cost": c.per_minute * u["minutes"], "hourly_cost": c.per_hour * u["paid_h"],
            "calls_cost": c.per_call * u["answered"], "resolved_cost": c.per_resolved * u["resolved"],
            "floor_cost": base - charges, "credit_cost": credit, "invoice_cost": base + credit,
            "billed_min": u["minutes"], "paid_h": u["paid_h"]}


def test_each_clients_invoice_recomputes_from_its_own_calls():
    res = result()
    scn = res.points[0].scenario
    usage = _hand_usage(res)
    invoices = res.invoices.set_index(["rep", "pool", "client", "month"])
    assert len(invoices) == len(usage) == 2 * 2 * 2 * 2  # reps x pools x clients x months
    for _, u in usage.iterrows():
        row = invoices.loc[(u["rep"], u["pool"], u["client"], u["month"])]
        client = "" if u["client"] == scn.name else u["client"]
        frac = 1.0 if u["month"] == 0 else 4 / 30
        assert (row["answered_n"], row["resolved_n"]) == (u["answered"], u["resolved"])
        for name, expected in _hand_invoice(scn.pool(u["pool"]).contract_for(client), u, frac).items():
            assert row[name] == close(expected), (u["pool"], u["client"], u["month"], name)


def test_the_run_exercises_every_contract():
    # so that the recomputation above cannot pass vacuously
    inv = result().invoices
    ours = inv[(inv["pool"] == "shared") & (inv["client"] == "us")]
    theirs = inv[(inv["pool"] == "shared") & (inv["client"] == "globex")]
    assert (ours["usage_cost"] > 0).all() and (ours["credit_cost"] < 0).any()
    assert (theirs["calls_cost"] > 0).all() and (theirs["resolved_cost"] > 0).all()
    fte = inv[inv["pool"] == "fte"]
    assert (fte["hourly_cost"] > 0).all() and (fte["floor_cost"] > 0).any()


def test_paid_hours_of_a_shared_pool_add_up_to_the_pools():
    res = result()
    usage = res.usage.groupby(["rep", "pool", "month"])["paid_h"].sum()
    hours = res.intervals.assign(month=_month(res.intervals["start_s"].to_numpy()))
    hours = hours.groupby(["rep", "pool", "month"], observed=True)["scheduled_n"].sum()  # 60-minute intervals
    assert np.allclose(usage.to_numpy(), hours.reindex(usage.index).to_numpy(), rtol=1e-12)


def test_our_costs_count_our_invoices_only_and_the_vendor_earns_all():
    res = result()
    inv = res.invoices
    ours = inv[inv["client"] == "us"].groupby(["rep", "pool"])["invoice_cost"].sum()
    every = inv.groupby(["rep", "pool"])["invoice_cost"].sum()
    pool_runs = res.pool_runs.set_index(["rep", "pool"])
    vendor = res.vendor.set_index(["rep", "pool"])
    for key in every.index:
        assert pool_runs.loc[key, "vendor_cost"] == close(ours[key])
        assert vendor.loc[key, "revenue_cost"] == close(every[key])
        assert vendor.loc[key, "own_client_cost"] == close(ours[key])
        assert pool_runs.loc[key, "total_cost"] == close(ours[key])  # no overhead, no in-house pool
    runs = res.runs.set_index("rep")
    assert np.allclose(runs["vendor_cost"], ours.groupby("rep").sum(), rtol=1e-12)
    assert (every > ours).all()  # globex pays too: a test that would notice its bills counted as ours


def test_the_reports_invoices_are_ours():
    from experiments.report.analysis import monthly_invoices

    res = result()
    assert set(res.invoices.loc[res.invoices["own_client"], "client"]) == {"us"}
    months = monthly_invoices(res.invoices).groupby("rep")["invoice_cost"].sum()
    assert np.allclose(months, res.runs.set_index("rep")["vendor_cost"], rtol=1e-12)


def test_the_vendors_labour_and_margin():
    res = result()
    vendor = res.vendor.set_index(["rep", "pool"])
    hours = res.intervals.groupby(["rep", "pool"], observed=True)["scheduled_n"].sum()
    busy = res.intervals.groupby(["rep", "pool"], observed=True)[["busy_s", "staffed_s"]].sum()
    for (rep, pool), row in vendor.iterrows():
        assert row["paid_h"] == close(hours[(rep, pool)])  # 60-minute intervals
        assert row["paid_agents_n"] == close(hours[(rep, pool)] / (34 * 24))
        assert row["occupancy_frac"] == close(busy.loc[(rep, pool), "busy_s"] / busy.loc[(rep, pool), "staffed_s"])
        assert row["clients_n"] == 2
        if pool == "shared":  # vendor_wage_per_h 6.5 x vendor_burden 1.4
            assert row["labour_cost"] == close(row["paid_h"] * 6.5 * 1.4)
            assert row["margin_cost"] == close(row["revenue_cost"] - row["labour_cost"])
        else:  # no vendor wage given: unknown
            assert np.isnan(row["labour_cost"]) and np.isnan(row["margin_cost"])
    shared = res.pool_runs[res.pool_runs["pool"] == "shared"].set_index("rep")
    mine = vendor.xs("shared", level="pool")
    assert np.allclose(shared["vendor_margin_cost"], mine["margin_cost"], rtol=1e-12)


def test_the_clients_table_counts_each_clients_calls():
    res = result()
    usage = _hand_usage(res).groupby(["rep", "pool", "client"])[
        ["offered", "answered", "within", "abandoned", "wait"]].sum()
    table = res.clients.set_index(["rep", "pool", "client"])
    assert len(table) == len(usage) == 8
    for key, u in usage.iterrows():
        row = table.loc[key]
        assert (row["offered_n"], row["answered_n"], row["within_sl_n"], row["abandoned_n"]) == (
            u["offered"], u["answered"], u["within"], u["abandoned"])
        assert row["sl_frac"] == close(u["within"] / u["offered"])
        assert row["asa_s"] == close(u["wait"] / u["answered"])
        assert row["abandon_frac"] == close(u["abandoned"] / u["offered"])


def test_quality_costs_are_ours_only():
    # globex's lost calls and waiting are not our cost of poor service (4 per lost contact, 10 per hour waited)
    res = result()
    ours = res.contacts[res.contacts["call_type"] == "support"].groupby("rep")[["lost_n", "wait_s"]].sum()
    expected = ours["lost_n"] * 4.0 + ours["wait_s"] / 3600 * 10.0
    assert np.allclose(res.runs.set_index("rep")["quality_cost"], expected, rtol=1e-12)
    assert (res.contacts[res.contacts["call_type"] == "orders"]["lost_n"] > 0).any()


def test_a_client_named_like_the_scenario_is_its_own(tmp_path):
    text = TOML.read_text(encoding="utf-8").replace('name = "support"\n', 'name = "support"\nclient = "us"\n', 1)
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path) == replace(load_scenario(TOML), source=str(path))


def test_the_scenario_round_trips_through_its_table():
    scn = load_scenario(TOML)
    assert scenario_from_dict(scenario_to_dict(scn), source=scn.source) == scn


def test_reprice_keeps_the_invoices():
    res = result()
    scn = res.points[0].scenario
    back = {p.name: {"contract": p.contract, "contracts": p.contracts} for p in scn.pools}
    flat = {p.name: {"contracts": tuple((client, c.__class__(per_call=1.0)) for client, c in p.contracts)}
            for p in scn.pools}
    again = res.reprice(**flat)
    assert not again.invoices["invoice_cost"].equals(res.invoices["invoice_cost"])
    # globex's prices are not our cost (only the vendor's margin moves)
    pd.testing.assert_frame_equal(again.pool_runs.drop(columns="vendor_margin_cost"),
                                  res.pool_runs.drop(columns="vendor_margin_cost"))
    pd.testing.assert_frame_equal(again.reprice(**back).invoices, res.invoices)


# --------------------------------------------------------------------------- the same on 1 and 2 workers


@pytest.mark.parametrize("table", ["usage", "invoices", "clients", "vendor", "pool_runs"])
def test_reproducible_on_one_and_two_workers(two_runs, table):
    one, two = two_runs
    pd.testing.assert_frame_equal(getattr(one, table), getattr(two, table))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from experiments.cli import main

    folders = []
    for jobs in ("1", "2"):
        out = tmp_path_factory.mktemp(f"jobs{jobs}")
        assert main(["run", str(TOML), "--reps", "2", "--days", "4", "--jobs", jobs, "--out", str(out)]) == 0
        folders.append(read_results(out))
    return folders


# --------------------------------------------------------------------------- bad input

BAD = {
    "contract_without_call_type": (
        ("contracts.globex = { per_call = 0.9, per_resolved = 0.2, monthly_fee = 100 }",
         "contracts.globex = { per_call = 0.9, per_resolved = 0.2, monthly_fee = 100 }\n"
         "contracts.initech = { per_call = 1 }"),
        "pools[0].contracts.initech: no call type has client = 'initech'"),
    "client_without_contract_at_its_pool": (
        ("contracts.globex = { per_hour = 12.5, min_monthly = 14000 }", ""),
        "demand[1].client: 'globex' has no contract at pool 'fte', which this call type reaches; "
        "give pools[1].contracts.globex"),
    "contracts_on_inhouse": (
        ("[[pools]]\nname = \"fte\"", "[[pools]]\nname = \"desk\"\nkind = \"inhouse\"\nagents = 2\nwage_per_h = 20\n"
         "contracts.globex = { per_call = 1 }\n\n[[pools]]\nname = \"fte\""),
        "pools[1].contracts: only bpo pools serve other clients on their contracts"),
    "unknown_client": (
        ('client = "globex"', 'client = "globx"'),
        "demand[1].client: unknown client 'globx' (did you mean 'globex'?)"),
    "contract_for_ourselves": (
        ("contracts.globex = { per_hour", "contracts.us = { per_call = 1 }\ncontracts.globex = { per_hour"),
        "pools[1].contracts.us: 'us' is the scenario's own client; its contract is pools[1].contract"),
    "other_client_at_inhouse": (
        ("split = { shared = 0.75, fte = 0.25 }", "split = { shared = 0.75, desk = 0.25 }\n", ),
        "demand[1].client: 'globex' is another client; its calls may reach bpo pools only"),
    # the scenario-wide lines would count globex's calls with ours: our blocked calls would
    # depend on its traffic
    "lines_with_another_client": (
        ('name = "us"\n', 'name = "us"\nlines = 30\n'),
        "lines: cannot limit the lines of a scenario with another client's calls (demand[1].client = 'globex')"),
    "vendor_burden_without_wage": (
        ("vendor_wage_per_h = 6.5\n", ""),
        "pools[0].vendor_burden: needs vendor_wage_per_h"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_client_input_is_one_line_and_exit_2(tmp_path, capsys, name):
    from experiments.cli import main

    (old, new), message = BAD[name]
    text = TOML.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    if name == "other_client_at_inhouse":
        text += "\n[[pools]]\nname = \"desk\"\nkind = \"inhouse\"\nagents = 2\nwage_per_h = 20\n"
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bposim: error: {path}: "), err
    assert message in lines[0], lines[0]


def test_the_report_shows_the_vendors_view(tmp_path):
    from experiments.report.page import write_report

    page = write_report(result(), tmp_path).read_text(encoding="utf-8")
    section = page[page.index('id="vendor"'):page.index('id="scenarios"')]
    assert "The vendor&#39;s view" in section and "globex" in section and "margin" in section


# --------------------------------------------------------------------------- a split of 0 reaches nothing


def _with(tmp_path, *edits: tuple[str, str]) -> Path:
    text = TOML.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_pool_split_0_is_not_reached(tmp_path):
    # globex splits 0 to the in-house desk, which it may not reach, and 0 to fte, where it has no
    # contract: neither pool is reached, so the scenario loads and no globex call goes there
    desk = "\n[[pools]]\nname = \"desk\"\nkind = \"inhouse\"\nagents = 2\nwage_per_h = 20\n"
    path = _with(tmp_path, ("split = { shared = 0.75, fte = 0.25 }", "split = { shared = 1.0, fte = 0, desk = 0 }"),
                 ("contracts.globex = { per_hour = 12.5, min_monthly = 14000 }\n", desk))
    scn = load_scenario(path)
    assert scn.demand[1].reaches == ("shared",)
    res = run(scn, replace(SETTINGS, days=3), executor=SerialExecutor(), progress=False)
    theirs = res.calls[res.calls["call_type"] == "orders"]
    assert len(theirs) > 0 and set(theirs["last_pool"]) == {"shared"}


def test_a_contract_whose_client_is_split_0_to_the_pool_is_refused(tmp_path, capsys):
    from experiments.cli import main

    path = _with(tmp_path, ("split = { shared = 0.75, fte = 0.25 }", "split = { shared = 1.0, fte = 0.0 }"))
    assert main(["check", str(path)]) == 2
    assert "pools[1].contracts.globex: no call type of client 'globex' is routed to pool 'fte'" in capsys.readouterr().err


def test_a_pool_split_0_is_never_drawn_even_when_the_fractions_fall_short_of_1(tmp_path):
    # the loader accepts fractions summing to 1 within 1e-9; a draw past their sum went to the last
    # pool of the split, even one split 0
    from sim.routing import build_routing

    path = _with(tmp_path, ("split = { shared = 0.7, fte = 0.3 }", "split = { shared = 0.4999999995, fte = 0.5, "
                            "desk = 0 }"))
    path.write_text(path.read_text(encoding="utf-8")
                    + "\n[[pools]]\nname = \"desk\"\nkind = \"inhouse\"\nagents = 2\nwage_per_h = 20\n",
                    encoding="utf-8")
    scn = load_scenario(path)
    routing = build_routing(scn)[0]
    assert [scn.pools[routing.stages(0, u)[0]].name for u in (0.2, 0.7, 0.9999999999)] == ["shared", "fte", "fte"]


# --------------------------------------------------------------------------- a pool serving other clients only

#: our support calls all go to the shared pool; fte serves globex only and has no contract of ours
OTHERS_ONLY = (("split = { shared = 0.7, fte = 0.3 }", 'route = ["shared"]'),
               ("contract = { per_hour = 14.0 }\n", ""))


@functools.cache
def others_only_result(tmp_path_factory_dir: str):
    path = _with(Path(tmp_path_factory_dir), *OTHERS_ONLY)
    return run(load_scenario(path), replace(SETTINGS, days=8), executor=SerialExecutor(), progress=False)


@pytest.fixture(scope="module")
def others_only(tmp_path_factory):
    return others_only_result(str(tmp_path_factory.mktemp("others_only")))


def test_a_pool_serving_other_clients_only_leaves_our_contract_out(others_only):
    # before: "pools[1].contract: is required", and with a contract of ours fte billed us its
    # monthly fee, minimum and an equal share of the paid hours in a month it handled nothing of ours
    res = others_only
    scn = res.points[0].scenario
    assert scn.pool("fte").contract is None and scn.pool("fte").clients == ("globex",)
    assert scn.pool("shared").clients == ("", "globex")
    assert set(zip(res.invoices["pool"], res.invoices["client"], strict=True)) == {
        ("shared", "us"), ("shared", "globex"), ("fte", "globex")}
    # globex pays all of fte's paid hours
    fte = res.usage[res.usage["pool"] == "fte"].groupby(["rep", "month"])["paid_h"].sum()
    hours = res.intervals[res.intervals["pool"] == "fte"].assign(month=0).groupby(["rep", "month"])["scheduled_n"].sum()
    assert np.allclose(fte.to_numpy(), hours.to_numpy(), rtol=1e-12)
    pool_runs = res.pool_runs.set_index(["pool", "rep"])
    assert (pool_runs.loc["fte", "vendor_cost"] == 0).all() and (pool_runs.loc["fte", "total_cost"] == 0).all()
    ours = res.invoices[res.invoices["client"] == "us"].groupby("rep")["invoice_cost"].sum()
    assert np.allclose(res.runs.set_index("rep")["vendor_cost"], ours, rtol=1e-12)
    vendor = res.vendor.set_index(["pool", "rep"])
    assert (vendor.loc["fte", "clients_n"] == 1).all() and (vendor.loc["fte", "own_client_cost"] == 0).all()
    assert (vendor.loc["fte", "revenue_cost"] > 0).all()
    assert set(res.clients.loc[res.clients["pool"] == "fte", "client"]) == {"globex"}


def test_a_pool_serving_other_clients_only_in_the_report_offers_and_round_trip(others_only, tmp_path):
    from experiments.report.page import write_report
    from models.contracts import Contract
    from models.offers import Offer

    res = others_only
    scn = res.points[0].scenario
    assert scenario_from_dict(scenario_to_dict(scn), source=scn.source) == scn
    page = write_report(res, tmp_path).read_text(encoding="utf-8")
    assert "no contract with us; the vendor&#39;s other clients: globex" in page
    offers = res.offers([Offer("cheap", "shared", Contract(per_minute=0.3)),
                         Offer("ours", "fte", Contract(per_hour=10.0))])
    ours = offers[(offers["pool"] == "fte")].set_index("offer")
    # as simulated we pay nothing at fte; an offer of a contract with us there bills our calls
    # there (none) and our share of its paid hours (by handled time: none)
    assert list(ours["invoice_monthly_mean"]) == [0.0, 0.0] and ours.loc["as simulated", "contract"] == ""
    assert offers.set_index("offer").loc["cheap", "invoice_monthly_mean"] > 0
    with pytest.raises(ValueError, match=r"pools\[0\]\.contract: is required: call type 'support'"):
        res.reprice(shared={"contract": None})


def test_a_pool_serving_other_clients_only_in_the_budget(tmp_path):
    from experiments.budget.month import budget_month
    from experiments.budget.plan import month_plans
    from models.budget import BudgetCalendar

    scn = load_scenario(_with(tmp_path, *OTHERS_ONLY))
    plan = month_plans(BudgetCalendar(1, (1.0,) * 12, 0.0, 0.0), 1, 1, 3, "7")[0]
    rows = budget_month(scn, plan, seed=3).set_index("pool")
    assert rows.loc["fte", "invoice_cost"] == 0 and rows.loc["shared", "invoice_cost"] > 0


OTHERS_ONLY_BAD = {
    "our_calls_reach_it": (
        (("contract = { per_hour = 14.0 }\n", ""),),
        "pools[1].contract: is required: call type 'support' (demand[0], the scenario's own client's) reaches "
        "this pool"),
    "no_contract_at_all": (
        (*OTHERS_ONLY, ("contracts.globex = { per_hour = 12.5, min_monthly = 14000 }\n", "")),
        "pools[1].contract: is required: a bpo pool bills the scenario's own client under contract"),
    "overhead_on_it": (
        (*OTHERS_ONLY, ("agents = 4\n", "agents = 4\noverhead_per_month = 100\n")),
        "pools[1].overhead_per_month: must be 0 on a bpo pool without contract"),
    "transition_on_it": (
        (*OTHERS_ONLY, ("agents = 4\n", "agents = 4\ntransition_cost = 100\n")),
        "pools[1].transition_cost: must be 0 on a bpo pool without contract"),
    "vendor_staffed": (
        (*OTHERS_ONLY, ("agents = 4\n", 'staffing = "vendor"\nwage_per_h = 5\n')),
        "pools[1].contract: is required on a vendor-staffed pool"),
}


@pytest.mark.parametrize("name", list(OTHERS_ONLY_BAD))
def test_bad_pool_without_our_contract_is_one_line_and_exit_2(tmp_path, capsys, name):
    from experiments.cli import main

    edits, message = OTHERS_ONLY_BAD[name]
    path = _with(tmp_path, *edits)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and message in err and "unknown key" not in err, err


# --------------------------------------------------------------------------- pool_runs and runs are ours


def test_pool_runs_and_runs_count_our_calls_only():
    # every column of pool_runs and runs is the scenario's own client's: counts and rates from the
    # calls of our call types (by the pool they were last offered to, as the intervals table counts),
    # money ours; staffed and busy time (so occupancy) stay the pool's
    res = result()
    scn = res.points[0].scenario
    calls = res.calls[res.calls["call_type"] == "support"]
    outcome, wait = calls["outcome"].astype(str), calls["wait_s"]
    hand = calls.assign(
        pool=calls["last_pool"].astype(str), offered_n=1, answered_n=outcome == "answered",
        answered_in_sl_n=(outcome == "answered") & (wait <= scn.service_level_s),
        abandoned_n=outcome == "abandoned", blocked_n=outcome == "blocked", unfinished_n=outcome == "unfinished",
        queued_n=(outcome != "blocked") & ~((outcome == "answered") & (wait == 0)),
        wait_answered_s=wait.where(outcome == "answered", 0.0))
    counts = ["offered_n", "answered_n", "answered_in_sl_n", "abandoned_n", "blocked_n", "unfinished_n", "queued_n",
              "wait_answered_s"]
    hand = hand.groupby(["rep", "pool"])[counts].sum()
    pool_runs = res.pool_runs.assign(pool=res.pool_runs["pool"].astype(str)).set_index(["rep", "pool"])
    busy = res.intervals.assign(pool=res.intervals["pool"].astype(str)).groupby(["rep", "pool"])[
        ["busy_s", "staffed_s"]].sum()
    for key, row in pool_runs.iterrows():
        mine = hand.loc[key]
        assert [row[c] for c in counts] == [close(mine[c]) for c in counts], key
        assert row["sl_frac"] == close(mine["answered_in_sl_n"] / mine["offered_n"])
        assert row["asa_s"] == close(mine["wait_answered_s"] / mine["answered_n"])
        assert row["abandon_frac"] == close(mine["abandoned_n"] / mine["offered_n"])
        assert row["p_wait_frac"] == close(mine["queued_n"] / mine["offered_n"])
        assert row["cost_per_call"] == close(row["total_cost"] / mine["answered_n"])
        assert row["occupancy_frac"] == close(busy.loc[key, "busy_s"] / busy.loc[key, "staffed_s"])
    runs = res.runs.set_index("rep")
    ours = hand.groupby("rep").sum()
    for rep, row in runs.iterrows():
        assert [row[c] for c in counts] == [close(ours.loc[rep, c]) for c in counts]
        assert row["cost_per_call"] == close(row["total_cost"] / ours.loc[rep, "answered_n"])
    # globex's calls are there to be left out: the intervals (every client's calls) count more
    assert (res.intervals.groupby("rep")["offered_n"].sum() > runs["offered_n"]).all()


def test_the_budget_scales_and_counts_our_calls_only():
    # the calendar is ours: only our call types' rates follow the month's volume; and the month's
    # counts are our calls', as pool_runs counts them (globex's calls are not in our budget)
    from experiments.budget.month import budget_month
    from experiments.budget.plan import month_plans, planned_scenario, sample_settings
    from models.budget import BudgetCalendar
    from sim.replication import simulate

    scn = load_scenario(TOML)
    plan = replace(month_plans(BudgetCalendar(), 1, 1, 3, "7")[0], forecast_factor=1.0, forecast_error=1.2)
    month = planned_scenario(scn, plan)
    assert month.demand[0].rates_per_h == tuple(r * 1.2 for r in scn.demand[0].rates_per_h)
    assert month.demand[1] == scn.demand[1]
    rows = budget_month(scn, plan, seed=3).set_index("pool")
    sampled = simulate(month, sample_settings(plan, 3), plan.sim_rep)
    ours = sampled.contacts[sampled.contacts["call_type"] == "support"].groupby("pool")[
        ["offered_n", "answered_n", "lost_n", "wait_s"]].sum()
    for pool in ("shared", "fte"):
        for name in ("offered_n", "answered_n", "lost_n", "wait_s"):
            assert rows.at[pool, name] == close(ours.at[pool, name] * plan.scale), (pool, name)
