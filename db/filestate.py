"""What the store remembers of files, so a reconcile skips unchanged ones without reading them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
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


def known_files_at(conn: sqlite3.Connection, paths: Sequence[str]) -> dict[str, KnownFile]:
    """What the store remembers of just these paths (the watcher's drains are small)."""
    known: dict[str, KnownFile] = {}
    for start in range(0, len(paths), 500):
        chunk = list(paths[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        for row in conn.execute(
            f"SELECT path, size, mtime_ns, sha256, state FROM files WHERE path IN ({marks})",  # noqa: S608
            chunk,
        ):
            known[row[0]] = KnownFile(row[1], row[2], row[3], row[4])
    return known


def known_files_under(conn: sqlite3.Connection, folder: str) -> dict[str, KnownFile]:
    """What the store remembers of files under a relative folder (created, moved or deleted)."""
    prefix = folder.rstrip("/") + "/"
    return {
        row[0]: KnownFile(row[1], row[2], row[3], row[4])
        for row in conn.execute(
            "SELECT path, size, mtime_ns, sha256, state FROM files "
            "WHERE path >= ? AND path < ? ORDER BY path",
            [prefix, prefix[:-1] + "0"],  # "0" sorts right after "/": the prefix range
        )
    }


def file_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many files are in each state now: article, entry, skipped, error."""
    counts = {"article": 0, "entry": 0, "skipped": 0, "error": 0}
    counts.update(conn.execute("SELECT state, count(*) FROM files GROUP BY state").fetchall())
    return counts


def current_errors(
    conn: sqlite3.Connection,
) -> list[tuple[str, int | None, int | None, str | None, str]]:
    """Every open ingest error as (path, line, column, field, message), by path."""
    return conn.execute(
        'SELECT path, line, "column", field, message FROM ingest_errors ORDER BY path'
    ).fetchall()


def forget_stamps_unless(conn: sqlite3.Connection, name: str, value: str) -> bool:
    """Make every file look changed when the setting `name` differs from the stored rows'.

    A file whose content hash is known is not parsed again, so a setting that changes how a
    file is parsed (the collection rules) must invalidate the stamps, or unchanged files would
    keep their old collection. Run on the writer connection; True when stamps were dropped.
    """
    row = conn.execute("SELECT value FROM ingest_settings WHERE name = ?", [name]).fetchone()
    if row is not None and row[0] == value:
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("UPDATE files SET size = -1, mtime_ns = -1, sha256 = ''")
        conn.execute(
            "INSERT INTO ingest_settings (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            [name, value],
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True
