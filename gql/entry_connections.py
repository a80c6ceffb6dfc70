"""Pages of events, people, organizations and learning resources, and the site-wide search.

Same shapes as the article connections (`gql.connections`): keyset cursors that carry their
ordering's signature, `first`/`after` and `last`/`before`, a `totalCount` of the selection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from newsgraph.db.entry_reads import (
    EntryFacets,
    EntryFilterSpec,
    EntryPage,
    entry_facets,
    entry_page,
)
from newsgraph.db.search import SearchSyntaxError, fts_query
from newsgraph.db.site_search import SearchHit, search_everything
from newsgraph.gql.connections import Connection, Edge, window
from newsgraph.gql.context import Info
from newsgraph.gql.entry_inputs import ContentCollection, Ordering
from newsgraph.gql.entry_nodes import EntryLoaders, EntryNode, adopt_entries, entry_loaders
from newsgraph.gql.errors import BadArgument
from newsgraph.gql.pagination import decode_cursor

SEARCH_SIGNATURE = "search"
MAX_FACETS = 100


class SearchEdge(Edge):
    """An edge of `search`: its node may be of any collection, so the edge says which."""

    __slots__ = ("collection",)

    def __init__(self, node: Any, key: Sequence[Any], highlight: str, collection: str) -> None:
        super().__init__(node, key, SEARCH_SIGNATURE, highlight)
        self.collection = ContentCollection(collection)


async def entry_connection(
    info: Info,
    spec: EntryFilterSpec,
    ordering: Ordering,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection:
    page_at = window(info, first, after, last, before)
    signature = f"{ordering.signature}:{spec.collection}"
    cursor = None
    if page_at.cursor is not None:
        cursor = decode_cursor(page_at.cursor, signature, 2, page_at.argument)
    loaders = entry_loaders(info.context.loaders)
    page: EntryPage = await info.context.reader.submit(
        partial(
            entry_page,
            spec=spec,
            order=ordering.field,
            descending=ordering.descending,
            limit=page_at.size,
            cursor=cursor,
            backward=page_at.backward,
        )
    )
    nodes = adopt_entries(page.rows, loaders)
    edges = [Edge(node, key, signature) for node, key in zip(nodes, page.keys, strict=True)]
    return Connection(edges, page.has_next, page.has_previous, page.total)


async def entries_by_path(info: Info, paths: list[str]) -> dict[str, EntryNode]:
    loaders = entry_loaders(info.context.loaders)
    found: dict[str, EntryNode] = await info.context.reader.submit(
        partial(_by_path, loaders, paths)
    )
    return found


def _by_path(loaders: EntryLoaders, paths: list[str], conn: sqlite3.Connection) -> Any:
    return loaders.fetch_by_path(conn, paths)


@dataclass(frozen=True, slots=True)
class ValueCountValue:
    value: str
    count: int


@dataclass(frozen=True, slots=True)
class FacetsValue:
    """What `CollectionFacets` reads: the total and each facet's (value, count) list."""

    total: int
    kinds: list[ValueCountValue]
    levels: list[ValueCountValue]
    locations: list[ValueCountValue]
    free: list[ValueCountValue]
    topics: list[ValueCountValue]


async def facets(info: Info, spec: EntryFilterSpec, limit: int) -> FacetsValue:
    if not 0 <= limit <= MAX_FACETS:
        raise BadArgument(f"`limit` must be between 0 and {MAX_FACETS} (got {limit})")
    counted: EntryFacets = await info.context.reader.submit(
        partial(entry_facets, spec=spec, limit=limit)
    )

    def values(name: str) -> list[ValueCountValue]:
        return [ValueCountValue(value, count) for value, count in counted.counts[name]]

    return FacetsValue(
        counted.total, values("kind"), values("level"), values("location"), values("free"),
        values("topic"),
    )  # fmt: skip


async def search_connection(
    info: Info,
    text: str,
    collections: Sequence[str],
    raw: bool,
    first: int | None,
    after: str | None,
) -> Connection:
    """Every collection searched at once, most relevant first; each edge has its highlight."""
    page_at = window(info, first, after)
    try:
        match = fts_query(text, raw=raw)
    except SearchSyntaxError as error:
        raise BadArgument(str(error)) from None
    cursor = None
    if page_at.cursor is not None:
        cursor = decode_cursor(page_at.cursor, SEARCH_SIGNATURE, 3, "after")
    try:
        hits, keys, more = await info.context.reader.submit(
            partial(
                search_everything,
                match=match,
                collections=collections,
                limit=page_at.size,
                cursor=cursor,
            )
        )
    except SearchSyntaxError as error:
        raise BadArgument(str(error)) from None
    nodes = await _nodes_of(info, hits)
    edges: list[Edge] = [
        SearchEdge(nodes[(hit.collection, hit.path)], key, hit.highlight, hit.collection)
        for hit, key in zip(hits, keys, strict=True)
        if (hit.collection, hit.path) in nodes
    ]
    return Connection(edges, more, cursor is not None, None)


async def _nodes_of(info: Info, hits: list[SearchHit]) -> dict[tuple[str, str], Any]:
    article_paths = [hit.path for hit in hits if hit.collection == "article"]
    entry_paths = [hit.path for hit in hits if hit.collection != "article"]
    found: dict[tuple[str, str], Any] = {}
    if article_paths:
        # Imported here: lookups reaches gql.types, whose Topic fields resolve through us.
        from newsgraph.gql.lookups import articles_by

        articles = await articles_by(info, "path", article_paths)
        found.update((("article", path), node) for path, node in articles.items())
    if entry_paths:
        entries = await entries_by_path(info, entry_paths)
        found.update(((node.collection, path), node) for path, node in entries.items())
    return found
