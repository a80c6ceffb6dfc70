"""The write path: every change of an article lands whole, with its change-feed row, or not at all.

One `Writer` per process owns the write connection. `apply_batch` wraps a batch of file outcomes
in one `BEGIN IMMEDIATE` transaction (batching is what makes a 20,000-file ingest fast). New rows
are buffered and written with one executemany per table; if any file's rows fail, the batch is
redone with one savepoint per file, so that failure costs that file alone, never the batch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from newsgraph.db.catalog import Catalog, image_rows
from newsgraph.db.convert import headings_json, to_db_time, utc_now
from newsgraph.db.errors import StoreWriteFailed
from newsgraph.db.records import (
    ArticleRecord,
    ChangeOp,
    ErrorRecord,
    FileOutcome,
    FileStamp,
)
from newsgraph.db.statements import (
    BUFFERED,
    CLEAR_ERROR,
    INSERT_ARTICLE,
    INSERT_CHANGE,
    INSERT_FTS,
    INSERT_IMAGES,
    INSERT_RELATED,
    INSERT_RELATED_IMAGES,
    INSERT_TOPICS,
    UPDATE_ARTICLE,
    UPSERT_FILE,
)

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What one batch did, for summaries and for waking subscribers."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    last_seq: int | None = None
    failures: list[ErrorRecord] = field(default_factory=list)
    # For operators' metrics: time spent in the write transaction, and for each article written
    # the seconds from its file's mtime to the commit (how long a change took to become visible).
    seconds: float = 0.0
    change_lags: list[float] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        for name in ("created", "updated", "deleted", "unchanged", "skipped", "errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.last_seq = other.last_seq if other.last_seq is not None else self.last_seq
        self.failures.extend(other.failures)
        self.seconds += other.seconds
        self.change_lags.extend(other.change_lags)

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted


class _FileFailed(Exception):
    """One file's rows could not be stored; the batch is redone with per-file savepoints."""


# What one file's bad values can raise: constraint errors, and OverflowError for an integer
# beyond SQLite's 64 bits.
_STORE_FAILURES = (sqlite3.DatabaseError, OverflowError)


