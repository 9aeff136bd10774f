"""The progress bar of long runs: tqdm's, drawn on a terminal only.

Tasks already done when a run starts (loaded from the store) count as done; tqdm's rate and ETA
are measured on the tasks finished since.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


class Progress:
    """``label:  31%|███       | 37/120 [00:12<00:26, 3.1task/s]`` on ``stream`` (default stderr).

    ``enabled=None`` draws only when ``stream`` is a terminal (never in tests or CI logs).
    """

    def __init__(self, total: int, done: int = 0, label: str = "tasks", stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        stream = stream if stream is not None else sys.stderr
        on = bool(stream.isatty()) if enabled is None else enabled
        self._bar = tqdm(total=total, initial=done, desc=label, unit="task", file=stream, disable=not on,
                         mininterval=0.2, dynamic_ncols=True, leave=True)

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more tasks done."""
        self._bar.update(n)

    def close(self) -> None:
        """End the bar's line."""
        self._bar.close()
