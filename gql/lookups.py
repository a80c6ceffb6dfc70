"""Root resolvers that find objects by key, or list providers, topics, facets and status."""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any, Literal

from newsgraph.db import lists, status
from newsgraph.db.convert import domain_key, topic_key
from newsgraph.db.facets import article_facets
from newsgraph.db.search import SearchSyntaxError, fts_query
from newsgraph.gql.connections import Connection, Edge, window
from newsgraph.gql.context import Info
from newsgraph.gql.errors import BadArgument
from newsgraph.gql.ids import decode_id
from newsgraph.gql.ingest_status import read_ingest_status
from newsgraph.gql.inputs import (
    ArticleFilter,
    OrderDirection,
    ProviderOrder,
    ProviderOrderField,
    SearchMode,
    TopicOrder,
    TopicOrderField,
    filter_spec,
)
from newsgraph.gql.loaders import Loaders
from newsgraph.gql.nodes import ArticleNode, ProviderNode, TopicNode, adopt
from newsgraph.gql.pagination import decode_cursor
from newsgraph.gql.prefetch import ArticlePlan, Prime, apply_primes, node_plan, prefetch_articles
from newsgraph.gql.values import (
    FacetsValue,
    MonthCountValue,
    ProviderCountValue,
    PublishedCountValue,
    TopicCountValue,
)

MAX_NODES = 100
MAX_FACETS = 100


async def articles_by(
    info: Info, kind: Literal["path", "web_url"], keys: list[str]
) -> dict[str, ArticleNode]:
    """Articles by path or URL, read together with what the query selects of them."""
    plan = node_plan(info)
    loaders = info.context.loaders
    found, primes = await info.context.reader.submit(
        partial(_read_articles, kind, keys, plan, loaders)
    )
    apply_primes(primes)
    return found


def _read_articles(
    kind: Literal["path", "web_url"],
    keys: list[str],
    plan: ArticlePlan | None,
    loaders: Loaders,
    conn: sqlite3.Connection,
) -> tuple[dict[str, ArticleNode], list[Prime]]:
    if kind == "path":
        found = loaders.fetch_articles_by_path(conn, keys)
        primes: list[Prime] = [(loaders.article_by_path, found, keys)]
    else:
        found = loaders.fetch_articles_by_web_url(conn, keys)
        primes = [(loaders.article_by_web_url, found, keys)]
    prefetch_articles(conn, plan, list(found.values()), loaders, primes)
    return found, primes


async def node_by_id(info: Info, id: str) -> Any:
    nodes = await nodes_by_ids(info, [id])
    return nodes[0]


async def nodes_by_ids(info: Info, ids: list[str]) -> list[Any]:
    """Nodes in the order asked, null where nothing has that id (any more)."""
    if len(ids) > MAX_NODES:
        raise BadArgument(f"`ids` takes at most {MAX_NODES} ids (got {len(ids)})")
    decoded = [decode_id(value) for value in ids]
    paths = [key for node_type, key in decoded if node_type == "Article"]
    articles = await articles_by(info, "path", paths) if paths else {}
    loaders = info.context.loaders
    # Every load is asked for before the first await, so each loader reads its keys in one batch.
    loads = [
        articles.get(key) if node_type == "Article"
        else loaders.provider_by_domain.load(key) if node_type == "Provider"
        else loaders.topic_by_key.load(key)
        for node_type, key in decoded
    ]  # fmt: skip
    return [await _maybe(load) for load in loads]


async def _maybe(value: Any) -> Any:
    if hasattr(value, "__await__"):
        return await value
    return value


async def article_by(
    info: Info, id: str | None, path: str | None, web_url: str | None
) -> ArticleNode | None:
    given = [name for name, value in (("id", id), ("path", path), ("webUrl", web_url)) if value]
    if len(given) != 1:
        raise BadArgument("`article` takes exactly one of `id`, `path` or `webUrl`")
    if id is not None:
        node_type, key = decode_id(id)
        if node_type != "Article":
            raise BadArgument(f"{id!r} is the id of a {node_type}, not an Article")
        path = key
    if path is not None:
        return (await articles_by(info, "path", [path])).get(path)
    assert web_url is not None
    return (await articles_by(info, "web_url", [web_url])).get(web_url)


