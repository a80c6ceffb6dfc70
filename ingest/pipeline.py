"""Turning a list of changed paths into committed rows: parse on every core, write on one.

Both the one-shot reconcile (`newsgraph ingest`) and the watcher feed paths through here, so a
`git pull` of 10,000 files under watch costs what a cold ingest of them costs. Parsing (read,
hash, YAML) runs in a process pool; the calling thread is the single writer and commits in
batches, each file in its own savepoint.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from newsgraph.db.records import ErrorRecord, FileOutcome, FileStamp
from newsgraph.db.writes import BatchResult, Writer
from newsgraph.ingest.collections import DEFAULT_COLLECTIONS, CollectionRules
from newsgraph.ingest.entries import decode_entry
from newsgraph.ingest.errors import ArticleError, NotAnArticle
from newsgraph.ingest.files import read_file, stored_path
from newsgraph.ingest.limits import ParseLimits
from newsgraph.ingest.parse import decode_article

log = logging.getLogger(__name__)

# Below this many files a pool's start-up and IPC cost more than they save: a single file drop
# under watch is parsed in-process so it shows up within milliseconds.
POOL_THRESHOLD = 64
CHUNK_SIZE = 32


@dataclass(frozen=True, slots=True)
class Job:
    """A file to look at; `known` is what the store remembers of it (to skip unchanged content)."""

    relpath: str
    known_sha256: str | None = None
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True, slots=True)
class Gone:
    """The file disappeared between being listed and being read: its article is deleted."""

    relpath: str


Result = FileOutcome | FileStamp | Gone


def process_file(
    root: Path, job: Job, limits: ParseLimits, collections: CollectionRules = DEFAULT_COLLECTIONS
) -> Result:
    """Read, hash and parse one file as its collection. Never raises: failures are outcomes."""
    if stored_path(job.relpath) != job.relpath:
        # The path is the article's identity and is served as text: a name that is not UTF-8
        # cannot be stored or served faithfully, so the file is an error, never read.
        stamp = _unread_stamp(job)
        message = "file name is not valid UTF-8; rename the file to ingest it"
        return FileOutcome(stamp=stamp, error=ErrorRecord(path=stamp.path, message=message))
    try:
        data, stamp = read_file(root, job.relpath, max_bytes=limits.max_bytes)
    except FileNotFoundError:
        return Gone(job.relpath)
    except ArticleError as error:
        return FileOutcome(stamp=_unread_stamp(job), error=error.record)
    except OSError as error:
        record = ErrorRecord(path=job.relpath, message=f"cannot read: {error.strerror or error}")
        return FileOutcome(stamp=_unread_stamp(job), error=record)
    if job.known_sha256 == stamp.sha256:
        return stamp  # touched but not changed: no parse, no write beyond the stamp
    collection = collections.collection_for(job.relpath)
    try:
        if collection is not None:
            entry = decode_entry(data, path=job.relpath, collection=collection, limits=limits)
            return FileOutcome(stamp=stamp, entry=entry)
        article = decode_article(data, path=job.relpath, limits=limits)
    except NotAnArticle as skip:
        return FileOutcome(stamp=stamp, skip=skip.record)
    except ArticleError as error:
        return FileOutcome(stamp=stamp, error=error.record)
    except Exception as error:  # a parser bug must cost one file, not the ingest
        log.exception("parser failed on %s", job.relpath)
        record = ErrorRecord(path=job.relpath, message=f"internal parser error: {error!r}")
        return FileOutcome(stamp=stamp, error=record)
    return FileOutcome(stamp=stamp, article=article)


def _unread_stamp(job: Job) -> FileStamp:
    """A file we refused to read is remembered by size and mtime, so it is not retried unchanged."""
    path = stored_path(job.relpath)
    return FileStamp(path=path, size=job.size, mtime_ns=job.mtime_ns, sha256="")


def _process_chunk(
    root: Path, jobs: Sequence[Job], limits: ParseLimits, collections: CollectionRules
) -> list[Result]:
    return [process_file(root, job, limits, collections) for job in jobs]


def _chunks(jobs: Sequence[Job], size: int) -> Iterator[Sequence[Job]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


class Pipeline:
    """Owns the parse pool and the writer; `run` applies jobs and deletions in batches."""

    def __init__(
        self,
        root: Path,
        writer: Writer,
        limits: ParseLimits | None = None,
        *,
        workers: int | None = None,
        batch_size: int = 2000,
        batch_seconds: float = 0.25,
        collections: CollectionRules = DEFAULT_COLLECTIONS,
    ) -> None:
        self.collections = collections
        self.root = root
        self.writer = writer
        self.limits = limits or ParseLimits()
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self._pool: Executor | None = None

    def _executor(self) -> Executor:
        if self._pool is None:
            # forkserver, not fork: the watcher and the server run threads, and forking a
            # threaded process can deadlock the child.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["newsgraph.ingest.parse", "newsgraph.ingest.pipeline"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _results(self, jobs: Sequence[Job]) -> Iterator[Result]:
        if len(jobs) < POOL_THRESHOLD or self.workers <= 1:
            for job in jobs:
                yield process_file(self.root, job, self.limits, self.collections)
            return
        executor = self._executor()
        # A bounded window of in-flight chunks keeps memory flat however many files there are;
        # it covers a whole batch so that the workers keep parsing while the writer commits.
        window = self.workers * 4 + self.batch_size // CHUNK_SIZE
        futures: deque[Future[list[Result]]] = deque()
        for chunk in _chunks(jobs, CHUNK_SIZE):
            futures.append(
                executor.submit(_process_chunk, self.root, chunk, self.limits, self.collections)
            )
            if len(futures) >= window:
                yield from futures.popleft().result()
        while futures:
            yield from futures.popleft().result()

    def run(
        self,
        jobs: Sequence[Job],
        deletions: Iterable[str] = (),
        on_progress: Callable[[int], None] | None = None,
        on_batch: Callable[[BatchResult], None] | None = None,
    ) -> BatchResult:
        """Process every job and deletion; returns the totals of all batches."""
        total = BatchResult()
        outcomes: list[FileOutcome] = []
        touched: list[FileStamp] = []
        gone: list[str] = list(deletions)
        started = time.monotonic()

        def flush() -> None:
            nonlocal outcomes, touched, gone, started
            if outcomes or touched or gone:
                batch = self.writer.apply_batch(outcomes, gone, touched)
                total.add(batch)
                if on_batch is not None:
                    on_batch(batch)
            outcomes, touched, gone = [], [], []
            started = time.monotonic()

        for done, result in enumerate(self._results(jobs), start=1):
            if isinstance(result, FileOutcome):
                outcomes.append(result)
            elif isinstance(result, FileStamp):
                touched.append(result)
            else:
                gone.append(result.relpath)
            if on_progress is not None:
                on_progress(done)
            pending = len(outcomes) + len(touched) + len(gone)
            if pending >= self.batch_size or time.monotonic() - started >= self.batch_seconds:
                flush()
        flush()
        return total
