"""What resolvers actually return: store rows plus the request's loaders.

The Strawberry types in `gql.types` only *declare* the schema; at run time each Article is an
`ArticleNode`, a subclass of the row the store read, so plain fields (`title`, `webUrl`) are
attribute reads with no resolver. Relations are properties that ask the request's loaders, which
answer synchronously when a prefetch primed them and with a future otherwise; either way the
field is a Strawberry "basic" field that skips resolver machinery (argument parsing, Info
objects), the largest per-field cost in a Strawberry query. Fields with arguments
(`mentionedBy`, `articles`, `topTopics`) are real resolvers in `gql.types`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from newsgraph.db.rows import ArticleRow, ImageRow, ProviderRow, RelatedRow, TopicRow
from newsgraph.gql.batching import MaybeAwaitable
from newsgraph.gql.ids import encode_id

if TYPE_CHECKING:
    from newsgraph.gql.loaders import Loaders

NO_IMAGES: tuple[ImageRow, ...] = ()


class ArticleNode(ArticleRow):
    __slots__ = ("loaders",)
    loaders: Loaders

    @property
    def gid(self) -> str:
        return encode_id("Article", self.path)

    @property
    def provider(self) -> MaybeAwaitable[ProviderNode | None]:
        if self.provider_id is None:
            return None
        return self.loaders.provider.load(self.provider_id)

    @property
    def images(self) -> MaybeAwaitable[Sequence[ImageRow]]:
        if not self.image_count:  # stored beside the article: no query for imageless ones
            return NO_IMAGES
        return self.loaders.article_images.load(self.id)

    @property
    def topics(self) -> MaybeAwaitable[Sequence[TopicNode]]:
        return self.loaders.article_topics.load(self.id)

    @property
    def related(self) -> MaybeAwaitable[Sequence[RelatedNode]]:
        return self.loaders.related.load(self.id)


class ProviderNode(ProviderRow):
    __slots__ = ("loaders",)
    loaders: Loaders

    @property
    def gid(self) -> str:
        return encode_id("Provider", self.domain)

    @property
    def images(self) -> MaybeAwaitable[Sequence[ImageRow]]:
        return self.loaders.provider_images.load(self.id)

    @property
    def article_count(self) -> MaybeAwaitable[int]:
        return self.loaders.provider_article_count.load(self.id)


class TopicNode(TopicRow):
    __slots__ = ("loaders",)
    loaders: Loaders

    @property
    def gid(self) -> str:
        return encode_id("Topic", self.key)

    @property
    def article_count(self) -> MaybeAwaitable[int]:
        return self.loaders.topic_article_count.load(self.id)


class RelatedNode(RelatedRow):
    __slots__ = ("loaders",)
    loaders: Loaders

    @property
    def provider(self) -> MaybeAwaitable[ProviderNode | None]:
        if self.provider_id is None:
            return None
        return self.loaders.provider.load(self.provider_id)

    @property
    def images(self) -> MaybeAwaitable[Sequence[ImageRow]]:
        return self.loaders.related_images.load(self.id)

    @property
    def article(self) -> MaybeAwaitable[ArticleNode | None]:
        """The ingested article at this item's URL (smallest path if several), else null."""
        return self.loaders.article_by_web_url.load(self.web_url)


Adoptable = ArticleNode | ProviderNode | TopicNode | RelatedNode


def adopt(nodes: Iterable[Adoptable], loaders: Loaders) -> None:
    """Give freshly read nodes the request's loaders (done on the reader thread)."""
    for node in nodes:
        node.loaders = loaders
