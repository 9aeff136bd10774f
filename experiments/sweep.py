"""Sweeps: named scenarios from a grid of values over scenario fields addressed by dotted paths.

A dotted path addresses the scenario's TOML table (derived from the dataclass by
``models.dumping.scenario_to_dict``, so a scenario changed in code is swept as it is now): ``service_level_s``,
``lines``, ``pools.inhouse.agents``, ``demand.support.calls_per_h``,
``pools.offshore.contract.per_minute``. A list of tables (``pools``, ``demand``) is entered by an
item's ``name``; a list of plain values by its index (``demand.support.profile_per_h.16``).

Each point sets its values in a deep copy of the table and rebuilds the scenario with
``scenario_from_dict``, so a swept scenario is validated exactly like a file; a bad path or value
is a :class:`ScenarioError` naming the sweep file and the path.

A ``grid`` is the cartesian product of its value lists (first key slowest); ``zip`` lists vary
together (same length) and form the innermost axis. A sweep file (TOML) names base scenarios as
options and either one grid/zip for all of them or a list of ``[[study]]`` tables, each with its
own options (a subset, by scenario name), grid and zip::

    name = "inhouse-vs-bpo"
    options = ["../scenarios/all_inhouse.toml", "../scenarios/local_bpo.toml"]   # relative to this file
    reps = 10          # optional run settings: reps, seed, days, warmup_h (the command line wins)
    days = 7
    [grid]
    "demand.support.calls_per_h" = [300, 540]

    # or, instead of a top-level grid/zip, studies:
    [[study]]
    name = "volume"
    options = ["local-bpo"]
    [study.zip]
    "demand.support.calls_per_h" = [300, 540]
    "pools.local_bpo.agents" = [30, 52]
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.dumping import scenario_to_dict
from models.fields import ScenarioError, Table, suggest
from models.loading import load_scenario, read_toml, scenario_from_dict
from models.scenario import Scenario
from models.settings import RunSettings

#: Nouns for the items of the scenario's lists of tables, used in messages.
_ITEM_NOUNS = {"pools": "pool", "demand": "call type"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SweepPoint:
    """One scenario of a sweep.

    Attributes:
        scenario_id: readable, deterministic id: ``[study:]option|path=value|...``.
        option: the base scenario's name.
        scenario: the validated scenario with the point's values set.
        params: the values this point sets, by dotted path, in sweep order.
        study: the ``[[study]]`` the point belongs to ("" for a plain grid).
    """

    scenario_id: str
    option: str
    scenario: Scenario
    params: dict[str, Any] = field(default_factory=dict)
    study: str = ""

    @property
    def folder(self) -> str:
        """A safe, unique folder name: a readable slug plus a hash of the id."""
        return point_folder(self.scenario_id, self.option, self.params, self.study)


@dataclass(frozen=True)
class Sweep:
    """A sweep file: its options (base scenarios), points and optional run settings.

    Attributes:
        name: label of the sweep.
        source: the file it was read from.
        options: the base scenarios, in file order.
        points: every swept scenario, in order (options, then studies, then grid order).
        run: run settings given in the file (``reps``, ``seed``, ``days``, ``warmup_h``).
    """

    name: str
    source: str
    options: tuple[Scenario, ...]
    points: tuple[SweepPoint, ...]
    run: dict[str, Any] = field(default_factory=dict)

    def settings(self, **overrides: Any) -> RunSettings:
        """RunSettings from the file's values, replaced by the ``overrides`` that are not None."""
        values = {**self.run, **{k: v for k, v in overrides.items() if v is not None}}
        return RunSettings(**values)


# ---------------------------------------------------------------- dotted paths

