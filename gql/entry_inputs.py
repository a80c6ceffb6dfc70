"""Filter and order inputs of the event, people, organization and learning connections."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import strawberry

from newsgraph.db.convert import to_db_time, topic_key, utc_now
from newsgraph.db.entry_reads import EntryFilterSpec, EntryOrderField
from newsgraph.db.records import CollectionName
from newsgraph.gql.inputs import OrderDirection
from newsgraph.gql.scalars import DateTime


@strawberry.enum(description="What a learning resource is (its `type` key).")
class LearningKind(Enum):
    VIDEO = "video"
    ARTICLE = "article"
    COURSE = "course"
    BOOK = "book"
    COLLECTION = "collection"


@strawberry.enum(description="A collection of the content folder (see `collections`).")
class ContentCollection(Enum):
    ARTICLE = "article"
    EVENT = "event"
    PERSON = "person"
    ORGANIZATION = "organization"
    LEARNING = "learning"


@strawberry.enum(description="Events that are not over yet, or over.")
class EventTime(Enum):
    UPCOMING = "upcoming"
    PAST = "past"


@strawberry.enum(description="What events can be ordered by.")
class EventOrderField(Enum):
    START_DATE = "starts_at"
    NAME = "name"


@strawberry.enum(description="What people, organizations and learning resources are ordered by.")
class EntryOrderBy(Enum):
    HEAT = "heat"
    NAME = "name"


@strawberry.input(description="Event ordering; soonest first by default.")
class EventOrder:
    field: EventOrderField = EventOrderField.START_DATE
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="Ordering of people, organizations and learning resources.")
class EntryOrder:
    field: EntryOrderBy = EntryOrderBy.HEAT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.input(description="Event filters; all given conditions must hold.")
class EventFilter:
    when: EventTime | None = strawberry.field(
        default=None,
        description="UPCOMING: ends (or, without an end, starts) now or later; PAST: before.",
    )
    starts_after: DateTime | None = strawberry.field(default=None, description="Inclusive.")
    starts_before: DateTime | None = strawberry.field(default=None, description="Exclusive.")
    location: str | None = strawberry.field(
        default=None, description="Location contains this text (case-insensitive)."
    )
    topic: str | None = strawberry.field(default=None, description="Has this topic.")


@strawberry.input(description="Filters of people and organizations.")
class ProfileFilter:
    name: str | None = strawberry.field(
        default=None, description="Name contains this text (case-insensitive)."
    )
    location: str | None = strawberry.field(
        default=None, description="A location contains this text (case-insensitive)."
    )
    min_heat: int | None = None
    topic: str | None = strawberry.field(default=None, description="Has this topic.")


@strawberry.input(description="Learning resource filters; all given conditions must hold.")
class LearningFilter:
    kinds: list[LearningKind] | None = strawberry.field(
        default=None, description="Any of these kinds."
    )
    level: str | None = strawberry.field(
        default=None, description="Lists this level (`Beginner`, ...; case-insensitive)."
    )
    free: bool | None = strawberry.field(
        default=None, description="Free (`Free`, `Free+`, zero price) or not; unpriced never match."
    )
    name: str | None = strawberry.field(
        default=None, description="Title contains this text (case-insensitive)."
    )
    topic: str | None = strawberry.field(default=None, description="Has this topic.")


@dataclass(frozen=True, slots=True)
class Ordering:
    field: EntryOrderField
    descending: bool

    @property
    def signature(self) -> str:
        return f"entry:{self.field}:{'d' if self.descending else 'a'}"


def event_spec(filter: EventFilter | None, topic_id: int | None = None) -> EntryFilterSpec:
    if filter is None:
        return EntryFilterSpec("event", topic_id=topic_id)
    now = to_db_time(utc_now())
    return EntryFilterSpec(
        "event",
        topic_id=topic_id,
        topic_key=topic_key(filter.topic) if filter.topic else None,
        location_contains=filter.location,
        starts_from=filter.starts_after,
        starts_before=filter.starts_before,
        ends_from=now if filter.when is EventTime.UPCOMING else None,
        ends_before=now if filter.when is EventTime.PAST else None,
    )


def profile_spec(
    collection: CollectionName, filter: ProfileFilter | None, topic_id: int | None = None
) -> EntryFilterSpec:
    if filter is None:
        return EntryFilterSpec(collection, topic_id=topic_id)
    return EntryFilterSpec(
        collection,
        topic_id=topic_id,
        topic_key=topic_key(filter.topic) if filter.topic else None,
        name_contains=filter.name,
        location_contains=filter.location,
        min_heat=filter.min_heat,
    )


def learning_spec(filter: LearningFilter | None, topic_id: int | None = None) -> EntryFilterSpec:
    if filter is None:
        return EntryFilterSpec("learning", topic_id=topic_id)
    return EntryFilterSpec(
        "learning",
        topic_id=topic_id,
        topic_key=topic_key(filter.topic) if filter.topic else None,
        name_contains=filter.name,
        kinds=tuple(kind.value for kind in filter.kinds or ()),
        level=filter.level,
        free=filter.free,
    )


def event_ordering(order: EventOrder | None) -> Ordering:
    order = order or EventOrder()
    return Ordering(_field(order.field.value), order.direction is OrderDirection.DESC)


def entry_ordering(order: EntryOrder | None) -> Ordering:
    order = order or EntryOrder()
    return Ordering(_field(order.field.value), order.direction is OrderDirection.DESC)


def _field(value: str) -> EntryOrderField:
    if value == "starts_at":
        return "starts_at"
    if value == "heat":
        return "heat"
    return "name"
