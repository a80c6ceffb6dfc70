"""The queries behind live updates: filter checks per event batch, the ingest-error feed.

Kept apart from `db.changes` (which only reads the feed) because these answer questions the
subscriptions ask about the *current* store: which of these articles match a filter now, and
has the ingest-errors table changed since we last looked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from newsgraph.db.filters import ArticleFilterSpec, compile_filter
from newsgraph.db.rows import INGEST_ERROR_COLUMNS, IngestErrorRow, ResultColumns
from newsgraph.db.sql import Params


def matching_article_ids(
    conn: sqlite3.Connection, ids: Collection[int], spec: ArticleFilterSpec | None
) -> set[int]:
    """Those of `ids` that exist and match `spec` now: one statement for a whole event batch."""
    if not ids:
        return set()
    params = Params()
    where = compile_filter(spec, params)
    sql = (
        "SELECT a.id FROM articles a WHERE a.id IN "  # noqa: S608
        + params.add_list(sorted(ids))
        + " AND "
        + where
    )
    return {row[0] for row in conn.execute(sql, params.values)}


def ingest_error_fingerprint(conn: sqlite3.Connection) -> tuple[int, str | None]:
    """(count, newest last_seen): changes whenever an error is recorded, repeated or cleared.

    Recording or repeating an error stamps `last_seen` with the batch time (newer than any
    earlier stamp), clearing one lowers the count, so comparing fingerprints is a cheap
    "did anything change" check before reading the whole table.
    """
    count, newest = conn.execute("SELECT count(*), max(last_seen) FROM ingest_errors").fetchone()
    return int(count), newest


def all_ingest_errors(conn: sqlite3.Connection) -> dict[str, IngestErrorRow]:
    """Every open ingest error by path."""
    cursor = conn.execute(f"SELECT {INGEST_ERROR_COLUMNS} FROM ingest_errors e")  # noqa: S608
    read = ResultColumns(cursor).reader(IngestErrorRow)
    return {error.path: error for error in map(read, cursor)}


def prune_changes(conn: sqlite3.Connection, *, keep_after: int) -> int:
    """Delete change rows up to `keep_after` (inclusive); resume cursors before it expire.

    Run on the writer connection. Returns how many rows went.
    """
    cursor = conn.execute("DELETE FROM changes WHERE seq <= ?", [keep_after])
    return cursor.rowcount
