"""What resolvers return for events, people, organizations and learning resources.

An `EntryNode` is the stored row plus the request's loaders, like `ArticleNode`: plain fields
are attribute reads (collection fields kept in `details` are properties), links are properties
that ask a batched loader, so a page of 100 people costs one query per relation, not 100.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from newsgraph.db import entry_reads
from newsgraph.db.entry_reads import EntryRow
from newsgraph.db.rows import ImageRow
from newsgraph.gql.batching import Loader, MaybeAwaitable
from newsgraph.gql.entry_inputs import LearningKind
from newsgraph.gql.ids import NodeType, encode_id
from newsgraph.gql.loaders import Loaders
from newsgraph.gql.nodes import ProviderNode, TopicNode, adopt

TYPE_OF_COLLECTION: dict[str, NodeType] = {
    "event": "Event",
    "person": "Person",
    "organization": "Organization",
    "learning": "LearningResource",
}
COLLECTION_OF_TYPE = {node_type: name for name, node_type in TYPE_OF_COLLECTION.items()}
_KINDS = frozenset(kind.value for kind in LearningKind)


@dataclass(frozen=True, slots=True)
class HeadingValue:
    depth: int
    text: str
    id: str


@dataclass(frozen=True, slots=True)
class ProfileValue:
    """A social profile (`twitter`, `linkedin`, ...): whichever of these the format gives."""

    url: str | None = None
    username: str | None = None
    followers: int | None = None
    citations: int | None = None


@dataclass(frozen=True, slots=True)
class RatingsValue:
    count: int | None
    average: float | None


@dataclass(frozen=True, slots=True)
class AffiliationValue:
    """A person's affiliation as written, and what it links to when that is ingested."""

    name: str | None
    domain: str
    person: EntryNode

    @property
    def provider(self) -> MaybeAwaitable[ProviderNode | None]:
        return self.person.affiliation_provider

    @property
    def organization(self) -> MaybeAwaitable[EntryNode | None]:
        return self.person.affiliation_organization


class _Detail:
    """A field of the collection's format kept in `details` (validated at parse time)."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, node: EntryNode | None, owner: type) -> Any:
        return None if node is None else node.details.get(self.key)


class _Profile(_Detail):
    def __get__(self, node: EntryNode | None, owner: type) -> Any:
        found = None if node is None else node.details.get(self.key)
        return ProfileValue(**found) if found else None


class EntryNode(EntryRow):
    __slots__ = ("loaders",)
    loaders: EntryLoaders

    website = _Detail("website")
    original_url = _Detail("originalUrl")
    tags = _Detail("tags")
    removed = _Detail("removed")
    published = _Detail("published")
    locations = _Detail("locations")
    size = _Detail("size")
    year_founded = _Detail("yearFounded")
    funding_status = _Detail("fundingStatus")
    videos = _Detail("videos")
    web_url = _Detail("webUrl")
    price = _Detail("price")
    length = _Detail("length")
    length_seconds = _Detail("lengthSeconds")
    published_at = _Detail("publishedAt")
    authors = _Detail("authors")
    publishers = _Detail("publishers")
    featured_content = _Detail("featuredContent")
    twitter = _Profile("twitter")
    linkedin = _Profile("linkedin")
    google_scholar = _Profile("googleScholar")
    wikipedia = _Profile("wikipedia")
    crunchbase = _Profile("crunchbase")

    @property
    def gid(self) -> str:
        return encode_id(TYPE_OF_COLLECTION[self.collection], self.path)

    def detail(self, key: str) -> Any:
        return self.details.get(key)

    @property
    def learning_kind(self) -> LearningKind | None:
        return LearningKind(self.kind) if self.kind in _KINDS else None

    @property
    def affiliation(self) -> AffiliationValue | None:
        found = self.details.get("affiliation")
        return None if not found else AffiliationValue(found.get("name"), found["domain"], self)

    @property
    def heading_list(self) -> list[HeadingValue]:
        return [HeadingValue(h["depth"], h["text"], h["id"]) for h in self.headings]

    @property
    def image_list(self) -> list[ImageRow]:
        return [
            ImageRow(i["url"], i.get("width"), i.get("height"), i.get("is_cached"), i.get("title"))
            for i in self.images
        ]

    @property
    def ratings(self) -> RatingsValue | None:
        count, average = self.detail("ratingsCount"), self.detail("ratingsAverage")
        return None if count is None and average is None else RatingsValue(count, average)

    @property
    def topic_list(self) -> MaybeAwaitable[Sequence[TopicNode]]:
        return self.loaders.topics.load(self.id)

    @property
    def provider(self) -> MaybeAwaitable[ProviderNode | None]:
        if self.provider_id is None:
            return None
        return self.loaders.base.provider.load(self.provider_id)

    @property
    def items_resolved(self) -> MaybeAwaitable[Sequence[EntryNode]]:
        """A learning collection's items, in order; items not ingested (yet) are left out."""
        return self.loaders.items.load(tuple(self.items))

    @property
    def included_in(self) -> MaybeAwaitable[Sequence[EntryNode]]:
        return self.loaders.collections_containing.load(self.path)

    @property
    def affiliation_provider(self) -> MaybeAwaitable[ProviderNode | None]:
        if self.domain is None:
            return None
        return self.loaders.base.provider_by_domain.load(self.domain)

    @property
    def affiliation_organization(self) -> MaybeAwaitable[EntryNode | None]:
        if self.domain is None:
            return None
        return self.loaders.organization.load(self.domain)

    @property
    def people(self) -> MaybeAwaitable[Sequence[EntryNode]]:
        if self.domain is None:
            return ()
        return self.loaders.people.load(self.domain)


