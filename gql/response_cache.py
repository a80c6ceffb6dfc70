"""Encoded GraphQL responses, reused until the data they were read from changes.

A response is a pure function of the operation and the stored data, so the key names both: the
document's hash, the operation name, the canonical variables, the response media type, and the
data version of the snapshot that produced it (`db.pool.DataVersion`). A commit moves the
version, so an entry is never served after the data it shows has changed; there is no TTL and
no staleness, and old versions' entries simply stop being asked for and age out of the LRU.

What is stored is what goes on the wire: the encoded body, and its gzip form when it is worth
compressing, so a hit does no JSON work and no compression. Concurrent identical misses run
once (`leading`/`in_flight`): after each commit of a burst, a herd of clients asking for the
homepage costs one execution, not one per client.

The cache is bounded in bytes (both forms of every entry count) and evicts the least recently
used entries first. Only successful queries are offered to it (see `gql.http`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import orjson

# Below this a response is sent as is: gzip's own header and the CPU cost outweigh the saving.
COMPRESS_AT = 1024
GZIP_LEVEL = 6
ENTRY_OVERHEAD = 200  # bytes of key, headers and bookkeeping charged per entry


@dataclass(frozen=True, slots=True)
class Encoded:
    """A response body as sent: plain, and gzipped when that is worth it."""

    body: bytes
    gzipped: bytes | None

    @classmethod
    def of(cls, body: bytes) -> Encoded:
        if len(body) < COMPRESS_AT:
            return cls(body, None)
        return cls(body, gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"") + ENTRY_OVERHEAD


@dataclass(frozen=True, slots=True)
class RequestKey:
    """Everything a query's answer depends on except the data version."""

    document: str  # sha256 of the query text
    operation_name: str | None
    variables: bytes  # canonical JSON
    media_type: str

    @classmethod
    def of(
        cls, query: str, operation_name: str | None, variables: object, media_type: str
    ) -> RequestKey:
        canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        document = hashlib.sha256(query.encode("utf-8")).hexdigest()
        return cls(document, operation_name, canonical, media_type)

    @property
    def digest(self) -> str:
        """A short stable name for this request, for ETags."""
        parts = (self.document, self.operation_name or "", self.variables.hex(), self.media_type)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


CacheKey = tuple[RequestKey, str]  # the request and the data version's token


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    bytes: int = 0
    entries: int = 0


@dataclass
class ResponseCache:
    """An LRU of encoded responses bounded by `max_bytes`; 0 stores nothing."""

    max_bytes: int
    stats: CacheStats = field(default_factory=CacheStats)
    _entries: OrderedDict[CacheKey, Encoded] = field(default_factory=OrderedDict)
    _flights: dict[CacheKey, asyncio.Future[Encoded | None]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: CacheKey) -> Encoded | None:
        """The stored response (counted as a hit), or None (the caller counts its miss)."""
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        self.stats.hits += 1
        return found

    def put(self, key: CacheKey, encoded: Encoded) -> None:
        if encoded.size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.stats.bytes -= old.size
        self._entries[key] = encoded
        self.stats.bytes += encoded.size
        while self.stats.bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.stats.bytes -= evicted.size
            self.stats.evictions += 1
        self.stats.entries = len(self._entries)

    def in_flight(self, key: CacheKey) -> asyncio.Future[Encoded | None] | None:
        """The answer another request is producing for `key` right now, if any."""
        return self._flights.get(key)

    @contextlib.contextmanager
    def leading(self, key: CacheKey) -> Iterator[Callable[[Encoded | None], None]]:
        """Produce `key`'s answer for everyone who asks meanwhile (single flight).

        The block calls the yielded `publish` with the answer: a shareable one (not None) is
        stored and handed to every waiting request; None (errors, or an answer that depends
        on more than stored data) or a failure of the block sends each waiting request to
        produce its own.
        """
        flight: asyncio.Future[Encoded | None] = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        self.stats.misses += 1

        def publish(encoded: Encoded | None) -> None:
            if not flight.done():
                flight.set_result(encoded)
            if encoded is not None:
                self.put(key, encoded)

        try:
            yield publish
        finally:
            if not flight.done():
                flight.set_result(None)
            del self._flights[key]

    async def shared(self, flight: asyncio.Future[Encoded | None]) -> Encoded | None:
        """Wait for another request's answer; count it as a hit when it can be shared."""
        encoded = await asyncio.shield(flight)
        if encoded is not None:
            self.stats.hits += 1
        return encoded
