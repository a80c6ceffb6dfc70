"""One-shot reconcile: make the store match the content directory.

New and changed files are parsed; unchanged ones are recognised by (size, mtime) without being
read, and by content hash without being parsed; articles whose files are gone are deleted.
A content root that does not exist deletes nothing: an unmounted volume must not empty the API.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newsgraph.db.filestate import file_counts, known_files
from newsgraph.db.writes import BatchResult
from newsgraph.ingest.errors import IngestError
from newsgraph.ingest.files import stored_path, walk
from newsgraph.ingest.pipeline import Job, Pipeline


class ContentRootMissing(IngestError):
    """The content root is gone (deleted, or a volume not mounted): nothing is deleted."""


@dataclass(frozen=True)
class ScanSummary:
    """The one line every ingest ends with. skipped/errors are totals now, the rest this run."""

    new: int
    updated: int
    unchanged: int
    deleted: int
    skipped: int
    errors: int
    seconds: float
    files: int
    result: BatchResult

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deleted} deleted, {self.skipped} skipped, {self.errors} errors "
            f"in {self.seconds:.2f} s ({self.files_per_second:,.0f} files/s)"
        )


def reconcile(
    pipeline: Pipeline,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> ScanSummary:
    """Bring the store in line with `pipeline.root`; raises ContentRootMissing if it is absent."""
    started = time.monotonic()
    root = pipeline.root
    if not root.is_dir():
        raise ContentRootMissing(f"content root {root} does not exist or is not a folder")
    conn = pipeline.writer.conn
    known = known_files(conn)
    jobs: list[Job] = []
    unreadable: list[str] = []
    seen = 0
    unchanged = 0
    for relpath, size, mtime_ns in walk(root, include, exclude, unreadable):
        seen += 1
        previous = known.pop(stored_path(relpath), None)  # a non-UTF-8 name is stored escaped
        if previous is not None and previous.size == size and previous.mtime_ns == mtime_ns:
            unchanged += 1
            continue
        jobs.append(Job(relpath, previous.sha256 if previous else None, size, mtime_ns))
    # What is left in `known` was not found; files that no longer match the globs go too.
    deletions = [path for path in sorted(known) if not any(path.startswith(p) for p in unreadable)]
    if deletions and not root.is_dir():
        # The root vanished during the walk (unmounted, deleted): the folders that could not be
        # read look empty, and deleting their articles would empty the API.
        raise ContentRootMissing(f"content root {root} disappeared during the scan")
    if on_total is not None:
        on_total(len(jobs))
    result = pipeline.run(jobs, deletions, on_progress=on_progress, on_batch=on_batch)
    counts = file_counts(conn)
    summary = ScanSummary(
        new=result.created,
        updated=result.updated,
        unchanged=unchanged + result.unchanged,
        deleted=result.deleted,
        skipped=counts["skipped"],
        errors=counts["error"],
        seconds=time.monotonic() - started,
        files=seen,
        result=result,
    )
    return summary
