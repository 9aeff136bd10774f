"""Reading finished results back from a folder written by ``bposim sweep`` or ``bposim run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.storage import OutputError
from experiments.sweep import SweepPoint, expand
from models.fields import ScenarioError
from models.loading import load_scenario

TABLES = ("intervals", "usage", "invoices", "pool_runs", "runs")


def read_results(folder: Path) -> dict[str, Any]:
    """The tables, summary, meta and (when their files still match) the scenarios of a results folder.

    Raises:
        OutputError: the folder holds no finished results (one clear line for the CLI).
    """
    folder = Path(folder)
    missing = [name for name in ("summary.csv", "meta.json", "runs.parquet") if not (folder / name).is_file()]
    if missing:
        raise OutputError(f"{folder}: no finished results there (missing {', '.join(missing)}); "
                          "run `bposim sweep ... --out` or `bposim run ... --out` first")
    try:
        tables: dict[str, Any] = {name: pd.read_parquet(folder / f"{name}.parquet")
                                  for name in TABLES if (folder / f"{name}.parquet").is_file()}
        tables["summary"] = pd.read_csv(folder / "summary.csv")
        tables["meta"] = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        raise OutputError(f"{folder}: cannot read the results ({exc})") from None
    manifest = folder / "manifest.json"
    if manifest.is_file():
        tables["points"] = points_from_manifest(json.loads(manifest.read_text()))
    else:
        _as_single_option(tables)
    return tables


def points_from_manifest(manifest: dict[str, Any]) -> list[SweepPoint]:
    """The sweep's points rebuilt from their scenario files; [] if any file changed or is gone.

    The report then shows no scenario details rather than details that may not be those run.
    """
    points = []
    for entry in manifest.get("points", []):
        try:
            option = load_scenario(entry["source"])
            point = expand([option], grid={path: [value] for path, value in entry["params"].items()},
                           study=entry.get("study", ""))[0]
        except (ScenarioError, KeyError, OSError):
            return []
        if point.scenario.digest() != entry["digest"] or point.scenario_id != entry["scenario_id"]:
            return []
        points.append(point)
    return points


def _as_single_option(tables: dict[str, Any]) -> None:
    """Tables of one ``bposim run``: the scenario is its own option."""
    names = list(tables["meta"].get("scenarios", {}))
    name = names[0] if len(names) == 1 else "scenario"
    for key in ("summary", *TABLES):
        if key in tables and "scenario_id" not in tables[key].columns:
            tables[key] = tables[key].assign(scenario_id=name, option=name)
    sources = [info.get("source") for info in tables["meta"].get("scenarios", {}).values()]
    try:
        scenario = load_scenario(sources[0]) if len(sources) == 1 and sources[0] else None
    except ScenarioError:
        scenario = None
    if scenario is not None and scenario.digest() == tables["meta"]["scenarios"][name]["hash"]:
        tables["points"] = [SweepPoint(name, name, scenario)]
