"""Writing results atomically: a temporary file in the same folder, then a rename.

A crash or a full disk never leaves a half-written table where a finished one is expected.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write results there ({exc.strerror})") from None
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; results are shared like any file
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` if needed and check that files can be written in it (OutputError if not)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".bposim-probe.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write results there ({exc.strerror})") from None


def write_bytes(data: bytes, path: Path) -> None:
    """Write ``data`` to ``path`` atomically."""
    _atomic(path, lambda tmp: tmp.write_bytes(data))


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to Parquet at ``path`` atomically."""
    _atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    _atomic(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json(data: Any, path: Path) -> None:
    _atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str)))
