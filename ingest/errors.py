"""The ingest exception family: what can go wrong with one file, as data.

Each exception carries the record the store keeps (`ErrorRecord` or `SkipRecord`), so the edges
(CLI, watcher, GraphQL) translate it without re-deriving path, line or field. The record is the
only constructor argument, which keeps the exceptions picklable across a process pool.
"""

from __future__ import annotations

from newsgraph.db.records import ErrorRecord, SkipRecord


class IngestError(Exception):
    """Base of every error the ingest package raises on purpose."""


class ArticleError(IngestError):
    """A file that should be an article but cannot be ingested; `record` says where and why."""

    record: ErrorRecord

    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(record)
        self.record = record

    def __str__(self) -> str:
        return str(self.record)


class NotAnArticle(IngestError):
    """A Markdown file that is deliberately not an article (no front matter, no `title`).

    Not an error: the scan records it as skipped, with `record.reason`.
    """

    record: SkipRecord

    def __init__(self, record: SkipRecord) -> None:
        super().__init__(record)
        self.record = record

    def __str__(self) -> str:
        return f"{self.record.path}: skipped: {self.record.reason}"
