"""The HTML report: self-contained (every image a PNG data URI, nothing fetched), with its sections,
escaped text and PNG files beside it; then opened in a real headless Chromium, which must load every
image without an error."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from markupsafe import escape
from test_plots import OPTIONS, SCENARIOS, VOLUME, experiment_tables

from experiments.report import html as h
from experiments.report.analysis import choose
from experiments.report.page import build_context, write_report
from experiments.results.runner import run
from experiments.running.executors import SerialExecutor
from models.dumping import scenario_to_dict
from models.loading import load_scenario, scenario_from_dict
from models.settings import RunSettings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHROMIUM = Path("/usr/bin/chromium")
TITLE = 'Support line <draft> & "friends"'
SECTIONS = ["question", "headline", "figures", "break-even", "all-scenarios", "scenarios", "method", "versions"]
FIGURES = ["cost_vs_agents", "service_vs_agents", "cost_vs_volume", "cost_vs_service", "cost_breakdown", "intraday_sl",
           "invoice_distribution"]


class Page(HTMLParser):
    """Every tag with its attributes, and the ids."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def attr(self, tag: str, name: str) -> list[str]:
        return [a[name] for t, a in self.tags if t == tag and a.get(name) is not None]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    return write_report(experiment_tables()["result"], out, title=TITLE)


@pytest.fixture(scope="module")
def page(report) -> str:
    return report.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- content


def test_report_has_every_section_in_order(page):
    ids = Page(page).attr("section", "id")
    assert ids == SECTIONS
    for title in ("What was asked", "Headline", "Figures", "Break-even volumes", "Every scenario tried",
                  "Scenarios and sweep as run", "Method", "Versions"):
        assert f">{title}</h2>" in page


def test_headline_table_has_each_option_with_confidence_intervals(page):
    headline = page.split('id="headline"')[1].split("</section>")[0]
    for option in OPTIONS:
        assert f'<td class="key">{option}</td>' in headline
    for header in ("service level %", "ASA s", "abandoned %", "cost per resolved contact (USD)",
                   "monthly cost (USD)", "cost of poor service / month (USD)",
                   "total cost with poor service / month (USD)", "invoice p95 per month (USD)"):
        assert f"<th>{header}</th>" in headline
    assert re.search(r'>\d+\.\d<br><span class="ci">\[\d+\.\d – \d+\.\d\]</span>', headline)  # mean, [low – high]


def test_headline_picks_the_cheapest_scenario_meeting_the_target():
    ctx = build_context(experiment_tables()["result"], 0.8, {})
    assert ctx.reference == {VOLUME: 20.0}  # the middle of the volume sweep
    wide = ctx.wide[ctx.wide[VOLUME] == 20.0]
    for row in ctx.headline.to_dict("records"):
        mine = wide[wide["option"] == row["option"]]
        good = mine[mine["sl_frac"] >= 0.8]
        best = good["monthly_cost"].min() if len(good) else mine.loc[mine["sl_frac"].idxmax(), "monthly_cost"]
        assert row["monthly_cost"] == best


def test_choose_falls_back_to_the_best_served():
    wide = pd.DataFrame({"scenario_id": list("abcd"), "option": ["x", "x", "y", "y"],
                         "monthly_cost": [10.0, 20.0, 5.0, 6.0], "sl_frac": [0.85, 0.95, 0.5, 0.7]})
    chosen = choose(wide, ["option"], 0.8)
    assert chosen["scenario_id"].tolist() == ["a", "d"]
    assert chosen["meets_target"].tolist() == [True, False]


def test_break_even_scenarios_method_and_versions_are_stated(page):
    tables = experiment_tables()
    assert "break-even calls/h" in page
    local_bpo = next(p.scenario for p in tables["points"] if p.option == "local-bpo")
    assert str(escape(local_bpo.pools[0].contract.describe())) in page  # the contract as run, escaped as the template does
    assert "pools.inhouse.agents" in page and "10, 20, 30" in page  # the sweep
    for words in ("3 replication(s)", "Root seed 12345", "common random numbers", "Student-t"):
        assert words in page
    assert tables["meta"]["git_commit"] in page
    assert tables["meta"]["versions"]["pandas"] in page


