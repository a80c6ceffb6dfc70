"""HTTP's caching and compression for GraphQL responses: ETag, 304, Cache-Control, gzip.

- A GET query answer that is a function of the stored data carries a strong `ETag` naming the
  data version, the request and the negotiated encoding, the configured `Cache-Control`
  (default `no-cache`: caches may keep it but must revalidate, which a 304 makes cheap) and
  `Vary: Accept, Accept-Encoding`. `If-None-Match` with the current tag is answered `304`
  before anything executes.
- Errors, and answers that show this process's state (`ingestStatus.queueDepth` and the
  like), are `Cache-Control: no-store` and carry no tag.
- Bodies of `COMPRESS_AT` bytes or more are gzipped (the stdlib's `gzip`) when the client
  accepts it; a cached answer keeps its compressed form, so a hit compresses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from newsgraph.gql.response_cache import Encoded

NO_STORE = "no-store"
VARY = "Accept, Accept-Encoding"


@dataclass(frozen=True, slots=True)
class HttpCaching:
    """`Cache-Control` for cacheable GET answers, from settings (seconds; 0 = not set)."""

    max_age: int = 0
    stale_while_revalidate: int = 0

    @property
    def cache_control(self) -> str:
        if self.max_age <= 0:
            return "no-cache"
        value = f"public, max-age={self.max_age}"
        if self.stale_while_revalidate > 0:
            value += f", stale-while-revalidate={self.stale_while_revalidate}"
        return value


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` admits gzip (q > 0, by name or by `*`)."""
    if not accept_encoding:
        return False
    named: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        named[name.strip().lower()] = quality
    if "gzip" in named:
        return named["gzip"] > 0
    return named.get("*", 0.0) > 0


def entity_tag(version: str, request: str, gzip: bool) -> str:
    """A strong tag: the data version, the request, and the encoding it is sent in."""
    return f'"{version}-{request}-{"gz" if gzip else "id"}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """`If-None-Match` names `tag` (weak comparison, as RFC 9110 asks for this header)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = tag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") == wanted for part in if_none_match.split(","))


def encoded_response(
    encoded: Encoded, *, status: int, media_type: str, gzip: bool, headers: dict[str, str]
) -> Response:
    """The response for `encoded`, gzipped when the client accepts it and it was worth it."""
    headers = dict(headers)
    body = encoded.body
    if gzip and encoded.gzipped is not None:
        body = encoded.gzipped
        headers["content-encoding"] = "gzip"
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def not_modified(tag: str, cache_control: str) -> Response:
    return Response(
        status_code=304, headers={"etag": tag, "cache-control": cache_control, "vary": VARY}
    )
