"""How the ingest is doing, for `ingestStatus` and `ingestErrors`."""

from __future__ import annotations

import sqlite3

from newsgraph.db import keyset
from newsgraph.db.rows import IngestErrorRow, IngestStatusRow
from newsgraph.db.sql import Params

_STATUS = """
SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM providers),
       (SELECT count(*) FROM topics), (SELECT count(*) FROM files WHERE state = 'skipped'),
       (SELECT count(*) FROM ingest_errors), (SELECT max(at) FROM changes)
"""
_ERROR_COLUMNS = 'e.path, e.line, e."column", e.field, e.message, e.first_seen, e.last_seen'
_BY_PATH = [keyset.Key("e.path", descending=False)]


def ingest_status(conn: sqlite3.Connection) -> IngestStatusRow:
    """Counts of what is stored now; `last_ingest_at` is the newest change (None before any)."""
    return IngestStatusRow(*conn.execute(_STATUS).fetchone())


def ingest_errors_page(
    conn: sqlite3.Connection, limit: int, after_path: str | None
) -> tuple[list[IngestErrorRow], bool]:
    """Open ingest errors by path, `limit` after `after_path`; and whether more follow."""
    params = Params()
    where = "1" if after_path is None else keyset.after(_BY_PATH, [after_path], params)
    sql = (
        f"SELECT {_ERROR_COLUMNS} FROM ingest_errors e WHERE {where} "  # noqa: S608
        f"ORDER BY e.path LIMIT {params.add(limit + 1)}"
    )
    rows = [IngestErrorRow(*row) for row in conn.execute(sql, params.values)]
    return rows[:limit], len(rows) > limit


def ingest_error_count(conn: sqlite3.Connection) -> int:
    count: int = conn.execute("SELECT count(*) FROM ingest_errors").fetchone()[0]
    return count


def commit_count(conn: sqlite3.Connection) -> int:
    """How many write transactions the store has committed (see `store_version`).

    A database that has not been migrated yet (a read-only `serve --no-watch` started against
    one written by an older writer) has no counter: 0, and the change feed alone versions it.
    """
    try:
        row = conn.execute("SELECT commits FROM store_version WHERE id = 1").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0
