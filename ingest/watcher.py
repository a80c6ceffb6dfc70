"""Keeping the store in step with the content root while it changes: observer + one worker.

The observer (inotify, or polling for network filesystems and when inotify cannot be set up)
feeds `DirtyPaths`; one worker thread owns the `Pipeline` (it is not thread-safe), waits for a
quiet period, drains the dirty paths and sends them through `Pipeline.run`, so a burst is parsed
on every core and committed in batches exactly like `newsgraph ingest`. Every path is looked at in
its own try/except: one bad path never stops the worker.

The content root is checked on every wake-up. Gone (deleted, renamed, volume unmounted) means
nothing is deleted: the observer is stopped, status says so, and when the root returns it is
watched again and reconciled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from watchdog.observers.api import BaseObserver

from newsgraph.db.filestate import current_errors
from newsgraph.db.writes import BatchResult
from newsgraph.ingest.handler import ContentEventHandler, DirtyPaths, Mark
from newsgraph.ingest.observers import ObserverKind, start_observer
from newsgraph.ingest.pipeline import Job, Pipeline
from newsgraph.ingest.scan import ContentRootMissing, reconcile
from newsgraph.ingest.triage import Triage

log = logging.getLogger(__name__)

OnCommit = Callable[[BatchResult], None]

# While events keep coming (a sync tool or `git pull` writing thousands of files, a file
# appended to without pause) the quiet period never arrives; the paths dirty for this long are
# taken anyway. Files still being written are not: triage defers them. At 1 s, a 10,000-file
# burst waited that second with the parse pool idle, and the larger first round let the files
# found by walking new folders be looked at twice; at 250 ms the burst under `serve --workers 2`
# went from 0.75 to 0.92 of a cold ingest's rate (mean of four paired runs each).
MAX_DELAY_MS = 250


@dataclass(frozen=True)
class WatcherStatus:
    """A consistent snapshot for `ingestStatus` and health checks."""

    watching: bool
    observer_kind: ObserverKind | None
    root_present: bool
    last_event_at: datetime | None
    queue_depth: int
    last_change_seq: int | None
    rescans: int


class Watcher:
    """Watches `pipeline.root` and applies every change; `start()`/`stop()` or `with Watcher(...)`.

    While it runs the worker thread owns `pipeline`: do not use it from elsewhere.
    `on_commit` is called on the worker thread after every committed batch (and after every
    reconcile, with its totals); it must be quick and must not block.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        poll: bool = False,
        debounce_ms: int = 50,
        poll_interval: float = 1.0,
        root_check_interval: float = 0.5,
        max_delay_ms: int = MAX_DELAY_MS,
        open_write_timeout: float = 2.0,
        on_commit: OnCommit | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.root = pipeline.root
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.poll = poll
        self.quiet = debounce_ms / 1000
        self.poll_interval = poll_interval
        self.root_check_interval = root_check_interval
        self.max_delay = max(max_delay_ms / 1000, self.quiet)
        self.triage = Triage(
            pipeline, self.include, self.exclude, open_write_timeout=open_write_timeout
        )
        self.on_commit = on_commit
        self.dirty = DirtyPaths()
        self._lock = threading.Lock()  # guards the status fields and the observer
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._observer: BaseObserver | None = None
        self._kind: ObserverKind | None = None
        self._root_id: tuple[int, int] | None = None
        self._root_was_mount = os.path.ismount(self.root)
        self._root_present = self.root.is_dir()
        self._last_seq: int | None = None
        self._rescans = 0
        self._in_flight = 0
        self._deferred: dict[str, Mark] = {}
        self._needs_scan = False  # a reconcile is due (start-up, overflow) until one succeeds
        self._retry_at = 0.0
        self._failures = 0
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching (events are buffered from here on), then reconcile in the worker."""
        if self._thread is not None:
            raise RuntimeError("watcher already started")
        if self._root_available():
            try:
                self._start_observer()
            except OSError as error:  # the root vanished meanwhile: the worker waits for it
                log.warning("watcher: cannot watch %s: %s", self.root, error)
        self._thread = threading.Thread(target=self._run, name="newsgraph-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the observer, let the worker finish the batch in hand, join every thread."""
        self._stopping.set()
        self.dirty.wake()
        self._stop_observer()
        if self._thread is not None:
            self._thread.join()
        self._stop_observer()  # the worker may have re-watched a returning root meanwhile
        pending = len(self.dirty) + len(self._deferred)
        if pending:
            log.info("watcher: stopped with %d paths pending; the next start reconciles", pending)
        else:
            log.info("watcher: stopped")  # each shutdown step shows in the log

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive (started and neither stopped nor crashed)."""
        return self._thread is not None and self._thread.is_alive()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for the start-up reconcile (or for the worker to find the root missing)."""
        return self._ready.wait(timeout)

    def status(self) -> WatcherStatus:
        with self._lock:
            observing = self._observer is not None
            return WatcherStatus(
                watching=observing and self._root_present,
                observer_kind=self._kind if observing else None,
                root_present=self._root_present,
                last_event_at=self.dirty.last_event_at,
                queue_depth=len(self.dirty) + len(self._deferred) + self._in_flight,
                last_change_seq=self._last_seq,
                rescans=self._rescans,
            )

    # -- observer --------------------------------------------------------------------------

    def _start_observer(self) -> None:
        with self._lock:
            if self._observer is not None or self._stopping.is_set():
                return
            info = os.stat(self.root)
            self._observer, self._kind = start_observer(
                self.root, self._handler, poll=self.poll, poll_interval=self.poll_interval
            )
            self._root_id = (info.st_dev, info.st_ino)
        log.info("watcher: watching %s (%s)", self.root, self._kind)

    def _handler(self, track_writes: bool) -> ContentEventHandler:
        return ContentEventHandler(
            self.root, self.dirty, include=self.include, exclude=self.exclude,
            track_writes=track_writes,
        )  # fmt: skip

    def _stop_observer(self) -> None:
        with self._lock:
            observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            with contextlib.suppress(RuntimeError):
                observer.join()

    # -- the content root ------------------------------------------------------------------

    def _root_available(self) -> bool:
        """The root is a folder (and still a mount point if it was one: unmounted is gone)."""
        try:
            mode = os.stat(self.root).st_mode
        except OSError:
            return False
        return stat.S_ISDIR(mode) and (not self._root_was_mount or os.path.ismount(self.root))

    def _root_unchanged(self) -> bool:
        """Available and the same folder we watch (a folder recreated under the name is not)."""
        if not self._root_available():
            return False
        info = os.stat(self.root)
        return self._root_id is None or self._root_id == (info.st_dev, info.st_ino)

    def _await_root(self) -> None:
        """Root gone or replaced: delete nothing, stop watching, resume when it is back."""
        available = self._root_available()
        with self._lock:
            self._root_present = available
        self._stop_observer()
        self._deferred.clear()
        self.dirty.drain()  # events about a vanished tree must not delete anything
        if not available:
            log.warning("watcher: content root %s is gone; nothing deleted, waiting", self.root)
        while not available and not self._stopping.wait(self.root_check_interval):
            available = self._root_available()
        if self._stopping.is_set():
            return
        log.info("watcher: content root %s is there; watching and reconciling", self.root)
        with self._lock:
            self._root_present = True
        self._start_observer()
        self._scan()

    # -- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        # A reconcile that fails (disk full, database locked by hand) is retried with a growing
        # delay instead of ending the worker: the process must not keep serving while silently
        # ingesting nothing.
        self._needs_scan = self._observer is not None
        failures = 0
        try:
            self._scan_if_needed()
        except Exception:
            failures = 1
            log.exception("watcher: start-up reconcile failed; retrying")
        finally:
            self._ready.set()
        while not self._stopping.is_set():
            if failures:
                self._stopping.wait(min(30.0, max(self.quiet, self.root_check_interval) * failures))
            try:
                self._scan_if_needed()
                self._cycle()
                failures = 0
            except Exception:
                failures += 1
                log.exception("watcher: unexpected failure; retrying")

    def _scan_if_needed(self) -> None:
        if self._needs_scan:
            self._scan()
            self._needs_scan = False

    def _cycle(self) -> None:
        if self._observer is None or not self._root_unchanged():
            self._await_root()
            return
        seen = self.dirty.generation()  # before the check: a later event ends the wait at once
        wait = self._time_to_work()
        if wait is None or wait > 0:
            self.dirty.wait(self.root_check_interval if wait is None else wait, seen)
            return
        drained = self.dirty.drain()
        marks = self._deferred
        self._deferred = {}
        for relpath, mark in drained.marks.items():
            marks.pop(relpath, None)
            marks[relpath] = mark
        if drained.root_gone and not self._root_unchanged():
            self._deferred = marks  # dropped by _await_root on the next cycle
            return
        if drained.rescan:
            self._needs_scan = True
            self._scan_if_needed()
        if marks:
            self._apply(marks)

    def _time_to_work(self) -> float | None:
        """Seconds until the dirty paths are due, or None when there is nothing to do."""
        last_event, first_pending = self.dirty.timing()
        due: list[float] = []
        if self.dirty.pending() and last_event is not None:
            due.append(last_event + self.quiet)
        if self._deferred:
            due.append(self._retry_at)
        if not due:
            return None
        ready = max(due)
        if first_pending is not None and self.dirty.pending():
            ready = min(ready, first_pending + self.max_delay)  # a steady stream still lands
        return ready - time.monotonic()

    def _scan(self) -> None:
        """A full reconcile: at start-up, after an overflow, when the root comes back."""
        try:
            summary = reconcile(self.pipeline, self.include, self.exclude)
        except ContentRootMissing:
            log.warning("watcher: content root %s vanished during a reconcile", self.root)
            return
        with self._lock:
            self._rescans += 1
        result = summary.result
        if result.last_seq is None:
            result.last_seq = self.pipeline.writer.apply_batch().last_seq  # read the cursor
        log.info("watcher: reconciled: %s", summary.line())
        self._committed(result)

    def _apply(self, marks: dict[str, Mark]) -> None:
        work = self.triage.sort(marks)
        if not self._root_unchanged():
            return  # files vanished with the root: that is not a deletion
        self._deferred.update(work.deferred)
        self._retry_at = time.monotonic() + self.quiet
        if not work.jobs and not work.deletions:
            return
        with self._lock:
            self._in_flight = work.size
        try:
            total = self.pipeline.run(
                list(work.jobs.values()), sorted(work.deletions), on_batch=self._committed
            )
        except Exception:
            self._failures += 1
            backoff = min(30.0, 0.5 * 2**self._failures)
            log.exception(
                "watcher: failed to apply %d changes; retry in %.1f s", work.size, backoff
            )
            self._deferred.update(marks)
            self._retry_at = time.monotonic() + backoff
            return
        finally:
            with self._lock:
                self._in_flight = 0
        self._failures = 0
        if total.errors:
            self._log_errors(work.jobs)

    def _committed(self, batch: BatchResult) -> None:
        with self._lock:
            if batch.last_seq is not None:
                self._last_seq = batch.last_seq
        if self.on_commit is not None:
            try:
                self.on_commit(batch)
            except Exception:
                log.exception("watcher: on_commit callback failed")

    def _log_errors(self, jobs: dict[str, Job]) -> None:
        for path, line, column, field, message in current_errors(self.pipeline.writer.conn):
            if path in jobs:
                fields = {"path": path, "line": line, "column": column, "field": field}
                log.warning(
                    "%s:%s:%s: %s: %s", path, line or 0, column or 0, field or "-", message,
                    extra=fields,
                )  # fmt: skip
