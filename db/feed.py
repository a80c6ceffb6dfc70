"""Tailing what the writer appends, for live consumers: one wake-up loop, bounded mailboxes.

Both live feeds (article changes from the `changes` table, ingest errors diffed from
`ingest_errors`) have the same shape: notice that the database moved on (an in-process writer's
`notify()`, else a cheap check every `poll_interval`), read what is new, and hand it to each
consumer's bounded mailbox. A consumer that falls `buffer_size` items behind is failed with
`SubscriberTooSlow` instead of growing memory without bound, and at shutdown every mailbox is
failed with `FeedClosed`. The loop knows nothing of what is read: `changed` and `on_change` are
the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
OnFail = Callable[[Exception], None]


class SubscriberTooSlow(Exception):
    """The consumer did not keep up; it is disconnected rather than buffered without bound."""


class FeedClosed(Exception):
    """The server is shutting down."""


class Mailbox(Generic[T]):
    """One consumer's bounded buffer of live items."""

    def __init__(self, buffer_size: int, on_fail: OnFail | None = None, *, too_slow: str) -> None:
        self.buffer_size = buffer_size
        self.on_fail = on_fail
        self.too_slow = too_slow
        self.failure: Exception | None = None
        self._items: deque[T] = deque()
        self._ready = asyncio.Event()

    def offer(self, item: T) -> bool:
        """Buffer `item`; False when the consumer has failed (now or before)."""
        if self.failure is not None:
            return False
        if len(self._items) >= self.buffer_size:
            self.fail(SubscriberTooSlow(self.too_slow))
            return False
        self._items.append(item)
        self._ready.set()
        return True

    def fail(self, error: Exception) -> None:
        if self.failure is not None:
            return
        self.failure = error
        self._items.clear()  # the memory goes now, not when the consumer wakes up
        self._ready.set()
        if self.on_fail is not None:
            try:
                self.on_fail(error)
            except Exception:
                log.exception("live consumer's on_fail hook failed")

    async def next_batch(self, limit: int) -> list[T]:
        """Every buffered item (at most `limit`), waiting for at least one."""
        while not self._items:
            if self.failure is not None:
                raise self.failure
            self._ready.clear()
            await self._ready.wait()
        count = min(limit, len(self._items))
        return [self._items.popleft() for _ in range(count)]


class FeedTailer:
    """Runs `on_change()` whenever `notify()` is called or `changed()` says there is news."""

    def __init__(
        self,
        changed: Callable[[], Awaitable[bool]],
        on_change: Callable[[], Awaitable[None]],
        *,
        poll_interval: float,
        name: str,
    ) -> None:
        self.changed = changed
        self.on_change = on_change
        self.poll_interval = poll_interval
        self.name = name
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def notify(self) -> None:
        """From any thread, after a commit: look now instead of at the next poll."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop closed between the check and the call
                loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            # `asyncio.timeout`, not `wait_for`: on Python 3.11, `wait_for` swallows a cancel
            # that arrives while the wake-up it waits for has just fired, so `stop()` waited
            # forever for a task that went on polling (a server hung at SIGTERM after a burst).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            woken = self._wake.is_set()
            self._wake.clear()
            try:
                if await self.changed() or woken:
                    await self.on_change()
            except Exception:  # keep tailing: a transient error must not end every consumer
                log.exception("%s failed to read the feed", self.name)
