"""From watchdog events to a set of dirty paths: the handler records, the watcher's worker acts.

The handler runs on watchdog's dispatcher thread, and an exception there kills that thread
silently, so it never raises and never touches the database. It only notes *which* paths need a
look (plus whether a write to them is still open) and wakes the worker. The worker then compares
each dirty path with the disk as it is *then*, so the order and the exact kind of events stop
mattering: a path that exists is upserted, a path that is gone is deleted. That makes atomic saves
(temp file renamed onto the target), rm/recreate races and stale events harmless.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from newsgraph.ingest.files import is_candidate, is_ignored_name

log = logging.getLogger(__name__)

# Only what the handler acts on. Passed to `Observer.schedule(event_filter=...)`, it also narrows
# the inotify mask: no IN_OPEN / IN_CLOSE_NOWRITE, so the worker reading a file makes no events.
EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]

Stat = tuple[int, int]  # (size, mtime_ns): what "the file changed between two looks" compares


def look(path: Path) -> Stat | None:
    """Size and mtime of a file, or None when it is gone or cannot be stat'ed."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


@dataclass(slots=True)
class Mark:
    """Why a path is dirty. `stat` is the look taken at the last event; `writing` means inotify
    reported a write to it and no close since (only tracked when the observer can see closes)."""

    is_dir: bool
    stat: Stat | None = None
    writing: bool = False
    at: float = field(default_factory=time.monotonic)


@dataclass
class Drained:
    """Everything recorded since the last drain."""

    marks: dict[str, Mark]
    rescan: bool
    root_gone: bool


class DirtyPaths:
    """The thread-safe hand-off between the handler (many writes) and the worker (one reader).

    An insertion-ordered dict, so paths are processed in the order they first changed and a
    burst of events for one path collapses to one entry.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._marks: dict[str, Mark] = {}
        self._rescan = False
        self._root_gone = False
        self._generation = 0  # bumped by every record and wake: what `wait` waits to change
        self.last_event: float | None = None  # monotonic, for the quiet period
        self.first_pending: float | None = None  # monotonic, for the maximum delay
        self.last_event_at: datetime | None = None  # wall clock, for status

    def _touched(self) -> None:
        now = time.monotonic()
        self.last_event = now
        if self.first_pending is None:
            self.first_pending = now
        self.last_event_at = datetime.now(UTC)
        self._generation += 1
        self._cond.notify_all()

    def mark(self, relpath: str, mark: Mark, *, keep_writing: bool = False) -> None:
        with self._cond:
            previous = self._marks.pop(relpath, None)  # re-insert: order follows the latest event
            if keep_writing and previous is not None:
                mark.writing = previous.writing
            if previous is not None and previous.is_dir:
                mark.is_dir = True  # a folder stays a folder until the worker has looked
            self._marks[relpath] = mark
            self._touched()

    def request_rescan(self) -> None:
        with self._cond:
            self._rescan = True
            self._touched()

    def report_root_gone(self) -> None:
        with self._cond:
            self._root_gone = True
            self._touched()

    def wake(self) -> None:
        """Wake the worker without recording anything (used by `Watcher.stop`)."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def generation(self) -> int:
        """Read before deciding there is nothing to do, then passed to `wait`."""
        with self._cond:
            return self._generation

    def wait(self, timeout: float, seen: int) -> bool:
        """Wait until something is recorded (or `wake`) after `seen` was read, or `timeout`.

        The predicate closes the window between the worker's check and its wait: an event in
        between has already moved the generation, so the wait returns at once. True if woken.
        """
        with self._cond:
            return self._cond.wait_for(lambda: self._generation != seen, timeout)

    def pending(self) -> bool:
        with self._cond:
            return bool(self._marks) or self._rescan or self._root_gone

    def timing(self) -> tuple[float | None, float | None]:
        """(last event, first pending event), monotonic; None when nothing happened."""
        with self._cond:
            return self.last_event, self.first_pending

    def __len__(self) -> int:
        with self._cond:
            return len(self._marks)

    def drain(self) -> Drained:
        with self._cond:
            drained = Drained(self._marks, self._rescan, self._root_gone)
            self._marks = {}
            self._rescan = self._root_gone = False
            self.first_pending = None
            return drained


class ContentEventHandler(FileSystemEventHandler):
    """Turns watchdog events under `root` into marks on a `DirtyPaths`; never raises."""

    def __init__(
        self,
        root: Path,
        dirty: DirtyPaths,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        track_writes: bool = True,
    ) -> None:
        super().__init__()
        self.root = root
        self.dirty = dirty
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        # Polling observers never report closes: a write would look open forever.
        self.track_writes = track_writes
        self._prefix = os.fspath(root).rstrip(os.sep) + os.sep

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._record(event)
        except Exception:  # an exception here would kill the observer thread
            log.exception("watcher: could not record %r; a full rescan will follow", event)
            self._safely(self.dirty.request_rescan)

    @staticmethod
    def _safely(action: Callable[[], None]) -> None:
        try:
            action()
        except Exception:
            log.exception("watcher: could not schedule a rescan")

    def on_overflow(self) -> None:
        """The kernel dropped events: only a full reconcile can tell what changed."""
        log.warning("watcher: inotify queue overflowed; events were lost, rescanning")
        self._safely(self.dirty.request_rescan)

    def relative(self, path: bytes | str) -> str | None:
        """The content-relative POSIX path, "" for the root itself, None outside the root."""
        text = os.fsdecode(path)
        if text.rstrip(os.sep) == self._prefix.rstrip(os.sep):
            return ""
        if not text.startswith(self._prefix):
            return None
        return text[len(self._prefix) :].replace(os.sep, "/")

    def _record(self, event: FileSystemEvent) -> None:
        src = self.relative(event.src_path) if event.src_path else None
        if isinstance(event, FileMovedEvent | DirMovedEvent):
            dest = self.relative(event.dest_path) if event.dest_path else None
            if src == "":
                self.dirty.report_root_gone()  # the root itself was renamed away
                return
            if src is not None:
                self._path_changed(src, is_dir=event.is_directory)
            if dest:
                self._path_changed(dest, is_dir=event.is_directory)
            return
        if src is None:
            return
        if src == "":
            if isinstance(event, DirDeletedEvent):
                self.dirty.report_root_gone()
            return
        if isinstance(event, FileModifiedEvent):
            self._path_changed(src, is_dir=False, writing=self.track_writes)
        elif isinstance(event, FileAttribEvent):
            self._path_changed(src, is_dir=False, keep_writing=True)
        elif isinstance(event, FileCreatedEvent | FileClosedEvent | FileDeletedEvent):
            self._path_changed(src, is_dir=False)
        elif isinstance(event, DirCreatedEvent | DirDeletedEvent):
            self._path_changed(src, is_dir=True)

    def _path_changed(
        self, relpath: str, *, is_dir: bool, writing: bool = False, keep_writing: bool = False
    ) -> None:
        if is_dir:
            # A hidden folder's contents are never articles; anything else may hold some.
            if any(is_ignored_name(part) for part in relpath.split("/")):
                return
            self.dirty.mark(relpath, Mark(is_dir=True))
            return
        # Temp and hidden files are ignored; a temp file renamed onto `x.md` arrives as a move
        # whose destination is a candidate, so the target is still upserted.
        if not is_candidate(relpath, self.include, self.exclude):
            return
        stat = look(self.root / relpath)
        self.dirty.mark(
            relpath, Mark(is_dir=False, stat=stat, writing=writing), keep_writing=keep_writing
        )
