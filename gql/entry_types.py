"""The schema's types for events, people, organizations and learning resources.

Names follow schema.org (`Event.startDate`, `Person.affiliation`, `Organization`,
`LearningResource`). They declare; `EntryNode`s are what resolvers return, so most fields are
attribute reads. `is_type_of` tells the `Node` interface and the `SearchResult` union apart.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from newsgraph.gql.entry_inputs import LearningKind
from newsgraph.gql.entry_nodes import EntryNode
from newsgraph.gql.scalars import DateTime
from newsgraph.gql.types import Heading, Image, Node, PageInfo, Provider, Topic


def _is(obj: Any, collection: str) -> bool:
    return isinstance(obj, EntryNode) and obj.collection == collection


@strawberry.type(description="A profile elsewhere; fields the source does not give are null.")
class SocialProfile:
    url: str | None
    username: str | None
    followers: int | None
    citations: int | None = strawberry.field(description="Google Scholar citations.")


@strawberry.type
class Ratings:
    count: int | None
    average: float | None


@strawberry.interface(description="What every collection's item has: a file, a body, topics.")
class Content(Node):
    path: str = strawberry.field(description="File path relative to the content root (POSIX).")
    slug: str
    body: str = strawberry.field(description="The Markdown body, as written.")
    html: str = strawberry.field(description="The body rendered to sanitized HTML at ingest.")
    heading_list: list[Heading] = strawberry.field(name="headings")
    word_count: int
    reading_time_minutes: int
    heat: int | None
    topic_list: list[Topic] = strawberry.field(name="topics")
    image_list: list[Image] = strawberry.field(name="images")
    extra: JSON = strawberry.field(description="Front-matter keys the format does not name.")
    updated_at: DateTime = strawberry.field(description="When the store last changed it.")


@strawberry.type(description="An event (conference, workshop, ...), one file of `_events/`.")
class Event(Content):
    name: str
    excerpt: str | None
    kind: str | None = strawberry.field(name="type", description="`conference`, ...")
    starts_at: DateTime = strawberry.field(name="startDate")
    ends_at: DateTime | None = strawberry.field(name="endDate")
    location: str | None
    website: str | None
    original_url: str | None
    tags: list[str]
    removed: bool | None
    published: bool | None
    provider: Provider | None = strawberry.field(description="The organizer.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: object) -> bool:
        return _is(obj, "event")


@strawberry.type(description="A person's affiliation as written, linked when ingested.")
class Affiliation:
    name: str | None
    domain: str
    provider: Provider | None = strawberry.field(description="The provider with this domain.")
    organization: Organization | None = strawberry.field(
        description="The organization at this domain (or a parent domain of it)."
    )


@strawberry.type(description="A person, one file of `_people/`.")
class Person(Content):
    name: str
    excerpt: str | None = strawberry.field(name="bio")
    location: str | None
    website: str | None
    affiliation: Affiliation | None
    twitter: SocialProfile | None
    linkedin: SocialProfile | None
    google_scholar: SocialProfile | None
    wikipedia: SocialProfile | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: object) -> bool:
        return _is(obj, "person")


@strawberry.type(description="A company or other organization, one file of `_companies/`.")
class Organization(Content):
    name: str
    excerpt: str | None = strawberry.field(name="overview")
    website: str | None
    domain: str | None = strawberry.field(description="The website's host without `www.`.")
    locations: list[str]
    size: str | None
    year_founded: int | None
    funding_status: str | None
    videos: list[str]
    twitter: SocialProfile | None
    linkedin: SocialProfile | None
    crunchbase: SocialProfile | None
    people: list[Person] = strawberry.field(
        description="People whose affiliation is this organization's domain (or under it)."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: object) -> bool:
        return _is(obj, "organization")


@strawberry.type(description="A video, article, course, book or collection of `_learning/`.")
class LearningResource(Content):
    name: str = strawberry.field(name="title")
    learning_kind: LearningKind = strawberry.field(name="kind")
    excerpt: str | None
    web_url: str | None = strawberry.field(name="url", description="webUrl, else originalUrl.")
    original_url: str | None
    price: str | None = strawberry.field(description="As written: `Free`, `$22.00`, `$$`.")
    free: bool | None = strawberry.field(description="From the price; null without one.")
    length: str | None = strawberry.field(description="As written: `PT10M14S`, `9 hours`.")
    length_seconds: int | None = strawberry.field(description="When length is ISO 8601.")
    published_at: DateTime | None
    levels: list[str]
    ratings: Ratings | None
    authors: list[str]
    publishers: list[str]
    tags: list[str]
    featured_content: str | None = strawberry.field(
        description="Embedded media HTML, sanitized: iframes only from `embed_hosts`, sandboxed."
    )
    provider: Provider | None
    items_resolved: list[LearningResource] = strawberry.field(
        name="items", description="A collection's resources in order (those ingested)."
    )
    included_in: list[LearningResource] = strawberry.field(
        description="The collections that list this resource."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: object) -> bool:
        return _is(obj, "learning")


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many match, on every page.")


@strawberry.type
class PersonEdge:
    cursor: str
    node: Person


@strawberry.type
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many match, on every page.")


@strawberry.type
class OrganizationEdge:
    cursor: str
    node: Organization


@strawberry.type
class OrganizationConnection:
    edges: list[OrganizationEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many match, on every page.")


@strawberry.type
class LearningResourceEdge:
    cursor: str
    node: LearningResource


@strawberry.type
class LearningResourceConnection:
    edges: list[LearningResourceEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many match, on every page.")


@strawberry.type(description="A value and how many of the selection have it.")
class ValueCount:
    value: str
    count: int


@strawberry.type(description="Counts over a collection's selection (a topic page's sidebar).")
class CollectionFacets:
    total: int
    kinds: list[ValueCount] = strawberry.field(description="By `type` (learning: its kind).")
    levels: list[ValueCount]
    locations: list[ValueCount]
    free: list[ValueCount] = strawberry.field(description="`true` / `false`; unpriced left out.")
    topics: list[ValueCount]
