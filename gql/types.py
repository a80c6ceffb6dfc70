"""The schema's object types. They declare; nodes (`gql.nodes`) are what resolvers return.

Plain fields have no resolver: Strawberry reads the attribute of the same (snake_case) name
from the node, which is the cheapest path through graphql-core. `is_type_of` tells the `Node`
interface which type a node is. Fields with arguments are resolvers taking the node as
`strawberry.Parent`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from newsgraph.db.filters import ArticleFilterSpec
from newsgraph.gql.connections import article_connection, mentions_connection
from newsgraph.gql.context import Info
from newsgraph.gql.errors import BadArgument
from newsgraph.gql.inputs import ArticleFilter, ArticleOrder, SearchMode
from newsgraph.gql.nodes import ArticleNode, ProviderNode, TopicNode
from newsgraph.gql.scalars import DateTime
from newsgraph.gql.values import TopicCountValue

MAX_RANKED = 100


@strawberry.interface(description="An object with a stable, opaque global id.")
class Node:
    gid: strawberry.ID = strawberry.field(name="id")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Image:
    url: str
    width: int | None
    height: int | None
    is_cached: bool | None
    title: str | None


def _mentioned_by(
    parent: strawberry.Parent[ArticleNode],
    info: Info,
    first: int | None = None,
    after: str | None = None,
) -> ArticleConnection:
    return cast("ArticleConnection", mentions_connection(info, parent, first, after))


def _top_topics(
    parent: strawberry.Parent[ProviderNode], info: Info, limit: int = 10
) -> list[TopicCount]:
    _check_limit(limit)
    loaded = info.context.loaders.top_topics.load((parent.id, limit))
    return cast("list[TopicCount]", _ranked(loaded))


def _related_topics(
    parent: strawberry.Parent[TopicNode], info: Info, limit: int = 10
) -> list[TopicCount]:
    _check_limit(limit)
    loaded = info.context.loaders.related_topics.load((parent.id, limit))
    return cast("list[TopicCount]", _ranked(loaded))


@strawberry.type(description="A heading of a rendered body; `id` is its element's id in `html`.")
class Heading:
    depth: int = strawberry.field(description="1 for `#`, up to 6.")
    text: str = strawberry.field(description="The heading's words, without Markdown or tags.")
    id: str = strawberry.field(description="Unique in its body: link to it as `#id`.")


@strawberry.type(description="A news article, one Markdown file of the content folder.")
class Article(Node):
    path: str = strawberry.field(description="File path relative to the content root (POSIX).")
    slug: str
    title: str
    excerpt: str | None
    body: str = strawberry.field(description="The Markdown body, as written.")
    html: str = strawberry.field(
        description="The body rendered from CommonMark at ingest and sanitized: safe to insert "
        "into a page. Headings carry the ids of `headings`."
    )
    headings: list[Heading] = strawberry.field(description="The body's headings, in order.")
    word_count: int = strawberry.field(description="Words in the body's text.")
    reading_time_minutes: int = strawberry.field(
        description="wordCount / 200 words per minute, rounded up; 0 for an empty body."
    )
    category: str | None
    type: str | None
    published_at: DateTime
    web_url: str
    original_url: str | None
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    quality: int | None
    heat: int | None
    published: bool | None
    secured: str | None
    extra: JSON = strawberry.field(description="Front-matter keys the format does not name.")
    updated_at: DateTime = strawberry.field(description="When the store last changed it.")
    provider: Provider | None
    topics: list[Topic]
    images: list[Image]
    related: list[RelatedArticle]

    mentioned_by: ArticleConnection = strawberry.field(
        resolver=_mentioned_by,
        description="Articles whose related items point at this one's webUrl, newest first.",
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: object) -> bool:
        return isinstance(obj, ArticleNode)


@strawberry.type(description="A summary of another article, as listed under `related`.")
class RelatedArticle:
    title: str | None
    excerpt: str | None
    published_at: DateTime | None
    web_url: str
    original_url: str | None
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    type: str | None
    quality: int | None
    provider: Provider | None
    images: list[Image]
    article: Article | None = strawberry.field(
        description="The ingested article with this webUrl (the smallest path if several)."
    )


async def _scoped_articles(
    info: Info,
    scope: ArticleFilterSpec,
    filter: ArticleFilter | None,
    search: str | None,
    search_mode: SearchMode,
    order_by: list[ArticleOrder] | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> ArticleConnection:
    connection = await article_connection(
        info, filter=filter, search=search, search_mode=search_mode, order_by=order_by,
        first=first, after=after, last=last, before=before, scope=scope,
    )  # fmt: skip
    return cast("ArticleConnection", connection)


def _check_limit(limit: int) -> None:
    if not 0 <= limit <= MAX_RANKED:
        raise BadArgument(f"`limit` must be between 0 and {MAX_RANKED} (got {limit})")


def _ranked(loaded: Any) -> Any:
    if isinstance(loaded, Sequence):
        return [TopicCountValue(topic, count) for topic, count in loaded]

    async def later() -> list[TopicCountValue]:
        return [TopicCountValue(topic, count) for topic, count in await loaded]

    return later()


@strawberry.type(description="A publisher, identified by its lower-cased domain.")
class Provider(Node):
    name: str | None
    domain: str
    images: list[Image]
    article_count: int

    @strawberry.field
    @staticmethod
    async def articles(
        parent: strawberry.Parent[ProviderNode],
        info: Info,
        filter: ArticleFilter | None = None,
        search: str | None = None,
        search_mode: SearchMode = SearchMode.SIMPLE,
        order_by: list[ArticleOrder] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ArticleConnection:
        scope = ArticleFilterSpec(provider_id=parent.id)
        return await _scoped_articles(
            info, scope, filter, search, search_mode, order_by, first, after, last, before
        )

    top_topics: list[TopicCount] = strawberry.field(
        resolver=_top_topics, description="The topics this provider's articles carry most."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: object) -> bool:
        return isinstance(obj, ProviderNode)


@strawberry.type(description="A topic, identified by its name case-insensitively.")
class Topic(Node):
    name: str = strawberry.field(description="The first spelling seen.")
    slug: str
    article_count: int

    @strawberry.field
    @staticmethod
    async def articles(
        parent: strawberry.Parent[TopicNode],
        info: Info,
        filter: ArticleFilter | None = None,
        search: str | None = None,
        search_mode: SearchMode = SearchMode.SIMPLE,
        order_by: list[ArticleOrder] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ArticleConnection:
        scope = ArticleFilterSpec(topic_id=parent.id)
        return await _scoped_articles(
            info, scope, filter, search, search_mode, order_by, first, after, last, before
        )

    related_topics: list[TopicCount] = strawberry.field(
        resolver=_related_topics,
        description="Topics that most often appear on the same articles, with how often.",
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: object) -> bool:
        return isinstance(obj, TopicNode)


@strawberry.type
class TopicCount:
    topic: Topic
    count: int


@strawberry.type
class ProviderCount:
    provider: Provider
    count: int


@strawberry.type
class MonthCount:
    month: str = strawberry.field(description="`YYYY-MM`, UTC.")
    count: int


@strawberry.type
class PublishedCount:
    published: bool = strawberry.field(description="false includes articles that do not say.")
    count: int


@strawberry.type(description="Counts over the articles a filter and search select.")
class ArticleFacets:
    total_count: int
    topics: list[TopicCount]
    providers: list[ProviderCount]
    months: list[MonthCount]
    published: list[PublishedCount]


@strawberry.type
class ArticleEdge:
    cursor: str
    node: Article
    highlight: str | None = strawberry.field(
        description="With a search: a snippet of the best-matching text, terms in <mark>."
    )


@strawberry.type
class ArticleConnection:
    edges: list[ArticleEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Counted only when selected.")


@strawberry.type
class ProviderEdge:
    cursor: str
    node: Provider


@strawberry.type
class ProviderConnection:
    edges: list[ProviderEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class TopicEdge:
    cursor: str
    node: Topic


@strawberry.type
class TopicConnection:
    edges: list[TopicEdge]
    page_info: PageInfo
    total_count: int


def _watching(parent: strawberry.Parent[Any], info: Info) -> bool:
    return bool(info.context.depends_on_process_state(parent, "watching"))


def _observer_kind(parent: strawberry.Parent[Any], info: Info) -> str | None:
    kind: str | None = info.context.depends_on_process_state(parent, "observer_kind")
    return kind


def _last_event_at(parent: strawberry.Parent[Any], info: Info) -> DateTime | None:
    at: DateTime | None = info.context.depends_on_process_state(parent, "last_event_at")
    return at


def _queue_depth(parent: strawberry.Parent[Any], info: Info) -> int | None:
    depth: int | None = info.context.depends_on_process_state(parent, "queue_depth")
    return depth


@strawberry.type
class IngestStatus:
    article_count: int
    provider_count: int
    topic_count: int
    skipped_count: int
    error_count: int
    last_ingest_at: DateTime | None = strawberry.field(description="Newest stored change.")
    last_change_cursor: str = strawberry.field(
        description="Cursor of the newest change: read, then subscribe to articleEvents with "
        "`since` set to it to miss nothing in between."
    )

    # This process's watcher state, not stored data: a response that selects any of these
    # is never cached (see `Context.depends_on_process_state`).
    watching: bool = strawberry.field(
        resolver=_watching,
        description="Whether this process watches the content root (false under "
        "`serve --no-watch`, where another process writes).",
    )
    observer_kind: str | None = strawberry.field(
        resolver=_observer_kind, description="`inotify` or `polling`; null when not watching."
    )
    last_event_at: DateTime | None = strawberry.field(
        resolver=_last_event_at, description="Last file-system event this process's watcher saw."
    )
    queue_depth: int | None = strawberry.field(
        resolver=_queue_depth,
        description="Paths waiting to be ingested; null when this process does not watch.",
    )


@strawberry.type(description="A file that could not be ingested, and where and why.")
class IngestError:
    path: str
    line: int | None
    column: int | None
    field: str | None
    message: str
    first_seen: DateTime
    last_seen: DateTime


@strawberry.type
class IngestErrorEdge:
    cursor: str
    node: IngestError


@strawberry.type
class IngestErrorConnection:
    edges: list[IngestErrorEdge]
    page_info: PageInfo
    total_count: int
