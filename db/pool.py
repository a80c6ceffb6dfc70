"""A pool of reader threads, each owning one read-only connection.

sqlite3 connections belong to the thread that opened them, and a query blocks its thread, so
reads run here and never on the event loop. Each thread opens its connection once and keeps it
(a connection costs ~100 µs to open and keeps its statement cache warm). `submit` is the one
place where results cross back into asyncio: the worker thread hands them over with
`loop.call_soon_threadsafe`. Closing sends one sentinel per thread, so each thread closes its
own connection (sqlite3 refuses to close a connection from another thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from db.connection import open_reader

T = TypeVar("T")
Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
TraceCallback = Callable[[str], None]


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

    def submit(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run `work(conn)` on a reader thread; the returned future resolves on this loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((work, loop, future))
        return future

    def run_sync(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(conn)` on a fresh connection in the calling thread (CLI and tests)."""
        conn = open_reader(self.path)
        try:
            return work(conn)
        finally:
            conn.close()

    def _work(self) -> None:
        conn = open_reader(self.path)
        traced = -1
        try:
            while (job := self._jobs.get()) is not None:
                work, loop, future = job
                if traced != self._trace_version:
                    with self._lock:
                        traced = self._trace_version
                        conn.set_trace_callback(self._trace)
                try:
                    result = work(conn)
                except BaseException as error:  # handed to the awaiting coroutine, not lost
                    _hand_back(loop, future, None, error)
                else:
                    _hand_back(loop, future, result, None)
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
