"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

An executor takes a function and a list of argument tuples and yields ``(index, result)`` pairs as
tasks finish, in any order. Callers put results back in task order, so a result never depends on
the executor, the number of workers or the order in which tasks finished.

- :class:`SerialExecutor`: one task after another in this process (``--jobs 1``).
- :class:`ProcessExecutor`: a pool of local processes (``--jobs N``, default all cores), started
  with ``forkserver`` so that no worker inherits threads of the parent (pyarrow's, Dask's).
- :class:`DaskExecutor`: a Dask ``distributed`` cluster, either at a scheduler address
  (``--scheduler tcp://host:8786``; the workers need bposim installed) or a ``LocalCluster`` of
  two worker processes on the loopback interface (``--dask-local``).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from experiments.errors import ExecutorError  # noqa: F401  (raised here, caught by the CLI)

#: Modules the forkserver imports once, so that each worker starts with them loaded.
PRELOAD = ["sim.replication"]
DASK_CONNECT_TIMEOUT_S = 20
#: how often a pool worker checks that the process that started it is still alive.
WATCH_PARENT_S = 1.0


class Executor(ABC):
    """Runs tasks and yields ``(index, result)`` as they finish. Use as a context manager."""

    #: a short description for messages, e.g. "2 local processes".
    description: str = ""

    @abstractmethod
    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        """Call ``fn(*tasks[i])`` for every i; yield ``(i, result)`` in order of completion."""

    def close(self) -> None:
        """Release workers; the executor cannot be used afterwards."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """Every task in this process, in order."""

    description = "1 process (in-process)"

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        for i, args in enumerate(tasks):
            yield i, fn(*args)


def _alive(pid: int) -> bool:
    """True while process ``pid`` runs (a killed process waiting to be reaped counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _watch(pid: int) -> None:
    while _alive(pid):
        time.sleep(WATCH_PARENT_S)
    os._exit(1)


def _exit_with(pid: int) -> None:
    """Pool worker initializer: end this worker once process ``pid`` is gone.

    Without it, workers of a main process killed by SIGKILL (or the OOM killer) would wait for
    tasks forever, and keep the forkserver alive with them.
    """
    threading.Thread(target=_watch, args=(pid,), name="bposim-watch-parent", daemon=True).start()


class ProcessExecutor(Executor):
    """A pool of ``jobs`` local worker processes (started on first use, kept until close)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or os.cpu_count() or 1
        self.description = f"{self.jobs} local processes"
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
            else:  # Windows
                context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context,
                                             initializer=_exit_with, initargs=(os.getpid(),))
        return self._pool

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        pool = self._start()
        futures: dict[Future, int] = {pool.submit(fn, *args): i for i, args in enumerate(tasks)}
        finished = False
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=futures.__getitem__):
                    yield futures[future], future.result()
            finished = True
        except BrokenProcessPool:
            raise ExecutorError("a worker process died (killed, or out of memory); the finished tasks are "
                                "saved: run the same command again to resume") from None
        finally:
            for future in futures:
                future.cancel()
            if not finished:  # Ctrl-C, a dead worker, or the caller gave up: do not wait for the workers
                self._abandon(pool)

    def _abandon(self, pool: ProcessPoolExecutor) -> None:
        """Stop a broken pool without waiting for it: kill what is left of its workers."""
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Tasks on a Dask ``distributed`` cluster: at ``address``, or a local one if None."""

    def __init__(self, address: str | None = None, n_workers: int = 2) -> None:
        from distributed import Client, LocalCluster  # imported only when asked for: it is slow

        self._cluster = None
        try:
            if address is None:
                self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                             host="127.0.0.1", dashboard_address=None)
                self._client = Client(self._cluster)
                self.description = f"Dask LocalCluster ({n_workers} worker processes on 127.0.0.1)"
            else:
                self._client = Client(address, timeout=DASK_CONNECT_TIMEOUT_S)
                self.description = f"Dask scheduler at {address}"
        except (OSError, TimeoutError, ValueError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            where = address or "a local cluster"
            raise ExecutorError(f"cannot start Dask on {where}: {exc}") from None

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        futures = [self._client.submit(fn, *args, pure=False) for args in tasks]
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield index[future.key], future.result()
        finally:
            self._client.cancel(futures)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(jobs: int | None = None, scheduler: str | None = None,
                  dask_local: bool = False) -> Executor:
    """The executor for the command-line choices: ``--jobs``, ``--scheduler`` or ``--dask-local``."""
    if scheduler is not None:
        return DaskExecutor(scheduler)
    if dask_local:
        return DaskExecutor(None)
    jobs = jobs or os.cpu_count() or 1
    return SerialExecutor() if jobs == 1 else ProcessExecutor(jobs)
