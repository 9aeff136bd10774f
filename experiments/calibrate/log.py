"""The tidy call log: one row per call that reached the agents' queue (docs/calibrate.md).

Columns (units in the names): ``arrival`` (naive local date-time the call reached the queue),
``outcome`` (``answered`` or ``abandoned``), ``wait_s`` (seconds in the queue, >= 0; 0 for a call
answered at once), ``handle_s`` (seconds of service, > 0, answered calls only), and optionally
``agent``, ``call_type``, ``customer_id`` (text) and ``talk_s``, ``acw_s`` (seconds, >= 0).
Files are CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``), told apart by their suffix.

Every reader and writer here checks the whole log; a bad one raises
:class:`~experiments.errors.CallLogError` with one line naming the file, the field, the first bad
line (CSV) or row (Parquet, a frame) and what is allowed.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from experiments.errors import CallLogError
from experiments.running.files import write_bytes, write_parquet

#: required columns, in the order they are written
LOG_COLUMNS: tuple[str, ...] = ("arrival", "outcome", "wait_s", "handle_s")
#: optional columns: text ids, then seconds of talk and after-call work of answered calls
OPTIONAL_COLUMNS: tuple[str, ...] = ("agent", "call_type", "customer_id", "talk_s", "acw_s")
#: the values of ``outcome``
OUTCOMES: tuple[str, ...] = ("answered", "abandoned")
#: the suffixes a call log may have, and how each is read
SUFFIXES: dict[str, str] = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet"}
#: a log must cover at least this many calendar days to be calibrated
MIN_DAYS = 2

_TEXT = ("agent", "call_type", "customer_id")
_SECONDS = ("talk_s", "acw_s")
_ISO = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"


@dataclass(frozen=True)
class _Where:
    """How a bad value is located in its source: ``line`` (CSV, header = line 1) or ``row``."""

    source: str
    unit: str = "row"
    first: int = 1

    def fail(self, position: int, column: str, rule: str, value: object) -> NoReturn:
        """Raise the one-line error for the value at 0-based ``position`` of ``column``."""
        raise CallLogError(f"{self.source}: {self.unit} {position + self.first}: {column}: {rule}, got {_shown(value)}")


def _shown(value: object) -> str:
    if _is_blank(value):
        return "an empty value"
    text = str(value).strip()
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _is_blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def log_kind(path: Path) -> str:
    """``"csv"`` or ``"parquet"`` by the suffix of ``path``; CallLogError for any other suffix."""
    name = Path(path).name.lower()
    for suffix, kind in SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise CallLogError(f"{path}: a call log must end in {', '.join(SUFFIXES)}")


def read_call_log(path: Path | str) -> pd.DataFrame:
    """Read and check the call log at ``path`` (CSV or Parquet by suffix).

    Returns the columns of :data:`LOG_COLUMNS` and those of :data:`OPTIONAL_COLUMNS` the file has
    (other columns are ignored): ``arrival`` datetime64[ns], ``outcome`` str, ``wait_s`` and
    ``handle_s`` float64 seconds (``handle_s`` NaN on abandoned calls), ids as str (NaN when empty),
    ``talk_s``/``acw_s`` float64 seconds; sorted by arrival (stable), index 0..n-1.
    """
    path = Path(path)
    kind = log_kind(path)
    if not path.is_file():
        raise CallLogError(f"{path}: no such file")
    if kind == "parquet":
        return _check(_read_parquet(path), _Where(str(path)))
    return _check(_read_csv(path), _Where(str(path), "line", 2))


def check_call_log(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check a log built in Python as :func:`read_call_log` checks a file; the same tidy frame back.

    ``source`` names the log in error messages; rows are counted from 1 in the frame's order.
    """
    return _check(frame.reset_index(drop=True), _Where(source))


def write_call_log(frame: pd.DataFrame, path: Path | str) -> None:
    """Check ``frame`` and write it to ``path`` atomically (CSV, gzip CSV or Parquet by suffix).

    Arrivals are written as ISO date-times (``1999-01-17T07:01:23``, fractions of a second kept);
    seconds that are all whole numbers are written without a decimal point. Reading the file back
    gives the checked frame exactly.
    """
    path = Path(path)
    kind = log_kind(path)
    tidy = check_call_log(frame, str(path))
    if kind == "parquet":
        write_parquet(tidy, path)
        return
    text = _as_csv_text(tidy).encode("utf-8")
    write_bytes(gzip.compress(text, mtime=0) if path.name.lower().endswith(".gz") else text, path)


