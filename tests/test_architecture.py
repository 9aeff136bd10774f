"""The house's rules, checked: imports point back along the data flow, no cycle, SimPy's private
calendar in one module, and commands that import only what they need (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: stage -> the stages (and heavy libraries) it must never import
FORBIDDEN = {
    "models": ("sim", "experiments", "simpy", "matplotlib"),
    "sim": ("experiments", "matplotlib"),
    "experiments.study": ("experiments.running", "experiments.results", "experiments.report", "matplotlib"),
    "experiments.running": ("experiments.results", "experiments.report", "matplotlib"),
    "experiments.results": ("experiments.report", "matplotlib"),
    "experiments.budget": ("experiments.report",),
    # estimates are pure; the backtest may run simulations (running, results), never the report
    "experiments.pooling": ("experiments.report", "matplotlib"),
    "experiments.calibrate": ("experiments.report", "experiments.optimise", "experiments.budget", "matplotlib"),
}


def modules() -> dict[str, Path]:
    found = {}
    for package in ("models", "sim", "experiments"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Modules imported by a file (every ``import``; with ``top_level_only`` those run at import time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_point_back_along_the_data_flow(module):
    stage = next((s for s in sorted(FORBIDDEN, key=len, reverse=True) if _inside(module, s)), None)
    if stage is None:
        return  # cli.py, experiments/__init__.py and report/ may import every earlier stage
    bad = sorted(name for name in imports(modules()[module]) for f in FORBIDDEN[stage] if _inside(name, f))
    assert not bad, f"{module} ({stage}) imports {bad}"


def test_no_import_cycle_at_import_time():
    known = modules()
    graph = {m: {n for n in imports(p, top_level_only=True) if n in known and n != m} for m, p in known.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_only_sim_calendar_touches_simpys_private_calendar():
    private = re.compile(r"\._(queue|eid|now)\b")
    users = sorted(str(p.relative_to(ROOT)) for p in modules().values() if private.search(p.read_text(encoding="utf-8")))
    assert users == ["sim/calendar.py"]


def _modules_loaded(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_bposim_check_imports_no_pandas_scipy_pyarrow_or_matplotlib():
    loaded = _modules_loaded("from experiments.cli import main\n"
                             "main(['check', 'experiments/scenarios/baseline.toml'])")
    assert not {"pandas", "scipy", "pyarrow", "matplotlib", "distributed"} & loaded


def test_bposim_run_imports_no_matplotlib_or_dask(tmp_path):
    loaded = _modules_loaded("from experiments.cli import main\n"
                             f"main(['run', 'experiments/scenarios/baseline.toml', '--reps', '1', '--days', '0.25', "
                             f"'--out', {str(tmp_path)!r}])")
    assert "pandas" in loaded  # the check would be empty if the command had not run
    assert not {"matplotlib", "distributed", "dask"} & loaded


def test_a_run_of_one_replication_does_not_load_scipy():
    # One replication has no confidence interval: the Student-t quantile (SciPy) is never needed.
    loaded = _modules_loaded("from experiments.cli import main\n"
                             "main(['run', 'experiments/scenarios/baseline.toml', '--reps', '1', '--days', '0.25'])")
    assert "pandas" in loaded and "scipy" not in loaded


def test_the_packages_public_names_are_its_lazily_loaded_names():
    import experiments
    assert experiments.__all__ == sorted(experiments._HOMES)