# SQLite primary result codes that are the store's fault, never one file's: the disk is full or
# failing, the file is read-only, corrupt or gone, memory ran out, a lock or an interrupt came in
# the way. Any of them fails the whole batch (rolled back, retried by the next run or cycle);
# other errors (a constraint, a value too big) belong to the file whose rows raised them.
_FATAL_CODES = frozenset(
    {
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_INTERRUPT,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)


def _is_fatal(error: BaseException) -> bool:
    """Whether `error` is the store's fault (by SQLite's primary result code, not its text)."""
    if not isinstance(error, sqlite3.Error):
        return False
    code = error.sqlite_errorcode
    return code is not None and code & 0xFF in _FATAL_CODES


class Writer:
    """Applies parsed files and deletions to the store. Not thread-safe: one writer thread."""

    def __init__(self, conn: sqlite3.Connection, *, change_retention: int = 1_000_000) -> None:
        self.conn = conn
        # The change feed keeps this many newest rows; a resume cursor older than that has
        # expired (a clear error for the subscriber) instead of the table growing forever.
        self.change_retention = change_retention
        self.catalog = Catalog(conn)
        self._next_article_id: int | None = None
        self._data_version: int | None = None  # to notice commits by another writer process
        self._next_related_id: int | None = None
        self._article_ids: dict[str, int] = {}  # stored ids of this batch's paths
        # Rows written with one executemany per statement per batch (per file when isolating).
        self._rows: dict[str, list[tuple[Any, ...]]] = {sql: [] for sql in BUFFERED}
        self._buffered_paths: set[str] = set()
        self._mtimes_ns: list[int] = []  # of the articles written in this batch

    # -- batches ---------------------------------------------------------------------------

    def apply_batch(
        self,
        outcomes: Iterable[FileOutcome] = (),
        deletions: Iterable[str] = (),
        touched: Iterable[FileStamp] = (),
    ) -> BatchResult:
        """Apply parsed files, deleted paths and unchanged-content stamps in one transaction.

        Optimistic: the batch first runs without savepoints (a savepoint per file costs as much
        as the article's insert). Only if a file's rows fail to store is the batch rolled back
        and redone with one savepoint per file, so that file alone becomes an ingest error.
        """
        outcomes, deletions, touched = list(outcomes), list(deletions), list(touched)
        try:
            return self._apply(outcomes, deletions, touched, isolate=False)
        except _FileFailed:
            return self._apply(outcomes, deletions, touched, isolate=True)

    def _apply(
        self,
        outcomes: list[FileOutcome],
        deletions: list[str],
        touched: list[FileStamp],
        *,
        isolate: bool,
    ) -> BatchResult:
        result = BatchResult()
        now = to_db_time(utc_now())
        started = time.perf_counter()
        self._clear_rows()
        self._mtimes_ns = []
        try:
            self.conn.execute("BEGIN IMMEDIATE")  # a store that refuses writes fails here
            # Ids are counted and cached here; if another process (a one-off `newsgraph ingest`
            # beside a running watcher) committed since our last batch, they may be stale.
            version = self.conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._forget_ids()
                self._data_version = version
            self._article_ids = self._stored_ids([o.stamp.path for o in outcomes] + deletions)
            for stamp in touched:
                self._touch(stamp, now)
                result.unchanged += 1
            for outcome in outcomes:
                action = partial(self._apply_outcome, outcome, now, result)
                self._one_file(outcome.stamp.path, result, now, action, isolate)
            for path in deletions:
                action = partial(self._delete_path, path, now, result)
                self._one_file(path, result, now, action, isolate)
            try:
                self._flush_rows()
            except _STORE_FAILURES as error:  # some file's rows: find it with savepoints
                if _is_fatal(error):
                    raise
                raise _FileFailed("batch") from error
            if result.deleted or result.updated:
                self._drop_orphans()
            row = self.conn.execute("SELECT max(seq) FROM changes").fetchone()
            result.last_seq = row[0]
            if result.last_seq is not None and result.last_seq > self.change_retention:
                self.conn.execute(
                    "DELETE FROM changes WHERE seq <= ?", [result.last_seq - self.change_retention]
                )
            self.conn.execute("UPDATE store_version SET commits = commits + 1 WHERE id = 1")
            self.conn.execute("COMMIT")
            result.seconds = time.perf_counter() - started
            committed = time.time()
            result.change_lags = [max(0.0, committed - m / 1e9) for m in self._mtimes_ns]
        except BaseException as error:
            # SQLite rolls back by itself on some errors (SQLITE_FULL, SQLITE_IOERR): a second
            # ROLLBACK would raise "no transaction is active" and hide the real cause.
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            self._forget_ids()
            if _is_fatal(error):
                raise StoreWriteFailed(
                    f"cannot write to the database: {error}; the batch in progress was rolled "
                    "back, earlier batches are kept"
                ) from error
            raise
        return result

    def _one_file(
        self, path: str, result: BatchResult, now: str, action: Callable[[], None], isolate: bool
    ) -> None:
        if not isolate:
            try:
                action()
            except _STORE_FAILURES as error:
                if _is_fatal(error):
                    raise
                raise _FileFailed(path) from error
            return
        self.conn.execute("SAVEPOINT one_file")
        marks = len(self._mtimes_ns)
        counts = (result.created, result.updated, result.deleted, result.skipped)
        try:
            action()
            self._flush_rows()  # inside the savepoint: a failing row is this file's alone
        except _STORE_FAILURES as error:
            if _is_fatal(error):
                raise
            self.conn.execute("ROLLBACK TO one_file")
            self._clear_rows()
            del self._mtimes_ns[marks:]
            result.created, result.updated, result.deleted, result.skipped = counts
            self._forget_ids()
            self._article_ids.pop(path, None)  # what the rolled-back file assigned or deleted
            self._article_ids.update(self._stored_ids([path]))
            failure = ErrorRecord(path=path, message=f"could not store: {error}")
            log.error("%s", failure, extra={"path": path})
            result.failures.append(failure)
            result.errors += 1
            self._record_error(failure, now)
        self.conn.execute("RELEASE one_file")

    def _flush_rows(self) -> None:
        for sql, rows in self._rows.items():
            if rows:
                self.conn.executemany(sql, rows)
        self._clear_rows()

    def _clear_rows(self) -> None:
        for rows in self._rows.values():
            rows.clear()
        self._buffered_paths.clear()

    def _stored_ids(self, paths: Sequence[str]) -> dict[str, int]:
        """Ids of the articles stored at these paths: one query per 500 paths, not one each."""
        ids: dict[str, int] = {}
        for start in range(0, len(paths), 500):
            chunk = paths[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT path, id FROM articles WHERE path IN ({marks})"  # noqa: S608
            ids.update(self.conn.execute(sql, chunk).fetchall())
        return ids

    def _settle(self, path: str) -> None:
        """A path seen twice in one batch: write the first version's rows before the second."""
        if path in self._buffered_paths:
            self._flush_rows()

    # -- one file --------------------------------------------------------------------------

    def _apply_outcome(self, outcome: FileOutcome, now: str, result: BatchResult) -> None:
        stamp = outcome.stamp
        if outcome.article is not None:
            op = self._upsert_article(outcome.article, now)
            self._upsert_file(stamp, "article", None, outcome.article.warnings, now)
            self._rows[CLEAR_ERROR].append((stamp.path,))
            self._mtimes_ns.append(stamp.mtime_ns)
            if op == "created":
                result.created += 1
            else:
                result.updated += 1
        elif outcome.skip is not None:
            self._delete_article(stamp.path, now, result)
            self._upsert_file(stamp, "skipped", outcome.skip.reason, (), now)
            self._rows[CLEAR_ERROR].append((stamp.path,))
            result.skipped += 1
        else:
            error = outcome.error or ErrorRecord(path=stamp.path, message="unknown failure")
            self._upsert_file(stamp, "error", None, (), now)
            self._record_error(error, now)
            result.errors += 1

    def _touch(self, stamp: FileStamp, now: str) -> None:
        self.conn.execute(
            "UPDATE files SET size = ?, mtime_ns = ?, seen_at = ? WHERE path = ?",
            [stamp.size, stamp.mtime_ns, now, stamp.path],
        )

    def _upsert_file(
        self, stamp: FileStamp, state: str, reason: str | None, warnings: Sequence[str], now: str
    ) -> None:
        self._rows[UPSERT_FILE].append(
            (stamp.path, stamp.size, stamp.mtime_ns, stamp.sha256, state, reason,
             json.dumps(list(warnings)) if warnings else None, now)
        )  # fmt: skip

    def _record_error(self, error: ErrorRecord, now: str) -> None:
        self.conn.execute(
            'INSERT INTO ingest_errors (path, line, "column", field, message, first_seen, '
            "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET line = excluded.line, "
            '"column" = excluded."column", field = excluded.field, message = excluded.message, '
            "last_seen = excluded.last_seen",
            [error.path, error.line, error.column, error.field, error.message, now, now],
        )

    def _delete_path(self, path: str, now: str, result: BatchResult) -> None:
        self._settle(path)
        self._delete_article(path, now, result)
        self.conn.execute("DELETE FROM files WHERE path = ?", [path])
        self.conn.execute("DELETE FROM ingest_errors WHERE path = ?", [path])

    def _delete_article(self, path: str, now: str, result: BatchResult) -> None:
        self._settle(path)
        article_id = self._article_ids.pop(path, None)
        if article_id is None:
            return
        self.conn.execute("DELETE FROM articles_fts WHERE rowid = ?", [article_id])
        self.conn.execute("DELETE FROM articles WHERE id = ?", [article_id])
        self._log_change("deleted", article_id, path, now)
        result.deleted += 1

    # -- articles --------------------------------------------------------------------------

    def _upsert_article(self, article: ArticleRecord, now: str) -> ChangeOp:
        conn = self.conn
        provider_id = self.catalog.provider_id(article.provider, now) if article.provider else None
        rendered = article.rendered
        values = [
            article.path, article.slug, article.title, article.excerpt, article.body,
            article.category, article.type, to_db_time(article.published_at), article.web_url,
            article.original_url, article.amp_web_url, article.cdn_amp_web_url, article.quality,
            article.heat, article.published, article.secured, provider_id,
            json.dumps(dict(article.extra), ensure_ascii=False, default=str), len(article.images),
            rendered.html, headings_json(rendered.headings), rendered.word_count,
            rendered.reading_time_minutes,
        ]  # fmt: skip
        self._settle(article.path)
        existing = self._article_ids.get(article.path)
        if existing is None:
            article_id = self._new_id("articles")
            self._article_ids[article.path] = article_id
            self._rows[INSERT_ARTICLE].append((*values, now, now, article_id))
        else:
            article_id = existing
            conn.execute(UPDATE_ARTICLE, [*values, now, article_id])
            for table in ("article_images", "article_topics", "related"):
                conn.execute(f"DELETE FROM {table} WHERE article_id = ?", [article_id])  # noqa: S608
            conn.execute("DELETE FROM articles_fts WHERE rowid = ?", [article_id])
        self._buffered_paths.add(article.path)
        self._rows[INSERT_IMAGES].extend(image_rows(article_id, article.images))
        self._rows[INSERT_TOPICS].extend(
            (article_id, self.catalog.topic_id(t), i) for i, t in enumerate(article.topics)
        )
        self._insert_related(article_id, article, now)
        self._rows[INSERT_FTS].append(
            (article_id, article.title, article.excerpt or "", rendered.plain_text,
             (article.provider.name or article.provider.domain) if article.provider else "",
             " ".join(article.topics))
        )  # fmt: skip
        op: ChangeOp = "created" if existing is None else "updated"
        self._log_change(op, article_id, article.path, now)
        return op

    def _new_id(self, table: str) -> int:
        """The next rowid of `articles` or `related`, counted here so rows can be buffered."""
        if table == "articles":
            if self._next_article_id is None:
                self._next_article_id = self._max_id("articles") + 1
            self._next_article_id += 1
            return self._next_article_id - 1
        if self._next_related_id is None:
            self._next_related_id = self._max_id("related") + 1
        self._next_related_id += 1
        return self._next_related_id - 1

    def _max_id(self, table: str) -> int:
        row = self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()  # noqa: S608
        return int(row[0])

    def _insert_related(self, article_id: int, article: ArticleRecord, now: str) -> None:
        for position, item in enumerate(article.related):
            related_id = self._new_id("related")
            provider_id = self.catalog.provider_id(item.provider, now) if item.provider else None
            self._rows[INSERT_RELATED].append(
                (related_id, article_id, position, item.web_url, item.title, item.excerpt,
                 to_db_time(item.published_at) if item.published_at else None, item.original_url,
                 item.amp_web_url, item.cdn_amp_web_url, item.type, item.quality, provider_id)
            )  # fmt: skip
            self._rows[INSERT_RELATED_IMAGES].extend(image_rows(related_id, item.images))

    def _log_change(self, op: ChangeOp, article_id: int, path: str, now: str) -> None:
        self._rows[INSERT_CHANGE].append((op, article_id, path, now))

    def _drop_orphans(self) -> None:
        self.catalog.drop_orphans()
        self._next_related_id = None

    def _forget_ids(self) -> None:
        self.catalog.forget()
        self._next_article_id = None
        self._next_related_id = None
