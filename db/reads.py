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
    PROVIDER_COLUMNS,
    RELATED_COLUMNS,
    TOPIC_COLUMNS,
    ArticleRow,
    ImageRow,
    ProviderRow,
    RelatedRow,
    TopicRow,
)

A = TypeVar("A", bound=ArticleRow)
P = TypeVar("P", bound=ProviderRow)
T = TypeVar("T", bound=TopicRow)
R = TypeVar("R", bound=RelatedRow)

_IMAGE_COLUMNS = "url, width, height, is_cached, title"


def keys_param(keys: Iterable[object]) -> bytes:
    """Bind a list of keys as one JSON array (read back with `json_each`)."""
    return orjson.dumps(list(keys))


# -- articles --------------------------------------------------------------------------------


def articles_by_ids(conn: sqlite3.Connection, ids: Sequence[int], make: type[A]) -> dict[int, A]:
    sql = f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id IN (SELECT value FROM json_each(?))"  # noqa: S608
    return {row[0]: make(*row) for row in conn.execute(sql, [keys_param(ids)])}


def articles_by_paths(
    conn: sqlite3.Connection, paths: Sequence[str], make: type[A]
) -> dict[str, A]:
    sql = (
        f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.path IN (SELECT value FROM json_each(?))"  # noqa: S608
    )
    return {row[1]: make(*row) for row in conn.execute(sql, [keys_param(paths)])}


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
    return {row[9]: make(*row) for row in conn.execute(sql, [keys_param(urls)])}


def article_images(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[ImageRow]]:
    return _images(conn, "article_images", "article_id", ids)


def related_images(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[ImageRow]]:
    return _images(conn, "related_images", "related_id", ids)


def provider_images(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[ImageRow]]:
    return _images(conn, "provider_images", "provider_id", ids)


_IMAGE_SQL = {
    table: (
        f"SELECT {owner}, {_IMAGE_COLUMNS} FROM {table} "  # noqa: S608
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
    for row in conn.execute(_IMAGE_SQL[table], [keys_param(ids)]):
        found[row[0]].append(ImageRow(*row[1:]))
    return found


def article_topics(
    conn: sqlite3.Connection, ids: Sequence[int], make: type[T]
) -> dict[int, list[T]]:
    """Each article's topics in the order its file lists them."""
    sql = (
        f"SELECT at.article_id, {TOPIC_COLUMNS} FROM article_topics at "  # noqa: S608
        "JOIN topics t ON t.id = at.topic_id "
        "WHERE at.article_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY at.article_id, at.position"
    )
    found: dict[int, list[T]] = defaultdict(list)
    for row in conn.execute(sql, [keys_param(ids)]):
        found[row[0]].append(make(*row[1:]))
    return found


def related_of(conn: sqlite3.Connection, ids: Sequence[int], make: type[R]) -> dict[int, list[R]]:
    """Each article's related items in file order."""
    sql = (
        f"SELECT {RELATED_COLUMNS} FROM related r "  # noqa: S608
        "WHERE r.article_id IN (SELECT value FROM json_each(?)) ORDER BY r.article_id, r.position"
    )
    found: dict[int, list[R]] = defaultdict(list)
    for row in conn.execute(sql, [keys_param(ids)]):
        found[row[1]].append(make(*row))
    return found


# -- providers and topics ----------------------------------------------------------------


def providers_by_ids(conn: sqlite3.Connection, ids: Sequence[int], make: type[P]) -> dict[int, P]:
    sql = (
        f"SELECT {PROVIDER_COLUMNS} FROM providers p WHERE p.id IN (SELECT value FROM json_each(?))"  # noqa: S608
    )
    return {row[0]: make(*row) for row in conn.execute(sql, [keys_param(ids)])}


def providers_by_domains(
    conn: sqlite3.Connection, domains: Sequence[str], make: type[P]
) -> dict[str, P]:
    """Providers by lower-cased domain (the caller lower-cases: domains are case-insensitive)."""
    sql = (
        f"SELECT {PROVIDER_COLUMNS} FROM providers p "  # noqa: S608
        "WHERE p.domain IN (SELECT value FROM json_each(?))"
    )
    return {row[1]: make(*row) for row in conn.execute(sql, [keys_param(domains)])}


def topics_by_keys(conn: sqlite3.Connection, keys: Sequence[str], make: type[T]) -> dict[str, T]:
    """Topics by `db.convert.topic_key` of their name."""
    sql = f"SELECT {TOPIC_COLUMNS} FROM topics t WHERE t.key IN (SELECT value FROM json_each(?))"  # noqa: S608
    return {row[1]: make(*row) for row in conn.execute(sql, [keys_param(keys)])}


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
        f"SELECT c.provider_id, c.n, {TOPIC_COLUMNS} FROM ("  # noqa: S608
        " SELECT a.provider_id, at.topic_id, count(*) AS n, row_number() OVER ("
        "  PARTITION BY a.provider_id ORDER BY count(*) DESC, at.topic_id) AS rank"
        " FROM articles a JOIN article_topics at ON at.article_id = a.id"
        " WHERE a.provider_id IN (SELECT value FROM json_each(?))"
        " GROUP BY a.provider_id, at.topic_id"
        ") c JOIN topics t ON t.id = c.topic_id WHERE c.rank <= ? ORDER BY c.provider_id, c.rank"
    )
    found: dict[int, list[tuple[T, int]]] = defaultdict(list)
    for row in conn.execute(sql, [keys_param(ids), limit]):
        found[row[0]].append((make(*row[2:]), row[1]))
    return found


def related_topics_of_topics(
    conn: sqlite3.Connection, ids: Sequence[int], limit: int, make: type[T]
) -> dict[int, list[tuple[T, int]]]:
    """For each topic, the `limit` topics that most often appear on the same articles."""
    sql = (
        f"SELECT c.topic_id, c.n, {TOPIC_COLUMNS} FROM ("  # noqa: S608
        " SELECT mine.topic_id, other.topic_id AS other_id, count(*) AS n, row_number() OVER ("
        "  PARTITION BY mine.topic_id ORDER BY count(*) DESC, other.topic_id) AS rank"
        " FROM article_topics mine JOIN article_topics other"
        "  ON other.article_id = mine.article_id AND other.topic_id != mine.topic_id"
        " WHERE mine.topic_id IN (SELECT value FROM json_each(?))"
        " GROUP BY mine.topic_id, other.topic_id"
        ") c JOIN topics t ON t.id = c.other_id WHERE c.rank <= ? ORDER BY c.topic_id, c.rank"
    )
    found: dict[int, list[tuple[T, int]]] = defaultdict(list)
    for row in conn.execute(sql, [keys_param(ids), limit]):
        found[row[0]].append((make(*row[2:]), row[1]))
    return found
