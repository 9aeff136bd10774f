"""Resumable results: every finished (scenario, replication) task is saved at once, atomically.

Layout of an output folder ``DIR``::

    DIR/manifest.json                     what the folder holds: the sweep's scenarios (ids,
                                          digests, params) and the settings; written first
    DIR/tasks/<point folder>/rep-0007/    one finished task:
        intervals.parquet, usage.parquet, contacts.parquet, calls.parquet (unless --no-calls)
        done.json                         sha256 of each file, written last
    DIR/calls.parquet ... summary.csv, meta.json   the final tables, written at the end

A task counts as done only if its ``done.json`` exists and every file's checksum matches; a
missing, truncated or corrupted file makes it be recomputed, never used. Running the same sweep
again in ``DIR`` loads the done tasks and computes the others; a different sweep (other scenarios,
seed, horizon, warm-up, drain or calls setting) is refused with :class:`StoreMismatchError`.
Changing only the number of replications is allowed: replication r depends on the seed and r alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.errors import StoreMismatchError
from experiments.running.files import write_bytes, write_json
from experiments.study.points import SweepPoint
from models.settings import RunSettings
from sim.replication import Replication

MANIFEST = "manifest.json"
DONE = "done.json"
KIND = "bposim-sweep"
FORMAT = 1
#: settings that must match for a folder to be resumed (replications may change).
IDENTITY_SETTINGS = ("seed", "days", "warmup_h", "drain_h", "keep_calls")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def manifest(points: Sequence[SweepPoint], settings: RunSettings, name: str = "") -> dict[str, Any]:
    """The manifest of a sweep: its scenarios and settings."""
    return {
        "kind": KIND,
        "format": FORMAT,
        "name": name,
        "settings": {key: getattr(settings, key) for key in ("reps", *IDENTITY_SETTINGS)},
        "points": [{"scenario_id": p.scenario_id, "option": p.option, "study": p.study, "folder": p.folder,
                    "digest": p.scenario.digest(), "source": p.scenario.source, "params": p.params}
                   for p in points],
    }


def difference(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The first way in which manifest ``new`` is another sweep than ``old``, or None."""
    if old.get("kind") != KIND or old.get("format") != FORMAT:
        return f"it is not a format-{FORMAT} bposim sweep folder"
    for key in IDENTITY_SETTINGS:
        if old["settings"].get(key) != new["settings"][key]:
            return f"{key} was {old['settings'].get(key)!r} there, {new['settings'][key]!r} now"
    before = {p["scenario_id"]: p["digest"] for p in old["points"]}
    now = {p["scenario_id"]: p["digest"] for p in new["points"]}
    for sid, digest in now.items():
        if sid not in before:
            return f"scenario {sid!r} is new"
        if before[sid] != digest:
            return f"scenario {sid!r} has changed (digest {before[sid]} there, {digest} now)"
    gone = [sid for sid in before if sid not in now]
    if gone:
        return f"scenario {gone[0]!r} is not in this sweep" + (f" (and {len(gone) - 1} more)" if len(gone) > 1 else "")
    return None


@dataclass
class ResultStore:
    """The task files of one sweep in ``root``; counts what it loaded and recomputed.

    Attributes:
        root: the output folder.
        settings: the run settings (which tables a task has).
        loaded: tasks loaded from disk.
        recomputed: ``(scenario_id, rep, reason)`` of tasks found broken (they are computed again).
    """

    root: Path
    settings: RunSettings
    loaded: int = 0
    recomputed: list[tuple[str, int, str]] = field(default_factory=list)

    @classmethod
    def open(cls, root: Path, points: Sequence[SweepPoint], settings: RunSettings, name: str = "") -> ResultStore:
        """Create ``root`` for this sweep, or reopen it if it holds the same sweep.

        Raises StoreMismatchError if ``root`` holds another sweep or other files, OutputError if it
        cannot be written.
        """
        root = Path(root)
        new = manifest(points, settings, name)
        path = root / MANIFEST
        _remove_leftovers(root)
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
                why = difference(old, new)
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                why = f"its {MANIFEST} cannot be read ({exc})"
            if why is not None:
                raise StoreMismatchError(f"{root}: holds the results of another sweep: {why}; "
                                         "use another --out folder, or delete this one to start over")
        elif root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise StoreMismatchError(f"{root}: exists and is not a bposim sweep folder (no {MANIFEST}); "
                                     "choose a new or empty folder")
        write_json(new, path)
        return cls(root, settings)

    def task_dir(self, point: SweepPoint, rep: int) -> Path:
        return self.root / "tasks" / point.folder / f"rep-{rep:04d}"

    def _tables(self) -> tuple[str, ...]:
        tables = ("intervals", "usage", "contacts")
        return ("calls", *tables) if self.settings.keep_calls else tables

    def save(self, point: SweepPoint, replication: Replication) -> None:
        """Write one finished task: its tables, then ``done.json`` with their checksums."""
        folder = self.task_dir(point, replication.rep)
        (folder / DONE).unlink(missing_ok=True)
        for leftover in folder.glob(".*.tmp") if folder.is_dir() else ():
            leftover.unlink(missing_ok=True)
        sums = {}
        for name in self._tables():
            data = _parquet_bytes(getattr(replication, name))
            write_bytes(data, folder / f"{name}.parquet")
            sums[f"{name}.parquet"] = _sha256(data)
        done = {"scenario_id": point.scenario_id, "rep": replication.rep, "end_s": replication.end_s,
                "files": sums}
        write_bytes(json.dumps(done, indent=2, sort_keys=True).encode(), folder / DONE)

    def load(self, point: SweepPoint, rep: int) -> Replication | None:
        """The saved task, or None if it is not done; a broken task is deleted and noted."""
        folder = self.task_dir(point, rep)
        if not (folder / DONE).exists():
            return None
        try:
            replication = self._read(folder, point.scenario_id, rep)
        except _Broken as exc:
            self.recomputed.append((point.scenario_id, rep, str(exc)))
            shutil.rmtree(folder, ignore_errors=True)
            return None
        self.loaded += 1
        return replication

    def _read(self, folder: Path, scenario_id: str, rep: int) -> Replication:
        try:
            done = json.loads((folder / DONE).read_text(encoding="utf-8"))
            sums, end_s = done["files"], float(done["end_s"])
            owner = (done["scenario_id"], int(done["rep"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise _Broken(f"{DONE} cannot be read ({exc})") from None
        if owner != (scenario_id, rep):
            raise _Broken(f"the folder holds the files of {owner[0]} rep {owner[1]}")
        tables: dict[str, pd.DataFrame | None] = {"calls": None}
        for name in self._tables():
            file = f"{name}.parquet"
            try:
                data = (folder / file).read_bytes()
            except OSError as exc:
                raise _Broken(f"{file} cannot be read ({exc.strerror})") from None
            if sums.get(file) != _sha256(data):
                raise _Broken(f"{file} does not match its checksum")
            try:
                tables[name] = pd.read_parquet(io.BytesIO(data))
            except Exception as exc:
                raise _Broken(f"{file} cannot be parsed ({type(exc).__name__})") from None
        return Replication(rep, tables["calls"], tables["intervals"], tables["usage"], end_s, tables["contacts"])


def _remove_leftovers(root: Path) -> None:
    """Delete temporary files that a killed run left in ``root`` (an atomic write's ``.NAME.XXXX.tmp``).

    They are never results (a result exists only once renamed); a folder holding nothing else
    counts as empty, so a sweep killed while writing its manifest can simply be run again.
    """
    if root.is_dir():
        for leftover in root.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)


class _Broken(Exception):
    """A saved task that cannot be used."""
