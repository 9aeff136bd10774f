"""User-facing errors of the experiments layer: each ends a command with one line and exit status 2.

Kept in a module of their own, free of heavy imports, so that the command line can catch them
without loading pandas, SciPy or Dask first.
"""

from __future__ import annotations


class UsageError(ValueError):
    """A bad command-line value."""


class OutputError(OSError):
    """The output folder cannot be created, written or read."""


class StoreMismatchError(ValueError):
    """The output folder holds something else than this sweep's results."""


class ExecutorError(ValueError):
    """An executor cannot be started (e.g. no Dask scheduler at the address)."""


class CallLogError(ValueError):
    """A call log that cannot be read or calibrated (missing column, bad value, too little data)."""