def test_text_is_escaped(page):
    # Jinja2's autoescaping (markupsafe) writes " as &#34; and ' as &#39;: the same characters to a browser
    assert "&lt;draft&gt; &amp; &#34;friends&#34;" in page
    assert "<draft>" not in page
    assert re.findall(r"<h1>(.*?)</h1>", page) == [str(escape(TITLE))]
    assert html.unescape(str(escape(TITLE))) == TITLE
    table = h.Table.of(["<th>"], [["a < b & 'c'", h.Cell("1", "[<0> – 2]")]])
    cell = h.render_page("t", "s", [h.Section("x\"y", "<x>", (table, h.Note("<b>")))])
    assert '<td class="key">a &lt; b &amp; &#39;c&#39;</td>' in cell and "<th>&lt;th&gt;</th>" in cell
    assert '<td>1<br><span class="ci">[&lt;0&gt; – 2]</span></td>' in cell
    assert '<section id="x&#34;y">' in cell and "<h2>&lt;x&gt;</h2>" in cell and '<p class="note">&lt;b&gt;</p>' in cell


def test_at_must_be_a_swept_value(tmp_path):
    with pytest.raises(ValueError, match=r"at: demand\.support\.calls_per_h = 25 was not run"):
        write_report(experiment_tables()["result"], tmp_path, at={VOLUME: 25.0})


# ----------------------------------------------------------------------------- self-contained


def test_every_image_is_an_embedded_png_and_is_saved_beside_the_page(report, page):
    sources = Page(page).attr("img", "src")
    assert len(sources) == len(FIGURES)
    for src, name in zip(sources, FIGURES, strict=True):
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        png = base64.b64decode(src[len(prefix):], validate=True)
        assert png.startswith(PNG_MAGIC)
        assert (report.parent / f"{name}.png").read_bytes() == png
    assert sorted(p.name for p in report.parent.iterdir()) == sorted([*(f"{n}.png" for n in FIGURES), "index.html"])


def test_nothing_external_is_referenced(page):
    parsed = Page(page)
    assert "http://" not in page and "https://" not in page and "url(" not in page
    assert not [t for t, _ in parsed.tags if t in ("script", "link", "iframe", "object", "embed")]
    assert all(src.startswith("data:") for src in parsed.attr("img", "src"))
    assert not re.search(r'src="(?!data:)', page)
    assert all(href.startswith("#") for href in parsed.attr("a", "href"))


def test_report_of_a_single_scenario_result(tmp_path):
    scenario = load_scenario(SCENARIOS / "all_inhouse.toml")
    table = scenario_to_dict(scenario)
    small = scenario_from_dict(
        table | {"demand": [table["demand"][0] | {"calls_per_h": 10.0}],
                 "pools": [table["pools"][0] | {"agents": 4}]}, source=scenario.source)
    result = run(small, RunSettings(reps=2, days=1), executor=SerialExecutor())
    text = write_report(result, tmp_path).read_text(encoding="utf-8")
    assert '<td class="key">all-inhouse</td>' in text and "Nothing was swept" in text
    # cost against service, cost with the cost of poor service, intraday (no sweep, no invoices)
    assert text.count("<img ") == 3


def _small_sweep() -> dict:
    """A sweep file's table: each option over two volumes (staffed with them) and, in a second
    study, two staffing levels at 20 calls/h."""
    studies = []
    for option, (_, pool, agents) in OPTIONS.items():
        agents_path = f"pools.{pool}.agents"
        studies += [{"name": "volume", "options": [option], "zip": {VOLUME: [10, 20], agents_path: list(agents)}},
                    {"name": "staffing", "options": [option], "grid": {VOLUME: [20], agents_path: list(agents)}}]
    return {"name": "small", "options": [file for file, _, _ in OPTIONS.values()], "study": studies}


