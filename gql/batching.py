"""Per-request batch loading: DataLoader semantics without a task per key.

`Loader.load(key)` answers from the request's cache *synchronously* when it can (after a
prefetch primed it), and otherwise returns a future. All loads made while resolving one level of
the query are collected; a single `loop.call_soon` callback then sends every waiting loader's
keys to the reader pool in ONE job (one executor hop for all relations of a level, not one per
loader), and resolves the futures when the rows come back. GraphQL accepts a value or an
awaitable from a resolver, so cache hits never touch the event loop at all: this is what keeps
a 100-article page with nested relations cheap.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from functools import partial
from typing import Any, Generic, TypeAlias, TypeVar

from newsgraph.db.pool import Reader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
MaybeAwaitable: TypeAlias = V | Awaitable[V]
Fetch = Callable[[sqlite3.Connection, list[K]], Mapping[K, V]]


class Batcher:
    """Collects the loaders with waiting keys and dispatches them together."""

    __slots__ = ("_loop", "_scheduled", "_waiting", "reader")

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[Loader[Any, Any]] = []
        self._scheduled = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def enqueue(self, loader: Loader[Any, Any]) -> None:
        self._waiting.append(loader)
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._scheduled = False
        batch = [(loader, loader.take_pending()) for loader in self._waiting]
        self._waiting = []
        jobs = [(loader.fetch, list(pending)) for loader, pending in batch]
        done = self.reader.submit(partial(_run_jobs, jobs))
        done.add_done_callback(partial(_deliver, batch))


def _run_jobs(
    jobs: Sequence[tuple[Fetch[Any, Any], list[Any]]], conn: sqlite3.Connection
) -> list[Mapping[Any, Any] | Exception]:
    """Runs on a reader thread: every loader's batch, each failure kept to its own loader."""
    results: list[Mapping[Any, Any] | Exception] = []
    for fetch, keys in jobs:
        try:
            results.append(fetch(conn, keys))
        except Exception as error:
            results.append(error)
    return results


def _deliver(
    batch: list[tuple[Loader[Any, Any], dict[Any, asyncio.Future[Any]]]],
    done: asyncio.Future[list[Mapping[Any, Any] | Exception]],
) -> None:
    if done.cancelled():
        return
    failure = done.exception()
    results: Sequence[Mapping[Any, Any] | Exception] = (
        [failure] * len(batch) if failure is not None else done.result()  # type: ignore[list-item]
    )
    for (loader, pending), result in zip(batch, results, strict=True):
        loader.settle(pending, result)


class Loader(Generic[K, V]):
    """Loads values by key in batches, caching them for the rest of the request."""

    __slots__ = ("batcher", "cache", "default", "fetch", "pending")

    def __init__(self, batcher: Batcher, fetch: Fetch[K, V], default: V) -> None:
        self.batcher = batcher
        self.fetch = fetch
        self.default = default  # the value of a key the batch did not return
        self.cache: dict[K, V] = {}
        self.pending: dict[K, asyncio.Future[V]] = {}

    def load(self, key: K) -> MaybeAwaitable[V]:
        """The cached value, or a future resolved by the next batch."""
        try:
            return self.cache[key]
        except KeyError:
            pass
        future = self.pending.get(key)
        if future is None:
            if not self.pending:
                self.batcher.enqueue(self)
            future = self.batcher.loop.create_future()
            self.pending[key] = future
        return future

    def prime(self, values: Mapping[K, V], keys: Sequence[K] = ()) -> None:
        """Cache prefetched values; `keys` absent from `values` get the default."""
        self.cache.update(values)
        for key in keys:
            if key not in values:
                self.cache[key] = self.default

    def take_pending(self) -> dict[K, asyncio.Future[V]]:
        pending, self.pending = self.pending, {}
        return pending

    def settle(
        self, pending: dict[K, asyncio.Future[V]], result: Mapping[K, V] | Exception
    ) -> None:
        for key, future in pending.items():
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
                continue
            value = result.get(key, self.default)
            self.cache[key] = value
            future.set_result(value)
