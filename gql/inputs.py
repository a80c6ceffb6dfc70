"""Input types and enums, and their translation into the store's query specs."""

from __future__ import annotations

from enum import Enum

import strawberry

from newsgraph.db.articles import OrderField, OrderSpec
from newsgraph.db.convert import domain_key, topic_key
from newsgraph.db.filters import ArticleFilterSpec
from newsgraph.gql.errors import BadArgument
from newsgraph.gql.scalars import DateTime

MAX_FILTER_DEPTH = 8


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum(description="What articles can be ordered by.")
class ArticleOrderField(Enum):
    PUBLISHED_AT = "published_at"
    QUALITY = "quality"
    HEAT = "heat"
    TITLE = "title"
    RELEVANCE = "relevance"


@strawberry.enum(description="What providers can be ordered by.")
class ProviderOrderField(Enum):
    NAME = "name"
    DOMAIN = "domain"
    ARTICLE_COUNT = "article_count"


@strawberry.enum(description="What topics can be ordered by.")
class TopicOrderField(Enum):
    NAME = "name"
    ARTICLE_COUNT = "article_count"


@strawberry.enum(
    description='How `search` text is read. SIMPLE: words are ANDed, `"a phrase"`, `prefix*`, '
    "`a OR b`; nothing else is special, so any text is safe. FTS5: SQLite FTS5 query syntax "
    "(NEAR, column filters, NOT); malformed syntax is a BAD_USER_INPUT error."
)
class SearchMode(Enum):
    SIMPLE = "simple"
    FTS5 = "fts5"


@strawberry.input(description="One sort key; quality and heat sort missing values lowest.")
class ArticleOrder:
    field: ArticleOrderField
    direction: OrderDirection = OrderDirection.DESC


@strawberry.input
class ProviderOrder:
    field: ProviderOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class TopicOrder:
    field: TopicOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(
    description="Every field given narrows the set (AND). Topic names and provider domains are "
    "case-insensitive. `and`/`or` combine nested filters; `not` excludes articles matching "
    "any of its filters."
)
class ArticleFilter:
    topics: list[str] | None = strawberry.field(default=None, description="Any of these topics.")
    all_topics: list[str] | None = strawberry.field(default=None, description="All of these.")
    provider_domains: list[str] | None = None
    category: str | None = None
    type: str | None = None
    published: bool | None = strawberry.field(
        default=None, description="false also matches articles that do not say."
    )
    quality_min: int | None = None
    quality_max: int | None = None
    heat_min: int | None = None
    heat_max: int | None = None
    published_after: DateTime | None = strawberry.field(default=None, description="Inclusive.")
    published_before: DateTime | None = strawberry.field(default=None, description="Exclusive.")
    has_images: bool | None = None
    and_: list[ArticleFilter] | None = strawberry.field(default=None, name="and")
    or_: list[ArticleFilter] | None = strawberry.field(default=None, name="or")
    not_: list[ArticleFilter] | None = strawberry.field(default=None, name="not")


def filter_spec(given: ArticleFilter | None, depth: int = 0) -> ArticleFilterSpec | None:
    """The store's spec for a filter input (topic names become keys, domains lower case)."""
    if given is None:
        return None
    if depth > MAX_FILTER_DEPTH:
        raise BadArgument(f"`filter` nests and/or/not deeper than {MAX_FILTER_DEPTH} levels")

    def nested(filters: list[ArticleFilter] | None) -> tuple[ArticleFilterSpec, ...]:
        return tuple(spec for f in filters or () if (spec := filter_spec(f, depth + 1)) is not None)

    return ArticleFilterSpec(
        topics=None if given.topics is None else tuple(topic_key(t) for t in given.topics),
        all_topics=(
            None if given.all_topics is None else tuple(topic_key(t) for t in given.all_topics)
        ),
        provider_domains=(
            None
            if given.provider_domains is None
            else tuple(domain_key(d) for d in given.provider_domains)
        ),
        category=given.category,
        type=given.type,
        published=given.published,
        quality_min=given.quality_min,
        quality_max=given.quality_max,
        heat_min=given.heat_min,
        heat_max=given.heat_max,
        published_after=given.published_after,
        published_before=given.published_before,
        has_images=given.has_images,
        and_=nested(given.and_),
        or_=nested(given.or_),
        not_=nested(given.not_),
    )


def article_order(order_by: list[ArticleOrder] | None, searching: bool) -> tuple[OrderSpec, ...]:
    """The ordering to use: as given, else newest first (most relevant first when searching)."""
    if not order_by:
        field: OrderField = "relevance" if searching else "published_at"
        return (OrderSpec(field, descending=True),)
    if len(order_by) > 4:
        raise BadArgument("`orderBy` takes at most 4 keys")
    specs: list[OrderSpec] = []
    for order in order_by:
        if order.field is ArticleOrderField.RELEVANCE and not searching:
            raise BadArgument("ordering by RELEVANCE needs a `search`")
        specs.append(OrderSpec(order.field.value, order.direction is OrderDirection.DESC))
    return tuple(specs)


def order_signature(order: tuple[OrderSpec, ...]) -> str:
    """A short tag of an ordering, carried in cursors to refuse ones from another ordering."""
    return ",".join(spec.field + ("-" if spec.descending else "+") for spec in order)
