"""The notebooks run from top to bottom with small settings, and are committed without outputs.

Each notebook's first code cell holds its parameters, one ``NAME = value`` per line. The test puts
small values in place of the realistic ones (``OVERRIDES``), runs the notebook in a fresh kernel
whose working directory is a temporary folder (so nothing it might write lands in the repository),
and fails on the first cell that raises.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SCENARIOS = ROOT / "experiments" / "scenarios"

#: small settings per notebook: the values replace the first code cell's assignments of the same names
OVERRIDES: dict[str, dict[str, object]] = {
    "01_quickstart": {"SCENARIO": str(SCENARIOS / "baseline.toml"), "REPS": 2, "DAYS": 2, "WARMUP_H": 24},
    "10_inhouse_vs_offshore": {"SWEEP": str(ROOT / "experiments" / "sweeps" / "inhouse_vs_bpo.toml"),
                               "REPS": 2, "DAYS": 1, "WARMUP_H": 0, "JOBS": 2, "OUT": None,
                               "SEARCH": {"reps": 2, "days": 1, "warmup_h": 0, "per_interval": False}},
    "20_contract_pricing": {"SCENARIO": str(SCENARIOS / "offshore_bpo.toml"), "REPS": 2, "DAYS": 2,
                            "WARMUP_H": 24},
    "30_offers_and_budget": {"LOCAL": str(SCENARIOS / "local_bpo.toml"), "OFFSHORE": str(SCENARIOS / "offshore_bpo.toml"),
                             "REPS": 2, "DAYS": 2, "WARMUP_H": 24, "BUDGET_MONTHS": 2, "BUDGET_REPS": 2},
    "40_calibrate_from_call_log": {"LOG": str(ROOT / "experiments" / "logs" / "anonymous_bank_1999_two_weeks.csv.gz"),
                                   "US_BANK": str(ROOT / "experiments" / "logs" / "us_bank_2003_5min.csv.gz"),
                                   "REPS": 2, "JOBS": 2},
}


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_has_small_settings() -> None:
    names = [path.stem for path in notebook_paths()]
    assert names, f"no notebooks in {NOTEBOOKS}"
    assert sorted(OVERRIDES) == names, "give every notebook (and only those) its small settings in OVERRIDES"


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    assert code, f"{path.name}: no code cell"
    for i, cell in enumerate(code):
        assert cell.get("outputs") == [], f"{path.name}: code cell {i} has outputs; clear them before committing"
        assert cell.get("execution_count") is None, f"{path.name}: code cell {i} has an execution count"
    # the same, on the text as committed (what `git diff` shows)
    assert text.count('"outputs": []') == len(code)
    assert text.count('"execution_count": null') == len(code)
    assert not re.search(r'"execution_count":\s*\d', text)


def small_settings(source: str, overrides: dict[str, object], name: str) -> str:
    """``source`` (the parameters cell) with each overridden name's line replaced by ``NAME = value``."""
    tree = ast.parse(source)
    assigned = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name), \
            f"{name}: the first code cell must hold only parameters, one `NAME = value` per line"
        assert node.lineno == node.end_lineno, f"{name}: parameter {node.targets[0].id} spans several lines"
        assigned[node.targets[0].id] = node.lineno
    missing = sorted(set(overrides) - set(assigned))
    assert not missing, f"{name}: the first code cell has no parameter {missing}; parameters: {sorted(assigned)}"
    lines = source.splitlines()
    for key, value in overrides.items():
        lines[assigned[key] - 1] = f"{key} = {value!r}"
    return "\n".join(lines)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_runs_with_small_settings(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # The kernel must be this environment's Python (where bposim is installed), not a "python3"
    # kernel spec in the user's home, which Jupyter would otherwise find first.
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # no history file in the home folder
    monkeypatch.setenv("MPLBACKEND", "Agg")  # headless even where a notebook does not ask for inline figures
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.read(path, as_version=4)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    first.source = small_settings(first.source, OVERRIDES[path.stem], path.name)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError naming the cell that failed
    errors = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs
              if output.output_type == "error"]
    assert not errors
    assert not list(work.iterdir()), "the notebook wrote files into its working directory"
