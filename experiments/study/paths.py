"""Dotted paths into a scenario's TOML table: ``pools.inhouse.agents``, ``demand.support.calls_per_h``.

A path addresses the table derived from the scenario dataclass (``models.dumping.scenario_to_dict``).
A list of tables (``pools``, ``demand``) is entered by an item's ``name``; a list of plain values by
its index (``demand.support.profile_per_h.16``). A path that leads nowhere is a ScenarioError naming
the sweep file and the path, with the closest pool, call type or key suggested.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from models.fields import ScenarioError, suggest

#: Nouns for the items of the scenario's lists of tables, used in messages.
_ITEM_NOUNS = {"pools": "pool", "demand": "call type"}


def value_text(value: Any) -> str:
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


def _list_item(items: list[Any], part: str, trail: str) -> int | str:
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


def _resolve(raw: dict[str, Any], path: str, source: str, where: str, create: bool) -> tuple[Any, Any]:
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
            raise ScenarioError(source, where, f"{trail} is a value ({value_text(node)}), not a table; "
                                               f"cannot go into it with {part!r}")
        if last:
            return node, key
        node = node[key]
        trail = f"{trail}.{part}" if trail else part
    raise AssertionError("unreachable")


def get_path(raw: dict[str, Any], path: str, default: Any = None) -> Any:
    """The value at dotted ``path`` in a scenario table, or ``default`` if there is none."""
    try:
        container, key = _resolve(raw, path, "", "", create=False)
    except ScenarioError:
        return default
    return container[key]


def set_path(raw: dict[str, Any], path: str, value: Any, source: str = "", where: str = "") -> dict[str, Any]:
    """A deep copy of ``raw`` with ``value`` at dotted ``path`` (a missing last key is added).

    A path that leads nowhere is a :class:`ScenarioError` naming ``source`` and ``where``
    (default: the path itself), with the closest pool, call type or key suggested.
    """
    out = copy.deepcopy(raw)
    container, key = _resolve(out, path, source, where or path, create=True)
    container[key] = copy.deepcopy(value)
    return out
