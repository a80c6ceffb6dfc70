"""Reading the change feed: the `changes` table every subscriber is served from.

The writer appends one row per created/updated/deleted article in the same transaction as the
change, so a reader that has seen `seq` N has seen every change up to N and nothing half-done.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChangeRow:
    seq: int
    op: str
    article_id: int
    path: str
    at: str
    collection: str = "article"  # or event, person, organization, learning (`article_id`: entry id)


def changes_after(
    conn: sqlite3.Connection, seq: int, *, upto: int | None = None, limit: int = 500
) -> list[ChangeRow]:
    """Changes with `seq` > `seq` (and <= `upto`), oldest first, at most `limit`."""
    rows = conn.execute(
        "SELECT seq, op, article_id, path, at, collection FROM changes WHERE seq > ? AND seq <= ? "
        "ORDER BY seq LIMIT ?",
        [seq, upto if upto is not None else 2**63 - 1, limit],
    ).fetchall()
    return [ChangeRow(*row) for row in rows]


def change_bounds(conn: sqlite3.Connection) -> tuple[int, int]:
    """(oldest seq kept - 1, newest seq); (0, 0) for an empty feed.

    A resume cursor older than the first value was pruned away and cannot be replayed.
    """
    low, high = conn.execute("SELECT min(seq), max(seq) FROM changes").fetchone()
    if high is None:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        last = int(row[0]) if row else 0
        return last, last
    return int(low) - 1, int(high)


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever *another* connection commits: the cheap cross-process wake-up."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])
