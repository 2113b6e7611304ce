"""Query processes that can be killed: the only way to stop a runaway SPARQL query in RDFLib.

Neither RDFLib nor pyoxigraph can cancel a query that is running, and a thread cannot be stopped, so
each server process keeps a small pool of query processes forked from itself after the dataset was
loaded (the dataset's memory is shared copy-on-write). A request hands its job to an idle process and
waits at most the query timeout; if no answer came by then the process is killed (SIGKILL, so the
work really stops) and a fresh one is forked in its place, while the other processes go on serving.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("exokg.server")
_FORK = multiprocessing.get_context("fork")


class QueryTimeout(Exception):
    """A query ran past the timeout; its process was killed."""


class PoolBusy(Exception):
    """Every query process stayed busy for the whole timeout."""


class QueryProcessDied(Exception):
    """A query process ended without answering (killed from outside, or crashed)."""


class QueryBug(Exception):
    """The work raised an unexpected exception in the query process; ``details`` holds its traceback."""

    def __init__(self, details: str):
        super().__init__(details.strip().splitlines()[-1] if details.strip() else "unknown error")
        self.details = details


@dataclass
class _Slot:
    process: multiprocessing.Process
    conn: multiprocessing.connection.Connection
    generation: int


def _reset_signals() -> None:
    # A forked child inherits the server's handlers (gunicorn's among them); a query process wants
    # none of them, and ignores Ctrl-C at the terminal: it ends when its server process goes away.
    for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGWINCH", "SIGTTIN", "SIGTTOU"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def limit_memory(extra_mb: int) -> None:
    """Cap this process's address space at its current size plus ``extra_mb`` (MemoryError past it)."""
    try:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return  # not Linux: no cheap way to know the current size, leave it unlimited
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = current + extra_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _close_inherited_descriptors(keep: int) -> None:
    # Sockets of clients being served by other threads, the listening socket and the pipes of sibling
    # processes were all copied by fork; holding them would keep connections open past their close.
    max_fd = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024
    os.closerange(3, keep)
    os.closerange(keep + 1, max_fd)


def _serve(conn, setup: Callable[[], None], work: Callable) -> None:
    """The loop of a query process: receive a job, send back ("ok", answer) or ("bug", traceback)."""
    _close_inherited_descriptors(conn.fileno())
    _reset_signals()
    setup()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the server process is gone
        try:
            reply = ("ok", work(job))
        except BaseException:  # noqa: BLE001 - reported to the server process, which logs it and answers 500
            reply = ("bug", traceback.format_exc())
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


class QueryPool:
    """``size`` query processes running ``work(job)``; :meth:`run` returns its result or raises."""

    def __init__(self, size: int, work: Callable, setup: Callable[[], None] = lambda: None,
                 fork_guard: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext):
        self.size = size
        self._fork_guard = fork_guard  # held around each fork: what the child copies must be at rest
        self.owner = os.getpid()
        self._work = work
        self._setup = setup
        self._lock = threading.Lock()
        self._idle: queue.LifoQueue[_Slot] = queue.LifoQueue()
        self._slots: list[_Slot] = []
        self.generation = 0
        self.killed = 0  # processes killed for overrunning the timeout
        self.busy = 0
        self.closed = False
        for _ in range(size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Slot:
        # one fork at a time, so no child holds the pipe of another being made; and the guard held, so that
        # no other thread is half-way through what the child inherits (RDFLib's parser, an update)
        with self._fork_guard(), self._lock:
            parent_end, child_end = _FORK.Pipe(duplex=True)
            process = _FORK.Process(target=_serve, args=(child_end, self._setup, self._work),
                                    name="exokg-query", daemon=True)
            with warnings.catch_warnings():
                # Python 3.12+ warns that forking a threaded process may deadlock the child on a
                # lock another thread held; the child runs only its receive-evaluate-send loop.
                warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks", category=DeprecationWarning)
                process.start()
            child_end.close()
            slot = _Slot(process, parent_end, self.generation)
            self._slots.append(slot)
        return slot

    def _discard(self, slot: _Slot) -> None:
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(timeout=5)
        slot.conn.close()
        with self._lock:
            if slot in self._slots:
                self._slots.remove(slot)

    def _release(self, slot: _Slot) -> None:
        if self.closed:
            self._discard(slot)
        elif slot.generation != self.generation:  # the data changed since it was forked
            self._discard(slot)
            self._idle.put(self._spawn())
        else:
            self._idle.put(slot)

    def run(self, job, timeout: float):
        """The result of ``work(job)`` in a query process, within ``timeout`` seconds of waiting."""
        deadline = time.monotonic() + timeout
        try:
            slot = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise PoolBusy() from None
        with self._lock:
            self.busy += 1
        try:
            try:
                slot.conn.send(job)
                ready = slot.conn.poll(max(0.0, deadline - time.monotonic()))
                status, payload = slot.conn.recv() if ready else (None, None)
            except (EOFError, OSError):
                self._discard(slot)
                slot = self._spawn()
                raise QueryProcessDied() from None
            if status is None:
                self._discard(slot)  # SIGKILL: the runaway work stops here
                with self._lock:
                    self.killed += 1
                slot = self._spawn()
                raise QueryTimeout()
            if status == "bug":
                raise QueryBug(payload)
            return payload
        finally:
            with self._lock:
                self.busy -= 1
            self._release(slot)

    def alive(self) -> int:
        with self._lock:
            return sum(1 for slot in self._slots if slot.process.is_alive())

    def pids(self) -> list[int]:
        with self._lock:
            return [slot.process.pid for slot in self._slots]

    def refresh(self) -> None:
        """Replace every process by one forked from the current state (after an update)."""
        with self._lock:
            self.generation += 1
        stale = []
        while True:
            try:
                stale.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for slot in stale:
            self._release(slot)

    def close(self) -> None:
        self.closed = True
        while True:
            try:
                self._discard(self._idle.get_nowait())
            except queue.Empty:
                break
