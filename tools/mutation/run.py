"""Mutation testing on demand (``make mutation``): run mutmut, then print the score.

mutmut's configuration is in pyproject.toml (``[tool.mutmut]``): it mutates every module of
models/ and sim/ and experiments/pricing.py in a copy (``mutants/``, git-ignored; the work tree is
never changed), and runs each mutant only against the tests that call the mutated function (from
the test files listed there, slow tests left out, stopping at the first failure).

Surviving mutants that change nothing observable are listed, with the reason, in docs/mutation.md;
their names are also in ``tools/mutation/equivalent.txt`` and count as accounted for in the score:

    score = (killed + timeout + equivalent) / (all mutants that ran)

Usage: python tools/mutation/run.py [--jobs N] [--no-run]   (--no-run: report the last run)
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = Path(__file__).with_name("equivalent.txt")
MUTMUT = [sys.executable, "-m", "mutmut"]
# Statuses that need a look: a mutant no test noticed ("no tests": no selected test calls it).
TO_REVIEW = ("survived", "no tests", "suspicious", "segfault")


def equivalent_names() -> set[str]:
    """Mutant names listed as equivalent (one per line, ``#`` starts a comment)."""
    if not EQUIVALENT.exists():
        return set()
    names = set()
    for line in EQUIVALENT.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line)
    return names


def statuses() -> dict[str, str]:
    """Status of every mutant of the last run, by name (``mutmut results --all``)."""
    out = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            result[name] = status
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants tested at once")
    parser.add_argument("--no-run", action="store_true", help="only report the last run")
    args = parser.parse_args(argv)

    wall = None
    if not args.no_run:
        start = time.monotonic()
        subprocess.run([*MUTMUT, "run", "--max-children", str(args.jobs)], cwd=ROOT, check=True)
        wall = time.monotonic() - start

    by_name = statuses()
    equivalent = equivalent_names()
    counts = collections.Counter()
    survivors, stale = [], sorted(equivalent - set(by_name))
    for name, status in sorted(by_name.items()):
        if status in TO_REVIEW and name in equivalent:
            status = "equivalent"
        elif status in TO_REVIEW:
            survivors.append((name, status))
        counts[status] += 1
    ran = sum(n for status, n in counts.items() if status not in ("not checked", "skipped"))
    accounted = counts["killed"] + counts["timeout"] + counts["equivalent"]

    print()
    print("mutants:", len(by_name), "  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if ran:
        print(f"score: {accounted}/{ran} = {100 * accounted / ran:.1f}% "
              "(killed + timeout + equivalent over mutants tested)")
    if wall is not None:
        print(f"wall time: {wall / 60:.1f} min")
    for name, status in survivors:
        print(f"  {status}: {name}  (see: .venv/bin/mutmut show {name})")
    for name in stale:
        print("  listed as equivalent but no longer generated:", name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
