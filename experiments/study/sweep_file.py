"""Sweep files: base scenarios (options), studies of grids and zips over dotted paths, run settings.

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

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from experiments.optimise.goal import Goal
from experiments.optimise.targets import parse_targets
from experiments.study.paths import value_text
from experiments.study.points import SweepPoint, check_unique, expand
from models.fields import ScenarioError, Table, suggest
from models.loading import load_scenario, read_toml
from models.scenario import Scenario
from models.settings import RunSettings


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

    def with_search(self, **changes: Any) -> Sweep:
        """The sweep with every equal-service goal's fields changed (``reps=2, days=1``...): a quick
        look at a study whose searches are long. Points without a goal are unchanged; a goal that
        no longer fits its option is a ScenarioError (``reps`` must stay >= 2: one replication
        has no confidence bound)."""
        if changes.get("reps", 2) < 2:
            raise ScenarioError(self.source, "optimise.reps", f"must be >= 2, got {changes['reps']}")
        points = []
        for p in self.points:
            if p.goal is not None:
                goal = dataclasses.replace(p.goal, **changes)
                check_goal(goal, p.scenario, self.source, lambda key: f"optimise.{key}")
                p = dataclasses.replace(p, goal=goal)
            points.append(p)
        return dataclasses.replace(self, points=tuple(points))

    def settings(self, **overrides: Any) -> RunSettings:
        """RunSettings from the file's values, replaced by the ``overrides`` that are not None."""
        values = {**self.run, **{k: v for k, v in overrides.items() if v is not None}}
        return RunSettings(**values)



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
            goal = _read_goal(t, chosen)
            points += [replace(p, goal=goal) for p in _read_study(t, chosen, study, source, f"study[{i}].")]
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
            raise ScenarioError(top.source, where, f"must be a scenario file path, got {value_text(name)}")
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


def _read_goal(t: Table, options: list[Scenario]) -> Goal | None:
    """A study's ``optimise = { target = [...], vary = [...], per_interval, reps, days, warmup_h,
    confidence, max_agents, simultaneous }``, every target and pool checked against every option of the study."""
    g = t.take_table("optimise", None)
    if g is None:
        return None
    texts = g.take_list("target", min_len=1)
    vary = g.take_list("vary", [])
    per_interval, simultaneous = (g.raw(key, default) for key, default in (("per_interval", True),
                                                                          ("simultaneous", False)))
    for key, flag in (("per_interval", per_interval), ("simultaneous", simultaneous)):
        if not isinstance(flag, bool):
            raise g.error(key, f"must be true or false, got {value_text(flag)}")
    goal = Goal(tuple(str(x) for x in texts), tuple(str(x) for x in vary), per_interval,
                reps=g.take_int("reps", 4, low=2, high=1000),
                days=g.take_float("days", 3.0, low=0, low_open=True, high=365),
                warmup_h=g.take_float("warmup_h", 24.0, low=0, high=8760),
                confidence=g.take_float("confidence", 0.95, low=0.5, high=0.999999),
                max_agents=g.take_int("max_agents", 2000, low=1, high=10**6), simultaneous=simultaneous)
    g.done()
    for k, text in enumerate(texts):
        if not isinstance(text, str):
            raise ScenarioError(t.source, f"{g.sub('target')}[{k}]",
                                f"must be a target such as 'sl_frac>=0.8', got {value_text(text)}")
    for option in options:
        check_goal(goal, option, t.source, g.sub)
    return goal


def check_goal(goal: Goal, option: Scenario, source: str, sub: Callable[[str], str]) -> None:
    """ScenarioError (one line naming the field, via ``sub``) unless ``goal`` fits ``option``: its
    targets and varied pools exist, and the search's days and warm-up fit the scenario."""
    from sim.replication import check_settings

    for key, texts, vary in (("target", goal.targets, ()), ("vary", (), goal.vary)):
        try:
            parse_targets(texts, vary or None, option, label="target", per_interval=goal.per_interval)
        except ValueError as exc:
            raise ScenarioError(source, sub(key), f"option {option.name!r}: {exc}") from None
    try:
        check_settings(option, RunSettings(reps=goal.reps, days=goal.days, warmup_h=goal.warmup_h))
    except ValueError as exc:
        raise ScenarioError(source, sub(str(exc).split(":")[0]), f"option {option.name!r}: {exc}") from None


def _read_study(t: Table, options: list[Scenario], study: str, source: str, where: str) -> list[SweepPoint]:
    grid = t.take_table("grid", None)
    zipped = t.take_table("zip", None)
    return expand(options, grid.data if grid else None, zipped.data if zipped else None,
                  study, source, where)
