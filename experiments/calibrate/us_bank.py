"""Five-minute call volumes of a large US bank, 2003 (Weinberg, Brown & Stroud, JASA 2007).

The bundled file, :data:`US_BANK_VOLUMES`, holds the calls handled in each 5-minute bin of 164
weekdays (2003-03-03 to 2003-10-24, 07:00–21:05): volumes only, no waits or outcomes, so it can
calibrate an arrival profile and its day-to-day spread, nothing else (docs/calibrate.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from experiments.errors import CallLogError

#: the bundled series (experiments/logs/README.md)
US_BANK_VOLUMES = Path(__file__).resolve().parents[1] / "logs" / "us_bank_2003_5min.csv.gz"
#: the width of one bin, minutes
US_BANK_BIN_MIN = 5
_COLUMNS = {"DateTime": "start", "Calls": "calls_n"}


def read_us_bank_volumes(path: Path | str = US_BANK_VOLUMES) -> pd.DataFrame:
    """The series at ``path`` as ``start`` (datetime64[ns], local start of a 5-minute bin) and
    ``calls_n`` (int64, calls in the bin), sorted by ``start``; CallLogError (one line) if it is not one."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, EOFError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CallLogError(f"{path}: cannot read the US bank volumes ({reason})") from None
    missing = [c for c in _COLUMNS if c not in raw.columns]
    if missing:
        raise CallLogError(f"{path}: missing column {', '.join(map(repr, missing))} (required: DateTime, Calls)")
    start = pd.to_datetime(raw["DateTime"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    calls = pd.to_numeric(raw["Calls"].where(raw["Calls"].str.fullmatch(r"\d+")), errors="coerce")
    for column, values, rule in (("DateTime", start, "a time YYYY-MM-DD HH:MM:SS"), ("Calls", calls, "a whole number >= 0")):
        bad = np.flatnonzero(values.isna().to_numpy())
        if bad.size:
            raise CallLogError(f"{path}: line {bad[0] + 2}: {column}: must be {rule}, got {raw[column].iloc[bad[0]]!r}")
    frame = pd.DataFrame({"start": start.astype("datetime64[ns]"), "calls_n": calls.astype("int64")})
    return frame.sort_values("start", kind="stable").reset_index(drop=True)
