"""Reading TOML tables field by field, with errors that name the file and the field path.

A :class:`Table` wraps one TOML table (a ``dict``) and the path that leads to it
(``pools[1].contract``). Each ``take_*`` method reads one key, checks its type and range and
raises :class:`ScenarioError` with a message such as
``baseline.toml: pools[1].wage_per_h: must be > 0, got -3``. After reading, :meth:`Table.done`
rejects keys nobody asked for, suggesting the closest known key.
"""

from __future__ import annotations

import difflib
import enum
import math
from typing import Any, Final, overload


class _Missing(enum.Enum):
    """The type of :data:`_MISSING`, so that ``default is not _MISSING`` narrows a default's type."""

    MISSING = enum.auto()


#: "no default given": the key is required.
_MISSING: Final = _Missing.MISSING


class ScenarioError(ValueError):
    """A user's mistake in a scenario or run setting: one line, file and field path included."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path, self.message = source, path, message
        where = f"{source}: " if source else ""
        field = f"{path}: " if path else ""
        super().__init__(f"{where}{field}{message}")


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


class Table:
    """One TOML table being read; remembers which keys were taken."""

    def __init__(self, data: Any, source: str, path: str = "") -> None:
        if not isinstance(data, dict):
            raise ScenarioError(source, path, f"must be a table, got {_kind(data)}")
        self.data, self.source, self.path = data, source, path
        self._taken: set[str] = set()

    def sub(self, key: str) -> str:
        """Path of a child key."""
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(self.source, self.sub(key) if key else self.path, message)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The value of ``key`` unchecked; a missing key without default is an error."""
        self._taken.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(key, "is required" + self.typo_hint(key))
        return default

    def typo_hint(self, key: str) -> str:
        """' (found unknown key 'mean'; did you mean 'mean_s'?)' when a present key looks like ``key``."""
        match = difflib.get_close_matches(key, [k for k in self.data if k not in self._taken], n=1, cutoff=0.6)
        return f" (found unknown key {match[0]!r}; did you mean {key!r}?)" if match else ""

    def absent(self, key: str, default: Any) -> bool:
        """True when ``key`` is missing and a default stands in for it (the default is not checked)."""
        self._taken.add(key)
        return key not in self.data and default is not _MISSING

    @overload
    def take_str(self, key: str, default: str | _Missing = ..., choices: tuple[str, ...] = ()) -> str: ...
    @overload
    def take_str(self, key: str, default: None, choices: tuple[str, ...] = ()) -> str | None: ...

    def take_str(self, key: str, default: str | _Missing | None = _MISSING,
                 choices: tuple[str, ...] = ()) -> str | None:
        if self.absent(key, default) and default is not _MISSING:
            return default
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {_kind(value)} {value!r}")
        if choices and value not in choices:
            hint = suggest(value, choices)
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}{hint}")
        if not choices and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    @overload
    def take_float(self, key: str, default: float | _Missing = ..., *, low: float = ..., high: float = ...,
                   low_open: bool = ..., allow_inf: bool = ...) -> float: ...
    @overload
    def take_float(self, key: str, default: None, *, low: float = ..., high: float = ...,
                   low_open: bool = ..., allow_inf: bool = ...) -> float | None: ...

    def take_float(self, key: str, default: float | _Missing | None = _MISSING, *, low: float = -math.inf,
                   high: float = math.inf, low_open: bool = False, allow_inf: bool = False) -> float | None:
        if self.absent(key, default) and default is not _MISSING:
            return default
        value = self.raw(key, default)
        return check_number(value, self.sub(key), self.source, low=low, high=high,
                            low_open=low_open, allow_inf=allow_inf)

    @overload
    def take_int(self, key: str, default: int | _Missing = ..., *, low: int = ..., high: int = ...) -> int: ...
    @overload
    def take_int(self, key: str, default: None, *, low: int = ..., high: int = ...) -> int | None: ...

    def take_int(self, key: str, default: int | _Missing | None = _MISSING, *, low: int = 0,
                 high: int = 10**9) -> int | None:
        if self.absent(key, default) and default is not _MISSING:
            return default
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, got {_kind(value)} {value!r}")
        if not low <= value <= high:
            raise self.error(key, f"must be between {low} and {high}, got {value}")
        return value

    @overload
    def take_table(self, key: str, default: _Missing = ...) -> Table: ...
    @overload
    def take_table(self, key: str, default: None) -> Table | None: ...

    def take_table(self, key: str, default: _Missing | None = _MISSING) -> Table | None:
        """The sub-table at ``key``; ``None`` only for an optional table (default ``None``)."""
        if self.absent(key, default) and default is not _MISSING:
            return default
        value = self.raw(key, default)
        return None if value is None and default is None else Table(value, self.source, self.sub(key))

    @overload
    def take_list(self, key: str, default: list[Any] | _Missing = ..., *, min_len: int = 0) -> list[Any]: ...
    @overload
    def take_list(self, key: str, default: None, *, min_len: int = 0) -> list[Any] | None: ...

    def take_list(self, key: str, default: list[Any] | _Missing | None = _MISSING, *,
                  min_len: int = 0) -> list[Any] | None:
        """The list at ``key``; ``None`` only for an optional list (default ``None``)."""
        if self.absent(key, default) and default is not _MISSING:
            return default
        value = self.raw(key, default)
        if value is None and default is None:
            return None
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, got {_kind(value)} {value!r}")
        if len(value) < min_len:
            raise self.error(key, f"must have at least {min_len} item(s), got {len(value)}")
        return value

    def done(self) -> None:
        """Reject keys that were never taken (typos), with a suggestion."""
        known = tuple(self._taken)
        for key in self.data:
            if key not in self._taken:
                hint = suggest(key, known)
                raise self.error(key, f"unknown key{hint}; allowed keys: {', '.join(sorted(known))}")


def check_number(value: Any, path: str, source: str, *, low: float = -math.inf,
                 high: float = math.inf, low_open: bool = False, allow_inf: bool = False) -> float:
    """A finite (or, if allowed, infinite) real number in [low, high] (``(low, high]`` if low_open)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(source, path, f"must be a number, got {_kind(value)} {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf  # an integer too large for a float is as absurd as infinity
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ScenarioError(source, path, f"must be a finite number, got {number}")
    if low_open and number <= low:
        raise ScenarioError(source, path, f"must be > {low:g}, got {number:g}")
    if number < low or number > high:
        upper = "" if math.isinf(high) else f" and <= {high:g}"
        lower = f"> {low:g}" if low_open else f">= {low:g}"
        raise ScenarioError(source, path, f"must be {lower}{upper}, got {number:g}")
    return number


def suggest(word: str, choices: tuple[str, ...]) -> str:
    """' (did you mean 'x'?)' for the closest of ``choices``, or ''."""
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
