"""Keyset pages of providers and topics, ordered by name, domain or article count."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from newsgraph.db import keyset
from newsgraph.db.convert import fold_case
from newsgraph.db.rows import PROVIDER_COLUMNS, TOPIC_COLUMNS, ProviderRow, TopicRow
from newsgraph.db.sql import Params

P = TypeVar("P", bound=ProviderRow)
T = TypeVar("T", bound=TopicRow)
ProviderOrderField = Literal["name", "domain", "article_count"]
TopicOrderField = Literal["name", "article_count"]

_PROVIDER_KEYS = {
    "name": "fold_case(coalesce(p.name, p.domain))",
    "domain": "p.domain",
    "article_count": "(SELECT count(*) FROM articles x WHERE x.provider_id = p.id)",
}
_TOPIC_KEYS = {
    "name": "t.key",
    "article_count": "(SELECT count(*) FROM article_topics x WHERE x.topic_id = t.id)",
}

Page = tuple[list[Any], list[tuple[Any, ...]], bool]


def provider_page(
    conn: sqlite3.Connection,
    *,
    search: str | None,
    order: ProviderOrderField,
    descending: bool,
    limit: int,
    cursor: Sequence[Any] | None,
    make: type[P],
) -> tuple[list[P], list[tuple[Any, ...]], bool]:
    """Providers whose name or domain contains `search` (case-insensitive); rows, sort keys,
    and whether more follow."""
    params = Params()
    where = "1"
    if search:
        needle = params.add(fold_case(search))
        where = f"(instr(fold_case(p.name), {needle}) > 0 OR instr(p.domain, {needle}) > 0)"
    return _page(
        conn, "providers p", PROVIDER_COLUMNS, "p.id", _PROVIDER_KEYS[order], descending,
        where, params, limit, cursor, make,
    )  # fmt: skip


def topic_page(
    conn: sqlite3.Connection,
    *,
    search: str | None,
    order: TopicOrderField,
    descending: bool,
    limit: int,
    cursor: Sequence[Any] | None,
    make: type[T],
) -> tuple[list[T], list[tuple[Any, ...]], bool]:
    """Topics whose name contains `search` (case-insensitive), in the requested order."""
    params = Params()
    where = "1"
    if search:
        where = f"instr(t.key, {params.add(fold_case(search))}) > 0"
    return _page(
        conn, "topics t", TOPIC_COLUMNS, "t.id", _TOPIC_KEYS[order], descending,
        where, params, limit, cursor, make,
    )  # fmt: skip


def count_providers(conn: sqlite3.Connection) -> int:
    total: int = conn.execute("SELECT count(*) FROM providers").fetchone()[0]
    return total


def count_topics(conn: sqlite3.Connection) -> int:
    total: int = conn.execute("SELECT count(*) FROM topics").fetchone()[0]
    return total


def _page(
    conn: sqlite3.Connection,
    table: str,
    columns: str,
    id_expr: str,
    key_expr: str,
    descending: bool,
    where: str,
    params: Params,
    limit: int,
    cursor: Sequence[Any] | None,
    make: Any,
) -> tuple[list[Any], list[tuple[Any, ...]], bool]:
    keys = [keyset.Key(key_expr, descending), keyset.Key(id_expr, descending)]
    if cursor is not None:
        where += " AND " + keyset.after(keys, cursor, params)
    sql = (
        f"SELECT {columns}, {key_expr}, {id_expr} FROM {table} WHERE {where} "  # noqa: S608
        f"ORDER BY {keyset.order_by(keys)} LIMIT {params.add(limit + 1)}"
    )
    fetched = conn.execute(sql, params.values).fetchall()
    width = columns.count(",") + 1
    page = fetched[:limit]
    return (
        [make(*row[:width]) for row in page],
        [tuple(row[width:]) for row in page],
        len(fetched) > limit,
    )
