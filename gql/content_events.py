"""`contentEvents`: the change feed of every collection, with the cursors of `articleEvents`.

Each batch of change rows is read in one reader job: the articles and the entries it names, as
they are now. Events of collections the subscriber did not ask for are left out, but their
cursors still advance the feed, so `since` resumes exactly after the last event received.
"""

from __future__ import annotations

import sqlite3
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from newsgraph.db.changes import ChangeRow
from newsgraph.gql.entry_inputs import ContentCollection
from newsgraph.gql.entry_nodes import TYPE_OF_COLLECTION, entry_loaders
from newsgraph.gql.ids import encode_id
from newsgraph.gql.live_types import encode_change_cursor
from newsgraph.gql.loaders import Loaders
from newsgraph.gql.nodes import adopt
from newsgraph.gql.scalars import DateTime

if TYPE_CHECKING:
    from newsgraph.gql.search_types import SearchResult


@strawberry.enum(description="What happened to the file of a node.")
class ContentEventKind(Enum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@strawberry.type(description="One change to one node of any collection, in change-feed order.")
class ContentEvent:
    kind: ContentEventKind
    cursor: str = strawberry.field(
        description="Opaque, shared with articleEvents; pass as `since` to resume after it."
    )
    collection: ContentCollection
    node_id: strawberry.ID = strawberry.field(description="The node's global id.")
    path: str
    node: Annotated[SearchResult, strawberry.lazy("newsgraph.gql.search_types")] | None = (
        strawberry.field(
            description="The node as it is now, read when the event is sent; null on DELETED and "
            "when a later change deleted it."
        )
    )
    at: DateTime


def wanted_rows(batch: list[ChangeRow], collections: frozenset[str]) -> list[ChangeRow]:
    return [row for row in batch if row.collection in collections]


def read_nodes(
    loaders: Loaders, rows: list[ChangeRow], conn: sqlite3.Connection
) -> dict[tuple[str, str], Any]:
    """The current node of every created/updated row, keyed by (collection, path)."""
    live = [row for row in rows if row.op != "deleted"]
    articles = sorted({row.path for row in live if row.collection == "article"})
    entries = sorted({row.path for row in live if row.collection != "article"})
    found: dict[tuple[str, str], Any] = {}
    if articles:
        read = loaders.fetch_articles_by_path(conn, articles)
        found.update((("article", path), node) for path, node in read.items())
    if entries:
        read_entries = entry_loaders(loaders).fetch_by_path(conn, entries)
        found.update(((node.collection, path), node) for path, node in read_entries.items())
    return found


def content_event(row: ChangeRow, node: Any, loaders: Loaders) -> ContentEvent:
    if node is not None and row.collection == "article":
        adopt([node], loaders)  # fresh caches per event, as in articleEvents
    node_type = "Article" if row.collection == "article" else TYPE_OF_COLLECTION[row.collection]
    return ContentEvent(
        kind=ContentEventKind(row.op),
        cursor=encode_change_cursor(row.seq),
        collection=ContentCollection(row.collection),
        node_id=strawberry.ID(encode_id(node_type, row.path)),
        path=row.path,
        node=node,
        at=row.at,  # type: ignore[arg-type]
    )
