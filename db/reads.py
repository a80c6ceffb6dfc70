"""Batched reads behind the API's DataLoaders: one statement per relation, whatever the batch.

Every function takes a list of keys and answers for all of them at once, so a page of 100
articles costs one query per relation, not 100. Keys travel as one JSON array bound to a single
parameter (`json_each(:keys)`), which keeps each statement's text constant: sqlite3's statement
cache then prepares it once per connection instead of once per batch size.

Row classes are parameters (`make=`) because the API builds its nodes as subclasses of these
rows with a few computed attributes, and constructing them directly saves a copy per row.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TypeVar

import orjson

from newsgraph.db.rows import (
    ARTICLE_COLUMNS,
    IMAGE_COLUMNS,
    PROVIDER_COLUMNS,
    RELATED_COLUMNS,
    TOPIC_COLUMNS,
    ArticleRow,
    ImageRow,
    ProviderRow,
    RelatedRow,
    ResultColumns,
    TopicRow,
)

A = TypeVar("A", bound=ArticleRow)
P = TypeVar("P", bound=ProviderRow)
T = TypeVar("T", bound=TopicRow)
R = TypeVar("R", bound=RelatedRow)
RowT = TypeVar("RowT")


def keys_param(keys: Iterable[object]) -> bytes:
    """Bind a list of keys as one JSON array (read back with `json_each`)."""
    return orjson.dumps(list(keys))


# -- articles --------------------------------------------------------------------------------


def articles_by_ids(conn: sqlite3.Connection, ids: Sequence[int], make: type[A]) -> dict[int, A]:
    sql = f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id IN (SELECT value FROM json_each(?))"  # noqa: S608
    return {article.id: article for article in _read(conn, sql, [keys_param(ids)], make)}


def articles_by_paths(
    conn: sqlite3.Connection, paths: Sequence[str], make: type[A]
) -> dict[str, A]:
    sql = (
        f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.path IN (SELECT value FROM json_each(?))"  # noqa: S608
    )
    return {article.path: article for article in _read(conn, sql, [keys_param(paths)], make)}


def articles_by_web_urls(
    conn: sqlite3.Connection, urls: Sequence[str], make: type[A]
) -> dict[str, A]:
    """The article served at each URL. When several files share a `webUrl` (a story copied
    into `_archive/`), the one with the smallest `path` wins, so the answer is stable."""
    sql = (
        f"SELECT {ARTICLE_COLUMNS} FROM articles a "  # noqa: S608
        "WHERE a.web_url IN (SELECT value FROM json_each(?)) ORDER BY a.web_url, a.path DESC"
    )
    # Later rows overwrite earlier ones: with `path DESC`, the smallest path is written last.
    return {article.web_url: article for article in _read(conn, sql, [keys_param(urls)], make)}


def article_images(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[ImageRow]]:
    return _images(conn, "article_images", "article_id", ids)


def related_images(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[ImageRow]]:
    return _images(conn, "related_images", "related_id", ids)


def provider_images(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[ImageRow]]:
    return _images(conn, "provider_images", "provider_id", ids)


_IMAGE_SQL = {
    table: (
        f"SELECT i.{owner} AS owner, {IMAGE_COLUMNS} FROM {table} i "  # noqa: S608
        f"WHERE {owner} IN (SELECT value FROM json_each(?)) ORDER BY {owner}, position"
    )
    for table, owner in (
        ("article_images", "article_id"),
        ("related_images", "related_id"),
        ("provider_images", "provider_id"),
    )
}


def _images(
    conn: sqlite3.Connection, table: str, owner: str, ids: Sequence[int]
) -> dict[int, list[ImageRow]]:
    found: dict[int, list[ImageRow]] = defaultdict(list)
    cursor = conn.execute(_IMAGE_SQL[table], [keys_param(ids)])
    columns = ResultColumns(cursor)
    owner_of, image = columns.value("owner"), columns.reader(ImageRow)
    for row in cursor:
        found[owner_of(row)].append(image(row))
    return found


def article_topics(
    conn: sqlite3.Connection, ids: Sequence[int], make: type[T]
) -> dict[int, list[T]]:
    """Each article's topics in the order its file lists them."""
    sql = (
        f"SELECT at.article_id AS owner, {TOPIC_COLUMNS} FROM article_topics at "  # noqa: S608
        "JOIN topics t ON t.id = at.topic_id "
        "WHERE at.article_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY at.article_id, at.position"
    )
    found: dict[int, list[T]] = defaultdict(list)
    cursor = conn.execute(sql, [keys_param(ids)])
    columns = ResultColumns(cursor)
    owner_of, topic = columns.value("owner"), columns.reader(make)
    for row in cursor:
        found[owner_of(row)].append(topic(row))
    return found


def related_of(conn: sqlite3.Connection, ids: Sequence[int], make: type[R]) -> dict[int, list[R]]:
    """Each article's related items in file order."""
    sql = (
        f"SELECT {RELATED_COLUMNS} FROM related r "  # noqa: S608
        "WHERE r.article_id IN (SELECT value FROM json_each(?)) ORDER BY r.article_id, r.position"
    )
    found: dict[int, list[R]] = defaultdict(list)
    for related in _read(conn, sql, [keys_param(ids)], make):
        found[related.article_id].append(related)
    return found


