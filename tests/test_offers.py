"""``bposim offers``: saved results priced under other contracts, without simulating again.

One small sweep (tests/data/offers_base.toml at two staffing levels of its BPO pool, and an
all-in-house option without that pool), saved with its calls, is priced under two offers: B (tiers,
another fee and SLA, the same billing increment and SLA threshold) and C (30 s increments, wrap
minutes and another SLA threshold, so it needs the calls table). offers.csv must equal what
simulating the scenarios again with B or C as the pool's contract gives; its ``as simulated`` rows
the saved run; one row is recomputed by hand. Bad offers files, and C on results saved with
--no-calls, end with one line naming the file and the field, and write nothing.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_cli import PREFIX, assert_one_error_line, edited, run_main

from experiments.report.page import write_report
from experiments.results.folder import read_results
from experiments.results.offers import offers_table, read_offers
from experiments.results.runner import run
from experiments.running.executors import SerialExecutor
from experiments.study.points import SweepPoint
from models.offers import AS_SIMULATED, load_offers

DATA = Path(__file__).resolve().parent / "data"
BASE = DATA / "offers_base.toml"
POOL = "vendor"
DAYS, WARMUP_H, REPS = 1.5, 12, 3
MEASURED_DAYS = DAYS - WARMUP_H / 24
ID_COLUMNS = ["scenario_id", "option", "study", "pools.vendor.agents", "pools.inhouse.agents"]
TEXT_COLUMNS = ["offer", "pool", "contract"]

SWEEP = f"""name = "offers-test"
options = ["{BASE}", "{DATA / 'fixtures' / 'all_inhouse.toml'}"]

[[study]]
name = "staffing"
options = ["offers-base"]
grid = {{ "pools.vendor.agents" = [5, 7] }}

[[study]]
name = "inhouse"
options = ["all-inhouse"]
grid = {{ "pools.inhouse.agents" = [74] }}
"""

OFFERS = """currency = "EUR"

[[offer]]
name = "B"
pool = "vendor"
[offer.contract]
monthly_fee = 1000.0
included_min = 2000
tiers = [{ up_to_min = 100000, per_minute = 0.55 }, { per_minute = 0.35 }]
billing_increment_s = 60
sla = { target_frac = 0.9, threshold_s = 15, credit_frac = 0.004, cap_frac = 0.08 }

[[offer]]
name = "C"
pool = "vendor"
[offer.contract]
per_minute = 0.42
billing_increment_s = 30
wrap_min_per_call = 0.5
sla = { target_frac = 0.8, threshold_s = 30, credit_frac = 0.005 }
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sweep's results (with calls), the base scenario's results without calls, the offers file."""
    from experiments.cli import main

    root = tmp_path_factory.mktemp("offers")
    (root / "sweep.toml").write_text(SWEEP, encoding="utf-8")
    (root / "offers.toml").write_text(OFFERS, encoding="utf-8")
    settings = ["--reps", str(REPS), "--days", str(DAYS), "--warmup-h", str(WARMUP_H), "--jobs", "1"]
    assert main(["sweep", str(root / "sweep.toml"), *settings, "--out", str(root / "results")]) == 0
    assert main(["run", str(BASE), *settings, "--no-calls", "--out", str(root / "no_calls")]) == 0
    return {"results": root / "results", "no_calls": root / "no_calls", "offers": root / "offers.toml", "root": root}


@pytest.fixture(scope="module")
def priced(folders) -> pd.DataFrame:
    """offers.csv of the sweep's results under B and C, written by ``bposim offers`` to its own folder."""
    from experiments.cli import main

    out = folders["root"] / "priced"
    assert main(["offers", str(folders["results"]), str(folders["offers"]), "--out", str(out)]) == 0
    return pd.read_csv(out / "offers.csv")


def _numeric(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ID_COLUMNS + TEXT_COLUMNS]


# ----------------------------------------------------------------------------- the table


