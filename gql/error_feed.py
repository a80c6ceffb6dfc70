"""Ingest errors as a live feed for dashboards, derived from the `ingest_errors` table.

The writer keeps no history of errors, only the current set (one row per failing path), so the
feed is a diff: while anyone listens, each time the broker sees a commit it compares a cheap
fingerprint (row count, newest `last_seen`) and only on a change reads the table and diffs it
with the previous snapshot. A new or repeated error is `RAISED`, a vanished one `CLEARED`.
With no listener nothing is read at all. There is no resume: a dashboard (re)connecting reads
`ingestErrors` for the current set, then listens.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from newsgraph.db.convert import to_db_time, utc_now
from newsgraph.db.feed import FeedClosed, Mailbox
from newsgraph.db.live import all_ingest_errors, ingest_error_fingerprint
from newsgraph.db.rows import IngestErrorRow

Read = Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]
OnFail = Callable[[Exception], None]


@dataclass(frozen=True, slots=True)
class ErrorChange:
    kind: str  # "raised" or "cleared"
    path: str
    error: IngestErrorRow | None  # None when cleared
    at: str


class ErrorListener(Mailbox[ErrorChange]):
    """One `ingestErrorEvents` subscription's bounded buffer."""

    def __init__(self, feed: IngestErrorFeed, buffer_size: int, on_fail: OnFail | None) -> None:
        super().__init__(
            buffer_size, on_fail, too_slow=f"dashboard fell {buffer_size} events behind"
        )
        self.feed = feed

    async def next(self) -> ErrorChange:
        [change] = await self.next_batch(1)
        return change

    def close(self) -> None:
        self.feed.listeners.discard(self)


class IngestErrorFeed:
    """Diffs the ingest-errors table on each commit the broker sees, while anyone listens."""

    def __init__(self, read: Read, buffer_size: int) -> None:
        self.read = read
        self.buffer_size = buffer_size
        self.listeners: set[ErrorListener] = set()
        self._lock = asyncio.Lock()
        self._fingerprint: tuple[int, str | None] | None = None
        self._snapshot: dict[str, IngestErrorRow] = {}

    async def listen(self, on_fail: OnFail | None = None) -> ErrorListener:
        async with self._lock:
            if self._fingerprint is None:
                await self._read_snapshot()
            listener = ErrorListener(self, self.buffer_size, on_fail)
            self.listeners.add(listener)
            return listener

    async def refresh(self) -> None:
        """Called by the broker after a commit: emit what changed since the last look."""
        async with self._lock:
            if not self.listeners:
                self._fingerprint, self._snapshot = None, {}  # nothing kept while unobserved
                return
            fingerprint = await self.read(ingest_error_fingerprint)
            if fingerprint == self._fingerprint:
                return
            before = self._snapshot
            await self._read_snapshot()
            now = to_db_time(utc_now())
            changes = [
                ErrorChange("raised", path, row, row.last_seen)
                for path, row in sorted(self._snapshot.items())
                if before.get(path) != row
            ]
            changes += [
                ErrorChange("cleared", path, None, now)
                for path in sorted(before)
                if path not in self._snapshot
            ]
            for listener in list(self.listeners):
                for change in changes:
                    listener.offer(change)
                if listener.failure is not None:
                    self.listeners.discard(listener)

    def close(self) -> None:
        for listener in list(self.listeners):
            listener.fail(FeedClosed("the server is shutting down"))
        self.listeners.clear()

    async def _read_snapshot(self) -> None:
        self._fingerprint, self._snapshot = await self.read(_snapshot)


def _snapshot(conn: sqlite3.Connection) -> tuple[tuple[int, str | None], dict[str, IngestErrorRow]]:
    return ingest_error_fingerprint(conn), all_ingest_errors(conn)
