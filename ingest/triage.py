"""Deciding what a set of dirty paths means, by looking at the disk as it is now.

Events only say *where* to look. A path that exists is upserted, a path that is gone is deleted,
a folder is walked and compared with what the store holds under it. A file whose size or mtime
moved since the last look, or that inotify says is still open for writing, is looked at again
after another quiet period: it is never ingested half-written.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from newsgraph.db.filestate import KnownFile, known_files_at, known_files_under
from newsgraph.ingest.files import is_candidate, stored_path, walk
from newsgraph.ingest.handler import Mark
from newsgraph.ingest.pipeline import Job, Pipeline

log = logging.getLogger(__name__)


@dataclass
class Work:
    """What to hand to `Pipeline.run`, and what to look at again later."""

    jobs: dict[str, Job] = field(default_factory=dict)
    deletions: set[str] = field(default_factory=set)
    deferred: dict[str, Mark] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.jobs) + len(self.deletions)


class Triage:
    """Turns marks into `Work` for one pipeline; runs on the watcher's worker thread only."""

    def __init__(
        self,
        pipeline: Pipeline,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        *,
        open_write_timeout: float = 2.0,
    ) -> None:
        self.pipeline = pipeline
        self.root: Path = pipeline.root
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        # A write still open after this long (a hard link, a writer that never closes) is taken
        # as finished once its size and mtime hold still for a quiet period.
        self.open_write_timeout = open_write_timeout

    def sort(self, marks: dict[str, Mark]) -> Work:
        """Each path in its own try/except: one path that cannot be looked at costs only itself."""
        # One query for what the store knows; it gives jobs their hash, so an unchanged file is
        # not parsed again and logs no change. The store knows non-UTF-8 names by `stored_path`.
        known = known_files_at(
            self.pipeline.writer.conn,
            [stored_path(p) for p, mark in marks.items() if not mark.is_dir],
        )
        work = Work()
        files = {relpath: mark for relpath, mark in marks.items() if not mark.is_dir}
        now = time.monotonic()
        for relpath, mark in marks.items():
            try:
                if mark.is_dir:
                    self._folder(relpath, files, work)
                    if is_candidate(relpath, self.include, self.exclude):
                        self._file(relpath, Mark(False, None), known, now, work)
                else:
                    self._file(relpath, mark, known, now, work)
            except Exception:
                log.exception("watcher: cannot look at %s; skipped", relpath)
        for relpath in work.deferred:
            work.jobs.pop(relpath, None)
        return work

    def _file(
        self, relpath: str, mark: Mark, known: dict[str, KnownFile], now: float, work: Work
    ) -> None:
        previous = known.get(stored_path(relpath))
        sha = previous.sha256 if previous else None
        try:
            info = os.stat(self.root / relpath)
        except (FileNotFoundError, NotADirectoryError):
            if previous is not None:
                work.deletions.add(stored_path(relpath))
            return
        except OSError:  # unreadable: reading it in the pipeline records why
            work.jobs[relpath] = Job(relpath, sha)
            return
        if stat.S_ISDIR(info.st_mode):
            return
        current = (info.st_size, info.st_mtime_ns)
        if mark.writing and now - mark.at < self.open_write_timeout:
            work.deferred[relpath] = mark  # still open for writing
        elif mark.stat != current:
            work.deferred[relpath] = Mark(False, current, mark.writing, now)  # still changing
        else:
            # No skip on an equal (size, mtime): an event did happen, and mtime can repeat
            # within a clock tick. The known hash still spares a parse when nothing changed.
            work.jobs[relpath] = Job(relpath, sha, *current)

    def _folder(self, relpath: str, files: dict[str, Mark], work: Work) -> None:
        """A folder created, moved or deleted: ingest what is in it, delete what is not.

        Files moved in with a folder arrive whole (a rename), so they are not made to wait.
        """
        folder = self.root / relpath
        known = known_files_under(self.pipeline.writer.conn, stored_path(relpath))
        found: set[str] = set()
        marked = {stored_path(path) for path in files}
        if folder.is_dir() and not folder.is_symlink():
            for sub, size, mtime_ns in walk(folder):
                path = f"{relpath}/{sub}"
                if path in files or not is_candidate(path, self.include, self.exclude):
                    continue  # a file with events of its own is judged by them
                found.add(stored_path(path))
                previous = known.get(stored_path(path))
                if previous is None or (previous.size, previous.mtime_ns) != (size, mtime_ns):
                    sha = previous.sha256 if previous else None
                    work.jobs[path] = Job(path, sha, size, mtime_ns)
        for path in known:
            if path not in found and path not in marked:
                work.deletions.add(path)
