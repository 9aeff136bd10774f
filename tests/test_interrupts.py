"""Ctrl-C is never lost: not even while the process pool's forkserver starts."""

from __future__ import annotations

import os
import signal
from multiprocessing import forkserver

import pytest

from experiments.running.executors import _start_forkserver


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_a_ctrl_c_while_the_forkserver_starts_is_delivered_after_it(monkeypatch):
    # The Ctrl-C lands inside the window in which the forkserver is started (SIGINT blocked there,
    # so that the forkserver never sees it): it must be raised here once the window closes. An
    # ignored SIGINT (the former way) would have been dropped, and the run would have gone on.
    real = forkserver.ensure_running

    def start_during_ctrl_c() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real()

    monkeypatch.setattr(forkserver, "ensure_running", start_during_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        _start_forkserver()
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())  # the block is over
