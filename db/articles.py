"""Pages of articles: filter, full-text search, ordering and keyset pagination in one query.

A page reads `limit + 1` rows in the requested direction; the extra row only says whether
another page follows. Each row comes back with its sort key (the ordered values plus `id`) so
the API can mint cursors. When searching, the FTS5 match is a subquery ranked by bm25 (title
weighs most, then topics, excerpt, provider, body) and joined to `articles`, so the search
combines with every filter and ordering; highlights are a second, cheap query over just the rows
of the page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from newsgraph.db import keyset
from newsgraph.db.filters import ArticleFilterSpec, compile_filter
from newsgraph.db.rows import ARTICLE_COLUMNS, ArticleRow
from newsgraph.db.search import SearchSyntaxError
from newsgraph.db.sql import Params, column

A = TypeVar("A", bound=ArticleRow)
OrderField = Literal["published_at", "quality", "heat", "title", "relevance"]

_NULLABLE = {"quality", "heat"}
_WIDTH = ARTICLE_COLUMNS.count(",") + 1
_RANKED = (
    "(SELECT rowid AS id, bm25(articles_fts, 10.0, 4.0, 1.0, 2.0, 5.0) AS rank "
    "FROM articles_fts WHERE articles_fts MATCH {match}) m JOIN articles a ON a.id = m.id"
)
_SNIPPET = (
    "SELECT rowid, snippet(articles_fts, -1, '<mark>', '</mark>', '…', 24) FROM articles_fts "
    "WHERE articles_fts MATCH :match AND rowid IN (SELECT value FROM json_each(:ids))"
)


@dataclass(frozen=True, slots=True)
class OrderSpec:
    field: OrderField
    descending: bool


@dataclass(frozen=True, slots=True)
class ArticlePageQuery:
    filter: ArticleFilterSpec | None = None
    match: str | None = None  # an FTS5 expression (see db.search.fts_query)
    order: tuple[OrderSpec, ...] = (OrderSpec("published_at", descending=True),)
    limit: int = 20
    cursor: tuple[Any, ...] | None = None  # a row's sort key: ordered values, then id
    backward: bool = False
    want_total: bool = False
    want_highlights: bool = False


@dataclass(slots=True)
class ArticlePage(Generic[A]):
    rows: list[A]
    keys: list[tuple[Any, ...]]
    has_next: bool
    has_previous: bool
    total: int | None = None
    highlights: dict[int, str] = field(default_factory=dict)


def sort_keys(order: Sequence[OrderSpec]) -> list[keyset.Key]:
    """The keyset keys of an ordering, `id` last as the tie-break in the last key's direction."""
    keys: list[keyset.Key] = []
    for spec in order:
        if spec.field == "relevance":
            # bm25 is lower for better matches: "most relevant first" is ascending rank.
            keys.append(keyset.Key("m.rank", descending=not spec.descending))
        else:
            keys.append(
                keyset.Key(column("a", spec.field), spec.descending, spec.field in _NULLABLE)
            )
    keys.append(keyset.Key("a.id", descending=keys[-1].descending if keys else True))
    return keys


def article_page(
    conn: sqlite3.Connection, query: ArticlePageQuery, make: type[A]
) -> ArticlePage[A]:
    """One page of articles, with the facts the connection needs (and the total if asked)."""
    if query.match is None and any(spec.field == "relevance" for spec in query.order):
        raise SearchSyntaxError("ordering by RELEVANCE needs a search")
    keys = sort_keys(query.order)
    read_keys = keyset.flipped(keys) if query.backward else keys
    params = Params()
    source = _source(query.match, params)
    where = [compile_filter(query.filter, params)]
    if query.cursor is not None:
        where.append(keyset.after(read_keys, query.cursor, params))
    key_columns = ", ".join(key.expr for key in keys)
    sql = (
        f"SELECT {ARTICLE_COLUMNS}, {key_columns} FROM {source} "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY {keyset.order_by(read_keys)} "
        f"LIMIT {params.add(query.limit + 1)}"
    )
    fetched = execute_search(conn, sql, params.values, query.match).fetchall()
    more = len(fetched) > query.limit
    fetched = fetched[: query.limit]
    if query.backward:
        fetched.reverse()
    rows = [make(*row[:_WIDTH]) for row in fetched]
    row_keys = [tuple(row[_WIDTH:]) for row in fetched]
    page: ArticlePage[A] = ArticlePage(rows, row_keys, has_next=more, has_previous=False)
    if query.backward:
        page.has_previous, page.has_next = more, _beyond_page(conn, query, keys, row_keys, True)
    else:
        page.has_previous = _beyond_page(conn, query, keys, row_keys, False)
    if query.want_total:
        page.total = count_articles(conn, query.filter, query.match)
    if query.want_highlights and query.match is not None and rows:
        page.highlights = highlights(conn, query.match, [row.id for row in rows])
    return page


