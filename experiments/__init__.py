"""bposim's experiments, in rooms that follow the data flow (docs/architecture.md):

- ``study``: what to run (sweep files, dotted paths, points);
- ``running``: how it runs (executors, the resumable task store, atomic files, progress);
- ``results``: what came out (the one :class:`Result`, pricing, statistics, the results folder);
- ``report``: what it means (analysis, figures, the HTML page).

The names most scripts and notebooks need are here, loaded on first use so that importing this
package (and the command line) stays fast::

    from experiments import load_scenario, RunSettings, run
    result = run(load_scenario("experiments/scenarios/baseline.toml"), RunSettings(reps=2, days=1))
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from experiments.budget.run import run_budget
    from experiments.budget.tables import budget_table
    from experiments.report.page import write_report
    from experiments.results.folder import read_results
    from experiments.results.result import Result
    from experiments.results.runner import run
    from experiments.study.points import SweepPoint, expand
    from experiments.study.sweep_file import Sweep, load_sweep
    from models.contracts import Contract, SLATerm
    from models.loading import load_scenario
    from models.offers import Offer
    from models.scenario import Scenario
    from models.settings import RunSettings

#: public name -> module that defines it
_HOMES = {
    "load_scenario": "models.loading",
    "Scenario": "models.scenario",
    "RunSettings": "models.settings",
    "expand": "experiments.study.points",
    "SweepPoint": "experiments.study.points",
    "load_sweep": "experiments.study.sweep_file",
    "Sweep": "experiments.study.sweep_file",
    "run": "experiments.results.runner",
    "Result": "experiments.results.result",
    "read_results": "experiments.results.folder",
    "write_report": "experiments.report.page",
    "Contract": "models.contracts",
    "SLATerm": "models.contracts",
    "Offer": "models.offers",
    "run_budget": "experiments.budget.run",
    "budget_table": "experiments.budget.tables",
}

#: the names of _HOMES, spelled out so that linters see the imports above used (tests check they agree)
__all__ = ["Contract", "Offer", "Result", "RunSettings", "SLATerm", "Scenario", "Sweep", "SweepPoint", "budget_table",
           "expand", "load_scenario", "load_sweep", "read_results", "run", "run_budget", "write_report"]


def __getattr__(name: str) -> Any:
    """Import a public name from its home module on first use (PEP 562)."""
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module 'experiments' has no attribute {name!r}") from None
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
