"""Opening the database: one writer connection, many read-only readers.

The writer owns migrations. Readers open with `mode=ro` so a bug in a resolver cannot write,
and WAL lets them read a consistent snapshot while the writer commits.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from newsgraph.db.convert import fold_case
from newsgraph.db.errors import DatabaseTooNew, DatabaseUnavailable, NotANewsgraphDatabase
from newsgraph.db.migrations import MIGRATION_SET, apply_migrations, migrations

BUSY_TIMEOUT_MS = 10_000
_SQLITE_HEADER = b"SQLite format 3\x00"


def _configure(conn: sqlite3.Connection, *, writer: bool) -> None:
    conn.create_function("fold_case", 1, fold_case, deterministic=True)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if writer:
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode is durable against application crashes (kill -9); only an OS crash
        # can lose the last commits, never corrupt the file.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA wal_autocheckpoint = 10000")
        conn.execute("PRAGMA cache_size = -16384")  # 64 MiB: index pages of a big ingest stay hot
    else:
        conn.execute("PRAGMA query_only = ON")


def _check_is_ours(path: Path) -> None:
    """Refuse to touch a file that is not a SQLite database or holds someone else's tables."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        if handle.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise NotANewsgraphDatabase(
                f"{path} exists but is not a SQLite database; not touching it"
            )
    probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {
            row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not tables:
            return
        ours = (
            "_sqlite_migrations" in tables
            and probe.execute(
                "SELECT 1 FROM _sqlite_migrations WHERE migration_set = ? LIMIT 1", [MIGRATION_SET]
            ).fetchone()
        )
        if not ours:
            raise NotANewsgraphDatabase(
                f"{path} is a SQLite database with other tables, not a newsgraph database; "
                "not touching it"
            )
    except sqlite3.DatabaseError as error:
        raise NotANewsgraphDatabase(f"{path} cannot be read as a database: {error}") from error
    finally:
        probe.close()


def open_writer(path: str | Path) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the one write connection of a process.

    The connection is in autocommit mode: the writer opens its own `BEGIN IMMEDIATE`
    transactions so that each batch is whole or absent.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise DatabaseUnavailable(
            f"cannot create database {path}: folder {path.parent} does not exist"
        )
    # SQLite opens a file it cannot write read-only without a word (on a read-only mount, when
    # its -wal and -shm are left from a crash) and only fails at the first write, mid-ingest.
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseUnavailable(
            f"cannot write database {path}: folder {path.parent} is not writable "
            "(SQLite creates its -wal and -shm files next to the database)"
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise DatabaseUnavailable(f"cannot write database {path}: the file is not writable")
    _check_is_ours(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        _configure(conn, writer=True)
        db = Database(conn)
        known = {m.name for m in migrations.applied(db)}
        if known - {m.name for m in migrations._migrations}:
            raise DatabaseTooNew(f"{path} was written by a newer newsgraph; upgrade to open it")
        apply_migrations(db)
    except sqlite3.OperationalError as error:
        raise DatabaseUnavailable(f"cannot open database {path}: {error}") from error
    return conn


def open_reader(path: str | Path) -> sqlite3.Connection:
    """A read-only connection; one per thread (sqlite3 connections are not shared)."""
    try:
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, isolation_level=None)
        _configure(conn, writer=False)
    except sqlite3.OperationalError as error:
        raise DatabaseUnavailable(f"cannot open database {path} for reading: {error}") from error
    return conn