def test_rows_are_each_scenario_with_the_pool_as_simulated_then_each_offer(priced, folders):
    result = read_results(folders["results"])
    with_pool = [p.scenario_id for p in result.points if POOL in {q.name for q in p.scenario.pools}]
    assert len(with_pool) == 2 and len(result.points) == 3  # the all-in-house point has no rows
    assert priced["scenario_id"].tolist() == [sid for sid in with_pool for _ in range(3)]
    assert priced["offer"].tolist() == [AS_SIMULATED, "B", "C"] * 2
    assert set(priced["pool"]) == {POOL} and (priced["reps_n"] == REPS).all()
    assert priced["pools.vendor.agents"].tolist() == [5] * 3 + [7] * 3
    assert priced["contract"].iloc[1].startswith("1,000.00/month incl. 2,000 min + tiers 0.55/min to 100,000 min")
    assert (priced["credit_monthly_mean"] <= 0).all()
    assert (priced.loc[priced["offer"] == AS_SIMULATED, "credit_monthly_mean"] < 0).all()  # credits at work
    for column in ("monthly_cost_mean", "invoice_monthly_mean", "total_with_quality_monthly_mean"):
        assert priced[column].nunique() == 6, column  # each offer prices differently


@pytest.mark.parametrize("offer", ["B", "C"])
def test_offers_equal_simulating_again_with_the_offer_as_contract(priced, folders, offer):
    # The same sweep's points with the pool's contract replaced by the offer, run afresh with the same
    # settings and seed: their own (as simulated) rows must be the offer's rows of offers.csv.
    saved = read_results(folders["results"])
    contract = {o.name: o for o in load_offers(folders["offers"])}[offer].contract
    points = [SweepPoint(p.scenario_id, p.option, replace(p.scenario, pools=tuple(
        replace(q, contract=contract) if q.name == POOL else q for q in p.scenario.pools)), p.params, p.study)
        for p in saved.points if POOL in {q.name for q in p.scenario.pools}]
    fresh = run(points, saved.settings, executor=SerialExecutor(), progress=False)
    again = offers_table(fresh, load_offers(folders["offers"]))
    again = again[again["offer"] == AS_SIMULATED].reset_index(drop=True)
    mine = priced[priced["offer"] == offer].reset_index(drop=True)
    assert again["scenario_id"].astype(str).tolist() == mine["scenario_id"].tolist()
    assert again["contract"].tolist() == mine["contract"].tolist()
    # Repricing and simulating again sum the same numbers in other orders (usage recomputed from the
    # calls for C): equal to 1e-9 relative, where a cent on these ~100,000 a month is 1e-7.
    for column in _numeric(mine):
        np.testing.assert_allclose(mine[column].to_numpy(float), again[column].to_numpy(float), rtol=1e-9,
                                   atol=0, err_msg=column)


def test_as_simulated_rows_are_the_saved_run(priced, folders):
    summary = pd.read_csv(folders["results"] / "summary.csv")
    rows = priced[priced["offer"] == AS_SIMULATED].set_index("scenario_id")
    per_month = 30 / MEASURED_DAYS
    for sid, row in rows.iterrows():
        mine = summary[summary["scenario_id"] == sid].set_index(["pool", "metric"])
        pairs = [(("all", "monthly_cost"), ["monthly_cost_mean", "monthly_cost_ci_low", "monthly_cost_ci_high"]),
                 (("all", "monthly_total_with_quality_cost"),
                  ["total_with_quality_monthly_mean", "total_with_quality_monthly_ci_low",
                   "total_with_quality_monthly_ci_high"]),
                 (("all", "cost_per_resolved"), ["cost_per_resolved_mean", None, None])]
        for key, columns in pairs:
            for stat, column in zip(["mean", "ci_low", "ci_high"], columns, strict=True):
                if column is not None:
                    assert row[column] == pytest.approx(mine.at[key, stat], rel=1e-12), column
        assert row["invoice_monthly_mean"] == pytest.approx(mine.at[(POOL, "vendor_cost"), "mean"] * per_month,
                                                            rel=1e-12)


def test_one_row_by_hand(priced, folders):
    # The as-simulated row of the 7-agent scenario from the saved runs and invoices tables: Student-t
    # interval with scipy's quantile, numpy's linear 95th percentile, credits per month.
    sid = priced["scenario_id"].iloc[3]
    runs = pd.read_parquet(folders["results"] / "runs.parquet")
    invoices = pd.read_parquet(folders["results"] / "invoices.parquet")
    cost = runs.loc[runs["scenario_id"] == sid, "monthly_cost"].to_numpy(float)
    half = stats.t.ppf(0.975, len(cost) - 1) * cost.std(ddof=1) / np.sqrt(len(cost))
    credits = invoices[(invoices["scenario_id"] == sid) & (invoices["pool"] == POOL)]["credit_cost"].sum()
    row = priced.iloc[3]
    assert row["offer"] == AS_SIMULATED and len(cost) == REPS
    assert row["monthly_cost_mean"] == pytest.approx(cost.mean(), rel=1e-12)
    assert row["monthly_cost_ci_low"] == pytest.approx(cost.mean() - half, rel=1e-12)
    assert row["monthly_cost_ci_high"] == pytest.approx(cost.mean() + half, rel=1e-12)
    ordered = np.sort(cost)  # 3 values: the 95th percentile is 10% of the way from the 2nd to the 3rd
    assert row["monthly_cost_p95"] == pytest.approx(ordered[1] + 0.9 * (ordered[2] - ordered[1]), rel=1e-12)
    assert row["credit_monthly_mean"] == pytest.approx(credits / REPS * 30 / MEASURED_DAYS, rel=1e-12)


