"""Command-line faults outside the simulation: output closed early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_erlang_into_a_pipe_closed_early_ends_quietly():
    """`bposim erlang ... | head -0`: the reader is gone before the first line is written (its end of
    the pipe is closed at once, while the command still starts): no BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "erlang", "--calls-per-h", "540",
                             "--handle-s", "300", "--agents", "50"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    proc.stdout.close()
    # 60 s: the command normally ends in about a second; only a hang would take longer
    code = proc.wait(timeout=60)
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert stderr == "", stderr
    assert code == 1