def adopt_entries(rows: Sequence[EntryRow], loaders: EntryLoaders) -> list[EntryNode]:
    """Turn rows into nodes that answer their links through the request's loaders."""
    nodes: list[EntryNode] = []
    for row in rows:
        node = EntryNode.__new__(EntryNode)
        for name in EntryRow.__slots__:
            object.__setattr__(node, name, getattr(row, name))
        node.loaders = loaders
        nodes.append(node)
    return nodes


@dataclass
class EntryLoaders:
    """The entry relations of one request, batched on the request's own `Loaders`."""

    base: Loaders

    def _loader(self, fetch: Any, default: Any) -> Loader[Any, Any]:
        return Loader(self.base.batcher, fetch, default)

    @cached_property
    def by_path(self) -> Loader[str, EntryNode | None]:
        return self._loader(self._by_path, None)

    @cached_property
    def topics(self) -> Loader[int, Sequence[TopicNode]]:
        return self._loader(self._topics, ())

    @cached_property
    def items(self) -> Loader[tuple[str, ...], Sequence[EntryNode]]:
        return self._loader(self._items, ())

    @cached_property
    def collections_containing(self) -> Loader[str, Sequence[EntryNode]]:
        return self._loader(self._containing, ())

    @cached_property
    def organization(self) -> Loader[str, EntryNode | None]:
        return self._loader(self._organization, None)

    @cached_property
    def people(self) -> Loader[str, Sequence[EntryNode]]:
        return self._loader(self._people, ())

    # -- batch functions (run on a reader thread) --------------------------------------------

    def fetch_by_path(self, conn: sqlite3.Connection, paths: list[str]) -> dict[str, EntryNode]:
        found = entry_reads.entries_by_path(conn, paths)
        return {node.path: node for node in adopt_entries(list(found.values()), self)}

    _by_path = fetch_by_path

    def _topics(self, conn: sqlite3.Connection, ids: list[int]) -> Mapping[int, list[TopicNode]]:
        found = entry_reads.entry_topics(conn, ids)
        result: dict[int, list[TopicNode]] = {}
        for entry_id, rows in found.items():
            nodes = [TopicNode(row.id, row.key, row.name, row.slug) for row in rows]
            adopt(nodes, self.base)
            result[entry_id] = nodes
        return result

    def _items(
        self, conn: sqlite3.Connection, keys: list[tuple[str, ...]]
    ) -> dict[tuple[str, ...], list[EntryNode]]:
        return {
            key: adopt_entries(entry_reads.collection_items(conn, list(key)), self) for key in keys
        }

    def _containing(self, conn: sqlite3.Connection, paths: list[str]) -> dict[str, list[EntryNode]]:
        return {
            path: adopt_entries(entry_reads.collections_containing(conn, path), self)
            for path in paths
        }

    def _organization(self, conn: sqlite3.Connection, domains: list[str]) -> dict[str, EntryNode]:
        found: dict[str, EntryNode] = {}
        for domain in domains:
            row = entry_reads.organization_for_domain(conn, domain)
            if row is not None:
                found[domain] = adopt_entries([row], self)[0]
        return found

    def _people(self, conn: sqlite3.Connection, domains: list[str]) -> dict[str, list[EntryNode]]:
        return {
            domain: adopt_entries(entry_reads.people_of_organization(conn, domain), self)
            for domain in domains
        }


def entry_loaders(loaders: Loaders) -> EntryLoaders:
    """The entry loaders of the request whose `Loaders` this is (made on first use)."""
    found = vars(loaders).get("entries")
    if found is None:
        found = vars(loaders)["entries"] = EntryLoaders(loaders)
    assert isinstance(found, EntryLoaders)
    return found