def test_result_offers_is_the_table_and_the_command_prints_it(priced, folders, capsys):
    result = read_results(folders["results"])
    table = result.offers(load_offers(folders["offers"]))
    for column in _numeric(priced):
        np.testing.assert_allclose(table[column].to_numpy(float), priced[column].to_numpy(float), rtol=1e-15,
                                   err_msg=column)
    copy = folders["root"] / "copy"
    shutil.copytree(folders["results"], copy)
    done = run_main(capsys, "offers", copy, folders["offers"])  # no --out: into the results folder
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("offers.toml: 2 offer(s) and the contracts as simulated, 3 replication(s)")
    # the scenarios told apart by what varies among them: the vendor's agents
    assert lines[2].split() == ["offer", "vendor.agents", "pool", "cost/month", "p95/month", "invoice/month",
                                "credits/month", "cost/resolved", "with", "quality/month"]
    assert [line.split()[0] for line in lines[3:9]] == ["as", "B", "C", "as", "B", "C"]
    assert f"{priced['monthly_cost_mean'].iloc[1]:,.0f} ± " in lines[4]
    assert lines[-1] == f"Offers written to {copy / 'offers.csv'}"
    assert read_offers(copy).equals(pd.read_csv(copy / "offers.csv"))


def test_offer_names_must_be_unique_in_python_too(folders):
    result = read_results(folders["results"])
    offers = load_offers(folders["offers"])
    for bad in ([offers[0], offers[0]], [replace(offers[0], name=AS_SIMULATED)]):
        with pytest.raises(ValueError, match="offer names must be unique and not 'as simulated'"):
            result.offers(bad)
    assert result.offers([]).empty


