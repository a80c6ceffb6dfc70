"""Reader threads, each owning one read-only connection, lent out one snapshot at a time.

sqlite3 connections belong to the thread that opened them, and a query blocks its thread, so
reads run here and never on the event loop. Each thread opens its connection once and keeps it
(a connection costs ~100 µs to open and keeps its statement cache warm); `refresh()` makes every
thread reopen it before its next snapshot (a Litestream follower writes pages straight into the
file, which a connection that stays open would not notice).

One request reads one snapshot. `snapshot()` lends the request a thread for as long as it runs:
the thread `BEGIN`s a read transaction and reads the data version there, and every job the
request submits (`Snapshot.submit`) runs on that thread inside that transaction, so all of a
request's loaders see the same committed state, and that state is the one its version names.
The transaction ends when the request returns the thread, so no lock outlives a request. Jobs
outside a request (`ReaderPool.submit`) borrow a thread for just that job.

`submit` is the one place where results cross back into asyncio: the thread hands them over
with `loop.call_soon_threadsafe`. A request can stop the SQL it started: `Snapshot.cancel()`
skips its queued jobs and calls `Connection.interrupt()` (the one sqlite3 method another thread
may call) on its thread if one of its jobs runs now; the check and the registration of a running
job happen under one lock, so no job can slip between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from newsgraph.db.changes import change_bounds
from newsgraph.db.connection import open_reader
from newsgraph.db.status import commit_count

T = TypeVar("T")
TraceCallback = Callable[[str], None]


class Reader(Protocol):
    """Where reads are submitted: a request's `Snapshot`, or the pool outside requests."""

    def submit(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]: ...


class Interrupted(sqlite3.OperationalError):
    """A job of a cancelled snapshot that never started (its request gave up)."""


@dataclass(frozen=True, slots=True, order=True)
class DataVersion:
    """What a snapshot has seen: the newest change-feed row and the number of commits.

    `change_seq` is what a resume cursor names; `commits` also moves on commits that add no
    change row (an ingest error raised or cleared), so a cache keyed by the version never
    serves an answer older than the newest commit.
    """

    change_seq: int
    commits: int

    @property
    def token(self) -> str:
        return f"{self.change_seq}.{self.commits}"


def _read_version(conn: sqlite3.Connection) -> DataVersion:
    return DataVersion(change_bounds(conn)[1], commit_count(conn))


