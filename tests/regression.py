"""Digests of result tables, to show that a refactoring changes no number (regression check).

A digest is taken per column (name -> sha256 of its dtype and the bytes of its values, in row
order; for ``summary.csv`` per metric and column), so a later change that only *adds* columns,
tables or metrics keeps every stored digest valid, while any changed value, row order or dtype of
an existing one changes its digest. Stored digests live in
``tests/data/digests.json``; they are tied to the draw order of the engine on purpose (this is the
one place where that is allowed: a regression check).

Cases:
- ``run``: ``bposim run`` of the baseline scenario (2 replications of 1 day, calls kept), the
  README's first Python example;
- ``readme-grid``: the README's sweep example (40 and 44 in-house agents, 3 replications of 1 day);
- ``sweep-small``: the bundled sweep with 1 replication of 4 days (its 72 h warm-up, calls kept);
- ``sweep-full``: the bundled study exactly as ``make report`` runs it (``--full`` only: ~2 min).

Run as a script to compare (default) or to record anew after an intended change of numbers::

    python tests/regression.py [--full] [--record]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
STORED = ROOT / "tests" / "data" / "digests.json"
TABLES = ("calls", "intervals", "usage", "invoices", "clients", "vendor", "pool_runs", "runs")
SWEEP = "tests/data/hand_staffed_sweep.toml"

#: case -> bposim command-line arguments (``{out}``: the results folder).
CASES: dict[str, list[str]] = {
    "run": ["run", "experiments/scenarios/baseline.toml", "--reps", "2", "--days", "1", "--out", "{out}"],
    "readme-grid": ["sweep", "tests/data/readme_grid.toml", "--jobs", "1", "--out", "{out}"],
    "sweep-small": ["sweep", SWEEP, "--reps", "1", "--days", "4", "--jobs", "1", "--out", "{out}"],
    "sweep-full": ["sweep", SWEEP, "--no-calls", "--jobs", "2", "--out", "{out}"],
}
SMALL = ("run", "readme-grid", "sweep-small")


def column_digest(column: pd.Series) -> str:
    """sha256 of a column's dtype and values (categoricals by their labels, strings by UTF-8)."""
    h = hashlib.sha256(str(column.dtype).encode())
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object)
    values = column.to_numpy()
    if values.dtype == object:
        for v in values:
            h.update(repr(v).encode("utf-8") + b"\x00")
    else:
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()[:16]


def table_digests(folder: Path) -> dict[str, dict[str, str]]:
    """Per table of a results folder (those present), per column: its digest; plus the row count."""
    out: dict[str, dict[str, str]] = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if path.exists():
            frame = pd.read_parquet(path)
            out[name] = {"rows_n": str(len(frame))} | {c: column_digest(frame[c]) for c in frame.columns}
    summary = folder / "summary.csv"
    if summary.exists():  # as text, exactly as written; per metric, so that a new metric adds keys only
        frame = pd.read_csv(summary, dtype=str, keep_default_na=False)
        out["summary.csv"] = {f"{metric}:{c}": column_digest(part[c])
                              for metric, part in frame.groupby("metric", sort=False) for c in frame.columns}
    return out


def run_case(case: str, workdir: Path) -> dict[str, dict[str, str]]:
    """Run one case's command into a new folder under ``workdir`` and digest its tables."""
    out = workdir / case
    args = [a.replace("{out}", str(out)) for a in CASES[case]]
    command = [sys.executable, "-c", "import sys; from experiments.cli import main; sys.exit(main(sys.argv[1:]))", *args]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return table_digests(out)


def differences(stored: dict[str, dict[str, str]], now: dict[str, dict[str, str]]) -> list[str]:
    """Each stored (table, column) whose digest is missing or different now."""
    problems = []
    for table, columns in stored.items():
        for column, digest in columns.items():
            got = now.get(table, {}).get(column)
            if got != digest:
                problems.append(f"{table}.{column}: stored {digest}, now {got}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also the full bundled study (~2 min)")
    parser.add_argument("--record", action="store_true", help="store the digests of this run")
    args = parser.parse_args(argv)
    cases = [*SMALL, "sweep-full"] if args.full else list(SMALL)
    stored = json.loads(STORED.read_text(encoding="utf-8")) if STORED.exists() else {}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            now = run_case(case, Path(tmp))
            if args.record:
                stored[case] = now
                print(f"{case}: recorded {sum(len(c) for c in now.values())} digests")
                continue
            problems = differences(stored.get(case, {}), now) if case in stored else ["no stored digests"]
            failed |= bool(problems)
            print(f"{case}: " + ("identical" if not problems else "; ".join(problems[:10])))
    if args.record:
        STORED.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
