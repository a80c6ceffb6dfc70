"""Fan-out of the change feed to subscribers, driven by the `changes` table.

One `ChangeBroker` per server process tails `changes` with the generic `db.feed.FeedTailer`. It
wakes when the in-process writer signals a commit (`notify`, thread-safe) and otherwise checks
`PRAGMA data_version` every `poll_interval` seconds, so a writer in another process (`newsgraph
watch`) is seen within 50 ms. A replica passes its own `detect` instead: Litestream's follower
writes pages behind SQLite's back, which `data_version` does not see. Each subscriber has a
bounded `Mailbox`: one that falls `buffer_size` events behind is cut off with
`SubscriberTooSlow` (and its `on_fail` hook closes the connection).

Resuming is gap-free and duplicate-free: `open(since)` registers the subscriber at the broker's
current position P with no await in between, `batches()` replays `since < seq <= P` from the
table, then yields the live events after P. Sequences have no gaps, so a replay page that does
not continue exactly where the last one ended means the writer pruned meanwhile: the replay
ends with `CursorExpired` rather than skipping rows. A cursor the broker has not reached yet
(another process's writer is a poll ahead, or a replica is behind) is fine on a replica and
for a poll's worth of changes: live events up to it are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncGenerator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from newsgraph.db.changes import ChangeRow, change_bounds, changes_after, data_version
from newsgraph.db.feed import FeedTailer, Mailbox
from newsgraph.db.pool import ReaderPool
from newsgraph.gql.error_feed import IngestErrorFeed
from newsgraph.gql.feed_errors import (
    BrokerClosed,
    CursorAhead,
    CursorError,
    CursorExpired,
    SubscriberTooSlow,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE = 500
OnFail = Callable[[Exception], None]
Detect = Callable[[], Awaitable[bool]]
Subscriber = Mailbox[ChangeRow]  # one subscription's bounded buffer of live events
__all__ = ["BrokerClosed", "ChangeBroker", "CursorError", "SubscriberTooSlow", "Subscription"]


def _page(conn: sqlite3.Connection, *, after: int, upto: int | None) -> list[ChangeRow]:
    return changes_after(conn, after, upto=upto, limit=PAGE)


def _subscriber(buffer_size: int, on_fail: OnFail | None) -> Subscriber:
    return Subscriber(
        buffer_size,
        on_fail,
        too_slow=f"subscriber fell {buffer_size} events behind and was disconnected; "
        "resume with `since` set to the last cursor received",
    )


class Subscription:
    """A registered subscriber and where its replay starts; iterate `batches()` once."""

    def __init__(self, broker: ChangeBroker, subscriber: Subscriber, since: int | None) -> None:
        self.broker = broker
        self.subscriber = subscriber
        self.start = broker.position
        self.since = since

    async def batches(self) -> AsyncGenerator[list[ChangeRow], None]:
        """Replayed then live changes, in order, each exactly once, until failed or closed."""
        cursor = self.start if self.since is None else self.since
        try:
            while cursor < self.start:
                if self.subscriber.failure is not None:
                    raise self.subscriber.failure
                rows = await self.broker.read(partial(_page, after=cursor, upto=self.start))
                if not rows or rows[0].seq != cursor + 1:  # seqs have no gaps: pruned meanwhile
                    raise CursorExpired(
                        f"cursor {cursor} has expired: the change feed was pruned past it "
                        "while replaying; re-read what you need and subscribe without `since`"
                    )
                cursor = rows[-1].seq
                yield rows
            while True:
                batch = await self.subscriber.next_batch(PAGE)
                rows = [row for row in batch if row.seq > cursor]
                if rows:
                    cursor = rows[-1].seq
                    yield rows
        finally:
            self.close()

    def close(self) -> None:
        self.broker.discard(self.subscriber)


class ChangeBroker:
    """Tails the change feed of the database at `path` and fans it out."""

    def __init__(
        self,
        path: str | Path,
        *,
        poll_interval: float = 0.05,
        buffer_size: int = 1000,
        detect: Detect | None = None,
    ) -> None:
        """`detect` replaces `PRAGMA data_version` as the "new data?" check (a replica's
        follower writes pages behind SQLite's back); a broker with one also lets a cursor
        ahead of its feed wait for the copy to catch up instead of refusing it."""
        self._pool = ReaderPool(path, threads=1)  # one connection: data_version is per connection
        self._detect = detect
        self.poll_interval = poll_interval
        self.buffer_size = buffer_size
        self.position = 0
        self.slow_disconnects = 0
        self.errors = IngestErrorFeed(self.read, buffer_size)
        self._subscribers: set[Subscriber] = set()
        self._last_version: int | None = None
        self._tailer = FeedTailer(
            self._changed, self._on_change, poll_interval=poll_interval,
            name="newsgraph-change-broker",
        )  # fmt: skip
        self.closed = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        self._pool.open()
        _low, self.position = await self._pool.submit(change_bounds)
        self._tailer.start()

    def close_subscribers(self) -> None:
        """Fail every subscriber with `BrokerClosed` (their hooks close their connections)."""
        self.closed = True
        for subscriber in list(self._subscribers):
            subscriber.fail(BrokerClosed("the server is shutting down"))
        self._subscribers.clear()
        self.errors.close()

    async def stop(self) -> None:
        self.close_subscribers()
        await self._tailer.stop()
        await asyncio.to_thread(self._pool.close)  # joins a thread: not on the event loop

    def notify(self) -> None:
        """Called from any thread after a commit: check the feed now instead of at the next poll."""
        self._tailer.notify()

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the broker's connection; BrokerClosed once stopping (the pool is going)."""
        if self.closed:
            raise BrokerClosed("the server is shutting down")
        return await self._pool.submit(work)

    async def latest(self) -> int:
        """The newest change seq in the table (what `lastChangeCursor` reports)."""
        _low, high = await self.read(change_bounds)
        return high

    async def open(self, since: int | None = None, on_fail: OnFail | None = None) -> Subscription:
        """Register a subscriber; `since` is checked first, so a bad cursor fails here."""
        if since is not None:
            low, high = await self.read(change_bounds)
            if since > high and self._detect is None:
                raise CursorAhead(f"cursor {since} is ahead of the change feed (newest {high})")
            if since < low:
                raise CursorExpired(
                    f"cursor {since} has expired: the change feed now starts after {low}; "
                    "re-read what you need and subscribe without `since`"
                )
        if self.closed:
            raise BrokerClosed("the server is shutting down")
        subscriber = _subscriber(self.buffer_size, on_fail)
        subscription = Subscription(self, subscriber, since)  # reads `position`: no await since
        self._subscribers.add(subscriber)
        return subscription

    def refresh(self) -> None:
        """Reopen the broker's connection before its next read (see `ReaderPool.refresh`)."""
        self._pool.refresh()

    def discard(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def _changed(self) -> bool:
        if self._detect is not None:
            return await self._detect()
        version = await self._pool.submit(data_version)
        changed = version != self._last_version
        self._last_version = version
        return changed

    async def _on_change(self) -> None:
        await self._drain()
        await self.errors.refresh()

    async def _drain(self) -> None:
        while True:
            rows = await self._pool.submit(partial(_page, after=self.position, upto=None))
            for row in rows:
                self.position = row.seq
                for subscriber in list(self._subscribers):
                    if not subscriber.offer(row):
                        self._subscribers.discard(subscriber)
                        if isinstance(subscriber.failure, SubscriberTooSlow):
                            self.slow_disconnects += 1
            if len(rows) < PAGE:
                return
