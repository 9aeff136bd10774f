"""The ``meta`` record of a result: versions, git commit, seed, scenario hash."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from experiments.running.tasks import TaskCounts
from experiments.study.points import SweepPoint
from models.scenario import Staffing
from models.settings import RunSettings

PACKAGES = ("bposim", "simpy", "numpy", "pandas", "pyarrow", "scipy")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def versions() -> dict[str, str]:
    """The versions of bposim, its main libraries and Python."""
    return {name: _version(name) for name in PACKAGES} | {"python": platform.python_version()}


def git_commit() -> str:
    """The commit of the bposim checkout, or 'unknown' outside one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _point_entry(point: SweepPoint, staffing: Staffing | None) -> dict[str, Any]:
    """A point's record: option, study, swept values, hash, source, currency (and staffing)."""
    scenario = point.scenario if staffing is None else point.scenario.with_agents(staffing)
    entry = {"option": point.option, "study": point.study, "params": point.params, "hash": scenario.digest(),
             "source": point.scenario.source, "currency": point.scenario.currency}
    if staffing is not None:
        entry["staffing"] = {name: list(agents) for name, agents in staffing.items()}
    return entry


def build_meta(points: Sequence[SweepPoint], settings: RunSettings, name: str = "",
               counts: TaskCounts | None = None, staffing: Mapping[str, Staffing] | None = None) -> dict[str, Any]:
    """Everything needed to know how a result was made: settings, each point (its option, study,
    swept values, content hash, file and currency), what was computed or loaded, versions, commit.

    ``staffing``: by scenario id, the agents an equal-service search gave the point's varied pools
    (recorded, and in the point's hash, so that its point rebuilds from its file).
    """
    meta: dict[str, Any] = {
        "sweep": name,
        "settings": asdict(settings),
        "scenarios": {p.scenario_id: _point_entry(p, (staffing or {}).get(p.scenario_id)) for p in points},
        "versions": versions(),
        "git_commit": git_commit(),
    }
    if counts is not None:
        meta["tasks"] = {"total": counts.total, "computed": counts.computed, "loaded": counts.loaded,
                         "executor": counts.executor, "recomputed": [list(r) for r in counts.recomputed]}
    return meta
