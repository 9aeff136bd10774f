"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

An executor takes a function and a list of argument tuples and yields ``(index, result)`` pairs as
tasks finish, in any order. Callers put results back in task order, so a result never depends on
the executor, the number of workers or the order in which tasks finished.

- :class:`SerialExecutor`: one task after another in this process (``--jobs 1``).
- :class:`ProcessExecutor`: a pool of local processes (``--jobs N``, default all cores), started
  with ``forkserver`` so that no worker inherits threads of the parent (pyarrow's, Dask's); each
  worker has its own pipes, read by the main thread only, so a worker killed at any moment stops
  the sweep with one error instead of hanging it.
- :class:`DaskExecutor`: a Dask ``distributed`` cluster, either at a scheduler address
  (``--scheduler tcp://host:8786``; the workers need bposim installed) or a ``LocalCluster`` of
  two worker processes on the loopback interface (``--dask-local``).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import pickle
import signal
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from experiments.errors import ExecutorError

#: Modules the forkserver imports once, so that each worker starts with them loaded.
PRELOAD = ["sim.replication"]
DASK_CONNECT_TIMEOUT_S = 20
#: how long a Dask run waits for a first worker before it gives up (``--dask-timeout``).
DASK_WORKER_TIMEOUT_S = 60.0
#: how often a pool worker checks that the process that started it is still alive.
WATCH_PARENT_S = 1.0
#: how long a pool worker told to stop (or killed) may take to end before it is killed (again).
STOP_S = 10.0


class Executor(ABC):
    """Runs tasks and yields ``(index, result)`` as they finish. Use as a context manager."""

    #: a short description for messages, e.g. "2 local processes".
    description: str = ""

    @abstractmethod
    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Call ``fn(*tasks[i])`` for every i; yield ``(i, result)`` in order of completion."""

    def close(self) -> None:  # noqa: B027  a default that does nothing: executors without workers keep it
        """Release workers; the executor cannot be used afterwards."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """Every task in this process, in order."""

    description = "1 process (in-process)"

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
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


def _start_forkserver() -> None:
    """Start multiprocessing's forkserver (once per process) with SIGINT blocked in it.

    The forkserver imports pandas and SciPy (its preload) before it ignores SIGINT itself; a Ctrl-C
    in that time would print its KeyboardInterrupt traceback. A blocked signal stays blocked
    across fork and exec, so the forkserver is started while this thread blocks SIGINT: it and the
    workers it forks never see a Ctrl-C (the main process stops them). In this process a Ctrl-C
    during the start stays pending and is delivered when the block ends, so it is never lost. The
    resource tracker is started first: its own start unblocks SIGINT when it ends.
    """
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if main else None
    try:
        forkserver.ensure_running()
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker (shown as the ``__cause__`` of the exception)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _serve(tasks: Connection, results: Connection, parent: int) -> None:
    """A pool worker: receive ``(fn, args)`` on ``tasks``, send ``(True, result)`` or ``(False, exception,
    traceback)`` on ``results``, until the main process closes its end of ``tasks`` (or sends None)."""
    # Ctrl-C reaches the whole process group; stopping the workers is the main process's job. A
    # worker forked by the forkserver ignores SIGINT from its birth (see _start_forkserver); with
    # "spawn" (Windows) it does from here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with(parent)
    while True:
        try:
            message = tasks.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args = message
        try:
            reply: tuple[Any, ...] = (True, fn(*args))
        except BaseException as exc:
            reply = (False, exc, traceback.format_exc())
        del message, fn, args
        try:
            results.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # an exception that cannot be pickled
            results.send((False, RuntimeError(f"{type(exc).__name__}: {exc}"), traceback.format_exc()))
        except OSError:  # the main process is gone or gave up
            return
        del reply


class _Worker:
    """One worker process and the main process's ends of its two pipes (tasks out, results in)."""

    def __init__(self, process: multiprocessing.process.BaseProcess, tasks: Connection, conn: Connection) -> None:
        self.process, self.tasks, self.conn = process, tasks, conn
        self.task: int | None = None  # the index of the task it computes


class ProcessExecutor(Executor):
    """A pool of ``jobs`` local worker processes (started on first use, kept until close).

    Each worker has two pipes of its own (tasks in, results out), and only the main thread reads
    them, between the results it yields: no manager thread, no queue shared by the workers, no
    lock a worker could die holding. A worker killed at any moment, even half-way through sending
    a result (a result is larger than a pipe's buffer, so a worker waits there whenever the caller
    is busy writing the previous one), closes the last write end of its result pipe: the main
    process reads end-of-file and stops with :class:`ExecutorError`.

    ``concurrent.futures.ProcessPoolExecutor``, used before, hung there: its workers share one
    result pipe (and its write lock), its manager thread blocked for ever reading the rest of the
    dead worker's message (the parent holds a write end, so no end-of-file ever comes) without
    looking at the workers' sentinels, and the other worker waited for the lock the dead one held.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or os.cpu_count() or 1
        self.description = f"{self.jobs} local processes"
        self._workers: list[_Worker] = []

    def _start(self, wanted: int) -> list[_Worker]:
        """Start workers until there are ``wanted`` (at most ``jobs``)."""
        wanted = min(wanted, self.jobs)
        if len(self._workers) >= wanted:
            return self._workers
        context: multiprocessing.context.BaseContext
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _start_forkserver()
        else:  # Windows
            context = multiprocessing.get_context("spawn")
        while len(self._workers) < wanted:
            task_reader, task_writer = context.Pipe(duplex=False)
            result_reader, result_writer = context.Pipe(duplex=False)
            process = context.Process(target=_serve, args=(task_reader, result_writer, os.getpid()),
                                      daemon=True, name=f"bposim-worker-{len(self._workers) + 1}")
            try:
                process.start()
            finally:  # the worker holds the only other ends: its death is end-of-file (or EPIPE) here
                task_reader.close()
                result_writer.close()
            self._workers.append(_Worker(process, task_writer, result_reader))
        return self._workers

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        if not tasks:
            return
        todo = iter(range(len(tasks)))
        busy: dict[Connection, _Worker] = {}
        finished = False

        def give(worker: _Worker) -> None:
            index = next(todo, None)
            if index is not None:
                _talk(worker.tasks.send, (fn, tasks[index]))
                worker.task = index
                busy[worker.conn] = worker

        try:
            for worker in self._start(len(tasks)):
                give(worker)
            while busy:
                sentinels = {worker.process.sentinel: worker for worker in busy.values()}
                ready = wait([*busy, *sentinels])
                # a result already whole in its pipe is read even if its worker died just after
                for conn in [c for c in ready if c in busy]:
                    worker = busy.pop(conn)
                    reply = _talk(conn.recv)
                    index, worker.task = worker.task, None
                    if index is None:  # cannot be: every busy worker was given a task
                        raise AssertionError(f"{worker.process.name} replied without a task")
                    if not reply[0]:
                        raise reply[1] from _RemoteTraceback(reply[2])
                    give(worker)  # its next task first: the worker computes while the caller writes
                    yield index, reply[1]
                    del reply
                if any(sentinels[s].conn in busy for s in ready if s in sentinels):
                    raise _Died  # ended without a word: killed (e.g. by the out-of-memory killer)
            finished = True
        except _Died:
            raise ExecutorError("a worker process died (killed, or out of memory); the finished tasks are "
                                "saved: run the same command again to resume") from None
        finally:
            if not finished:  # Ctrl-C, a dead worker, an error, or the caller gave up: stop the workers now
                self._stop(kill=True)

    def _stop(self, kill: bool) -> None:
        """Stop every worker: killed at once, or told there is no more work (and killed if it lingers)."""
        workers, self._workers = self._workers, []
        try:
            for worker in workers:
                if kill:
                    worker.process.kill()
                worker.tasks.close()  # a worker waiting for a task reads end-of-file and ends
                worker.conn.close()
            for worker in workers:
                worker.process.join(STOP_S)
        finally:
            for worker in workers:
                if worker.process.exitcode is None:
                    worker.process.kill()
                    worker.process.join(STOP_S)

    def close(self) -> None:
        self._stop(kill=False)


class _Died(Exception):
    """A pool worker ended while it had a task."""


def _talk(call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)`` on a worker's pipe; a pipe closed at the other end means the worker died."""
    try:
        return call(*args)
    except (EOFError, OSError):  # end of file (even half-way through a message), broken pipe
        raise _Died from None


class DaskExecutor(Executor):
    """Tasks on a Dask ``distributed`` cluster: at ``address``, or a local one if None."""

    def __init__(self, address: str | None = None, n_workers: int = 2,
                 worker_timeout_s: float = DASK_WORKER_TIMEOUT_S) -> None:
        """Connect (or start a local cluster); ExecutorError if that fails, or if no worker has
        joined the scheduler within ``worker_timeout_s`` seconds (tasks would wait for ever)."""
        from distributed import Client, LocalCluster  # imported only when asked for: it is slow

        # distributed is treated as untyped (pyproject): its cluster and client are Any here
        self._cluster: Any = None
        self._client: Any = None
        where, connected = address or "a local cluster", False
        try:
            if address is None:
                self._cluster = LocalCluster(  # type: ignore[no-untyped-call, unused-ignore]  # untyped library
                    n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=None)
                self._client = Client(self._cluster)  # type: ignore[no-untyped-call, unused-ignore]  # untyped library
                self.description = f"Dask LocalCluster ({n_workers} worker processes on 127.0.0.1)"
            else:
                self._client = Client(  # type: ignore[no-untyped-call, unused-ignore]  # untyped library
                    address, timeout=DASK_CONNECT_TIMEOUT_S)
                self.description = f"Dask scheduler at {address}"
            connected = True
            self._client.wait_for_workers(1, timeout=worker_timeout_s)
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            if connected:
                raise ExecutorError(f"no Dask worker joined {where} within {worker_timeout_s:g} s; start workers "
                                    f"(dask worker {address}) or wait longer with --dask-timeout") from None
            raise ExecutorError(f"cannot start Dask on {where}: {exc}") from None

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        futures = [self._client.submit(fn, *args, pure=False) for args in tasks]
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call, unused-ignore]  # untyped library
                yield index[future.key], future.result()
        finally:
            self._client.cancel(futures)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(jobs: int | None = None, scheduler: str | None = None, dask_local: bool = False,
                  tasks: int | None = None, dask_timeout_s: float = DASK_WORKER_TIMEOUT_S) -> Executor:
    """The executor for the command-line choices ``--jobs``, ``--scheduler``, ``--dask-local``.

    Local processes by default, one per core but no more than ``tasks`` (when given); a single
    process runs in this one (no pool to start).
    """
    if scheduler is not None:
        return DaskExecutor(scheduler, worker_timeout_s=dask_timeout_s)
    if dask_local:
        return DaskExecutor(None, worker_timeout_s=dask_timeout_s)
    jobs = jobs or os.cpu_count() or 1
    if tasks is not None:
        jobs = min(jobs, tasks)
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)
