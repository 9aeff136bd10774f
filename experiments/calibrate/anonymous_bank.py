"""The Technion SEE Center's "Anonymous Bank" call log (1999) → the tidy call log (docs/calibrate.md).

A raw record has 17 fields (``vru+line call_id customer_id priority type date vru_entry vru_exit
vru_time q_start q_exit q_time outcome ser_start ser_exit ser_time server``), tab-separated, dates
``YYMMDD``, times ``H:MM:SS``, durations in whole seconds. A call is kept when it reached the agents'
queue: it queued (``q_start`` set or ``q_time > 0``) or was answered at once (AGENT, not queued).

- ``arrival``: the record's date + ``q_start`` if the call queued, else + ``vru_exit`` (``q_start``
  equals ``vru_exit`` on 99.99% of queued calls; ``ser_start`` runs 0–2 s early on a skewed clock);
  the next day when that time is more than an hour before ``vru_entry`` (the call crossed midnight).
- ``outcome``: AGENT → answered; HANG → abandoned (a HANG that never queued is dropped: it hung up
  in the voice menu); PHANTOM records are dropped.
- ``wait_s`` = ``q_time`` (0 when not queued); ``handle_s`` = ``ser_time`` (answered calls; an AGENT
  record with ``ser_time`` 0 has no service recorded and is dropped).
- ``agent`` = ``server`` (missing for NO_SERVER); ``call_type`` = ``type``; ``customer_id`` as
  written, missing when 0 (unidentified) or in spreadsheet notation (``3.27E+11``: digits lost).
  ``priority`` is not carried: it is 0 for every call that did not queue (a bug of the source).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.errors import CallLogError

#: the bundled excerpt: January 17–30, 1999 (two full weeks, Sunday to Saturday) as a tidy log
ANONYMOUS_BANK_EXCERPT = Path(__file__).resolve().parents[1] / "logs" / "anonymous_bank_1999_two_weeks.csv.gz"
#: the raw fields, in order (``vru+line`` renamed to a name pandas can use)
RAW_FIELDS: tuple[str, ...] = ("vru_line", "call_id", "customer_id", "priority", "type", "date", "vru_entry",
                               "vru_exit", "vru_time", "q_start", "q_exit", "q_time", "outcome", "ser_start",
                               "ser_exit", "ser_time", "server")
#: why a record is dropped, in the order the reasons are tried (a record counts under the first)
DROP_REASONS: dict[str, str] = {
    "unparseable": "not 17 fields, or a date, time, duration or outcome that does not parse",
    "duplicate": "the same record as an earlier one",
    "outside_dates": "reached the queue outside the days asked for",
    "phantom": "PHANTOM: a ghost record, to be ignored (the data's documentation)",
    "vru_only": "HANG in the voice menu: never reached the agents' queue",
    "no_service_time": "AGENT with ser_time 0: no service recorded",
}
#: records kept with a field changed or noted
NOTES: dict[str, str] = {
    "agent_missing": "AGENT served by NO_SERVER: kept, agent left empty",
    "customer_missing": "customer_id 0 or in spreadsheet notation (3.27E+11): kept, customer_id left empty",
    "negative_vru_time": "negative vru_time (VRU clock skew): kept, the queue and service times agree",
    "abandoned_at_once": "HANG that queued with q_time 0: kept as abandoned after 0 s",
    "after_midnight": "reached the queue the day after its date field (crossed midnight)",
    "vru_only_kept": "HANG in the voice menu kept as abandoned after 0 s (keep_vru_only)",
}
_OUTCOMES = ("AGENT", "HANG", "PHANTOM")
_MIDNIGHT_SLACK_S = 3600  # a queue time this much before the VRU entry means the next day
_SHOWN_LINES = 5


@dataclass(frozen=True)
class ConversionReport:
    """What a conversion read, kept and dropped (counts of raw records; the header is not one)."""

    read_n: int  #: records read (data lines of every file)
    kept_n: int  #: calls in the tidy log
    answered_n: int
    abandoned_n: int
    outcomes_read: dict[str, int]  #: records by their outcome field: AGENT / HANG / PHANTOM
    dropped: dict[str, int]  #: reason (DROP_REASONS) → records dropped for it
    notes: dict[str, int]  #: note (NOTES) → records kept with it
    unparseable_at: tuple[str, ...] = field(default=())  #: the first few ``file:line`` that did not parse

    def nothing_kept(self) -> str:
        """Why nothing was kept, in one line: ``of 2 records read, 1 unparseable (first at f:2), 1 vru_only``."""
        where = f" (first at {self.unparseable_at[0]})" if self.unparseable_at else ""
        why = [f"{n:,} {reason}" + (where if reason == "unparseable" else "") for reason, n in self.dropped.items() if n]
        return f"of {self.read_n:,} records read, {', '.join(why)}"

    def lines(self) -> list[str]:
        """The report as text lines for the command line."""
        read = ", ".join(f"{n:,} {name}" for name, n in self.outcomes_read.items())
        out = [f"read     {self.read_n:>7,} records ({read})",
               f"kept     {self.kept_n:>7,} calls ({self.answered_n:,} answered, {self.abandoned_n:,} abandoned)",
               f"dropped  {sum(self.dropped.values()):>7,}"]
        out += [f"  {n:>7,}  {reason}: {DROP_REASONS[reason]}" for reason, n in self.dropped.items() if n]
        if self.unparseable_at:
            out.append(f"           first lines that did not parse: {', '.join(self.unparseable_at)}")
        out += ["kept with a note:"] + [f"  {n:>7,}  {note}: {NOTES[note]}" for note, n in self.notes.items() if n]
        return out


def convert_anonymous_bank(paths: Iterable[Path | str] | Path | str, *, keep_vru_only: bool = False,
                           first_day: date | None = None, last_day: date | None = None,
                           ) -> tuple[pd.DataFrame, ConversionReport]:
    """Read raw Anonymous Bank files (plain or ``.gz``; one path or several) into one tidy call log and its report.

    ``keep_vru_only`` keeps the HANGs that never left the voice menu as abandoned after 0 s (they
    did not reach the agents: for counting offered calls, never for patience). ``first_day`` and
    ``last_day`` (inclusive) keep the calls that reached the queue on those days. The frame has the
    columns ``arrival, outcome, wait_s, handle_s, agent, call_type, customer_id``, sorted by arrival
    (stable); check or write it with experiments.calibrate.log.
    """
    raw = _read_records([Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths])
    parsed = _parse(raw)
    reason = _drop_reasons(parsed, keep_vru_only, first_day, last_day)
    kept = parsed[reason == ""]
    tidy = _tidy(kept)
    report = ConversionReport(
        read_n=len(raw), kept_n=len(tidy), answered_n=int((tidy["outcome"] == "answered").sum()),
        abandoned_n=int((tidy["outcome"] == "abandoned").sum()),
        outcomes_read={name: int((parsed["outcome"] == name).sum()) for name in _OUTCOMES},
        dropped={name: int((reason == name).sum()) for name in DROP_REASONS},
        notes=_notes(kept, keep_vru_only),
        unparseable_at=tuple(parsed.loc[reason == "unparseable", "line"].head(_SHOWN_LINES)))
    return tidy, report


def _lines(path: Path) -> Iterator[str]:
    if not path.is_file():
        raise CallLogError(f"{path}: no such file")
    try:
        with (gzip.open(path, "rt", encoding="latin-1") if path.suffix == ".gz"
              else path.open(encoding="latin-1")) as handle:
            yield from handle
    except (OSError, EOFError) as exc:
        raise CallLogError(f"{path}: cannot read ({str(exc).strip() or type(exc).__name__})") from None


def split_record(line: str) -> list[str] | None:
    """The 17 stripped fields of a raw line (tabs, or any run of spaces where a tab is missing), else None."""
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) != len(RAW_FIELDS):
        fields = line.split()
    fields = [f.strip() for f in fields]
    return fields if len(fields) == len(RAW_FIELDS) and all(fields) else None


def _read_records(paths: list[Path]) -> pd.DataFrame:
    """Every data line as a row of text fields (empty where the line does not split), ``split`` and
    ``line`` (``file:number``) beside them."""
    rows: list[list[str] | None] = []
    lines: list[str] = []
    for path in paths:
        for number, line in enumerate(_lines(path), start=1):
            if not line.strip() or line.lstrip().startswith("vru+line"):
                continue  # blank line or the header
            rows.append(split_record(line))
            lines.append(f"{path.name}:{number}")
    if not rows:
        raise CallLogError(f"{', '.join(map(str, paths))}: no record in the Anonymous Bank format (17 fields a line)")
    frame = pd.DataFrame([r if r is not None else [""] * len(RAW_FIELDS) for r in rows], columns=list(RAW_FIELDS))
    frame["split"] = [r is not None for r in rows]
    frame["line"] = lines
    return frame


def _clock_s(text: pd.Series) -> pd.Series:
    """Seconds after midnight of ``H:MM:SS`` times (NaN where the text is not one)."""
    parts = text.str.extract(r"^(\d{1,2}):([0-5]\d):([0-5]\d)$").astype("float64")
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
    return seconds.where(parts[0] < 24)


def _whole(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.where(text.str.fullmatch(r"-?\d+")), errors="coerce").astype("float64")


def _parse(raw: pd.DataFrame) -> pd.DataFrame:
    """The raw text with parsed columns added: ``day``, ``*_s`` clock seconds, durations, and ``ok``."""
    out = raw.copy()
    out["outcome"] = raw["outcome"].str.upper()
    out["day"] = pd.to_datetime(raw["date"].where(raw["date"].str.fullmatch(r"\d{6}")), format="%y%m%d",
                                errors="coerce")
    for name in ("vru_entry", "vru_exit", "q_start"):
        out[f"{name}_s"] = _clock_s(raw[name])
    for name in ("vru_time", "q_time", "ser_time"):
        out[name] = _whole(raw[name])
    needed = ["day", "vru_entry_s", "vru_exit_s", "q_start_s", "vru_time", "q_time", "ser_time"]
    out["ok"] = raw["split"] & out[needed].notna().all(axis=1) & out["outcome"].isin(_OUTCOMES)
    out["ok"] &= (out["q_time"] >= 0) & (out["ser_time"] >= 0)
    out["queued"] = (out["q_start_s"] > 0) | (out["q_time"] > 0)
    clock = out["q_start_s"].where(out["queued"], out["vru_exit_s"])
    next_day = clock < out["vru_entry_s"] - _MIDNIGHT_SLACK_S
    out["arrival"] = out["day"] + pd.to_timedelta(clock + 86400 * next_day, unit="s")
    out["after_midnight"] = next_day & out["ok"]
    return out


def _drop_reasons(parsed: pd.DataFrame, keep_vru_only: bool, first_day: date | None,
                  last_day: date | None) -> pd.Series:
    """Per record the first reason of DROP_REASONS that applies, "" for a record kept."""
    day = parsed["arrival"].dt.date
    tests = {
        "unparseable": ~parsed["ok"],
        "duplicate": parsed.duplicated(list(RAW_FIELDS)) & parsed["ok"],
        "outside_dates": (day < first_day if first_day else False) | (day > last_day if last_day else False),
        "phantom": parsed["outcome"] == "PHANTOM",
        "vru_only": (parsed["outcome"] == "HANG") & ~parsed["queued"] & (not keep_vru_only),
        "no_service_time": (parsed["outcome"] == "AGENT") & (parsed["ser_time"] <= 0),
    }
    reason = pd.Series("", index=parsed.index, dtype=object)
    for name, hit in tests.items():
        hit = pd.Series(hit, index=parsed.index).fillna(False).astype(bool)
        reason[(reason == "") & hit] = name
    return reason


def _customer_ids(text: pd.Series) -> pd.Series:
    usable = text.str.fullmatch(r"\d+") & (text.str.lstrip("0") != "")
    return text.where(usable).astype("str")


def _tidy(kept: pd.DataFrame) -> pd.DataFrame:
    answered = kept["outcome"] == "AGENT"
    tidy = pd.DataFrame({
        "arrival": kept["arrival"].astype("datetime64[ns]"),
        "outcome": np.where(answered, "answered", "abandoned"),
        "wait_s": kept["q_time"].where(kept["queued"], 0.0),
        "handle_s": kept["ser_time"].where(answered),
        "agent": kept["server"].where(answered & (kept["server"] != "NO_SERVER")),
        "call_type": kept["type"],
        "customer_id": _customer_ids(kept["customer_id"]),
    })
    tidy = tidy.astype({"outcome": "str", "agent": "str", "call_type": "str", "wait_s": "float64",
                        "handle_s": "float64"})
    return tidy.sort_values("arrival", kind="stable").reset_index(drop=True)


def _notes(kept: pd.DataFrame, keep_vru_only: bool) -> dict[str, int]:
    agent, hang = kept["outcome"] == "AGENT", kept["outcome"] == "HANG"
    counts = {
        "agent_missing": agent & (kept["server"] == "NO_SERVER"),
        "customer_missing": _customer_ids(kept["customer_id"]).isna(),
        "negative_vru_time": kept["vru_time"] < 0,
        "abandoned_at_once": hang & kept["queued"] & (kept["q_time"] == 0),
        "after_midnight": kept["after_midnight"],
        "vru_only_kept": hang & ~kept["queued"] & keep_vru_only,
    }
    return {name: int(hit.sum()) for name, hit in counts.items()}
