"""Rows as the API reads them: slotted dataclasses built from SELECTs, matched by column name.

They differ from `db.records` (what the parser produces) because reads need the store's own
columns (`id`, `provider_id`, `updated_at`) and keep values in their stored spelling: times stay
fixed-width UTC text (already ISO 8601, so the API serves them without a datetime round trip)
and booleans stay SQLite integers (GraphQL's `Boolean` coerces them). They are not frozen: a
frozen dataclass's `__init__` is several times slower, and the API builds thousands per request.

Each SELECT list is generated from the row's own fields (`select_list`), every column named
after the field it fills, and readers match fields to result columns by name once per statement
(`ResultColumns`), so a column added, moved or renamed cannot silently shift values into the
wrong field: a missing or ambiguous name is an error.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import Any, TypeVar

from newsgraph.db.convert import headings_from_json
from newsgraph.db.records import HeadingRecord
from newsgraph.db.sql import column, quote_identifier

Row = TypeVar("Row")


def select_list(row: type[Any], alias: str, **stored_as: str) -> str:
    """The SELECT list reading `row`'s fields from table `alias`, each column named after its
    field; `stored_as` names the stored column where it differs from the field."""
    parts = []
    for field in fields(row):
        stored = stored_as.get(field.name, field.name)
        expr = column(alias, stored)
        parts.append(expr if stored == field.name else f"{expr} AS {quote_identifier(field.name)}")
    return ", ".join(parts)


class ResultColumns:
    """A statement's result columns by name, resolved once per statement rather than per row."""

    __slots__ = ("_ambiguous", "_positions")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._positions: dict[str, int] = {}
        self._ambiguous: set[str] = set()
        for position, description in enumerate(cursor.description or ()):
            name = description[0]
            if name in self._positions:
                self._ambiguous.add(name)
            self._positions.setdefault(name, position)

    def position(self, name: str) -> int:
        if name in self._ambiguous:
            raise LookupError(f"result column {name!r} is ambiguous")
        try:
            return self._positions[name]
        except KeyError:
            raise LookupError(f"no result column {name!r}") from None

    def values(self, *names: str) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """Reads the named columns of a result row as a tuple."""
        positions = [self.position(name) for name in names]
        if len(positions) == 1:
            only = positions[0]
            return lambda values: (values[only],)
        return itemgetter(*positions)

    def value(self, name: str) -> Callable[[Sequence[Any]], Any]:
        return itemgetter(self.position(name))

    def reader(self, row: type[Row]) -> Callable[[Sequence[Any]], Row]:
        """Builds `row` (or a subclass) from a result row, each field from its named column."""
        read = self.values(*(field.name for field in fields(row)))  # type: ignore[arg-type]
        return lambda values: row(*read(values))


@dataclass(slots=True)
class ArticleRow:
    id: int
    path: str
    slug: str
    title: str
    excerpt: str | None
    body: str
    category: str | None
    type: str | None
    published_at: str
    web_url: str
    original_url: str | None
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    quality: int | None
    heat: int | None
    published: int | None
    secured: str | None
    provider_id: int | None
    extra_json: str
    image_count: int
    created_at: str
    updated_at: str
    html: str
    headings_json: str
    word_count: int
    reading_time_minutes: int

    @property
    def extra(self) -> Any:
        """The keys the format does not name, decoded only when asked for."""
        return json.loads(self.extra_json)

    @property
    def headings(self) -> tuple[HeadingRecord, ...]:
        """The rendered body's headings, decoded only when asked for."""
        return headings_from_json(self.headings_json)


@dataclass(slots=True)
class ProviderRow:
    id: int
    domain: str
    name: str | None
    updated_at: str


@dataclass(slots=True)
class TopicRow:
    id: int
    key: str
    name: str
    slug: str


@dataclass(slots=True)
class ImageRow:
    url: str
    width: int | None
    height: int | None
    is_cached: int | None
    title: str | None


@dataclass(slots=True)
class RelatedRow:
    id: int
    article_id: int
    position: int
    web_url: str
    title: str | None
    excerpt: str | None
    published_at: str | None
    original_url: str | None
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    type: str | None
    quality: int | None
    provider_id: int | None


@dataclass(frozen=True, slots=True)
class IngestErrorRow:
    path: str
    line: int | None
    column: int | None
    field: str | None
    message: str
    first_seen: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class IngestStatusRow:
    article_count: int
    provider_count: int
    topic_count: int
    skipped_count: int
    error_count: int
    last_ingest_at: str | None


ARTICLE_COLUMNS = select_list(ArticleRow, "a", extra_json="extra", headings_json="headings")
PROVIDER_COLUMNS = select_list(ProviderRow, "p")
TOPIC_COLUMNS = select_list(TopicRow, "t")
IMAGE_COLUMNS = select_list(ImageRow, "i")
RELATED_COLUMNS = select_list(RelatedRow, "r")
INGEST_ERROR_COLUMNS = select_list(IngestErrorRow, "e")
