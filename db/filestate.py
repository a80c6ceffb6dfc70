"""What the store remembers of files, so a reconcile skips unchanged ones without reading them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KnownFile:
    size: int
    mtime_ns: int
    sha256: str
    state: str


def known_files(conn: sqlite3.Connection) -> dict[str, KnownFile]:
    """Every file the store has seen, by relative path (one query; ~100 bytes per file)."""
    return {
        row[0]: KnownFile(row[1], row[2], row[3], row[4])
        for row in conn.execute("SELECT path, size, mtime_ns, sha256, state FROM files")
    }


def known_paths_under(conn: sqlite3.Connection, folder: str) -> list[str]:
    """Paths of files stored under a relative folder (for a folder deleted or moved out)."""
    prefix = folder.rstrip("/") + "/"
    return [
        row[0]
        for row in conn.execute(
            "SELECT path FROM files WHERE substr(path, 1, ?) = ?", [len(prefix), prefix]
        )
    ]


def file_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many files are in each state now: article, skipped, error."""
    counts = {"article": 0, "skipped": 0, "error": 0}
    counts.update(conn.execute("SELECT state, count(*) FROM files GROUP BY state").fetchall())
    return counts


def current_errors(
    conn: sqlite3.Connection,
) -> list[tuple[str, int | None, int | None, str | None, str]]:
    """Every open ingest error as (path, line, column, field, message), by path."""
    return conn.execute(
        'SELECT path, line, "column", field, message FROM ingest_errors ORDER BY path'
    ).fetchall()
