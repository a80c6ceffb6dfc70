"""Building connections: the runtime values behind `*Connection`, `*Edge` and `PageInfo`.

Edges mint their cursor only when a client selects it, and a connection's `totalCount` is
either already known (counted in the page's trip because the plan saw it selected) or asked of
a loader when read, so an unselected count never runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from newsgraph.db.articles import ArticlePage, ArticlePageQuery, article_page
from newsgraph.db.filters import ArticleFilterSpec
from newsgraph.db.search import SearchSyntaxError, fts_query
from newsgraph.gql.batching import MaybeAwaitable
from newsgraph.gql.context import Info
from newsgraph.gql.errors import BadArgument
from newsgraph.gql.inputs import (
    ArticleFilter,
    ArticleOrder,
    SearchMode,
    article_order,
    filter_spec,
    order_signature,
)
from newsgraph.gql.loaders import Loaders
from newsgraph.gql.nodes import ArticleNode, adopt
from newsgraph.gql.pagination import Window, decode_cursor, encode_cursor, page_window
from newsgraph.gql.prefetch import (
    ConnectionPlan,
    Prime,
    apply_primes,
    connection_plan,
    prefetch_articles,
)


class Edge:
    __slots__ = ("highlight", "key", "node", "signature")

    def __init__(
        self, node: Any, key: Sequence[Any], signature: str, highlight: str | None = None
    ) -> None:
        self.node = node
        self.key = key
        self.signature = signature
        self.highlight = highlight

    @property
    def cursor(self) -> str:
        return encode_cursor(self.signature, self.key)


class PageInfo:
    __slots__ = ("edges", "has_next_page", "has_previous_page")

    def __init__(self, edges: list[Edge], has_next: bool, has_previous: bool) -> None:
        self.edges = edges
        self.has_next_page = has_next
        self.has_previous_page = has_previous

    @property
    def start_cursor(self) -> str | None:
        return self.edges[0].cursor if self.edges else None

    @property
    def end_cursor(self) -> str | None:
        return self.edges[-1].cursor if self.edges else None


Count = int | Callable[[], MaybeAwaitable[int]] | None


class Connection:
    __slots__ = ("_count", "edges", "page_info")

    def __init__(self, edges: list[Edge], has_next: bool, has_previous: bool, count: Count) -> None:
        self.edges = edges
        self.page_info = PageInfo(edges, has_next, has_previous)
        self._count = count

    @property
    def total_count(self) -> MaybeAwaitable[int] | None:
        return self._count() if callable(self._count) else self._count


def window(
    info: Info,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> Window:
    limits = info.context.limits
    return page_window(
        first, after, last, before,
        max_size=limits.max_page_size, default_size=limits.default_page_size,
    )  # fmt: skip


async def article_connection(
    info: Info,
    *,
    filter: ArticleFilter | None = None,
    search: str | None = None,
    search_mode: SearchMode = SearchMode.SIMPLE,
    order_by: list[ArticleOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    scope: ArticleFilterSpec | None = None,
) -> Connection:
    """A page of articles for `articles`, `Provider.articles` and `Topic.articles`."""
    page_at = window(info, first, after, last, before)
    try:
        match = None if search is None else fts_query(search, raw=search_mode is SearchMode.FTS5)
    except SearchSyntaxError as error:
        raise BadArgument(str(error)) from None
    order = article_order(order_by, searching=match is not None)
    signature = order_signature(order)
    cursor = None
    if page_at.cursor is not None:
        cursor = decode_cursor(page_at.cursor, signature, len(order) + 1, page_at.argument)
    spec = filter_spec(filter)
    if scope is not None:
        spec = scope if spec is None else replace(scope, and_=(spec,))
    plan = connection_plan(info)
    query = ArticlePageQuery(
        filter=spec,
        match=match,
        order=order,
        limit=page_at.size,
        cursor=cursor,
        backward=page_at.backward,
        want_total=plan.total,
        want_highlights=plan.highlight,
    )
    context = info.context
    try:
        page, primes = await context.reader.submit(partial(_read, query, plan, context.loaders))
    except SearchSyntaxError as error:
        raise BadArgument(str(error)) from None
    apply_primes(primes)
    highlights = page.highlights
    edges = [
        Edge(row, key, signature, highlights.get(row.id))
        for row, key in zip(page.rows, page.keys, strict=True)
    ]
    return Connection(edges, page.has_next, page.has_previous, page.total)


def _read(
    query: ArticlePageQuery, plan: ConnectionPlan, loaders: Loaders, conn: sqlite3.Connection
) -> tuple[ArticlePage[ArticleNode], list[Prime]]:
    """On a reader thread: the page, then everything the plan says the query will ask of it."""
    page = article_page(conn, query, ArticleNode)
    adopt(page.rows, loaders)
    primes: list[Prime] = []
    prefetch_articles(conn, plan.node, page.rows, loaders, primes)
    return page, primes


MENTIONS = "mentions"


def mentions_connection(
    info: Info, article: ArticleNode, first: int | None, after: str | None
) -> MaybeAwaitable[Connection]:
    """`Article.mentionedBy`: batched across every article on the page by one loader."""
    page_at = window(info, first, after)
    cursor = None
    if page_at.cursor is not None:
        cursor = decode_cursor(page_at.cursor, MENTIONS, 2, "after")
    loaders = info.context.loaders
    loaded = loaders.mentions.load((article.web_url, page_at.size, cursor))
    count = partial(loaders.mention_count.load, article.web_url)
    if isinstance(loaded, tuple):
        return _mentions(loaded, cursor is not None, count)

    async def later() -> Connection:
        return _mentions(await loaded, cursor is not None, count)

    return later()


def _mentions(
    page: tuple[list[ArticleNode], list[tuple[Any, ...]], bool], resumed: bool, count: Count
) -> Connection:
    rows, keys, more = page
    edges = [Edge(row, key, MENTIONS) for row, key in zip(rows, keys, strict=True)]
    return Connection(edges, more, resumed, count)
