"""Which files are articles, and reading them without being tricked.

Reading is where a content directory can hurt us: a FIFO blocks `open()` forever, a symlink can
point at `/etc/passwd`, a symlink loop never ends, a 50 MB file eats memory. Every check here
happens before any byte is read.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore import GitIgnorePatternError

from newsgraph.db.records import ErrorRecord, FileStamp
from newsgraph.ingest.errors import ArticleError

MARKDOWN_SUFFIXES = (".md", ".markdown")
_TEMP_NAME = re.compile(r"(~|\.swp|\.swx|\.tmp|\.part|\.crdownload)$|^(\.#|4913$|\.goutputstream-)")


def is_ignored_name(name: str) -> bool:
    """Hidden files and editor temp files (FORMAT.md) are never articles."""
    return name.startswith(".") or bool(_TEMP_NAME.search(name))


@lru_cache(maxsize=64)
def _spec(patterns: tuple[str, ...]) -> GitIgnoreSpec:
    """Patterns in .gitignore syntax (pathspec's implementation of git's own rules)."""
    return GitIgnoreSpec.from_lines(patterns)


def check_globs(patterns: Sequence[str]) -> None:
    """Raise ValueError naming the first pattern .gitignore syntax cannot read (a lone `\\`)."""
    for pattern in patterns:
        try:
            GitIgnoreSpec.from_lines([pattern])
        except GitIgnorePatternError as error:
            raise ValueError(f"{pattern!r} is not a valid glob: {error}") from None


def matches(relpath: str, patterns: Sequence[str]) -> bool:
    """Whether the content-root-relative path matches, .gitignore style: `*`, `?` and `[0-9]`
    stay within a folder, `**` spans folders, a pattern without an inner `/` matches at any
    depth, a leading `/` anchors to the root, a folder name covers everything under it, and a
    later `!pattern` takes a match back."""
    return _spec(tuple(patterns)).match_file(relpath)


def is_candidate(relpath: str, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> bool:
    """Is this relative path an article file we should read?"""
    parts = relpath.split("/")
    if any(is_ignored_name(part) for part in parts):
        return False
    if not parts[-1].lower().endswith(MARKDOWN_SUFFIXES):
        return False
    if include and not matches(relpath, include):
        return False
    return not (exclude and matches(relpath, exclude))


def walk(
    root: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    unreadable: list[str] | None = None,
) -> Iterator[tuple[str, int, int]]:
    """Yield (relative path, size, mtime_ns) of every candidate file under `root`.

    Order is sorted by path, so ingests are repeatable. Folder symlinks are not descended (no
    loops, nothing outside the root); file symlinks are yielded and checked when read. A file
    that cannot be stat'ed is yielded with size -1 so that reading it records why. Folders that
    cannot be listed are appended to `unreadable` (relative prefixes ending in `/`, `""` for
    the root) so that the caller deletes nothing under them.
    """
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            if unreadable is not None:
                unreadable.append(prefix)
            continue
        subfolders: list[tuple[Path, str]] = []
        for entry in entries:
            if is_ignored_name(entry.name):
                continue
            relpath = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append((Path(entry.path), relpath + "/"))
                    continue
            except OSError:
                continue
            if not is_candidate(relpath, include, exclude):
                continue
            try:
                info = entry.stat()  # follows file symlinks, as read_file does
            except OSError:
                yield relpath, -1, -1
                continue
            yield relpath, info.st_size, info.st_mtime_ns
        stack.extend(reversed(subfolders))  # sorted order: the first spelling seen is stable


def stored_path(relpath: str) -> str:
    """The path as the store keeps it: always valid Unicode, so SQLite TEXT can hold it.

    A file name that is not valid UTF-8 reaches Python as a str with lone surrogates
    (surrogateescape), which cannot be encoded for SQLite; its undecodable bytes are shown as
    `\\xNN` instead. Such a file is only ever an ingest error (`pipeline.process_file`), so this
    label is never opened: the real name is kept for reading, this one for the store.
    """
    if relpath.isascii():
        return relpath
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return relpath.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate no file name decodes to
            return relpath.encode("utf-8", "backslashreplace").decode("utf-8")
    return relpath


def _fail(relpath: str, message: str) -> ArticleError:
    return ArticleError(ErrorRecord(path=relpath, message=message))


def read_file(root: Path, relpath: str, *, max_bytes: int) -> tuple[bytes, FileStamp]:
    """Read one candidate file safely, returning its bytes and stamp.

    Raises `FileNotFoundError` when the file is gone (the caller deletes its article) and
    `ArticleError` for anything that must be reported: a symlink leaving the root, a special
    file, a file over the size limit, no permission.
    """
    path = root / relpath
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as error:  # RuntimeError: symlink loop on some versions
            raise _fail(relpath, f"symbolic link cannot be resolved: {error}") from error
        if not target.is_relative_to(root.resolve()):
            raise _fail(relpath, "symbolic link points outside the content root; not followed")
        info = os.stat(target)
        path = target
    if not stat.S_ISREG(info.st_mode):
        raise _fail(relpath, "not a regular file (FIFO, socket or device); not opened")
    if info.st_size > max_bytes:
        raise _fail(relpath, f"file is {info.st_size} bytes, over the {max_bytes}-byte limit")
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since lstat, open must not hang.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except PermissionError as error:
        raise _fail(relpath, "permission denied") from error
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise _fail(relpath, f"cannot open: {error.strerror}") from error
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):
            raise _fail(relpath, "not a regular file; not read")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _fail(relpath, f"file grew over the {max_bytes}-byte limit while being read")
    stamp = FileStamp(
        path=relpath,
        size=len(data),
        mtime_ns=opened.st_mtime_ns,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return data, stamp