def test_offers_that_keep_the_usage_need_no_calls(folders, tmp_path, capsys):
    path = tmp_path / "b.toml"
    path.write_text(OFFERS.split("[[offer]]\nname = \"C\"")[0], encoding="utf-8")
    done = run_main(capsys, "offers", folders["no_calls"], path, "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(tmp_path / "offers.csv")["offer"].tolist() == [AS_SIMULATED, "B"]


def test_results_from_before_the_pricing_models_are_one_line(folders, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(folders["no_calls"], old)
    usage = pd.read_parquet(old / "usage.parquet").drop(columns=["paid_h", "resolved_n"])
    usage.to_parquet(old / "usage.parquet")
    done = run_main(capsys, "offers", old, folders["offers"])
    assert done.returncode == 2 and not (old / "offers.csv").exists()
    assert done.stderr == (f"{PREFIX}{old}: written by an older bposim (its usage table has no resolved_n, paid_h, "
                           "which pricing needs); run it again\n")


# ----------------------------------------------------------------------------- bad input

BAD = {
    "syntax": (("name = \"B\"", "name = = \"B\""), "TOML syntax error: Invalid value (at line 4, column 8)"),
    "top_key": (("currency = \"EUR\"", "curency = \"EUR\""),
                "curency: unknown key (did you mean 'currency'?); allowed keys: currency, offer"),
    "currency": (("currency = \"EUR\"", "currency = \"USD\""), "currency: must be the results' currency (EUR), got 'USD'"),
    "no_name": (("name = \"B\"\n", ""), "offer[0].name: is required"),
    "name_typo": (("name = \"B\"\n", "nmae = \"B\"\n"),
                  "offer[0].name: is required (found unknown key 'nmae'; did you mean 'name'?)"),
    "duplicate": (("name = \"C\"", "name = \"B\""), "offer[1].name: duplicate name 'B'; offer names must be unique"),
    "reserved": (("name = \"C\"", "name = \"as simulated\""),
                 "offer[1].name: 'as simulated' names the results' own contracts; choose another name"),
    "no_pool": (("name = \"B\"\npool = \"vendor\"\n", "name = \"B\"\n"), "offer[0].pool: is required"),
    "unknown_pool": (("name = \"C\"\npool = \"vendor\"", "name = \"C\"\npool = \"vendr\""),
                     "offer[1].pool: unknown pool 'vendr' (did you mean 'vendor'?); BPO pools in the results: vendor"),
    "inhouse_pool": (("name = \"B\"\npool = \"vendor\"", "name = \"B\"\npool = \"inhouse\""),
                     "offer[0].pool: 'inhouse' is an in-house pool (paid by wage_per_h, no contract); "
                     "BPO pools in the results: vendor"),
    "no_contract": (("name = \"B\"\npool = \"vendor\"\n[offer.contract]", "name = \"B\"\npool = \"vendor\"\n[offer.contrat]"),
                    "offer[0].contract: is required (found unknown key 'contrat'; did you mean 'contract'?)"),
    "extra_key": (("name = \"C\"\n", "name = \"C\"\nprice = 1\n"),
                  "offer[1].price: unknown key; allowed keys: contract, name, pool"),
    "contract_key": (("per_minute = 0.42", "per_minut = 0.42"),
                     "offer[1].contract.per_minut: unknown key (did you mean 'per_minute'?); allowed keys: "
                     "billing_basis, billing_increment_s, escalation_per_year_frac, included_min, min_monthly, "
                     "monthly_fee, per_call, per_hour, per_minute, per_resolved, sla, sla_bonus_cap_frac, "
                     "sla_cap_frac, tiers, tiers_mode, wrap_min_per_call"),
    "contract_value": (("per_minute = 0.42", "per_minute = -1"),
                       "offer[1].contract.per_minute: must be >= 0 and <= 10000, got -1"),
    "contract_tiers": (("{ per_minute = 0.35 }]", "{ up_to_min = 50000, per_minute = 0.35 }]"),
                       "offer[0].contract.tiers[1].up_to_min: the last tier must be unlimited (None) so every minute has a "
                       "price, got 50000"),
    "sla_value": (("target_frac = 0.8,", "target_frac = 80,"),
                  "offer[1].contract.sla.target_frac: must be >= 0 and <= 1, got 80"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_offers_file_is_one_line_and_writes_nothing(folders, tmp_path, capsys, case):
    change, message = BAD[case]
    path = tmp_path / "offers.toml"
    path.write_text(edited(change, text=OFFERS), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "offers.csv").write_text("an earlier offers.csv\n", encoding="utf-8")
    done = run_main(capsys, "offers", folders["results"], path, "--out", out)
    line = assert_one_error_line(done, str(path))
    assert line == f"{PREFIX}{path}: {message}"
    assert done.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["offers.csv"]
    assert (out / "offers.csv").read_text(encoding="utf-8") == "an earlier offers.csv\n"
    assert not (folders["results"] / "offers.csv").exists()


@pytest.mark.parametrize(("what", "message"), [
    ("missing", "{path}: file not found"),
    ("empty", "{path}: offer: is required"),
    ("no_calls", "{path}: offer[1].contract: offer 'C' changes the billing increment, wrap minutes, SLA threshold "
                 "or billing basis, so its bill needs the calls table, and these results were saved without it "
                 "(--no-calls); run again without --no-calls, or keep those terms as run"),
    ("no_results", "{results}: no finished results there (missing meta.json, runs.parquet, pool_runs.parquet, "
                   "intervals.parquet, usage.parquet, contacts.parquet, invoices.parquet); run `bposim sweep ... "
                   "--out` or `bposim run ... --out` first"),
    ("changed", "{results}: the scenarios of these results are not available (a scenario file changed or is gone "
                "since the run); run it again to price offers"),
])
def test_other_bad_input_is_one_line_and_writes_nothing(folders, tmp_path, capsys, what, message):
    path, results = tmp_path / "offers.toml", folders["no_calls"] if what == "no_calls" else folders["results"]
    if what == "empty":
        path.write_text('currency = "EUR"\n', encoding="utf-8")
    elif what != "missing":
        path.write_text(OFFERS, encoding="utf-8")
    if what == "no_results":
        results = tmp_path / "nothing"
    if what == "changed":  # as if the scenario file had changed since the run: its hash no longer matches
        results = tmp_path / "changed"
        shutil.copytree(folders["results"], results)
        meta = json.loads((results / "meta.json").read_text(encoding="utf-8"))
        next(iter(meta["scenarios"].values()))["hash"] = "0" * 64
        (results / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    done = run_main(capsys, "offers", results, path, "--out", tmp_path / "out")
    line = assert_one_error_line(done)
    assert line == PREFIX + message.format(path=path, results=results)
    assert not (tmp_path / "out").exists() and not (results / "offers.csv").exists()


# ----------------------------------------------------------------------------- the report


def test_report_has_an_offers_section_only_with_offers_csv(priced, folders, tmp_path, capsys):
    with_offers = tmp_path / "with"
    shutil.copytree(folders["results"], with_offers)
    priced.to_csv(with_offers / "offers.csv", index=False)
    pages = {}
    for name, results in (("with", with_offers), ("without", folders["results"])):
        done = run_main(capsys, "report", results, "--out", tmp_path / f"report_{name}")
        assert done.returncode == 0, done.stderr
        pages[name] = (tmp_path / f"report_{name}" / "index.html").read_text(encoding="utf-8")
    section = pages["with"].split('<section id="offers">')[1].split("</section>")[0]
    assert "<h2>Offers</h2>" in section and '<figure id="fig-offers">' in section
    headline = [str(sid) for sid in build_headline(read_results(folders["results"]))]
    shown = priced[priced["scenario_id"].isin(headline)]
    assert len(shown) == 3  # the headline scenario of the option with the pool, under each contract
    for row in shown.itertuples():
        assert f"<td>{row.offer}</td>" in section and f"{row.monthly_cost_mean:,.0f}<br>" in section
    assert (tmp_path / "report_with" / "offers.png").is_file()
    assert 'id="offers"' not in pages["without"] and ">Offers</" not in pages["without"]
    assert not (tmp_path / "report_without" / "offers.png").exists()


def test_report_says_so_when_offers_csv_is_not_from_these_results(priced, folders, tmp_path):
    # An offers.csv left beside results written again: its costs as simulated are not theirs.
    stale = priced.copy()
    stale.loc[stale["offer"] == AS_SIMULATED, "monthly_cost_mean"] *= 1.01
    text = write_report(read_results(folders["results"]), tmp_path, offers=stale).read_text(encoding="utf-8")
    section = text.split('<section id="offers">')[1].split("</section>")[0]
    assert "was made from other results" in section and "<table>" not in section and "<img" not in section
    assert not (tmp_path / "offers.png").exists()


def build_headline(result) -> list[str]:
    from experiments.report.page import build_context

    return build_context(result, 0.8, {}).headline["scenario_id"].tolist()


def test_write_report_takes_the_offers_table(folders, tmp_path):
    result = read_results(folders["results"])
    table = result.offers(load_offers(folders["offers"]))
    text = write_report(result, tmp_path, offers=table).read_text(encoding="utf-8")
    assert text.count('<section id="offers">') == 1


def test_plot_offers_draws_each_row_and_leaves_its_input_alone(priced):
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure

    from experiments.report.plots import plot_offers

    before = priced.copy()
    ax = plot_offers(priced, Figure().add_subplot(), currency="EUR")
    pd.testing.assert_frame_equal(priced, before)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [f"{offer}\n(offers-base (vendor.agents={n}))" for n in (5, 7) for offer in (AS_SIMULATED, "B", "C")]
    drawn = [c.get_offsets()[:, 1] for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    np.testing.assert_array_equal(drawn[0], priced["monthly_cost_mean"])
    np.testing.assert_array_equal(drawn[1], priced["total_with_quality_monthly_mean"])
    assert ax.get_ylabel() == "cost per 30-day month (EUR)"


# ----------------------------------------------------------------------------- the bundled example


def test_the_bundled_example_prices_the_bundled_bpo_options_without_calls():
    from experiments.study.points import expand
    from models.loading import load_scenario
    from models.settings import RunSettings

    root = DATA.parents[1] / "experiments"
    options = [load_scenario(root / "scenarios" / f"{name}.toml") for name in ("local_bpo", "offshore_bpo")]
    pools = {p.name: p.kind for scenario in options for p in scenario.pools}
    offers = load_offers(root / "offers" / "example_offers.toml", pools, {"USD"})
    assert [o.name for o in offers] == ["offshore-tiered", "offshore-anchored", "offshore-fte", "local-low-rate",
                                        "local-strict-sla"]
    result = run(expand(options, grid={}), RunSettings(reps=2, days=0.5, keep_calls=False),
                 executor=SerialExecutor(), progress=False)
    table = result.offers(offers)
    assert table["offer"].tolist() == [AS_SIMULATED, "local-low-rate", "local-strict-sla",
                                       AS_SIMULATED, "offshore-tiered", "offshore-anchored", "offshore-fte"]
    assert table["monthly_cost_mean"].notna().all()