def _text(value: Any) -> str:
    """A value as it appears in a scenario id (TOML-like, compact, deterministic)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _split(path: str, source: str, where: str) -> list[str]:
    parts = path.split(".") if isinstance(path, str) else [""]
    if not all(parts):
        raise ScenarioError(source, where, f"bad dotted path {path!r}: parts must be non-empty, "
                                           "e.g. 'pools.inhouse.agents'")
    return parts


def _list_item(items: list, part: str, trail: str) -> int | str:
    """Index of the item called ``part`` (or at index ``part``) of a list, else an error message."""
    names = [item.get("name") for item in items if isinstance(item, dict)]
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return i
    if part.isdigit() and int(part) < len(items):
        return int(part)
    noun = _ITEM_NOUNS.get(trail, "item")
    known = [str(n) for n in names if n is not None]
    if known:
        return (f"no {noun} named {part!r} in {trail}{suggest(part, tuple(known))}; "
                f"the {noun}s are {', '.join(known)}")
    return f"no item {part!r} in {trail} (a list of {len(items)} value(s); use an index 0..{len(items) - 1})"


def _resolve(raw: dict, path: str, source: str, where: str, create: bool) -> tuple[Any, Any]:
    """(container, key) of the value at ``path``; ``create`` allows a missing last key of a table."""
    parts = _split(path, source, where)
    node: Any = raw
    trail = ""
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, dict):
            if part not in node and not (last and create):
                known = tuple(str(k) for k in node)
                at = f" in {trail}" if trail else " at the top level"
                raise ScenarioError(source, where, f"no key {part!r}{at}{suggest(part, known)}; "
                                                   f"keys there: {', '.join(known)}")
            key: Any = part
        elif isinstance(node, list):
            key = _list_item(node, part, trail)
            if isinstance(key, str):
                raise ScenarioError(source, where, key)
        else:
            raise ScenarioError(source, where, f"{trail} is a value ({_text(node)}), not a table; "
                                               f"cannot go into it with {part!r}")
        if last:
            return node, key
        node = node[key]
        trail = f"{trail}.{part}" if trail else part
    raise AssertionError("unreachable")


def get_path(raw: dict, path: str, default: Any = None) -> Any:
    """The value at dotted ``path`` in a scenario table, or ``default`` if there is none."""
    try:
        container, key = _resolve(raw, path, "", "", create=False)
    except ScenarioError:
        return default
    return container[key]


def set_path(raw: dict, path: str, value: Any, source: str = "", where: str = "") -> dict:
    """A deep copy of ``raw`` with ``value`` at dotted ``path`` (a missing last key is added).

    A path that leads nowhere is a :class:`ScenarioError` naming ``source`` and ``where``
    (default: the path itself), with the closest pool, call type or key suggested.
    """
    out = copy.deepcopy(raw)
    container, key = _resolve(out, path, source, where or path, create=True)
    container[key] = copy.deepcopy(value)
    return out


# ---------------------------------------------------------------- points

def scenario_id(option: str, params: Mapping[str, Any], study: str = "") -> str:
    """``[study:]option|path=value|...``: readable and deterministic."""
    head = f"{study}:{option}" if study else option
    return "|".join([head, *(f"{path}={_text(value)}" for path, value in params.items())])


def point_folder(sid: str, option: str, params: Mapping[str, Any], study: str = "") -> str:
    """A folder name for a point: study, option and the last part of each path with its value,
    made safe and cut to 80 characters, plus 10 hex digits of the id's hash (unique)."""
    words = [w for w in (study, option) if w]
    words += [f"{path.rsplit('.', 1)[-1]}-{_text(value)}" for path, value in params.items()]
    slug = _UNSAFE.sub("-", "_".join(words)).strip(".-_")[:80]
    digest = hashlib.sha256(sid.encode()).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else digest


def _key(where: str, label: str, path: str) -> str:
    """A sweep-file field path such as ``study[1].grid."pools.inhouse.agents"``."""
    return f'{where}{label}."{path}"'


def _combinations(grid: Mapping[str, Sequence], zipped: Mapping[str, Sequence],
                  source: str, where: str) -> list[dict[str, Any]]:
    """Every parameter combination: the grid's product, with the zipped rows innermost."""
    for label, axes in (("grid", grid), ("zip", zipped)):
        for path, values in axes.items():
            if not isinstance(values, list | tuple) or not values:
                raise ScenarioError(source, _key(where, label, path),
                                    f"must be a non-empty list of values, got {_text(values)}")
    both = set(grid) & set(zipped)
    if both:
        raise ScenarioError(source, f"{where}zip", f"{', '.join(sorted(both))} is both in grid and zip")
    lengths = {path: len(values) for path, values in zipped.items()}
    if len(set(lengths.values())) > 1:
        found = ", ".join(f"{p} ({n})" for p, n in lengths.items())
        raise ScenarioError(source, f"{where}zip", f"lists must all have the same length, got {found}")
    rows = [dict(zip(zipped, row)) for row in zip(*zipped.values())] if zipped else [{}]
    combos = []
    for values in itertools.product(*grid.values()):
        for row in rows:
            combos.append({**dict(zip(grid, values)), **row})
    return combos


def _build(option: Scenario, params: dict[str, Any], source: str, where: dict[str, str]) -> Scenario:
    """``option`` with ``params`` set, validated like a file; ``where`` names each path's field."""
    if not params:
        return option
    raw = scenario_to_dict(option)
    for path, value in params.items():
        try:
            raw = set_path(raw, path, value, source, where[path])
        except ScenarioError as exc:
            raise ScenarioError(exc.source, exc.path, f"option {option.name!r}: {exc.message}") from None
    setting = ", ".join(f"{p} = {_text(v)}" for p, v in params.items())
    label = f"{source}: " if source else ""
    base = Path(option.source).name if option.source else option.name
    scenario = scenario_from_dict(raw, source=f"{label}{setting} in {base}",
                                  base_dir=Path(option.source).parent if option.source else Path("."))
    return dataclasses.replace(scenario, source=option.source)


