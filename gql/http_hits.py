"""Repeated GET queries answered straight from the ASGI scope: the response cache's fast lane.

On a spike most requests are the same few URLs (the homepage query, a topic page), and their
answers are already stored (`gql.response_cache`). Profiling a cached q1 at 200 connections
showed the general path spending a third of the server's time before it reached the stored
bytes: a Starlette `Request`, `Accept` negotiation, a `Context` with its loaders, the query
string parsed, the variables JSON-decoded and re-encoded canonically, the document resolved and
hashed, a `Response` object. None of it changes between two identical GETs.

So once the general path has worked out what a GET's raw query string means (its `RequestKey`,
for a document that resolved and is a query), `RawRequests` remembers that, per negotiated media
type. The next GET with the very same query string and an `Accept` that negotiates the same type
skips all of the above: it reads the newest data version (as the general path does, so it is
exactly as fresh), answers `304` when `If-None-Match` names the current tag, or sends the stored
bytes with the same headers the general path sends. When the answer is being executed right now
(the first request after a commit leads, `ResponseCache.leading`), it waits for that answer
like any follower. Anything else (nothing stored or in flight, a body on a GET, an `Accept` we
cannot serve, a query string not seen before) goes the general way, which counts the miss and
executes once for the herd.

What is remembered is only what the query string *says*; whether an answer exists is asked of
the cache every time. A persisted query's hash that resolved once keeps resolving here even if
the automatic registry later forgets it: the stored answer is the same document's.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from starlette.types import Send

from newsgraph.gql.context import new_request_id
from newsgraph.gql.http_cache import VARY, accepts_gzip, entity_tag, matches
from newsgraph.gql.http_request import negotiate
from newsgraph.gql.response_cache import RequestKey, ResponseCache

MAX_QUERY_STRING = 16_384  # longer query strings always take the general path
DEFAULT_ENTRIES = 4_096
DEFAULT_BYTES = 8 << 20  # query strings and canonical variables remembered, at most


@dataclass(frozen=True, slots=True)
class KnownRequest:
    key: RequestKey
    digest: str  # `key.digest`, computed once


class RawRequests:
    """What raw GET query strings mean, per media type: an LRU bounded in entries and bytes
    (a client sending ever new query strings costs at most `max_bytes`, then evicts itself)."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, max_bytes: int = DEFAULT_BYTES) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._known: OrderedDict[tuple[bytes, str], KnownRequest] = OrderedDict()

    def remember(self, query_string: bytes, key: RequestKey) -> None:
        if self.entries <= 0 or len(query_string) > MAX_QUERY_STRING:
            return
        name = (query_string, key.media_type)
        if name in self._known:
            self._known.move_to_end(name)
            return
        self._known[name] = KnownRequest(key, key.digest)
        self.bytes += _size(name, key)
        while len(self._known) > self.entries or self.bytes > self.max_bytes:
            (old_string, old_media), old = self._known.popitem(last=False)
            self.bytes -= _size((old_string, old_media), old.key)

    def recall(self, query_string: bytes, media_type: str) -> KnownRequest | None:
        return self._known.get((query_string, media_type))

    def __len__(self) -> int:
        return len(self._known)


def _size(name: tuple[bytes, str], key: RequestKey) -> int:
    return len(name[0]) + len(key.variables) + len(key.operation_name or "") + 200


@dataclass(frozen=True, slots=True)
class HitHeaders:
    """The request headers the fast lane looks at, read from the scope in one pass."""

    accept: str | None = None
    accept_encoding: str | None = None
    if_none_match: str | None = None
    has_body: bool = False

    @classmethod
    def of(cls, raw: list[tuple[bytes, bytes]]) -> HitHeaders:
        accept = accept_encoding = if_none_match = None
        has_body = False
        for name, value in raw:
            if name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name in (b"content-length", b"transfer-encoding") and value not in (b"0", b""):
                has_body = True
        return cls(accept, accept_encoding, if_none_match, has_body)


@lru_cache(maxsize=256)
def _media_for(accept: str | None) -> str | None:
    return negotiate(accept)


@lru_cache(maxsize=256)
def _gzip_for(accept_encoding: str | None) -> bool:
    return accepts_gzip(accept_encoding)


@dataclass(frozen=True, slots=True)
class Hit:
    """A GET the fast lane can answer: what it means and how it is to be encoded."""

    known: KnownRequest
    media_type: str
    gzip: bool
    if_none_match: str | None


def recognise(
    query_string: bytes, raw_headers: list[tuple[bytes, bytes]], requests: RawRequests
) -> Hit | None:
    """The hit this GET can be, or None: the general path must look at it."""
    if not query_string:
        return None
    headers = HitHeaders.of(raw_headers)
    if headers.has_body:  # the general path applies the body limit and its refusals
        return None
    media = _media_for(headers.accept)
    if media is None:
        return None
    known = requests.recall(query_string, media)
    if known is None:
        return None
    return Hit(known, media, _gzip_for(headers.accept_encoding), headers.if_none_match)


async def answer(
    hit: Hit, version: str, cache: ResponseCache, cache_control: str, send: Send
) -> bool:
    """Send the 304 or the stored answer for `hit` at `version`; False when there is none."""
    tag = entity_tag(version, hit.known.digest, hit.gzip)
    request_id = new_request_id().encode()
    if matches(hit.if_none_match, tag):
        headers = [
            (b"etag", tag.encode()), (b"cache-control", cache_control.encode()),
            (b"vary", VARY.encode()), (b"x-request-id", request_id),
        ]  # fmt: skip
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return True
    stored = cache.get((hit.known.key, version))
    if stored is None:
        flight = cache.in_flight((hit.known.key, version))
        if flight is None:
            return False  # the general path leads the execution
        stored = await cache.shared(flight)  # another request is executing it right now
        if stored is None:
            return False  # its answer could not be shared (an error): the general path runs
    body, encoding = stored.body, []
    if hit.gzip and stored.gzipped is not None:
        body, encoding = stored.gzipped, [(b"content-encoding", b"gzip")]
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", hit.media_type.encode()),
        *encoding,
        (b"vary", VARY.encode()), (b"etag", tag.encode()),
        (b"cache-control", cache_control.encode()), (b"x-request-id", request_id),
    ]  # fmt: skip
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return True
