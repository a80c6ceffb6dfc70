"""A pool of reader threads, each owning one read-only connection.

sqlite3 connections belong to the thread that opened them, and a query blocks its thread, so
reads run here and never on the event loop. Each thread opens its connection once and keeps it
(a connection costs ~100 µs to open and keeps its statement cache warm). `submit` is the one
place where results cross back into asyncio: the worker thread hands them over with
`loop.call_soon_threadsafe`. Closing sends one sentinel per thread, so each thread closes its
own connection (sqlite3 refuses to close a connection from another thread).

A request can stop the SQL it started: jobs submitted while a `ReadScope` is current (a context
variable, so it follows the request through `call_soon` callbacks and loaders) are tagged with
it, and `interrupt(scope)` skips its queued jobs and calls `Connection.interrupt()` (the one
sqlite3 method another thread may call) on the connections running its jobs now. A timed-out
query therefore frees its reader thread instead of running on after its answer was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from newsgraph.db.connection import open_reader

T = TypeVar("T")
TraceCallback = Callable[[str], None]


class ReadScope:
    """The reads of one request: `ReaderPool.interrupt` stops every job submitted under it."""

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False


class Interrupted(sqlite3.OperationalError):
    """A job of an interrupted `ReadScope` that never started (its request gave up)."""


_SCOPE: contextvars.ContextVar[ReadScope | None] = contextvars.ContextVar(
    "newsgraph_read_scope", default=None
)
Job = tuple[
    Callable[[sqlite3.Connection], Any],
    asyncio.AbstractEventLoop,
    "asyncio.Future[Any]",
    ReadScope | None,
]


@contextlib.contextmanager
def read_scope() -> Iterator[ReadScope]:
    """Tag every job submitted inside the block (and its callbacks) with a new scope."""
    scope = ReadScope()
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


class ReaderPool:
    """`threads` reader threads over the database at `path`; start with `open()`."""

    def __init__(self, path: str | Path, threads: int = 4) -> None:
        if threads < 1:
            raise ValueError(f"a reader pool needs at least one thread, got {threads}")
        self.path = Path(path)
        self.threads = threads
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._trace: TraceCallback | None = None
        self._trace_version = 0
        self._lock = threading.Lock()
        self._running: dict[int, tuple[ReadScope, sqlite3.Connection]] = {}
        self._generation = 0  # `refresh()` bumps it; each thread reopens when it lags behind

    def open(self) -> None:
        """Start the threads; each opens its connection before taking its first job."""
        for number in range(self.threads):
            worker = threading.Thread(
                target=self._work, name=f"newsgraph-reader-{number}", daemon=True
            )
            worker.start()
            self._workers.append(worker)

    def close(self) -> None:
        """Stop every thread after the jobs already queued; each closes its own connection."""
        for _ in self._workers:
            self._jobs.put(None)
        for worker in self._workers:
            worker.join()
        self._workers.clear()

    def set_trace(self, callback: TraceCallback | None) -> None:
        """Install an sqlite3 trace callback on every reader connection (tests count SQL).

        Each thread applies it to its own connection before its next job (sqlite3 objects may
        only be touched by the thread that made them).
        """
        with self._lock:
            self._trace = callback
            self._trace_version += 1

    def refresh(self) -> None:
        """Every thread closes and reopens its connection before its next job.

        For a database rewritten underneath us (a replica's follower writes pages straight
        into the file, which an open connection's page cache does not notice).
        """
        with self._lock:
            self._generation += 1

    def submit(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run `work(conn)` on a reader thread; the returned future resolves on this loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((work, loop, future, _SCOPE.get()))
        return future

    def interrupt(self, scope: ReadScope) -> int:
        """Stop `scope`'s jobs: queued ones never start, running ones get `interrupt()`.

        Returns how many running statements were interrupted. The lock makes sure the
        connection still runs this scope's job when it is interrupted (SQLite clears a stray
        interrupt when the next statement starts on an idle connection).
        """
        scope.cancelled = True
        interrupted = 0
        with self._lock:
            for running_scope, conn in self._running.values():
                if running_scope is scope:
                    conn.interrupt()
                    interrupted += 1
        return interrupted

    def _work(self) -> None:
        conn = open_reader(self.path)
        traced = -1
        generation = self._generation
        ident = threading.get_ident()
        try:
            while (job := self._jobs.get()) is not None:
                work, loop, future, scope = job
                if generation != self._generation:
                    try:
                        fresh = open_reader(self.path)
                    except Exception as error:  # keep the old connection; retry next job
                        _hand_back(loop, future, None, error)
                        continue
                    conn.close()
                    conn, generation, traced = fresh, self._generation, -1
                if traced != self._trace_version:
                    with self._lock:
                        traced = self._trace_version
                        conn.set_trace_callback(self._trace)
                if scope is not None and scope.cancelled:
                    _hand_back(loop, future, None, Interrupted("interrupted"))
                    continue
                if scope is not None:
                    with self._lock:
                        self._running[ident] = (scope, conn)
                try:
                    result = work(conn)
                except BaseException as error:  # handed to the awaiting coroutine, not lost
                    _hand_back(loop, future, None, error)
                else:
                    _hand_back(loop, future, result, None)
                finally:
                    if scope is not None:
                        with self._lock:
                            del self._running[ident]
        finally:
            conn.close()


def _hand_back(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    """The one place results cross from a reader thread back into asyncio."""
    with contextlib.suppress(RuntimeError):  # the loop closed mid-query: nobody is waiting
        loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