def expand(options: Scenario | Sequence[Scenario], grid: Mapping[str, Sequence] | None = None,
           zipped: Mapping[str, Sequence] | None = None, study: str = "", source: str = "",
           where: str = "") -> list[SweepPoint]:
    """Points of every option × grid combination × zipped row.

    ``grid`` maps dotted paths to value lists (cartesian product); ``zipped`` maps paths to lists
    of one length varied together. ``source`` and ``where`` (e.g. ``"study[1]."``) name the sweep
    in messages. Example::

        expand(base, grid={"pools.inhouse.agents": [50, 51]})
    """
    scenarios = [options] if isinstance(options, Scenario) else list(options)
    grid, zipped = dict(grid or {}), dict(zipped or {})
    combos = _combinations(grid, zipped, source, where)
    fields = {path: _key(where, "grid", path) for path in grid} | {path: _key(where, "zip", path) for path in zipped}
    points = []
    for option in scenarios:
        for params in combos:
            scenario = _build(option, params, source, fields)
            sid = scenario_id(option.name, params, study)
            points.append(SweepPoint(sid, option.name, scenario, params, study))
    return points


def check_unique(points: Sequence[SweepPoint], source: str = "") -> None:
    """A ScenarioError if two points share a scenario id."""
    seen: set[str] = set()
    for point in points:
        if point.scenario_id in seen:
            raise ScenarioError(source, "", f"point {point.scenario_id!r} appears twice; "
                                            "remove the duplicate value or give the studies different names")
        seen.add(point.scenario_id)


def param_paths(points: Sequence[SweepPoint]) -> list[str]:
    """Every swept path, in order of first appearance."""
    return list(dict.fromkeys(path for point in points for path in point.params))


def param_value(point: SweepPoint, path: str) -> Any:
    """The point's value at ``path``: the swept value, or else the scenario's own if it is a plain
    value (a number, string or boolean), else None (e.g. the path names a pool the option lacks)."""
    value = point.params[path] if path in point.params else get_path(scenario_to_dict(point.scenario), path)
    if isinstance(value, list | dict):
        return _text(value)
    return value


# ---------------------------------------------------------------- sweep files

def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and expand the sweep file ``path``."""
    path = Path(path)
    return sweep_from_dict(read_toml(path), source=str(path), base_dir=path.parent)


def sweep_from_dict(data: dict[str, Any], source: str = "", base_dir: Path | None = None) -> Sweep:
    """A Sweep from a parsed sweep table; option paths are relative to ``base_dir``."""
    top = Table(data, source)
    name = top.take_str("name")
    options = _read_options(top, base_dir or Path("."))
    run = _read_run(top)
    studies = top.take_list("study", None, min_len=1)
    if studies is not None and (top.has("grid") or top.has("zip")):
        raise top.error("study", "use either a top-level grid/zip for every option or [[study]] tables, not both")
    if studies is None:
        points = _read_study(top, options, "", source, "")
    else:
        points = []
        for i, item in enumerate(studies):
            t = Table(item, source, f"study[{i}]")
            study = t.take_str("name")
            chosen = _pick_options(t, options)
            points += _read_study(t, chosen, study, source, f"study[{i}].")
            t.done()
    top.done()
    check_unique(points, source)
    return Sweep(name, source, tuple(options), tuple(points), run)


def _read_options(top: Table, base_dir: Path) -> list[Scenario]:
    files = top.take_list("options", min_len=1)
    options: list[Scenario] = []
    for i, name in enumerate(files):
        where = f"options[{i}]"
        if not isinstance(name, str) or not name.strip():
            raise ScenarioError(top.source, where, f"must be a scenario file path, got {_text(name)}")
        path = Path(os.path.normpath(base_dir / name))
        if not path.is_file():
            raise ScenarioError(top.source, where, f"file not found: {path}")
        scenario = load_scenario(path)
        if any(o.name == scenario.name for o in options):
            raise ScenarioError(top.source, where, f"two options are named {scenario.name!r}; "
                                                   "option names (the scenarios' name) must be unique")
        options.append(scenario)
    return options


def _read_run(top: Table) -> dict[str, Any]:
    values = {"reps": top.take_int("reps", None, low=1, high=10**6),
              "seed": top.take_int("seed", None, low=0, high=2**63 - 1),
              "days": top.take_float("days", None, low=0, low_open=True, high=3650),
              "warmup_h": top.take_float("warmup_h", None, low=0, high=87600)}
    return {key: value for key, value in values.items() if value is not None}


def _pick_options(t: Table, options: list[Scenario]) -> list[Scenario]:
    names = t.take_list("options", None, min_len=1)
    if names is None:
        return options
    known = tuple(o.name for o in options)
    chosen = []
    for i, name in enumerate(names):
        if name not in known:
            raise ScenarioError(t.source, f"{t.sub('options')}[{i}]",
                                f"unknown option {name!r}{suggest(str(name), known)}; options are {', '.join(known)}")
        chosen.append(next(o for o in options if o.name == name))
    return chosen


def _read_study(t: Table, options: list[Scenario], study: str, source: str, where: str) -> list[SweepPoint]:
    grid = t.take_table("grid", None)
    zipped = t.take_table("zip", None)
    return expand(options, grid.data if grid else None, zipped.data if zipped else None,
                  study, source, where)
