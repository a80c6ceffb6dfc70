"""The per-request set of loaders: one batch cache per relation, built in one cheap call.

A `Loaders` lives exactly as long as one request (or one subscription event): its caches must
never serve one request's rows to the next, or a reader could see an article that has since
changed. Loaders are created lazily on first use, so `Loaders(reader)` costs a few hundred
nanoseconds and a subscription can afford a fresh one per event.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from newsgraph.db import mentions, reads
from newsgraph.db.pool import Reader
from newsgraph.db.rows import ImageRow
from newsgraph.gql.batching import Batcher, Loader
from newsgraph.gql.nodes import ArticleNode, ProviderNode, RelatedNode, TopicNode, adopt

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
MentionKey = tuple[str, int, tuple[Any, ...] | None]  # url, page size, cursor key
MentionPage = tuple[list[ArticleNode], list[tuple[Any, ...]], bool]
RankedKey = tuple[int, int]  # owner id, limit
Ranked = Sequence[tuple[TopicNode, int]]


@dataclass
class Loaders:
    """Every loader of one request. Build with `Loaders(reader)`."""

    reader: Reader  # the request's snapshot (or the pool, outside a request)
    batcher: Batcher = field(init=False)

    def __post_init__(self) -> None:
        self.batcher = Batcher(self.reader)

    def _loader(
        self, fetch: Callable[[sqlite3.Connection, list[K]], Mapping[K, V]], default: V
    ) -> Loader[K, V]:
        return Loader(self.batcher, fetch, default)

    # -- objects by key ----------------------------------------------------------------------

    @cached_property
    def article_by_path(self) -> Loader[str, ArticleNode | None]:
        return self._loader(self.fetch_articles_by_path, None)

    @cached_property
    def article_by_web_url(self) -> Loader[str, ArticleNode | None]:
        return self._loader(self.fetch_articles_by_web_url, None)

    @cached_property
    def provider(self) -> Loader[int, ProviderNode | None]:
        return self._loader(self.fetch_providers, None)

    @cached_property
    def provider_by_domain(self) -> Loader[str, ProviderNode | None]:
        return self._loader(self.fetch_providers_by_domain, None)

    @cached_property
    def topic_by_key(self) -> Loader[str, TopicNode | None]:
        return self._loader(self.fetch_topics_by_key, None)

    # -- relations ---------------------------------------------------------------------------

    @cached_property
    def article_images(self) -> Loader[int, Sequence[ImageRow]]:
        return self._loader(reads.article_images, ())

    @cached_property
    def related_images(self) -> Loader[int, Sequence[ImageRow]]:
        return self._loader(reads.related_images, ())

    @cached_property
    def provider_images(self) -> Loader[int, Sequence[ImageRow]]:
        return self._loader(reads.provider_images, ())

    @cached_property
    def article_topics(self) -> Loader[int, Sequence[TopicNode]]:
        return self._loader(self.fetch_article_topics, ())

    @cached_property
    def related(self) -> Loader[int, Sequence[RelatedNode]]:
        return self._loader(self.fetch_related, ())

    @cached_property
    def provider_article_count(self) -> Loader[int, int]:
        return self._loader(reads.provider_article_counts, 0)

    @cached_property
    def topic_article_count(self) -> Loader[int, int]:
        return self._loader(reads.topic_article_counts, 0)

    @cached_property
    def mention_count(self) -> Loader[str, int]:
        return self._loader(mentions.mention_counts, 0)

    @cached_property
    def mentions(self) -> Loader[MentionKey, MentionPage]:
        return self._loader(self.fetch_mentions, ([], [], False))

    @cached_property
    def top_topics(self) -> Loader[RankedKey, Ranked]:
        return self._loader(self.fetch_top_topics, ())

    @cached_property
    def related_topics(self) -> Loader[RankedKey, Ranked]:
        return self._loader(self.fetch_related_topics, ())

    # -- batch functions (run on a reader thread) --------------------------------------------

    def fetch_articles_by_path(
        self, conn: sqlite3.Connection, keys: list[str]
    ) -> dict[str, ArticleNode]:
        found = reads.articles_by_paths(conn, keys, ArticleNode)
        adopt(found.values(), self)
        return found

    def fetch_articles_by_web_url(
        self, conn: sqlite3.Connection, keys: list[str]
    ) -> dict[str, ArticleNode]:
        found = reads.articles_by_web_urls(conn, keys, ArticleNode)
        adopt(found.values(), self)
        return found

    def fetch_providers(self, conn: sqlite3.Connection, keys: list[int]) -> dict[int, ProviderNode]:
        found = reads.providers_by_ids(conn, keys, ProviderNode)
        adopt(found.values(), self)
        return found

    def fetch_providers_by_domain(
        self, conn: sqlite3.Connection, keys: list[str]
    ) -> dict[str, ProviderNode]:
        found = reads.providers_by_domains(conn, keys, ProviderNode)
        adopt(found.values(), self)
        return found

    def fetch_topics_by_key(
        self, conn: sqlite3.Connection, keys: list[str]
    ) -> dict[str, TopicNode]:
        found = reads.topics_by_keys(conn, keys, TopicNode)
        adopt(found.values(), self)
        return found

    def fetch_article_topics(
        self, conn: sqlite3.Connection, keys: list[int]
    ) -> dict[int, list[TopicNode]]:
        found = reads.article_topics(conn, keys, TopicNode)
        for topics in found.values():
            adopt(topics, self)
        return found

    def fetch_related(
        self, conn: sqlite3.Connection, keys: list[int]
    ) -> dict[int, list[RelatedNode]]:
        found = reads.related_of(conn, keys, RelatedNode)
        for items in found.values():
            adopt(items, self)
        return found

    def fetch_mentions(
        self, conn: sqlite3.Connection, keys: list[MentionKey]
    ) -> dict[MentionKey, MentionPage]:
        """One query per distinct (page size, cursor); normally one for the whole batch."""
        groups: dict[tuple[int, tuple[Any, ...] | None], list[str]] = defaultdict(list)
        for url, size, cursor in keys:
            groups[(size, cursor)].append(url)
        found: dict[MentionKey, MentionPage] = {}
        for (size, cursor), urls in groups.items():
            for url, page in mentions.mentioned_by(conn, urls, size, cursor, ArticleNode).items():
                adopt(page[0], self)
                found[(url, size, cursor)] = page
        return found

    def fetch_top_topics(
        self, conn: sqlite3.Connection, keys: list[RankedKey]
    ) -> dict[RankedKey, Ranked]:
        return self._ranked(conn, keys, reads.top_topics_of_providers)

    def fetch_related_topics(
        self, conn: sqlite3.Connection, keys: list[RankedKey]
    ) -> dict[RankedKey, Ranked]:
        return self._ranked(conn, keys, reads.related_topics_of_topics)

    def _ranked(
        self,
        conn: sqlite3.Connection,
        keys: list[RankedKey],
        read: Callable[
            [sqlite3.Connection, Sequence[int], int, type[TopicNode]],
            dict[int, list[tuple[TopicNode, int]]],
        ],
    ) -> dict[RankedKey, Ranked]:
        by_limit: dict[int, list[int]] = defaultdict(list)
        for owner, limit in keys:
            by_limit[limit].append(owner)
        found: dict[RankedKey, Ranked] = {}
        for limit, owners in by_limit.items():
            for owner, ranked in read(conn, owners, limit, TopicNode).items():
                adopt((topic for topic, _ in ranked), self)
                found[(owner, limit)] = ranked
        return found
