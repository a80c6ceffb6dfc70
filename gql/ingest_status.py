"""`ingestStatus`: store counts plus the live half (watcher and change feed) of this process.

Counts and the newest change come from the database, so every process reports the same.
`watching`, `observerKind`, `lastEventAt` and `queueDepth` describe *this* process's watcher:
a `serve --no-watch` process reports `watching: false` and nulls (the writer is another
process, whose state it cannot see), but its `lastChangeCursor` is as good as anyone's.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from newsgraph.db.changes import change_bounds
from newsgraph.db.rows import IngestStatusRow
from newsgraph.db.status import ingest_status
from newsgraph.gql.context import Info
from newsgraph.gql.live_types import encode_change_cursor


@dataclass(frozen=True, slots=True)
class IngestStatusValue:
    article_count: int
    provider_count: int
    topic_count: int
    skipped_count: int
    error_count: int
    last_ingest_at: str | None
    last_change_cursor: str
    watching: bool = False
    observer_kind: str | None = None
    last_event_at: datetime | None = None
    queue_depth: int | None = None


def _read(conn: sqlite3.Connection) -> tuple[IngestStatusRow, int]:
    return ingest_status(conn), change_bounds(conn)[1]


async def read_ingest_status(info: Info) -> IngestStatusValue:
    row, newest = await info.context.reader.submit(_read)
    counts = (
        row.article_count, row.provider_count, row.topic_count, row.skipped_count,
        row.error_count, row.last_ingest_at, encode_change_cursor(newest),
    )  # fmt: skip
    live = info.context.live
    if live is None or live.watcher_status is None:
        return IngestStatusValue(*counts)
    watcher = live.watcher_status()
    return IngestStatusValue(
        *counts,
        watching=watcher.watching,
        observer_kind=watcher.observer_kind,
        last_event_at=watcher.last_event_at,
        queue_depth=watcher.queue_depth,
    )
