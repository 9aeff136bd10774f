"""The progress bar: drawn when asked (a terminal), silent otherwise, counting loaded tasks as done."""

from __future__ import annotations

import io

from experiments.running.progress import Progress


def test_the_bar_counts_loaded_tasks_and_ends_at_the_total():
    stream = io.StringIO()
    bar = Progress(10, done=4, label="sweep", stream=stream, enabled=True)
    for _ in range(6):
        bar.advance()
    bar.close()
    text = stream.getvalue()
    assert "sweep:" in text and "4/10" in text  # the first drawing: the loaded tasks
    assert "10/10" in text  # the last one


def test_no_terminal_no_bar():
    stream = io.StringIO()  # not a terminal: enabled=None draws nothing
    bar = Progress(3, stream=stream)
    bar.advance(3)
    bar.close()
    assert stream.getvalue() == ""