def test_report_of_an_experiment_result(tmp_path):
    from experiments.running.executors import SerialExecutor
    from experiments.study.sweep_file import sweep_from_dict

    sweep = sweep_from_dict(_small_sweep(), "small.toml", SCENARIOS)
    result = run(sweep.points, RunSettings(reps=2, days=1), executor=SerialExecutor(), progress=False, name="small")
    assert isinstance(result.summary()["option"].dtype, pd.CategoricalDtype)  # ids as the class makes them
    text = write_report(result, tmp_path, sl_target=0.5).read_text(encoding="utf-8")
    assert Page(text).attr("section", "id") == SECTIONS
    assert text.count("<img ") == len(FIGURES)
    assert "<th>study</th>" in text and "<td>staffing</td>" in text and "<th>agents</th>" in text
    body = text.split('<section id="versions">')[0]
    # Long scenario ids ("volume:all-inhouse|demand.support.calls_per_h=20|...") only in the record of
    # versions; elsewhere the study and the short values name a scenario ("volume: support.calls_per_h 20").
    ids = [str(p.scenario_id) for p in result.points]
    assert all(sid in text for sid in ids) and not any(sid in body for sid in ids)


# ----------------------------------------------------------------------------- in a real browser

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message || e.target.outerHTML)), true);
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const external = performance.getEntriesByType("resource").map(r => r.name).filter(n => !n.startsWith("data:"));
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({images: images.length, errors: window.__errors, external: external,
    loaded: images.filter(i => i.complete && i.naturalWidth > 0).length});
  document.body.appendChild(probe);
});
</script>"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _chromium(args: list[str], profile: Path) -> subprocess.Popen:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}"]
    return subprocess.Popen([str(CHROMIUM), *flags, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(process: subprocess.Popen, timeout: float) -> str:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"chromium did not finish within {timeout:.0f} s")
    assert process.returncode == 0, f"chromium failed ({process.returncode}): {err[-2000:]}"
    return out


def test_report_opens_in_headless_chromium(report, tmp_path):
    if not CHROMIUM.exists():
        if _in_ci():
            pytest.fail(f"{CHROMIUM} is missing under CI: install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); required when CI is set")
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(report.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1),
                          encoding="utf-8")
    screenshot = tmp_path / "report.png"
    start = time.monotonic()
    shot = _chromium([f"--screenshot={screenshot}", "--window-size=1280,2400", report.as_uri()],
                     tmp_path / "profile-shot")
    dump = _chromium(["--virtual-time-budget=10000", "--dump-dom", probe_page.as_uri()], tmp_path / "profile-dom")
    dom = _finish(dump, 60)
    _finish(shot, 60)
    elapsed = time.monotonic() - start

    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, f"the load probe did not run; DOM starts: {dom[:500]}"
    probe = json.loads(html.unescape(match.group(1)))
    assert probe == {"images": len(FIGURES), "loaded": len(FIGURES), "errors": [], "external": []}

    png = screenshot.read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 50_000  # a rendered page, not a blank one
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 2400)
    assert elapsed < 60


def test_headline_intervals_are_cut_to_what_the_metric_can_be():
    """A Student-t interval of a service level of 94.8% over few replications reached 107.3% in
    the bundled report, and an ASA's went below 0 s; the headline cuts them at 100% and 0 (the
    true mean is inside, so the cut interval covers it as often as the uncut one)."""
    from experiments.report.sections import _metric_cells

    row = {"sl_frac": 0.948, "sl_frac_low": 0.822, "sl_frac_high": 1.073, "asa_s": 3.4, "asa_s_low": -5.4,
           "asa_s_high": 12.2}
    cells = _metric_cells(row)
    assert cells[0].note == "[82.2 – 100.0]" and cells[1].note == "[0.0 – 12.2]"
