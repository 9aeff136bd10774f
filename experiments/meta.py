"""The ``meta`` record of a result: versions, git commit, seed, scenario hash."""

from __future__ import annotations

import platform
import subprocess
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from models.scenario import Scenario
from models.settings import RunSettings

PACKAGES = ("bposim", "simpy", "numpy", "pandas", "pyarrow", "scipy")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def git_commit() -> str:
    """The commit of the bposim checkout, or 'unknown' outside one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_meta(scenarios: list[Scenario], settings: RunSettings) -> dict[str, Any]:
    """Everything needed to know how a result was made."""
    return {
        "settings": asdict(settings),
        "scenarios": {s.name: {"hash": s.digest(), "source": s.source, "currency": s.currency}
                      for s in scenarios},
        "versions": {name: _version(name) for name in PACKAGES} | {"python": platform.python_version()},
        "git_commit": git_commit(),
    }
