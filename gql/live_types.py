"""The subscription payload types, and the opaque change cursor they carry."""

from __future__ import annotations

import base64
import binascii
from enum import Enum

import strawberry

from newsgraph.gql.errors import BadArgument
from newsgraph.gql.scalars import DateTime
from newsgraph.gql.types import Article, IngestError

_CURSOR_PREFIX = "change:"


def encode_change_cursor(seq: int) -> str:
    """Opaque to clients: base64url of `change:<seq>`, so it can change shape later."""
    raw = (_CURSOR_PREFIX + str(seq)).encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_change_cursor(value: str) -> int:
    """The change seq in a cursor we issued; a clear error for anything else."""
    try:
        padded = value + "=" * (-len(value) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit():
        raise BadArgument(f"`since` {value!r} is not a cursor from articleEvents")
    return int(number)


class CursorExpired(BadArgument):
    """The change feed no longer reaches back to the cursor: re-read, then subscribe anew."""

    code = "CURSOR_EXPIRED"


@strawberry.enum(description="What happened to the article's file.")
class ArticleEventKind(Enum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@strawberry.type(description="One change to one article, in change-feed order.")
class ArticleEvent:
    kind: ArticleEventKind
    cursor: str = strawberry.field(
        description="Opaque; pass as `since` to resume right after this event."
    )
    article_id: strawberry.ID = strawberry.field(description="The article's global id.")
    path: str
    article: Article | None = strawberry.field(
        description="The article as it is now, read when the event is sent. Null on DELETED, "
        "when a later change deleted it, and under a filter on an UPDATED event for an "
        "article this subscription sent before that no longer matches (drop it)."
    )
    at: DateTime = strawberry.field(description="When the store recorded the change.")


@strawberry.enum
class IngestErrorEventKind(Enum):
    RAISED = "raised"
    CLEARED = "cleared"


@strawberry.type(description="A file started failing (or failed again), or was fixed/removed.")
class IngestErrorEvent:
    kind: IngestErrorEventKind
    path: str
    error: IngestError | None = strawberry.field(description="Null when CLEARED.")
    at: DateTime
