"""The root `Query` type: entry points into articles, providers, topics and the ingest."""

from __future__ import annotations

from typing import cast

import strawberry

from newsgraph.gql import collection_fields, lookups
from newsgraph.gql.connections import article_connection
from newsgraph.gql.context import Info
from newsgraph.gql.entry_types import (
    CollectionFacets,
    Event,
    EventConnection,
    LearningResource,
    LearningResourceConnection,
    Organization,
    OrganizationConnection,
    Person,
    PersonConnection,
)
from newsgraph.gql.inputs import ArticleFilter, ArticleOrder, ProviderOrder, SearchMode, TopicOrder
from newsgraph.gql.search_types import SearchConnection
from newsgraph.gql.types import (
    Article,
    ArticleConnection,
    ArticleFacets,
    IngestErrorConnection,
    IngestStatus,
    Node,
    Provider,
    ProviderConnection,
    Topic,
    TopicConnection,
)


async def _node(info: Info, id: strawberry.ID) -> Node | None:
    return cast("Node | None", await lookups.node_by_id(info, id))


async def _nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    return cast("list[Node | None]", await lookups.nodes_by_ids(info, list(ids)))


async def _article(
    info: Info,
    id: strawberry.ID | None = None,
    path: str | None = None,
    web_url: str | None = None,
) -> Article | None:
    return cast("Article | None", await lookups.article_by(info, id, path, web_url))


async def _articles(
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
    connection = await article_connection(
        info, filter=filter, search=search, search_mode=search_mode, order_by=order_by,
        first=first, after=after, last=last, before=before,
    )  # fmt: skip
    return cast("ArticleConnection", connection)


async def _article_facets(
    info: Info,
    filter: ArticleFilter | None = None,
    search: str | None = None,
    search_mode: SearchMode = SearchMode.SIMPLE,
    limit: int = 20,
) -> ArticleFacets:
    return cast("ArticleFacets", await lookups.facets(info, filter, search, search_mode, limit))


async def _provider(info: Info, domain: str) -> Provider | None:
    return cast("Provider | None", await lookups.provider_by_domain(info, domain))


async def _providers(
    info: Info,
    search: str | None = None,
    order_by: ProviderOrder | None = None,
    first: int | None = None,
    after: str | None = None,
) -> ProviderConnection:
    connection = await lookups.provider_connection(info, search, order_by, first, after)
    return cast("ProviderConnection", connection)


async def _topic(info: Info, name: str) -> Topic | None:
    return cast("Topic | None", await lookups.topic_by_name(info, name))


async def _topics(
    info: Info,
    search: str | None = None,
    order_by: TopicOrder | None = None,
    first: int | None = None,
    after: str | None = None,
) -> TopicConnection:
    connection = await lookups.topic_connection(info, search, order_by, first, after)
    return cast("TopicConnection", connection)


async def _ingest_status(info: Info) -> IngestStatus:
    return cast("IngestStatus", await lookups.ingest_status(info))


async def _ingest_errors(
    info: Info, first: int | None = None, after: str | None = None
) -> IngestErrorConnection:
    return cast("IngestErrorConnection", await lookups.ingest_errors(info, first, after))


@strawberry.type
class Query:
    node: Node | None = strawberry.field(resolver=_node, description="Any object by its id.")
    nodes: list[Node | None] = strawberry.field(
        resolver=_nodes, description="Objects by id, in order; null where none (max 100)."
    )
    article: Article | None = strawberry.field(
        resolver=_article,
        description="One article by exactly one of: id, path (relative to the content root), "
        "or webUrl (the smallest path wins when files share a URL).",
    )
    articles: ArticleConnection = strawberry.field(
        resolver=_articles,
        description="Articles, filtered, searched and ordered (newest first by default, most "
        "relevant first when searching), paged by cursor. first/last default 20, max 100.",
    )
    article_facets: ArticleFacets = strawberry.field(
        resolver=_article_facets,
        description="Counts by topic, provider, month and published over the selection.",
    )
    provider: Provider | None = strawberry.field(
        resolver=_provider, description="A provider by domain (case-insensitive)."
    )
    providers: ProviderConnection = strawberry.field(
        resolver=_providers, description="Providers whose name or domain contains `search`."
    )
    topic: Topic | None = strawberry.field(
        resolver=_topic, description="A topic by name (case-insensitive)."
    )
    topics: TopicConnection = strawberry.field(
        resolver=_topics, description="Topics whose name contains `search`."
    )
    ingest_status: IngestStatus = strawberry.field(
        resolver=_ingest_status, description="What is stored now, and the newest change."
    )
    ingest_errors: IngestErrorConnection = strawberry.field(
        resolver=_ingest_errors, description="Files that could not be ingested, by path."
    )
    events: EventConnection = strawberry.field(
        resolver=collection_fields.events,
        description="Events, soonest first by default; filter by time, dates, location, topic.",
    )
    event: Event | None = strawberry.field(
        resolver=collection_fields.event, description="One event by id or path."
    )
    people: PersonConnection = strawberry.field(
        resolver=collection_fields.people,
        description="People, by heat (highest first) or name; filter by name, location, topic.",
    )
    person: Person | None = strawberry.field(
        resolver=collection_fields.person, description="One person by id or path."
    )
    organizations: OrganizationConnection = strawberry.field(
        resolver=collection_fields.organizations,
        description="Organizations, by heat (highest first) or name.",
    )
    organization: Organization | None = strawberry.field(
        resolver=collection_fields.organization, description="One organization by id or path."
    )
    learning_resources: LearningResourceConnection = strawberry.field(
        resolver=collection_fields.learning_resources,
        description="Videos, articles, courses, books and collections to learn from; filter by "
        "kind, level, free or not, topic.",
    )
    learning_resource: LearningResource | None = strawberry.field(
        resolver=collection_fields.learning_resource,
        description="One learning resource by id or path.",
    )
    collection_facets: CollectionFacets = strawberry.field(
        resolver=collection_fields.collection_facets,
        description="Counts by kind, level, location, free and topic over one collection "
        "(optionally one topic's part of it). Articles have `articleFacets`.",
    )
    search: SearchConnection = strawberry.field(
        resolver=collection_fields.search,
        description="Every collection (or those listed) searched at once, most relevant first, "
        "with highlights, paged by cursor. Same syntax as `articles(search:)`.",
    )
