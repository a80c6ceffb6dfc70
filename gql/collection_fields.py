"""Resolvers of the collection fields: root connections and lookups, `Topic`'s collections,
facets and the site-wide `search`.

Return types are lazy references to `gql.entry_types` so `gql.types` (whose `Topic` uses these
resolvers) and `gql.entry_types` (whose types use `Topic`) do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from newsgraph.db.convert import topic_key
from newsgraph.db.entry_reads import EntryFilterSpec
from newsgraph.db.records import CollectionName
from newsgraph.gql.context import Info
from newsgraph.gql.entry_connections import (
    entries_by_path,
    entry_connection,
    facets,
    search_connection,
)
from newsgraph.gql.entry_inputs import (
    ContentCollection,
    EntryOrder,
    EventFilter,
    EventOrder,
    LearningFilter,
    ProfileFilter,
    entry_ordering,
    event_ordering,
    event_spec,
    learning_spec,
    profile_spec,
)
from newsgraph.gql.entry_nodes import COLLECTION_OF_TYPE, EntryNode
from newsgraph.gql.errors import BadArgument
from newsgraph.gql.ids import decode_id
from newsgraph.gql.inputs import SearchMode

if TYPE_CHECKING:
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
    from newsgraph.gql.nodes import TopicNode
    from newsgraph.gql.search_types import SearchConnection

_TYPES = "newsgraph.gql.entry_types"
_SEARCH = "newsgraph.gql.search_types"


# -- connections (root, and scoped to a topic) ------------------------------------------------


async def events(
    info: Info,
    filter: EventFilter | None = None,
    order_by: EventOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[EventConnection, strawberry.lazy(_TYPES)]:
    spec = event_spec(filter)
    return cast(
        "EventConnection",
        await entry_connection(info, spec, event_ordering(order_by), first, after, last, before),
    )


async def _profiles(
    info: Info,
    collection: CollectionName,
    filter: ProfileFilter | None,
    order_by: EntryOrder | None,
    page: tuple[int | None, str | None, int | None, str | None],
    topic_id: int | None = None,
) -> Any:
    spec = profile_spec(collection, filter, topic_id)
    return await entry_connection(info, spec, entry_ordering(order_by), *page)


async def people(
    info: Info,
    filter: ProfileFilter | None = None,
    order_by: EntryOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[PersonConnection, strawberry.lazy(_TYPES)]:
    page = (first, after, last, before)
    return cast("PersonConnection", await _profiles(info, "person", filter, order_by, page))


async def organizations(
    info: Info,
    filter: ProfileFilter | None = None,
    order_by: EntryOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[OrganizationConnection, strawberry.lazy(_TYPES)]:
    page = (first, after, last, before)
    return cast(
        "OrganizationConnection", await _profiles(info, "organization", filter, order_by, page)
    )


async def learning_resources(
    info: Info,
    filter: LearningFilter | None = None,
    order_by: EntryOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[LearningResourceConnection, strawberry.lazy(_TYPES)]:
    spec = learning_spec(filter)
    return cast(
        "LearningResourceConnection",
        await entry_connection(info, spec, entry_ordering(order_by), first, after, last, before),
    )


async def topic_events(
    parent: strawberry.Parent[TopicNode],
    info: Info,
    filter: EventFilter | None = None,
    order_by: EventOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[EventConnection, strawberry.lazy(_TYPES)]:
    spec = event_spec(filter, parent.id)
    return cast(
        "EventConnection",
        await entry_connection(info, spec, event_ordering(order_by), first, after, last, before),
    )


async def topic_people(
    parent: strawberry.Parent[TopicNode],
    info: Info,
    filter: ProfileFilter | None = None,
    order_by: EntryOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[PersonConnection, strawberry.lazy(_TYPES)]:
    page = (first, after, last, before)
    return cast(
        "PersonConnection", await _profiles(info, "person", filter, order_by, page, parent.id)
    )


async def topic_organizations(
    parent: strawberry.Parent[TopicNode],
    info: Info,
    filter: ProfileFilter | None = None,
    order_by: EntryOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[OrganizationConnection, strawberry.lazy(_TYPES)]:
    page = (first, after, last, before)
    return cast(
        "OrganizationConnection",
        await _profiles(info, "organization", filter, order_by, page, parent.id),
    )


async def topic_learning_resources(
    parent: strawberry.Parent[TopicNode],
    info: Info,
    filter: LearningFilter | None = None,
    order_by: EntryOrder | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[LearningResourceConnection, strawberry.lazy(_TYPES)]:
    spec = learning_spec(filter, parent.id)
    return cast(
        "LearningResourceConnection",
        await entry_connection(info, spec, entry_ordering(order_by), first, after, last, before),
    )


# -- facets -----------------------------------------------------------------------------------


def _entry_collection(collection: ContentCollection) -> CollectionName:
    for name in ("event", "person", "organization", "learning"):
        if collection.value == name:
            return name
    raise BadArgument("facets of articles are `articleFacets`; pick another collection")


async def collection_facets(
    info: Info, collection: ContentCollection, topic: str | None = None, limit: int = 20
) -> Annotated[CollectionFacets, strawberry.lazy(_TYPES)]:
    spec = EntryFilterSpec(
        _entry_collection(collection), topic_key=topic_key(topic) if topic else None
    )
    return cast("CollectionFacets", await facets(info, spec, limit))


async def topic_facets(
    parent: strawberry.Parent[TopicNode],
    info: Info,
    collection: ContentCollection,
    limit: int = 20,
) -> Annotated[CollectionFacets, strawberry.lazy(_TYPES)]:
    spec = EntryFilterSpec(_entry_collection(collection), topic_id=parent.id)
    return cast("CollectionFacets", await facets(info, spec, limit))


# -- lookups and search -----------------------------------------------------------------------


async def entry_by(info: Info, node_type: str, id: str | None, path: str | None) -> Any:
    if (id is None) == (path is None):
        raise BadArgument("pass exactly one of `id` or `path`")
    if id is not None:
        found_type, path = decode_id(id)
        if found_type != node_type:
            raise BadArgument(f"{id!r} is the id of a {found_type}, not a {node_type}")
    assert path is not None
    node = (await entries_by_path(info, [path])).get(path)
    if node is None or node.collection != COLLECTION_OF_TYPE[node_type]:  # type: ignore[index]
        return None
    return node


async def event(
    info: Info, id: strawberry.ID | None = None, path: str | None = None
) -> Annotated[Event, strawberry.lazy(_TYPES)] | None:
    return cast("Event | None", await entry_by(info, "Event", id, path))


async def person(
    info: Info, id: strawberry.ID | None = None, path: str | None = None
) -> Annotated[Person, strawberry.lazy(_TYPES)] | None:
    return cast("Person | None", await entry_by(info, "Person", id, path))


async def organization(
    info: Info, id: strawberry.ID | None = None, path: str | None = None
) -> Annotated[Organization, strawberry.lazy(_TYPES)] | None:
    return cast("Organization | None", await entry_by(info, "Organization", id, path))


async def learning_resource(
    info: Info, id: strawberry.ID | None = None, path: str | None = None
) -> Annotated[LearningResource, strawberry.lazy(_TYPES)] | None:
    return cast("LearningResource | None", await entry_by(info, "LearningResource", id, path))


async def entry_nodes(info: Info, keys: Sequence[tuple[str, str]]) -> dict[str, EntryNode]:
    """For `node`/`nodes`: entries by (type, path), only where the type matches the row."""
    found = await entries_by_path(info, [path for _, path in keys])
    wanted = {path: node_type for node_type, path in keys}
    return {
        path: node
        for path, node in found.items()
        if COLLECTION_OF_TYPE.get(wanted[path]) == node.collection  # type: ignore[call-overload]
    }


async def search(
    info: Info,
    query: str,
    collections: list[ContentCollection] | None = None,
    search_mode: SearchMode = SearchMode.SIMPLE,
    first: int | None = None,
    after: str | None = None,
) -> Annotated[SearchConnection, strawberry.lazy(_SEARCH)]:
    chosen = [c.value for c in collections] if collections else [c.value for c in ContentCollection]
    raw = search_mode is SearchMode.FTS5
    return cast("SearchConnection", await search_connection(info, query, chosen, raw, first, after))
