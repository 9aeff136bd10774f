"""The results folder: a Result written as tables (Parquet), ``summary.csv`` and ``meta.json``, and read back.

``bposim run --out`` and ``bposim sweep --out`` write the same folder (a sweep's folder also holds
its resumable task files, experiments/running/store.py). Every file is written atomically, so a
crash never leaves a half-written table where a finished one is expected.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.errors import OutputError
from experiments.results.result import Result
from experiments.results.tables import TABLES, points_info
from experiments.running.files import write_csv, write_json, write_parquet
from experiments.study.points import SweepPoint, expand
from models.fields import ScenarioError
from models.loading import load_scenario
from models.settings import RunSettings
from sim.usage import USAGE_COLUMNS

#: the staffing of each equal-service point (experiments/optimise/study.py), when there are any
OPTIMISED = "optimised.csv"
REQUIRED = ("meta.json", "runs.parquet", "pool_runs.parquet", "intervals.parquet", "usage.parquet",
            "contacts.parquet", "invoices.parquet")


def write_results(result: Result, out: Path) -> None:
    """Every table of ``result`` (Parquet), its summary (CSV) and meta (JSON) in ``out``, each atomically."""
    out = Path(out)
    for name, table in result.tables.items():
        write_parquet(table, out / f"{name}.parquet")
    write_csv(result.summary(), out / "summary.csv")
    if result.optimised is not None:
        write_csv(result.optimised, out / OPTIMISED)
    else:
        (out / OPTIMISED).unlink(missing_ok=True)  # a stale one would describe other points
    write_json(result.meta, out / "meta.json")


def read_results(folder: Path) -> Result:
    """The Result in a results folder; its points are rebuilt from their scenario files when those
    are unchanged (else ``points`` is empty: the tables still carry every id and swept value).

    Raises:
        OutputError: the folder holds no finished results, or they cannot be read (one line).
    """
    folder = Path(folder)
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise OutputError(f"{folder}: no finished results there (missing {', '.join(missing)}); "
                          "run `bposim sweep ... --out` or `bposim run ... --out` first")
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        settings = RunSettings(**meta["settings"])
        tables = {name: pd.read_parquet(folder / f"{name}.parquet")
                  for name in TABLES if (folder / f"{name}.parquet").is_file()}
        optimised = pd.read_csv(folder / OPTIMISED) if (folder / OPTIMISED).is_file() else None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutputError(f"{folder}: cannot read the results ({exc})") from None
    if "scenario_id" not in tables["runs"].columns:
        raise OutputError(f"{folder}: written by an older bposim (no scenario ids); run it again")
    lacking = [name for name in USAGE_COLUMNS if name not in tables["usage"].columns]
    if lacking:
        raise OutputError(f"{folder}: written by an older bposim (its usage table has no {', '.join(lacking)}, "
                          "which pricing needs); run it again")
    return Result(_in_table_order(points_from_meta(meta), tables["runs"]), settings, tables.get("calls"),
                  tables["intervals"], tables["usage"],
                  tables["contacts"],
                  tables["invoices"], tables["pool_runs"], tables["runs"], meta, optimised,
                  clients=tables.get("clients"), vendor=tables.get("vendor"))


def _in_table_order(points: list[SweepPoint], runs: pd.DataFrame) -> list[SweepPoint]:
    """``points`` in the order of the tables' points (meta.json keeps them sorted by id, not as run),
    so that point i of the Result is the i-th point of its tables, as for a Result made by run()."""
    order = {sid: i for i, sid in enumerate(points_info(runs)["scenario_id"].astype(str))}
    return sorted(points, key=lambda point: order.get(point.scenario_id, len(order)))


def points_from_meta(meta: dict[str, Any]) -> list[SweepPoint]:
    """The points rebuilt from their scenario files; [] if any file changed or is gone.

    A report then shows no scenario details rather than details that may not be those run.
    """
    points = []
    for sid, entry in (meta.get("scenarios") or {}).items():
        try:
            option = load_scenario(entry["source"])
            point = expand([option], grid={path: [value] for path, value in entry.get("params", {}).items()},
                           study=entry.get("study", ""))[0]
            if entry.get("staffing"):  # an equal-service point: the optimiser's agents
                point = replace(point, scenario=point.scenario.with_agents(entry["staffing"]))
        except (ScenarioError, KeyError, OSError, TypeError):
            return []
        if point.scenario.digest() != entry.get("hash") or point.scenario_id != sid:
            return []
        points.append(point)
    return points
