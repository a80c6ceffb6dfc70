"""Cursors and page windows shared by every connection.

A cursor is base64url of a JSON array: a short signature of the ordering, then the row's sort
key (the ordered values and the id). Carrying the signature means a cursor taken under one
ordering is refused under another instead of silently jumping; carrying values instead of an
offset means a page does not shift when rows are inserted before it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from newsgraph.gql.errors import BadArgument

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def encode_cursor(signature: str, key: Sequence[Any]) -> str:
    raw = orjson.dumps([signature, *key])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, signature: str, width: int, argument: str) -> tuple[Any, ...]:
    """The sort key in `cursor`, checked against the ordering it must belong to."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        raise BadArgument(f"`{argument}` is not a valid cursor") from None
    if not isinstance(decoded, list) or not decoded or len(decoded) != width + 1:
        raise BadArgument(f"`{argument}` is not a valid cursor")
    if decoded[0] != signature:
        raise BadArgument(
            f"`{argument}` is a cursor from a different ordering or list; start again without it"
        )
    values = tuple(decoded[1:])
    if not all(value is None or isinstance(value, str | int | float) for value in values):
        raise BadArgument(f"`{argument}` is not a valid cursor")
    return values


@dataclass(frozen=True, slots=True)
class Window:
    """Which page was asked for: its size, direction, and the raw cursor it starts from."""

    size: int
    backward: bool
    cursor: str | None
    argument: str  # "after" or "before": named in cursor errors


def page_window(
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    *,
    max_size: int = MAX_PAGE_SIZE,
    default_size: int = DEFAULT_PAGE_SIZE,
) -> Window:
    """Validate paging arguments: `first`/`after` forward or `last`/`before` backward."""
    if first is not None and last is not None:
        raise BadArgument("pass `first` or `last`, not both")
    if (after is not None and before is not None) or (first is not None and before is not None):
        raise BadArgument("page forward with `first`/`after` or backward with `last`/`before`")
    if last is not None and after is not None:
        raise BadArgument("page forward with `first`/`after` or backward with `last`/`before`")
    backward = last is not None or before is not None
    name = "last" if backward else "first"
    requested = last if backward else first
    size = default_size if requested is None else requested
    if size < 0:
        raise BadArgument(f"`{name}` must not be negative (got {size})")
    if size > max_size:
        raise BadArgument(f"`{name}` must be at most {max_size} (got {size})")
    if backward:
        return Window(size, True, before, "before")
    return Window(size, False, after, "after")
