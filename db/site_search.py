"""One search over every collection: articles and entries ranked together by FTS5's bm25.

Both search tables use the same tokenizer and columns of the same weight, so their bm25 scores
are comparable. Results page by keyset on (rank, source, id): a cursor holds the last rank
seen, so new matches elsewhere in the ranking do not shift the page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from newsgraph.db import keyset
from newsgraph.db.articles import execute_search
from newsgraph.db.sql import Params

ARTICLE = "article"
_SNIPPET = "snippet({table}, -1, '<mark>', '</mark>', '…', 24)"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A match: which collection (`article` or an entry collection), its row id and path."""

    collection: str
    id: int
    path: str
    rank: float
    highlight: str


def search_everything(
    conn: sqlite3.Connection,
    match: str,
    collections: Sequence[str],
    *,
    limit: int,
    cursor: Sequence[Any] | None,
) -> tuple[list[SearchHit], list[tuple[Any, ...]], bool]:
    """Hits of `match` in `collections`, best first; their sort keys; whether more follow."""
    params = Params()
    q = params.add(match)
    parts: list[str] = []
    if ARTICLE in collections:
        parts.append(
            f"SELECT 'article' AS collection, f.rowid AS id, a.path AS path, "  # noqa: S608
            f"bm25(articles_fts) AS rank, {_SNIPPET.format(table='articles_fts')} AS highlight "
            f"FROM articles_fts f JOIN articles a ON a.id = f.rowid WHERE articles_fts MATCH {q}"
        )
    entry_collections = [c for c in collections if c != ARTICLE]
    if entry_collections:
        parts.append(
            f"SELECT e.collection AS collection, f.rowid AS id, e.path AS path, "  # noqa: S608
            f"bm25(entries_fts) AS rank, {_SNIPPET.format(table='entries_fts')} AS highlight "
            f"FROM entries_fts f "
            f"JOIN entries e ON e.id = f.rowid WHERE entries_fts MATCH {q} "
            f"AND e.collection IN {params.add_list(entry_collections)}"
        )
    if not parts:
        return [], [], False
    keys = [keyset.Key("rank", False), keyset.Key("collection", False), keyset.Key("id", False)]
    where = "1" if cursor is None else keyset.after(keys, cursor, params)
    sql = (
        # MATERIALIZED: SQLite would otherwise push the cursor's condition into each part.
        f"WITH hits AS MATERIALIZED ({' UNION ALL '.join(parts)}) "  # noqa: S608
        f"SELECT collection, id, path, rank, highlight FROM hits WHERE {where} "
        f"ORDER BY {keyset.order_by(keys)} LIMIT {params.add(limit + 1)}"
    )
    fetched = execute_search(conn, sql, params.values, match).fetchall()
    hits = [SearchHit(*row) for row in fetched[:limit]]
    return hits, [(hit.rank, hit.collection, hit.id) for hit in hits], len(fetched) > limit
