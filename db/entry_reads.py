"""Reading events, people, organizations and learning resources: by key, by link, by page.

Links (a collection's items, a person's organization, an organization's people) are resolved
here at read time, like an article's `related`, so they appear whichever file arrives first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from newsgraph.db import keyset
from newsgraph.db.records import CollectionName
from newsgraph.db.rows import TOPIC_COLUMNS, TopicRow
from newsgraph.db.sql import Params

ENTRY_COLUMNS = (
    "e.id, e.collection, e.path, e.slug, e.name, e.excerpt, e.body, e.html, e.headings, "
    "e.word_count, e.reading_time_minutes, e.kind, e.starts_at, e.ends_at, e.heat, e.location, "
    "e.domain, e.free, e.levels, e.items, e.provider_id, e.images, e.details, e.extra, "
    "e.updated_at"
)
_JSON_FIELDS = frozenset(("headings", "levels", "items", "images", "details", "extra"))
EntryOrderField = Literal["name", "heat", "starts_at"]
_ORDER_KEYS = {
    "name": keyset.Key("lower(e.name)", False),
    "heat": keyset.Key("e.heat", False, nullable=True),
    "starts_at": keyset.Key("e.starts_at", False, nullable=True),
}


@dataclass(slots=True)
class EntryRow:
    """One stored entry; JSON columns are decoded (details hold the collection's fields)."""

    id: int
    collection: str
    path: str
    slug: str
    name: str
    excerpt: str | None
    body: str
    html: str
    headings: list[dict[str, Any]]
    word_count: int
    reading_time_minutes: int
    kind: str | None
    starts_at: str | None
    ends_at: str | None
    heat: int | None
    location: str | None
    domain: str | None
    free: bool | None
    levels: list[str]
    items: list[str]
    provider_id: int | None
    images: list[dict[str, Any]]
    details: dict[str, Any]
    extra: dict[str, Any]
    updated_at: str


_NAMES = tuple(EntryRow.__dataclass_fields__)


def entry_from_row(row: Sequence[Any]) -> EntryRow:
    values = [
        orjson.loads(value) if name in _JSON_FIELDS else value
        for name, value in zip(_NAMES, row, strict=True)
    ]
    entry = EntryRow(*values)
    entry.free = None if entry.free is None else bool(entry.free)
    return entry


def _select(conn: sqlite3.Connection, where: str, params: Any) -> list[EntryRow]:
    sql = f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE {where}"  # noqa: S608
    return [entry_from_row(row) for row in conn.execute(sql, params)]


def entries_by_path(conn: sqlite3.Connection, paths: Sequence[str]) -> dict[str, EntryRow]:
    params = Params()
    rows = _select(conn, "e.path IN " + params.add_list(paths), params.values)
    return {row.path: row for row in rows}


def entries_by_id(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, EntryRow]:
    params = Params()
    rows = _select(conn, "e.id IN " + params.add_list(ids), params.values)
    return {row.id: row for row in rows}


def collection_items(conn: sqlite3.Connection, paths: Sequence[str]) -> list[EntryRow]:
    """The learning resources at `paths`, in that order; paths not (yet) ingested are left out."""
    found = entries_by_path(conn, paths)
    return [found[p] for p in paths if p in found and found[p].collection == "learning"]


def collections_containing(conn: sqlite3.Connection, path: str) -> list[EntryRow]:
    """Learning collections whose `items` list `path`: the other direction of `items`."""
    where = (
        "e.collection = 'learning' AND EXISTS "
        "(SELECT 1 FROM json_each(e.items) i WHERE i.value = :path) ORDER BY e.path"
    )
    return _select(conn, where, {"path": path})


def organization_for_domain(conn: sqlite3.Connection, domain: str) -> EntryRow | None:
    """The organization whose website domain is `domain` or a parent of it (longest wins).

    `aws.amazon.com` finds an organization at `amazon.com` when there is none at its own host.
    """
    where = (
        "e.collection = 'organization' AND e.domain IS NOT NULL AND "
        "(e.domain = :d OR substr(:d, -length(e.domain) - 1) = '.' || e.domain) "
        "ORDER BY length(e.domain) DESC, e.path LIMIT 1"
    )
    rows = _select(conn, where, {"d": domain.lower()})
    return rows[0] if rows else None


def people_of_organization(conn: sqlite3.Connection, domain: str) -> list[EntryRow]:
    """People whose affiliation domain is the organization's domain or under it."""
    where = (
        "e.collection = 'person' AND e.domain IS NOT NULL AND "
        "(e.domain = :d OR substr(e.domain, -length(:d) - 1) = '.' || :d) ORDER BY e.name, e.id"
    )
    return _select(conn, where, {"d": domain.lower()})


def entry_topics(conn: sqlite3.Connection, entry_ids: Sequence[int]) -> dict[int, list[TopicRow]]:
    params = Params()
    sql = (
        f"SELECT x.entry_id, {TOPIC_COLUMNS} FROM entry_topics x "  # noqa: S608
        "JOIN topics t ON t.id = x.topic_id WHERE x.entry_id IN "
        + params.add_list(entry_ids)
        + " ORDER BY x.entry_id, x.position"
    )
    found: dict[int, list[TopicRow]] = {entry_id: [] for entry_id in entry_ids}
    for row in conn.execute(sql, params.values):
        found[row[0]].append(TopicRow(*row[1:]))
    return found


@dataclass(frozen=True, slots=True)
class EntryFilterSpec:
    """What a collection's connection may filter by; None means no condition."""

    collection: CollectionName
    topic_id: int | None = None
    topic_key: str | None = None  # a topic by its key (see db.convert.topic_key)
    name_contains: str | None = None
    location_contains: str | None = None
    starts_from: str | None = None  # events: fixed-width UTC text, inclusive
    starts_before: str | None = None  # exclusive
    ends_from: str | None = None  # events still running at this time (upcoming)
    ends_before: str | None = None  # events over before this time (past)
    kinds: tuple[str, ...] = ()
    level: str | None = None
    free: bool | None = None
    min_heat: int | None = None


def _where(spec: EntryFilterSpec, params: Params) -> str:
    parts = ["e.collection = " + params.add(spec.collection)]
    if spec.topic_id is not None:
        parts.append(
            "EXISTS (SELECT 1 FROM entry_topics x WHERE x.entry_id = e.id AND x.topic_id = "  # noqa: S608
            + params.add(spec.topic_id)
            + ")"
        )
    if spec.topic_key is not None:
        parts.append(
            "EXISTS (SELECT 1 FROM entry_topics x JOIN topics t ON t.id = x.topic_id "  # noqa: S608
            "WHERE x.entry_id = e.id AND t.key = " + params.add(spec.topic_key) + ")"
        )
    if spec.name_contains:
        parts.append(f"instr(lower(e.name), {params.add(spec.name_contains.casefold())}) > 0")
    if spec.location_contains:
        needle = params.add(spec.location_contains.casefold())
        parts.append(
            f"(instr(lower(e.location), {needle}) > 0 OR "
            f"instr(lower(json_extract(e.details, '$.locations')), {needle}) > 0)"
        )
    # An event without an end ends when it starts.
    ends = "coalesce(e.ends_at, e.starts_at)"
    for value, condition in (
        (spec.starts_from, "e.starts_at >= {}"),
        (spec.starts_before, "e.starts_at < {}"),
        (spec.ends_from, ends + " >= {}"),
        (spec.ends_before, ends + " < {}"),
    ):
        if value is not None:
            parts.append(condition.format(params.add(value)))
    if spec.kinds:
        parts.append("e.kind IN " + params.add_list(spec.kinds))
    if spec.level is not None:
        parts.append(
            "EXISTS (SELECT 1 FROM json_each(e.levels) l WHERE lower(l.value) = "  # noqa: S608
            + params.add(spec.level.casefold())
            + ")"
        )
    if spec.free is not None:
        parts.append("e.free = " + params.add(int(spec.free)))
    if spec.min_heat is not None:
        parts.append("e.heat >= " + params.add(spec.min_heat))
    return " AND ".join(parts)


@dataclass(frozen=True, slots=True)
class EntryPage:
    rows: list[EntryRow]
    keys: list[tuple[Any, ...]]
    has_next: bool
    has_previous: bool
    total: int


def entry_page(
    conn: sqlite3.Connection,
    spec: EntryFilterSpec,
    *,
    order: EntryOrderField,
    descending: bool,
    limit: int,
    cursor: Sequence[Any] | None,
    backward: bool = False,
) -> EntryPage:
    """One keyset page of a collection, filtered and ordered, with the selection's total."""
    params = Params()
    where = _where(spec, params)
    total = int(
        conn.execute(f"SELECT count(*) FROM entries e WHERE {where}", params.values).fetchone()[0]  # noqa: S608
    )
    base = _ORDER_KEYS[order]
    keys = [
        keyset.Key(base.expr, descending, base.nullable),
        keyset.Key("e.id", descending),
    ]
    if backward:
        keys = keyset.flipped(keys)
    if cursor is not None:
        where += " AND " + keyset.after(keys, cursor, params)
    sql = (
        f"SELECT {ENTRY_COLUMNS}, {base.expr}, e.id FROM entries e WHERE {where} "  # noqa: S608
        f"ORDER BY {keyset.order_by(keys)} LIMIT {params.add(limit + 1)}"
    )
    fetched = conn.execute(sql, params.values).fetchall()
    width = len(_NAMES)
    page = fetched[:limit]
    more = len(fetched) > limit
    rows = [entry_from_row(row[:width]) for row in page]
    keys_of = [tuple(row[width:]) for row in page]
    if backward:
        rows.reverse()
        keys_of.reverse()
        return EntryPage(rows, keys_of, cursor is not None, more, total)
    return EntryPage(rows, keys_of, more, cursor is not None, total)


@dataclass(frozen=True, slots=True)
class EntryFacets:
    """How many entries a selection has, and its counts by value (most frequent first)."""

    total: int
    counts: dict[str, list[tuple[str, int]]]


def entry_facets(conn: sqlite3.Connection, spec: EntryFilterSpec, limit: int) -> EntryFacets:
    """Counts over a collection's selection: by kind, level, location, free and topic."""
    params = Params()
    where = _where(spec, params)
    sql = f"SELECT count(*) FROM entries e WHERE {where}"  # noqa: S608
    total = int(conn.execute(sql, params.values).fetchone()[0])
    cap = params.add(limit)
    queries = {
        "kind": f"SELECT e.kind, count(*) FROM entries e WHERE {where} AND e.kind IS NOT NULL "  # noqa: S608
        f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {cap}",
        "level": f"SELECT l.value, count(*) FROM entries e, json_each(e.levels) l WHERE {where} "  # noqa: S608
        f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {cap}",
        "location": f"SELECT e.location, count(*) FROM entries e WHERE {where} AND "  # noqa: S608
        f"e.location IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {cap}",
        "free": f"SELECT CASE e.free WHEN 1 THEN 'true' ELSE 'false' END, count(*) FROM entries e "  # noqa: S608
        f"WHERE {where} AND e.free IS NOT NULL GROUP BY 1 ORDER BY 1",
        "topic": f"SELECT t.name, count(*) FROM entries e JOIN entry_topics x ON x.entry_id = e.id "  # noqa: S608
        f"JOIN topics t ON t.id = x.topic_id WHERE {where} GROUP BY t.id ORDER BY 2 DESC, t.key "
        f"LIMIT {cap}",
    }  # fmt: skip
    counts = {
        name: [(str(value), int(count)) for value, count in conn.execute(sql, params.values)]
        for name, sql in queries.items()
    }
    return EntryFacets(total, counts)