def _as_csv_text(tidy: pd.DataFrame) -> str:
    out = tidy.copy()
    out["arrival"] = [t.isoformat() for t in tidy["arrival"]]
    for column in out.columns:
        values = out[column]
        if values.dtype == "float64" and bool(np.all(np.isnan(values) | (values == np.round(values)))):
            out[column] = values.astype("Int64")
    return str(out.to_csv(index=False, lineterminator="\n"))


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise CallLogError(f"{path}: the file is empty (a header line, then one line per call)") from None
    except (OSError, ValueError, EOFError) as exc:  # unreadable, bad gzip, bad encoding, ragged lines
        raise CallLogError(f"{path}: cannot read as CSV ({_first_line(exc)})") from None
    names = [str(name).strip() for name in header.iloc[0]]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # pandas would have renamed the second one (wait_s.1) and read on
        raise CallLogError(f"{path}: line 1: column {twice[0]!r} appears more than once; give each column once")
    return frame.rename(columns=str.strip)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, EOFError, ImportError) as exc:  # pyarrow's errors derive from these
        raise CallLogError(f"{path}: cannot read as Parquet ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check(frame: pd.DataFrame, where: _Where) -> pd.DataFrame:
    missing = [c for c in LOG_COLUMNS if c not in frame.columns]
    if missing:
        raise CallLogError(f"{where.source}: missing column {', '.join(map(repr, missing))} "
                           f"(required: {', '.join(LOG_COLUMNS)}; optional: {', '.join(OPTIONAL_COLUMNS)})")
    if frame.empty:
        raise CallLogError(f"{where.source}: the log has no calls (one row per call that reached the queue is needed)")
    tidy = pd.DataFrame({"arrival": _arrivals(frame["arrival"], where), "outcome": _outcomes(frame["outcome"], where)})
    tidy["wait_s"] = _seconds(frame["wait_s"], where, "wait_s", allow_blank=False)
    tidy["handle_s"] = _handles(frame["handle_s"], tidy["outcome"], where)
    for column in (c for c in OPTIONAL_COLUMNS if c in frame.columns):
        tidy[column] = _text(frame[column]) if column in _TEXT else _seconds(frame[column], where, column)
    _check_days(tidy["arrival"], where)
    return tidy.sort_values("arrival", kind="stable").reset_index(drop=True)


def _blanks(raw: pd.Series) -> pd.Series:
    if raw.dtype.kind in "fMm":
        return raw.isna()
    return raw.isna() | (raw.astype("str").str.strip() == "")


def _first(bad: pd.Series) -> int | None:
    found = np.flatnonzero(bad.to_numpy(dtype=bool))
    return int(found[0]) if found.size else None


def _arrivals(raw: pd.Series, where: _Where) -> pd.Series:
    rule = "must be an ISO date-time in local time without a UTC offset (1999-01-17T07:01:23)"
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        where.fail(0, "arrival", rule, raw.iloc[0])
    if raw.dtype.kind == "M":
        times = raw
    else:
        text = raw.astype("str").str.strip()
        iso = text.str.match(_ISO).fillna(False).astype(bool)
        times = pd.to_datetime(text.where(iso), format="ISO8601", errors="coerce")
    bad = _first(times.isna())
    if bad is not None:
        where.fail(bad, "arrival", rule, raw.iloc[bad])
    return times.astype("datetime64[ns]")


def _outcomes(raw: pd.Series, where: _Where) -> pd.Series:
    text = raw.astype("str").str.strip().str.lower()
    bad = _first(~text.isin(OUTCOMES))
    if bad is not None:
        where.fail(bad, "outcome", f"must be {' or '.join(OUTCOMES)}", raw.iloc[bad])
    return text.astype("str")


def _numbers(raw: pd.Series, where: _Where, column: str) -> pd.Series:
    """Float64 values of ``raw`` (NaN where blank); a value that is not a finite number fails."""
    blank = _blanks(raw)
    if raw.dtype.kind in "iuf":
        values = raw.astype("float64")
    else:
        text = raw.astype("str").str.strip()
        values = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")
        good = ~blank & values.notna()
        values[good] = text[good].map(float)  # Python's float: the exact value written
    bad = _first(~blank & ~np.isfinite(values.fillna(0.0)) | ~blank & values.isna())
    if bad is not None:
        where.fail(bad, column, "must be a number of seconds", raw.iloc[bad])
    return values.where(~blank)


def _seconds(raw: pd.Series, where: _Where, column: str, allow_blank: bool = True) -> pd.Series:
    values = _numbers(raw, where, column)
    rule = "must be a number of seconds >= 0" + ("" if allow_blank else " (0 for a call answered at once)")
    bad = _first(values < 0 if allow_blank else ~(values >= 0))
    if bad is not None:
        where.fail(bad, column, rule, raw.iloc[bad])
    return values


def _handles(raw: pd.Series, outcome: pd.Series, where: _Where) -> pd.Series:
    values = _numbers(raw, where, "handle_s")
    answered = outcome == "answered"
    bad = _first(~answered & values.notna())
    if bad is not None:
        where.fail(bad, "handle_s", "must be empty on an abandoned call", raw.iloc[bad])
    bad = _first(answered & ~(values > 0))
    if bad is not None:
        where.fail(bad, "handle_s", "must be a number of seconds > 0 on an answered call", raw.iloc[bad])
    return values


def _text(raw: pd.Series) -> pd.Series:
    text = raw.astype("str").str.strip()
    return text.where(~_blanks(raw)).astype("str")


def _check_days(arrival: pd.Series, where: _Where) -> None:
    days = arrival.dt.normalize().unique()
    if len(days) < MIN_DAYS:
        raise CallLogError(f"{where.source}: arrival: the log covers one day only ({pd.Timestamp(days[0]).date()}); "
                           f"calibration needs at least {MIN_DAYS} days")
