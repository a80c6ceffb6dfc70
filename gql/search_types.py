"""The site-wide `search` result: a union of every node type, with highlights."""

from __future__ import annotations

from typing import Annotated

import strawberry

from newsgraph.gql.entry_inputs import ContentCollection
from newsgraph.gql.entry_types import Event, LearningResource, Organization, Person
from newsgraph.gql.types import Article, PageInfo

SearchResult = Annotated[
    Article | Event | Person | Organization | LearningResource,
    strawberry.union("SearchResult", description="Anything `search` can find."),
]


@strawberry.type
class SearchEdge:
    cursor: str
    node: SearchResult
    highlight: str | None = strawberry.field(
        description="A snippet of the best-matching text, matched terms in <mark>."
    )

    collection: ContentCollection = strawberry.field(description="The node's collection.")


@strawberry.type(description="Search results, most relevant first, paged by cursor.")
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo
