"""Look ahead at what a query selects and read it in the same trip as the page.

Without this, a page of articles costs one executor hop for the page and then one per level of
nesting, with a future (and graphql-core coroutine) per relation per article. Reading the
planned relations right after the page, on the same reader thread, and priming the request's
loaders with them makes the whole nested result resolve synchronously. The plan only ever adds
reads: anything it misses (an unusual shape, a fragment on a deep path) still resolves through
the same loaders, batched, just a hop later. Plans depend only on the query text, so they are
cached per parsed operation.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from newsgraph.db import reads
from newsgraph.gql.batching import Loader
from newsgraph.gql.context import Info
from newsgraph.gql.loaders import Loaders
from newsgraph.gql.nodes import ArticleNode, ProviderNode, RelatedNode

Prime = tuple[Loader[Any, Any], Mapping[Any, Any], Sequence[Any]]
MAX_PLAN_DEPTH = 4


@dataclass(frozen=True, slots=True)
class ProviderPlan:
    images: bool
    article_count: bool


@dataclass(frozen=True, slots=True)
class TopicPlan:
    article_count: bool


@dataclass(frozen=True, slots=True)
class RelatedPlan:
    provider: ProviderPlan | None
    images: bool
    article: ArticlePlan | None


@dataclass(frozen=True, slots=True)
class ArticlePlan:
    provider: ProviderPlan | None
    images: bool
    topics: TopicPlan | None
    related: RelatedPlan | None


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    total: bool
    highlight: bool
    node: ArticlePlan | None


def selected(selections: Iterable[Selection]) -> dict[str, list[SelectedField]]:
    """Fields by name, fragments flattened (directives ignored: a plan may over-read)."""
    found: dict[str, list[SelectedField]] = {}
    stack = list(selections)
    while stack:
        item = stack.pop()
        if isinstance(item, SelectedField):
            found.setdefault(item.name, []).append(item)
        elif isinstance(item, FragmentSpread | InlineFragment):
            stack.extend(item.selections)
    return found


def _children(fields: Sequence[SelectedField]) -> dict[str, list[SelectedField]]:
    return selected(s for f in fields for s in f.selections)


def _provider_plan(fields: Sequence[SelectedField] | None) -> ProviderPlan | None:
    if not fields:
        return None
    inner = _children(fields)
    return ProviderPlan(images="images" in inner, article_count="articleCount" in inner)


def article_plan(fields: Sequence[SelectedField] | None, depth: int = 0) -> ArticlePlan | None:
    if not fields or depth > MAX_PLAN_DEPTH:
        return None
    inner = _children(fields)
    related: RelatedPlan | None = None
    if "related" in inner:
        item = _children(inner["related"])
        related = RelatedPlan(
            provider=_provider_plan(item.get("provider")),
            images="images" in item,
            article=article_plan(item.get("article"), depth + 1),
        )
    topics = None
    if "topics" in inner:
        topics = TopicPlan(article_count="articleCount" in _children(inner["topics"]))
    return ArticlePlan(
        provider=_provider_plan(inner.get("provider")),
        images="images" in inner,
        topics=topics,
        related=related,
    )


PLAN_CACHE_SIZE = 1024
# Least recently used first: a hit moves to the end, a miss beyond the size drops the front.
_PLANS: OrderedDict[tuple[int, tuple[str, ...]], tuple[object, Any]] = OrderedDict()


def _cached(info: Info, build: Any) -> Any:
    """Plans keyed by the parsed operation (kept alive by the parser cache) and field path.

    Bounded by evicting the least recently used plan, so a flood of one-off documents cannot
    push out the plans of the queries a frontend sends all day (a wholesale wipe did).
    """
    operation = info.operation
    path = tuple(key for key in info.path.as_list() if isinstance(key, str))
    key = (id(operation), path)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is operation:
        _PLANS.move_to_end(key)
        return hit[1]
    plan = build(info.selected_fields)
    _PLANS[key] = (operation, plan)
    _PLANS.move_to_end(key)
    while len(_PLANS) > PLAN_CACHE_SIZE:
        _PLANS.popitem(last=False)
    return plan


def connection_plan(info: Info) -> ConnectionPlan:
    def build(fields: list[Selection]) -> ConnectionPlan:
        top = _children([f for f in fields if isinstance(f, SelectedField)])
        edges = _children(top.get("edges", []))
        return ConnectionPlan(
            total="totalCount" in top,
            highlight="highlight" in edges,
            node=article_plan(edges.get("node")),
        )

    plan: ConnectionPlan = _cached(info, build)
    return plan


def node_plan(info: Info) -> ArticlePlan | None:
    """The plan for a field returning articles directly (`article`, `node`, `nodes`)."""

    def build(fields: list[Selection]) -> ArticlePlan | None:
        return article_plan([f for f in fields if isinstance(f, SelectedField)])

    plan: ArticlePlan | None = _cached(info, build)
    return plan


# -- reading the plan (on a reader thread) ---------------------------------------------------


def prefetch_articles(
    conn: sqlite3.Connection,
    plan: ArticlePlan | None,
    articles: Sequence[ArticleNode],
    loaders: Loaders,
    primes: list[Prime],
) -> None:
    """Read every planned relation of `articles`; the caller primes the loaders with `primes`."""
    if plan is None or not articles:
        return
    ids = [article.id for article in articles]
    if plan.provider is not None:
        _prefetch_providers(conn, plan.provider, [a.provider_id for a in articles], loaders, primes)
    if plan.images:
        with_images = [article.id for article in articles if article.image_count]
        primes.append(
            (loaders.article_images, reads.article_images(conn, with_images), with_images)
        )
    if plan.topics is not None:
        topics = loaders.fetch_article_topics(conn, ids)
        primes.append((loaders.article_topics, topics, ids))
        if plan.topics.article_count:
            topic_ids = list({t.id for ts in topics.values() for t in ts})
            counts = reads.topic_article_counts(conn, topic_ids)
            primes.append((loaders.topic_article_count, counts, topic_ids))
    if plan.related is not None:
        related = loaders.fetch_related(conn, ids)
        primes.append((loaders.related, related, ids))
        items = [item for group in related.values() for item in group]
        _prefetch_related(conn, plan.related, items, loaders, primes)


def _prefetch_providers(
    conn: sqlite3.Connection,
    plan: ProviderPlan,
    provider_ids: Iterable[int | None],
    loaders: Loaders,
    primes: list[Prime],
) -> None:
    ids = list({pid for pid in provider_ids if pid is not None})
    if not ids:
        return
    providers: dict[int, ProviderNode] = loaders.fetch_providers(conn, ids)
    primes.append((loaders.provider, providers, ids))
    if plan.images:
        primes.append((loaders.provider_images, reads.provider_images(conn, ids), ids))
    if plan.article_count:
        primes.append(
            (loaders.provider_article_count, reads.provider_article_counts(conn, ids), ids)
        )


def _prefetch_related(
    conn: sqlite3.Connection,
    plan: RelatedPlan,
    items: Sequence[RelatedNode],
    loaders: Loaders,
    primes: list[Prime],
) -> None:
    if not items:
        return
    if plan.provider is not None:
        _prefetch_providers(conn, plan.provider, [i.provider_id for i in items], loaders, primes)
    if plan.images:
        ids = [item.id for item in items]
        primes.append((loaders.related_images, reads.related_images(conn, ids), ids))
    if plan.article is not None:
        urls = list({item.web_url for item in items})
        found = loaders.fetch_articles_by_web_url(conn, urls)
        primes.append((loaders.article_by_web_url, found, urls))
        prefetch_articles(conn, plan.article, list(found.values()), loaders, primes)


def apply_primes(primes: Iterable[Prime]) -> None:
    """Prime the loaders (on the event loop, where their caches are otherwise touched)."""
    for loader, values, keys in primes:
        loader.prime(values, keys)
