"""A one-line progress bar with an ETA, drawn on a terminal only."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 28
MIN_REDRAW_S = 0.2


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """``label  37/120 [########......]  31%  0:12 elapsed, ETA 0:26`` on ``stream``.

    ``enabled=None`` draws only when ``stream`` is a terminal (never in tests or CI logs). Tasks
    already done when it starts (loaded from a store) count as done but not in the ETA, which is
    the mean time of the tasks finished since the start times the tasks left.
    """

    def __init__(self, total: int, done: int = 0, label: str = "tasks", stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total, self.done, self.label = total, done, label
        self.enabled = bool(self.stream.isatty()) if enabled is None else enabled
        self._start_done = done
        self._start = time.monotonic()
        self._drawn = 0.0
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more tasks done."""
        self.done += n
        self._draw(force=self.done >= self.total)

    def line(self) -> str:
        """The text of the bar now."""
        frac = self.done / self.total if self.total else 1.0
        filled = int(WIDTH * frac)
        elapsed = time.monotonic() - self._start
        made = self.done - self._start_done
        eta = _clock(elapsed / made * (self.total - self.done)) if made else "?"
        return (f"{self.label} {self.done}/{self.total} [{'#' * filled}{'.' * (WIDTH - filled)}] "
                f"{frac:4.0%}  {_clock(elapsed)} elapsed, ETA {eta}")

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < MIN_REDRAW_S):
            return
        self._drawn = now
        self.stream.write("\r" + self.line() + "\033[K")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line of text below the bar (after close), on a terminal only."""
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
