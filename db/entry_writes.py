"""Storing events, people, organizations and learning resources (one `entries` row per file).

Called by `Writer` inside its transaction (and per-file savepoint when a batch is redone), so an
entry, its topics and its search row land with the file's state and change-feed row or not at
all. Collections are small beside articles, so rows are written directly rather than buffered.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from newsgraph.db.catalog import Catalog
from newsgraph.db.convert import headings_json, to_db_time
from newsgraph.db.records import ChangeOp, EntryRecord

_COLUMNS = (
    "collection, path, slug, name, excerpt, body, html, headings, word_count, "
    "reading_time_minutes, kind, starts_at, ends_at, heat, location, "
    "domain, free, levels, items, provider_id, images, details, extra"
)
_INSERT = (
    f"INSERT INTO entries ({_COLUMNS}, created_at, updated_at) "  # noqa: S608
    f"VALUES ({', '.join('?' * (_COLUMNS.count(',') + 3))}) RETURNING id"
)
_UPDATE = (
    "UPDATE entries SET "  # noqa: S608
    + ", ".join(f"{column.strip()} = ?" for column in _COLUMNS.split(","))
    + ", updated_at = ?, revision = revision + 1 WHERE id = ?"
)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class EntryWriter:
    """Upserts and deletes entries on the writer's connection; ids are read, never cached."""

    def __init__(self, conn: sqlite3.Connection, catalog: Catalog) -> None:
        self.conn = conn
        self.catalog = catalog
        self._present: set[str] = set()  # the paths of this batch that hold an entry

    def prepare(self, paths: Sequence[str]) -> None:
        """Note which of a batch's paths hold an entry, in one query per 500 paths.

        Every article written or deleted must also drop an entry at its path (a file that
        changed collection), and this spares the articles of a 20,000-file ingest one look-up
        each.
        """
        self._present = set()
        for start in range(0, len(paths), 500):
            chunk = json.dumps(list(paths[start : start + 500]))
            self._present.update(
                row[0]
                for row in self.conn.execute(
                    "SELECT path FROM entries WHERE path IN (SELECT value FROM json_each(?))",
                    [chunk],
                )
            )

    def recheck(self, path: str) -> None:
        """After a rolled-back file: whether its path holds an entry is read again."""
        self._present.discard(path)
        if self.stored_id(path) is not None:
            self._present.add(path)

    def stored_id(self, path: str) -> int | None:
        row = self.conn.execute("SELECT id FROM entries WHERE path = ?", [path]).fetchone()
        return None if row is None else int(row[0])

    def upsert(self, entry: EntryRecord, now: str) -> tuple[ChangeOp, int]:
        conn = self.conn
        provider_id = self.catalog.provider_id(entry.provider, now) if entry.provider else None
        rendered = entry.rendered
        values = [
            entry.collection, entry.path, entry.slug, entry.name, entry.excerpt, entry.body,
            rendered.html, headings_json(rendered.headings),
            rendered.word_count, rendered.reading_time_minutes, entry.kind,
            to_db_time(entry.starts_at) if entry.starts_at else None,
            to_db_time(entry.ends_at) if entry.ends_at else None, entry.heat, entry.location,
            entry.domain, entry.free, _json(list(entry.levels)), _json(list(entry.items)),
            provider_id, _json([asdict(image) for image in entry.images]),
            _json(dict(entry.details)), _json(dict(entry.extra)),
        ]  # fmt: skip
        existing = self.stored_id(entry.path)
        op: ChangeOp
        if existing is None:
            entry_id = int(conn.execute(_INSERT, [*values, now, now]).fetchone()[0])
            op = "created"
        else:
            entry_id = existing
            conn.execute(_UPDATE, [*values, now, entry_id])
            conn.execute("DELETE FROM entry_topics WHERE entry_id = ?", [entry_id])
            conn.execute("DELETE FROM entries_fts WHERE rowid = ?", [entry_id])
            op = "updated"
        conn.executemany(
            "INSERT INTO entry_topics (entry_id, topic_id, position) VALUES (?, ?, ?)",
            [(entry_id, self.catalog.topic_id(t), i) for i, t in enumerate(entry.topics)],
        )
        provider = (entry.provider.name or entry.provider.domain) if entry.provider else ""
        conn.execute(
            "INSERT INTO entries_fts (rowid, title, excerpt, body, provider, topics) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [entry_id, entry.name, entry.excerpt or "", rendered.plain_text, provider,
             " ".join(entry.topics)],
        )  # fmt: skip
        self._present.add(entry.path)
        return op, entry_id

    def delete(self, path: str) -> tuple[int, str] | None:
        """Delete the entry at `path`; its (id, collection), or None when there was none."""
        if path not in self._present:
            return None
        self._present.discard(path)
        row = self.conn.execute(
            "SELECT id, collection FROM entries WHERE path = ?", [path]
        ).fetchone()
        if row is None:
            return None
        self.conn.execute("DELETE FROM entries_fts WHERE rowid = ?", [row[0]])
        self.conn.execute("DELETE FROM entries WHERE id = ?", [row[0]])
        return int(row[0]), str(row[1])