async def facets(
    info: Info,
    filter: ArticleFilter | None,
    search: str | None,
    search_mode: SearchMode,
    limit: int,
) -> FacetsValue:
    if not 0 <= limit <= MAX_FACETS:
        raise BadArgument(f"`limit` must be between 0 and {MAX_FACETS} (got {limit})")
    try:
        match = None if search is None else fts_query(search, raw=search_mode is SearchMode.FTS5)
        found = await info.context.reader.submit(
            partial(_facets_work, filter_spec(filter), match, limit)
        )
    except SearchSyntaxError as error:
        raise BadArgument(str(error)) from None
    loaders = info.context.loaders
    adopt((topic for topic, _ in found.topics), loaders)
    adopt((provider for provider, _ in found.providers), loaders)
    return FacetsValue(
        found.total,
        [TopicCountValue(topic, n) for topic, n in found.topics],
        [ProviderCountValue(provider, n) for provider, n in found.providers],
        [MonthCountValue(month, n) for month, n in found.months],
        [PublishedCountValue(flag, n) for flag, n in found.published],
    )


def _facets_work(spec: Any, match: str | None, limit: int, conn: sqlite3.Connection) -> Any:
    return article_facets(conn, spec, match, limit, TopicNode, ProviderNode)


async def provider_connection(
    info: Info,
    search: str | None,
    order_by: ProviderOrder | None,
    first: int | None,
    after: str | None,
) -> Connection:
    order = order_by or ProviderOrder(field=ProviderOrderField.NAME)
    page = partial(lists.provider_page, make=ProviderNode)
    return await _list_connection(info, "providers", order, search, first, after, page)


async def topic_connection(
    info: Info,
    search: str | None,
    order_by: TopicOrder | None,
    first: int | None,
    after: str | None,
) -> Connection:
    order = order_by or TopicOrder(field=TopicOrderField.NAME)
    page = partial(lists.topic_page, make=TopicNode)
    return await _list_connection(info, "topics", order, search, first, after, page)


async def _list_connection(
    info: Info,
    table: Literal["providers", "topics"],
    order: ProviderOrder | TopicOrder,
    search: str | None,
    first: int | None,
    after: str | None,
    page: Any,
) -> Connection:
    """A keyset page of providers or topics; the cursor is bound to the table and the order."""
    page_at = window(info, first, after)
    signature = table + ":" + order.field.value + order.direction.value
    cursor = None if after is None else decode_cursor(after, signature, 2, "after")
    descending = order.direction is OrderDirection.DESC
    reader = info.context.reader
    rows, keys, more = await reader.submit(
        partial(
            page, search=search, order=order.field.value, descending=descending,
            limit=page_at.size, cursor=cursor,
        )
    )  # fmt: skip
    adopt(rows, info.context.loaders)
    edges = [Edge(row, key, signature) for row, key in zip(rows, keys, strict=True)]
    count = lists.count_providers if table == "providers" else lists.count_topics
    return Connection(edges, more, cursor is not None, lambda: reader.submit(count))


async def provider_by_domain(info: Info, domain: str) -> ProviderNode | None:
    found: ProviderNode | None = await _maybe(
        info.context.loaders.provider_by_domain.load(domain_key(domain))
    )
    return found


async def topic_by_name(info: Info, name: str) -> TopicNode | None:
    found: TopicNode | None = await _maybe(info.context.loaders.topic_by_key.load(topic_key(name)))
    return found


async def ingest_status(info: Info) -> Any:
    return await read_ingest_status(info)


ERRORS = "errors"


async def ingest_errors(info: Info, first: int | None, after: str | None) -> Connection:
    page_at = window(info, first, after)
    cursor = None if after is None else decode_cursor(after, ERRORS, 1, "after")
    after_path = None if cursor is None else str(cursor[0])
    reader = info.context.reader
    rows, more = await reader.submit(
        lambda conn: status.ingest_errors_page(conn, page_at.size, after_path)
    )
    edges = [Edge(row, (row.path,), ERRORS) for row in rows]
    return Connection(
        edges, more, cursor is not None, lambda: reader.submit(status.ingest_error_count)
    )