def _beyond_page(
    conn: sqlite3.Connection,
    query: ArticlePageQuery,
    keys: list[keyset.Key],
    row_keys: list[tuple[Any, ...]],
    forward: bool,
) -> bool:
    """Whether rows exist on the side of the page the reader came from (only with a cursor)."""
    if query.cursor is None:
        return False
    if not row_keys:
        return True
    params = Params()
    source = _source(query.match, params)
    edge = row_keys[-1] if forward else row_keys[0]
    direction = keys if forward else keyset.flipped(keys)
    condition = (
        compile_filter(query.filter, params) + " AND " + keyset.after(direction, edge, params)
    )
    sql = f"SELECT EXISTS (SELECT 1 FROM {source} WHERE {condition})"  # noqa: S608
    return bool(execute_search(conn, sql, params.values, query.match).fetchone()[0])


def count_articles(
    conn: sqlite3.Connection, spec: ArticleFilterSpec | None, match: str | None
) -> int:
    params = Params()
    source = _source(match, params)
    sql = f"SELECT count(*) FROM {source} WHERE {compile_filter(spec, params)}"  # noqa: S608
    total: int = execute_search(conn, sql, params.values, match).fetchone()[0]
    return total


def highlights(conn: sqlite3.Connection, match: str, ids: Sequence[int]) -> dict[int, str]:
    """A snippet of the best-matching column of each article, matched terms in `<mark>`."""
    cursor = execute_search(conn, _SNIPPET, {"match": match, "ids": _json_ids(ids)}, match)
    return dict(cursor.fetchall())


def search_condition(match: str | None, params: Params) -> str:
    """A condition restricting `articles a` to search matches ("1" without a search)."""
    if match is None:
        return "1"
    return (
        "a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH "  # noqa: S608
        + params.add(match)
        + ")"
    )


def _source(match: str | None, params: Params) -> str:
    if match is None:
        return "articles a"
    return _RANKED.format(match=params.add(match))


def _json_ids(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


_PROBE = "SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? LIMIT 1"
_SQLITE_ERROR = 1  # SQLite's generic primary result code: bad SQL, or a bad FTS5 expression


def execute_search(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any], match: str | None
) -> sqlite3.Cursor:
    """Run a statement that may carry a client's FTS5 expression `match`.

    SQLite reports a malformed FTS5 expression and a bug in our own SQL alike (SQLITE_ERROR,
    "syntax error", "no such column"). To tell them apart without reading messages, a failure
    re-runs the expression alone in a statement known to be valid: if that fails too, the
    expression is the client's fault (`SearchSyntaxError`); otherwise the original error is
    ours and propagates, to be masked. The happy path costs nothing extra.
    """
    try:
        return conn.execute(sql, params)
    except sqlite3.OperationalError as error:
        if match is not None and error.sqlite_errorcode & 0xFF == _SQLITE_ERROR:
            check_match(conn, match)
        raise


def check_match(conn: sqlite3.Connection, match: str) -> None:
    """Raise `SearchSyntaxError` if FTS5 cannot understand `match`."""
    try:
        conn.execute(_PROBE, [match]).fetchall()
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != _SQLITE_ERROR:
            raise  # interrupted, busy, I/O: not about the expression
        raise SearchSyntaxError(f"search cannot be understood: {error}") from error
