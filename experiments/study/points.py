"""Points: the scenarios of a sweep, each a base scenario (an *option*) with values set at dotted paths.

A ``grid`` is the cartesian product of its value lists (first key slowest); ``zip`` lists vary
together (same length) and form the innermost axis. Each point sets its values in the scenario's
table (derived from the dataclass) and rebuilds it with ``scenario_from_dict``, so a swept scenario
is validated exactly like a file; a bad path or value is a ScenarioError naming the sweep file and
the path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.optimise.goal import Goal
from experiments.study.paths import get_path, set_path, value_text
from models.dumping import scenario_to_dict
from models.fields import ScenarioError
from models.loading import scenario_from_dict
from models.scenario import Scenario

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
        goal: the targets the point is staffed to before it is run (an equal-service study), or None.
    """

    scenario_id: str
    option: str
    scenario: Scenario
    params: dict[str, Any] = field(default_factory=dict)
    study: str = ""
    goal: Goal | None = None

    @property
    def folder(self) -> str:
        """A safe, unique folder name: a readable slug plus a hash of the id."""
        return point_folder(self.scenario_id, self.option, self.params, self.study)




def scenario_id(option: str, params: Mapping[str, Any], study: str = "") -> str:
    """``[study:]option|path=value|...``: readable and deterministic."""
    head = f"{study}:{option}" if study else option
    return "|".join([head, *(f"{path}={value_text(value)}" for path, value in params.items())])


def point_folder(sid: str, option: str, params: Mapping[str, Any], study: str = "") -> str:
    """A folder name for a point: study, option and the last part of each path with its value,
    made safe and cut to 80 characters, plus 10 hex digits of the id's hash (unique)."""
    words = [w for w in (study, option) if w]
    words += [f"{path.rsplit('.', 1)[-1]}-{value_text(value)}" for path, value in params.items()]
    slug = _UNSAFE.sub("-", "_".join(words)).strip(".-_")[:80]
    digest = hashlib.sha256(sid.encode()).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else digest


def _key(where: str, label: str, path: str) -> str:
    """A sweep-file field path such as ``study[1].grid."pools.inhouse.agents"``."""
    return f'{where}{label}."{path}"'


def _combinations(grid: Mapping[str, Sequence[Any]], zipped: Mapping[str, Sequence[Any]],
                  source: str, where: str) -> list[dict[str, Any]]:
    """Every parameter combination: the grid's product, with the zipped rows innermost."""
    for label, axes in (("grid", grid), ("zip", zipped)):
        for path, values in axes.items():
            if not isinstance(values, list | tuple) or not values:
                raise ScenarioError(source, _key(where, label, path),
                                    f"must be a non-empty list of values, got {value_text(values)}")
    both = set(grid) & set(zipped)
    if both:
        raise ScenarioError(source, f"{where}zip", f"{', '.join(sorted(both))} is both in grid and zip")
    lengths = {path: len(values) for path, values in zipped.items()}
    if len(set(lengths.values())) > 1:
        found = ", ".join(f"{p} ({n})" for p, n in lengths.items())
        raise ScenarioError(source, f"{where}zip", f"lists must all have the same length, got {found}")
    rows = [dict(zip(zipped, row, strict=True)) for row in zip(*zipped.values(), strict=True)] if zipped else [{}]
    combos = []
    for values in itertools.product(*grid.values()):
        for row in rows:
            combos.append({**dict(zip(grid, values, strict=True)), **row})
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
    setting = ", ".join(f"{p} = {value_text(v)}" for p, v in params.items())
    label = f"{source}: " if source else ""
    base = Path(option.source).name if option.source else option.name
    scenario = scenario_from_dict(raw, source=f"{label}{setting} in {base}",
                                  base_dir=Path(option.source).parent if option.source else Path("."))
    return dataclasses.replace(scenario, source=option.source)


def expand(options: Scenario | Sequence[Scenario], grid: Mapping[str, Sequence[Any]] | None = None,
           zipped: Mapping[str, Sequence[Any]] | None = None, study: str = "", source: str = "",
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
    """The point's value at ``path``: the swept value (a list or table as text), or else the
    scenario's own if it is a plain value (a number, string or boolean; a list of one value
    repeated, such as flat agents, as that value), else None (e.g. the path names a pool the option
    lacks, or agents that vary over the day: an equal-service point's, set by the optimiser)."""
    if path in point.params:
        value = point.params[path]
        return value_text(value) if isinstance(value, list | dict) else value
    value = get_path(scenario_to_dict(point.scenario), path)
    if isinstance(value, list) and value and all(v == value[0] for v in value):
        value = value[0]
    return None if isinstance(value, list | dict) else value