# -- providers and topics ----------------------------------------------------------------


def providers_by_ids(conn: sqlite3.Connection, ids: Sequence[int], make: type[P]) -> dict[int, P]:
    sql = (
        f"SELECT {PROVIDER_COLUMNS} FROM providers p WHERE p.id IN (SELECT value FROM json_each(?))"  # noqa: S608
    )
    return {provider.id: provider for provider in _read(conn, sql, [keys_param(ids)], make)}


def providers_by_domains(
    conn: sqlite3.Connection, domains: Sequence[str], make: type[P]
) -> dict[str, P]:
    """Providers by lower-cased domain (the caller lower-cases: domains are case-insensitive)."""
    sql = (
        f"SELECT {PROVIDER_COLUMNS} FROM providers p "  # noqa: S608
        "WHERE p.domain IN (SELECT value FROM json_each(?))"
    )
    found = _read(conn, sql, [keys_param(domains)], make)
    return {provider.domain: provider for provider in found}


def topics_by_keys(conn: sqlite3.Connection, keys: Sequence[str], make: type[T]) -> dict[str, T]:
    """Topics by `db.convert.topic_key` of their name."""
    sql = f"SELECT {TOPIC_COLUMNS} FROM topics t WHERE t.key IN (SELECT value FROM json_each(?))"  # noqa: S608
    return {topic.key: topic for topic in _read(conn, sql, [keys_param(keys)], make)}


def provider_article_counts(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, int]:
    sql = (
        "SELECT provider_id, count(*) FROM articles "
        "WHERE provider_id IN (SELECT value FROM json_each(?)) GROUP BY provider_id"
    )
    return dict(conn.execute(sql, [keys_param(ids)]).fetchall())


def topic_article_counts(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, int]:
    sql = (
        "SELECT topic_id, count(*) FROM article_topics "
        "WHERE topic_id IN (SELECT value FROM json_each(?)) GROUP BY topic_id"
    )
    return dict(conn.execute(sql, [keys_param(ids)]).fetchall())


def top_topics_of_providers(
    conn: sqlite3.Connection, ids: Sequence[int], limit: int, make: type[T]
) -> dict[int, list[tuple[T, int]]]:
    """The `limit` topics most used by each provider's articles, most used first."""
    sql = (
        f"SELECT c.provider_id AS owner, c.n AS uses, {TOPIC_COLUMNS} FROM ("  # noqa: S608
        " SELECT a.provider_id, at.topic_id, count(*) AS n, row_number() OVER ("
        "  PARTITION BY a.provider_id ORDER BY count(*) DESC, at.topic_id) AS rank"
        " FROM articles a JOIN article_topics at ON at.article_id = a.id"
        " WHERE a.provider_id IN (SELECT value FROM json_each(?))"
        " GROUP BY a.provider_id, at.topic_id"
        ") c JOIN topics t ON t.id = c.topic_id WHERE c.rank <= ? ORDER BY c.provider_id, c.rank"
    )
    return _ranked_topics(conn.execute(sql, [keys_param(ids), limit]), make)


def related_topics_of_topics(
    conn: sqlite3.Connection, ids: Sequence[int], limit: int, make: type[T]
) -> dict[int, list[tuple[T, int]]]:
    """For each topic, the `limit` topics that most often appear on the same articles."""
    sql = (
        f"SELECT c.topic_id AS owner, c.n AS uses, {TOPIC_COLUMNS} FROM ("  # noqa: S608
        " SELECT mine.topic_id, other.topic_id AS other_id, count(*) AS n, row_number() OVER ("
        "  PARTITION BY mine.topic_id ORDER BY count(*) DESC, other.topic_id) AS rank"
        " FROM article_topics mine JOIN article_topics other"
        "  ON other.article_id = mine.article_id AND other.topic_id != mine.topic_id"
        " WHERE mine.topic_id IN (SELECT value FROM json_each(?))"
        " GROUP BY mine.topic_id, other.topic_id"
        ") c JOIN topics t ON t.id = c.other_id WHERE c.rank <= ? ORDER BY c.topic_id, c.rank"
    )
    return _ranked_topics(conn.execute(sql, [keys_param(ids), limit]), make)


def _ranked_topics(cursor: sqlite3.Cursor, make: type[T]) -> dict[int, list[tuple[T, int]]]:
    """Group (owner, uses, topic) rows by owner, keeping their order."""
    columns = ResultColumns(cursor)
    owner_of, uses, topic = columns.value("owner"), columns.value("uses"), columns.reader(make)
    found: dict[int, list[tuple[T, int]]] = defaultdict(list)
    for row in cursor:
        found[owner_of(row)].append((topic(row), uses(row)))
    return found


def _read(
    conn: sqlite3.Connection, sql: str, params: Sequence[object], make: type[RowT]
) -> list[RowT]:
    """The rows of one statement, each built from its columns by name."""
    cursor = conn.execute(sql, params)
    read = ResultColumns(cursor).reader(make)
    return [read(row) for row in cursor]
