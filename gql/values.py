"""Small runtime values for counted things (facets, top topics)."""

from __future__ import annotations

from newsgraph.gql.nodes import ProviderNode, TopicNode


class TopicCountValue:
    __slots__ = ("count", "topic")

    def __init__(self, topic: TopicNode, count: int) -> None:
        self.topic = topic
        self.count = count


class ProviderCountValue:
    __slots__ = ("count", "provider")

    def __init__(self, provider: ProviderNode, count: int) -> None:
        self.provider = provider
        self.count = count


class MonthCountValue:
    __slots__ = ("count", "month")

    def __init__(self, month: str, count: int) -> None:
        self.month = month
        self.count = count


class PublishedCountValue:
    __slots__ = ("count", "published")

    def __init__(self, published: bool, count: int) -> None:
        self.published = published
        self.count = count


class FacetsValue:
    __slots__ = ("months", "providers", "published", "topics", "total_count")

    def __init__(
        self,
        total_count: int,
        topics: list[TopicCountValue],
        providers: list[ProviderCountValue],
        months: list[MonthCountValue],
        published: list[PublishedCountValue],
    ) -> None:
        self.total_count = total_count
        self.topics = topics
        self.providers = providers
        self.months = months
        self.published = published