@dataclass(slots=True)
class _Job:
    work: Callable[[sqlite3.Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any] | None  # None: nobody waits (the end of a snapshot)
    snapshot: Snapshot | None


class _Reader:
    """One thread, its connection and its own job queue (a snapshot's jobs stay on it)."""

    def __init__(self, pool: ReaderPool, number: int) -> None:
        self.pool = pool
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.running: Snapshot | None = None  # guarded by pool.lock
        self.conn: sqlite3.Connection | None = None
        self.thread = threading.Thread(
            target=self._work, name=f"newsgraph-reader-{number}", daemon=True
        )

    def put(self, job: _Job) -> None:
        self.jobs.put(job)

    def _work(self) -> None:
        pool = self.pool
        generation = pool.generation
        traced = -1
        self.conn = conn = open_reader(pool.path)
        try:
            while (job := self.jobs.get()) is not None:
                if generation != pool.generation and not conn.in_transaction:
                    conn.close()
                    generation = pool.generation
                    traced = -1
                    self.conn = conn = open_reader(pool.path)
                if traced != pool.trace_version:
                    with pool.lock:
                        traced = pool.trace_version
                        conn.set_trace_callback(pool.trace)
                snapshot = job.snapshot
                with pool.lock:
                    skip = snapshot is not None and snapshot.cancelled
                    self.running = None if skip else snapshot
                if skip:
                    _hand_back(job, None, Interrupted("interrupted"))
                    continue
                try:
                    result = job.work(conn)
                except BaseException as error:  # handed to the awaiting coroutine, not lost
                    _hand_back(job, None, error)
                else:
                    _hand_back(job, result, None)
                finally:
                    with pool.lock:
                        self.running = None
        finally:
            conn.close()

    def interrupt(self, snapshot: Snapshot) -> bool:
        """Called under pool.lock: stop the statement of `snapshot` running now, if any."""
        if self.running is snapshot and self.conn is not None:
            self.conn.interrupt()
            return True
        return False


class Snapshot:
    """One request's reads: one thread, one read transaction, one data version."""

    __slots__ = ("_reader", "cancelled", "pool", "version")

    def __init__(self, pool: ReaderPool, reader: _Reader) -> None:
        self.pool = pool
        self._reader = reader
        self.cancelled = False
        self.version = DataVersion(0, 0)

    def submit(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run `work(conn)` inside this snapshot; the future resolves on this loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._reader.put(_Job(work, loop, future, self))
        return future

    def cancel(self) -> int:
        """Skip this snapshot's queued jobs and interrupt its running statement (0 or 1)."""
        with self.pool.lock:
            self.cancelled = True
            return int(self._reader.interrupt(self))


def _begin(conn: sqlite3.Connection) -> DataVersion:
    if conn.in_transaction:  # an interrupted ROLLBACK left one open
        conn.execute("ROLLBACK")
    conn.execute("BEGIN")
    return _read_version(conn)  # the first read fixes the snapshot


def _end(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


class ReaderPool:
    """`threads` reader threads over the database at `path`; start with `open()`."""

    def __init__(self, path: str | Path, threads: int = 4) -> None:
        if threads < 1:
            raise ValueError(f"a reader pool needs at least one thread, got {threads}")
        self.path = Path(path)
        self.threads = threads
        self.lock = threading.Lock()
        self.trace: TraceCallback | None = None
        self.trace_version = 0
        self.generation = 0
        self._readers: list[_Reader] = []
        self._idle: list[_Reader] = []
        self._waiting: deque[asyncio.Future[_Reader]] = deque()

    def open(self) -> None:
        """Start the threads; each opens its connection before taking its first job."""
        self._readers = [_Reader(self, number) for number in range(self.threads)]
        for reader in self._readers:
            reader.thread.start()
        self._idle = list(self._readers)

    def close(self) -> None:
        """Stop every thread after the jobs already queued; each closes its own connection."""
        for reader in self._readers:
            reader.jobs.put(None)
        for reader in self._readers:
            reader.thread.join()
        self._readers.clear()
        self._idle.clear()

    def set_trace(self, callback: TraceCallback | None) -> None:
        """Install an sqlite3 trace callback on every reader connection (tests count SQL).

        Each thread applies it to its own connection before its next job (sqlite3 objects may
        only be touched by the thread that made them).
        """
        with self.lock:
            self.trace = callback
            self.trace_version += 1

    def refresh(self) -> None:
        """Every thread reopens its connection before its next job outside a transaction."""
        self.generation += 1

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        """Lend a thread for one request: its reads share one snapshot, read at entry."""
        reader = await self._acquire()
        snapshot = Snapshot(self, reader)
        try:
            snapshot.version = await snapshot.submit(_begin)
            yield snapshot
        finally:
            # Queued behind the request's own jobs on its thread: the next borrower's BEGIN
            # comes after this ROLLBACK, so the thread can be lent again at once.
            reader.put(_Job(_end, asyncio.get_running_loop(), None, None))
            self._release(reader)

    def submit(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run `work(conn)` on a borrowed thread, outside any request's snapshot."""
        return asyncio.ensure_future(self._run_alone(work))

    async def version(self) -> DataVersion:
        """The newest committed data version (one short read)."""
        return await self.submit(_read_version)

    async def _run_alone(self, work: Callable[[sqlite3.Connection], T]) -> T:
        reader = await self._acquire()
        try:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[T] = loop.create_future()
            reader.put(_Job(work, loop, future, None))
            return await future
        finally:
            self._release(reader)

    async def _acquire(self) -> _Reader:
        if not self._readers:
            raise RuntimeError("the reader pool is not open")
        if self._idle:
            return self._idle.pop()
        waiter: asyncio.Future[_Reader] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed to us just as we gave up
            raise

    def _release(self, reader: _Reader) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(reader)
                return
        self._idle.append(reader)


def _hand_back(job: _Job, result: Any, error: BaseException | None) -> None:
    """The one place results cross from a reader thread back into asyncio."""
    if job.future is None:
        return
    with contextlib.suppress(RuntimeError):  # the loop closed mid-query: nobody is waiting
        job.loop.call_soon_threadsafe(_settle, job.future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
