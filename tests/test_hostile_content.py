"""Hostile content under the real watcher: every bad file gets a clear error, nothing else breaks.

Each test starts a real watcher (real inotify observer, real SQLite store) on a content root
that already holds good articles, drops something hostile, and then checks three things:
the bad file has an `ingest_errors` row naming it (with line and field where they mean
something), the good articles are untouched, and the service is still alive: a good file
dropped *after* the hostile one is ingested. A watcher that hung on a FIFO, died on a
surrogate path or spent minutes expanding an alias bomb fails that last step.

The property "for any text, the parser returns a record or its own error type" lives in
`tests/test_parse_properties.py` (text and bytes); it is not repeated here. The one property
added here is about file names, the input that parser never sees.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsgraph.demo_yaml import render_article
from newsgraph.ingest.files import stored_path
from newsgraph.ingest.limits import ONE_MIB, ParseLimits
from newsgraph.ingest.pipeline import Gone, Job, Pipeline, process_file
from newsgraph.ingest.scan import reconcile
from tests.conftest import WriteArticle, article_fields

if TYPE_CHECKING:
    from tests.watcher_fixtures import Query, StartWatcher, WaitFor

pytest_plugins = ["tests.watcher_fixtures"]

PROJECT = Path(__file__).resolve().parents[1]
GOOD = {
    "_news/2024-03-01-good-one.md": "Good one",
    "_news/2024-03-02-good-two.md": "Good two",
}
# The front matter every hand-written hostile file starts with: lines 1-4.
HEAD = (
    "---\ntitle: Hostile\npublishedDateTime: 2024-03-01T08:00:00Z\n"
    "webUrl: https://example.com/hostile\n"
)


@dataclass
class Service:
    """The watcher under test plus what the tests ask of it."""

    root: Path
    pipeline: Pipeline
    query: Query
    wait_for: WaitFor
    write_article: WriteArticle
    drops: list[str] = field(default_factory=list)

    def titles(self) -> dict[str, str]:
        return dict(self.query("SELECT path, title FROM articles"))

    def error(self, path: str) -> tuple[Any, ...] | None:
        rows = self.query(
            'SELECT line, "column", field, message FROM ingest_errors WHERE path = ?', path
        )
        return rows[0] if rows else None

    def wait_error(self, path: str, timeout: float = 10.0) -> tuple[Any, ...]:
        self.wait_for(lambda: self.error(path) is not None, timeout, f"an error for {path!r}")
        row = self.error(path)
        assert row is not None
        return row

    def assert_still_serving(self) -> None:
        """A good file dropped now is ingested, and the first good articles are untouched."""
        number = len(self.drops) + 1
        path = f"_news/2024-04-0{number}-after-{number}.md"
        self.drops.append(path)
        self.write_article(path, title=f"After {number}", webUrl=f"https://example.com/a/{number}")
        self.wait_for(lambda: self.titles().get(path) == f"After {number}", what=f"{path} stored")
        titles = self.titles()
        assert {p: titles.get(p) for p in GOOD} == GOOD
        untouched = self.query(
            "SELECT count(*) FROM articles WHERE path IN (?, ?) AND revision = 1", *GOOD
        )
        assert untouched == [(2,)], "a good article was rewritten by a hostile file"


@pytest.fixture
def service(
    content_dir: Path,
    pipeline: Pipeline,
    start_watcher: StartWatcher,
    write_article: WriteArticle,
    query: Query,
    wait_for: WaitFor,
) -> Service:
    """Good articles on disk before the watcher starts; its start-up reconcile stores them."""
    for number, (path, title) in enumerate(GOOD.items()):
        write_article(path, title=title, webUrl=f"https://example.com/good/{number}")
    return Service(content_dir, pipeline, query, wait_for, write_article)


def write_bytes(root: Path, relpath: str, data: bytes) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def billion_laughs() -> str:
    """Nine levels of nine aliases each: 9**9 (387 million) strings once expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        name, below = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{below}'] * 9)}]")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """One hostile file: its bytes and the error it must earn (line/field None = not checked)."""

    data: bytes
    message: str
    line: int | None = None
    field: str | None = None


CASES = {
    # Rejected at the first alias (line 6), before anything is expanded.
    "alias-bomb": Case((HEAD + billion_laughs() + "---\n").encode(), "aliases are not allowed", 6),
    "deep-nesting": Case(
        (HEAD + "deep: " + "[" * 10_000 + "]" * 10_000 + "\n---\n").encode(),
        "nesting is deeper than 32 levels",
        5,
    ),
    "binary-garbage": Case(random.Random(5).randbytes(64 * 1024), "not valid UTF-8", 1),
    "invalid-utf8": Case(
        HEAD.replace("title: Hostile", "title: Caf\xe9").encode("latin-1") + b"---\n",
        "not valid UTF-8 (byte 0xe9",
        2,
    ),
    "nul-byte": Case(
        HEAD.replace("title: Hostile", "title: a\x00b").encode() + b"---\n",
        "character #x0000 is not allowed",
        2,
    ),
    "year-99999": Case(
        HEAD.replace("2024-03-01", "99999-03-01").encode() + b"---\n",
        "out of range",
        3,
        "publishedDateTime",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_gets_an_error_and_the_watcher_carries_on(
    service: Service, start_watcher: StartWatcher, name: str
) -> None:
    """The parser's limits, seen end to end: error row with line/field, service unharmed."""
    start_watcher()
    case = CASES[name]
    relpath = f"_news/2024-03-05-{name}.md"
    write_bytes(service.root, relpath, case.data)
    line, _column, field_name, message = service.wait_error(relpath)
    assert case.message in message
    if case.line is not None:
        assert line == case.line
    if case.field is not None:
        assert field_name == case.field
    assert relpath not in service.titles()
    service.assert_still_serving()


def test_alias_bomb_with_aliases_allowed_is_still_bounded(
    service: Service, start_watcher: StartWatcher
) -> None:
    """`allow_yaml_aliases` turns the refusal off, not the expansion budget: still an error."""
    service.pipeline.limits = ParseLimits(allow_aliases=True)
    start_watcher()
    relpath = "_news/2024-03-05-bomb-allowed.md"
    write_bytes(service.root, relpath, (HEAD + billion_laughs() + "---\n").encode())
    _line, _column, _field, message = service.wait_error(relpath)
    assert "aliases expand to more than" in message
    service.assert_still_serving()


def bytes_read_by_this_process() -> int | None:
    """`rchar` of /proc/self/io: every byte read() returned to any thread of this process."""
    try:
        text = Path("/proc/self/io").read_text()
    except OSError:
        return None
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith("rchar:")))


def test_50_mb_file_is_rejected_unread(service: Service, start_watcher: StartWatcher) -> None:
    """Rejected by its size from `stat`, before `open`: the reader's own message, an empty
    hash (the hash is computed from the bytes read), and this process read far less than 50 MB.
    """
    start_watcher()
    relpath = "_news/2024-03-05-huge.md"
    before = bytes_read_by_this_process()
    path = write_bytes(service.root, relpath, (HEAD + "---\n").encode())
    os.truncate(path, 50 * ONE_MIB)  # sparse: a 50 MB file that costs no disk
    _line, _column, _field, message = service.wait_error(relpath)
    assert message == f"file is {50 * ONE_MIB} bytes, over the {ONE_MIB}-byte limit"
    assert service.query("SELECT sha256 FROM files WHERE path = ?", relpath) == [("",)]
    after = bytes_read_by_this_process()
    # A count of bytes read, not a wall-clock bound: proof that the file was never read.
    assert before is not None and after is not None, "/proc/self/io is needed to count reads"
    assert after - before < 10 * ONE_MIB, "the 50 MB file was read"
    service.assert_still_serving()


@pytest.mark.slow
def test_100_000_related_items_within_a_raised_limit_are_stored_whole(
    service: Service, start_watcher: StartWatcher, query: Query, wait_for: WaitFor
) -> None:
    """Decision: a file within the configured limits is valid, however long its lists.

    At the default 1 MiB limit this 3.4 MB file is rejected unread by size, like the 50 MB
    one. A user who raises `max_file_bytes` to accept it expects it stored exactly as written,
    not truncated to some number FORMAT.md never states and not refused by a hidden rule; if
    long lists should be refused, that is a new, documented, configurable limit. So: all
    100,000 related rows, in order, and the watcher still serves the next file.
    """
    service.pipeline.limits = ParseLimits(max_bytes=8 * ONE_MIB)
    start_watcher()
    relpath = "_news/2024-03-05-many-related.md"
    items = "".join(f"- webUrl: https://related.example/{i}\n" for i in range(100_000))
    data = (HEAD + "related:\n" + items + "---\n").encode()
    assert ONE_MIB < len(data) < 8 * ONE_MIB
    write_bytes(service.root, relpath, data)
    wait_for(lambda: relpath in service.titles(), timeout=60, what="the long article")
    rows = query(
        "SELECT count(*), min(position), max(position) FROM related "
        "WHERE article_id = (SELECT id FROM articles WHERE path = ?)",
        relpath,
    )
    assert rows == [(100_000, 0, 99_999)]
    last = query("SELECT web_url FROM related WHERE position = 99999")
    assert last == [("https://related.example/99999",)]
    assert service.error(relpath) is None
    service.assert_still_serving()


def test_1_mb_title_is_stored_whole(
    service: Service, start_watcher: StartWatcher, query: Query, wait_for: WaitFor
) -> None:
    """Decision: the file is under the 1 MiB limit and FORMAT.md sets no title length, so the
    title is stored byte for byte (and indexed for search) rather than cut or refused.
    """
    start_watcher()
    relpath = "_news/2024-03-05-long-title.md"
    title = "x" * 999_000 + "END"
    write_bytes(service.root, relpath, HEAD.replace("Hostile", title).encode() + b"---\n")
    wait_for(lambda: relpath in service.titles(), what="the long-title article")
    assert query(
        "SELECT length(title), substr(title, -3) FROM articles WHERE path = ?", relpath
    ) == [(999_003, "END")]
    assert service.error(relpath) is None
    service.assert_still_serving()


def test_symlinks_never_lead_out_of_the_root(
    service: Service, start_watcher: StartWatcher, tmp_path: Path, query: Query
) -> None:
    """Out-of-root targets and loops are errors; a folder link is not descended; an in-root
    link is followed (so the check is about *where*, not about links).
    """
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = render_article(article_fields(title="Secret", webUrl="https://example.com/secret"))
    (outside / "2024-01-01-secret.md").write_text(secret, encoding="utf-8")
    start_watcher()
    root = service.root
    (root / "passwd.md").symlink_to("/etc/passwd")
    (root / "leak.md").symlink_to(outside / "2024-01-01-secret.md")
    (root / "loop.md").symlink_to(root / "loop.md")
    (root / "ping.md").symlink_to(root / "pong.md")
    (root / "pong.md").symlink_to(root / "ping.md")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "inside.md").symlink_to(root / "_news/2024-03-01-good-one.md")
    for relpath in ("passwd.md", "leak.md"):
        assert "points outside the content root" in service.wait_error(relpath)[3]
    for relpath in ("loop.md", "ping.md", "pong.md"):
        assert "symbolic link cannot be resolved" in service.wait_error(relpath)[3]
    service.wait_for(lambda: service.titles().get("inside.md") == "Good one")
    service.assert_still_serving()
    assert not query("SELECT path FROM files WHERE path LIKE 'linked/%'")
    assert "Secret" not in service.titles().values()
    assert not query("SELECT 1 FROM articles WHERE body LIKE '%root:%'")


def test_fifo_is_never_opened(service: Service, start_watcher: StartWatcher) -> None:
    """Nobody ever writes to this FIFO: a watcher that opened it would block for good."""
    start_watcher()
    os.mkfifo(service.root / "_news" / "2024-03-05-pipe.md")
    message = service.wait_error("_news/2024-03-05-pipe.md")[3]
    assert "not a regular file" in message
    service.assert_still_serving()


def test_odd_file_names_never_break_a_batch(
    service: Service, start_watcher: StartWatcher, pipeline: Pipeline, query: Query
) -> None:
    """Decision: a newline is legal in a name and valid Unicode, so that file is an article
    whose path round-trips exactly. A name that is not UTF-8 cannot be stored as TEXT or served
    as JSON faithfully, so it is an error under an escaped name (`caf\\xe9.md`), never read.
    Both land in the same drain as a good file, which must not be lost with them (it was:
    the surrogate path crashed the writer's whole batch). The error survives a full reconcile
    (the scan finds the file under its escaped name) and goes when the file goes.
    """
    watcher = start_watcher()
    newline_path = "_news/2024-03-05-two\nlines.md"
    service.write_article(newline_path, title="Two lines", webUrl="https://example.com/two")
    raw = os.path.join(os.fsencode(service.root), b"_news", b"2024-03-05-caf\xe9.md")
    with open(raw, "wb") as handle:
        handle.write(render_article(article_fields(title="Latin-1 name")).encode())
    escaped = "_news/2024-03-05-caf\\xe9.md"
    service.assert_still_serving()
    assert service.titles()[newline_path] == "Two lines"
    assert query("SELECT path FROM articles WHERE path = ?", newline_path) == [(newline_path,)]
    assert "file name is not valid UTF-8" in service.wait_error(escaped)[3]
    assert "Latin-1 name" not in service.titles().values()

    watcher.stop()
    summary = reconcile(pipeline)
    assert (summary.errors, summary.deleted) == (1, 0)
    assert service.error(escaped) is not None

    start_watcher()
    os.unlink(raw)
    service.wait_for(lambda: service.error(escaped) is None, what="the error to go")
    assert not query("SELECT 1 FROM files WHERE path = ?", escaped)
    service.assert_still_serving()


def test_file_deleted_between_event_and_read(
    service: Service, start_watcher: StartWatcher, query: Query
) -> None:
    """Gone before it is looked at: its article is deleted, a new one never appears, no error.

    A long quiet period makes the race certain: every event restarts it, so the files are
    always gone when the worker looks. The narrower race (listed, then gone at `open`) is the
    reader's `FileNotFoundError`, which `process_file` turns into a deletion.
    """
    start_watcher(debounce_ms=300)
    edited = service.root / "_news/2024-03-02-good-two.md"
    with edited.open("a", encoding="utf-8") as handle:
        handle.write("more body\n")
    edited.unlink()
    ghost = service.root / "_news/2024-03-05-ghost.md"
    ghost.write_text(render_article(article_fields(title="Ghost")), encoding="utf-8")
    ghost.unlink()
    service.wait_for(lambda: "_news/2024-03-02-good-two.md" not in service.titles())
    gone = process_file(service.root, Job("_news/2024-03-05-ghost.md"), ParseLimits())
    assert gone == Gone("_news/2024-03-05-ghost.md")
    ops = query("SELECT op FROM changes WHERE path = '_news/2024-03-02-good-two.md' ORDER BY seq")
    assert ops == [("created",), ("deleted",)]
    assert query("SELECT count(*) FROM ingest_errors") == [(0,)]
    assert "Ghost" not in service.titles().values()
    # The remaining good article and a later drop are still fine.
    service.write_article(
        "_news/2024-03-02-good-two.md", title="Good two", webUrl="https://example.com/good/1"
    )
    service.wait_for(lambda: service.titles().get("_news/2024-03-02-good-two.md") == "Good two")


# -- permission denied: a real `newsgraph watch` that permission bits do stop ------------------

# Run as root, a process ignores permission bits through two capabilities. The wrapper drops
# them from the bounding set and then execs the command, which so runs as uid 0 but obeys the
# mode bits like any user. (Switching to `nobody` is not enough here: the interpreter may live
# under a root-only folder such as /root/.pyenv.)
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24
DROP_PRIVILEGES = f"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for cap in ({CAP_DAC_OVERRIDE}, {CAP_DAC_READ_SEARCH}):
    if libc.prctl({PR_CAPBSET_DROP}, cap, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot drop capability %d" % cap)
os.execv(sys.argv[1], sys.argv[1:])
"""


def unprivileged(command: list[str]) -> list[str]:
    """`command` such that file permission bits apply to it, whoever runs the tests."""
    if os.geteuid() != 0:
        return command
    return [sys.executable, "-c", DROP_PRIVILEGES, *command]


def read_only(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [tuple(row) for row in conn.execute(sql, params)]
    except sqlite3.OperationalError:  # not migrated yet
        return []
    finally:
        conn.close()


def test_unreadable_file_is_an_error_under_watch(
    content_dir: Path, db_path: Path, wait_for: WaitFor
) -> None:
    """A mode-000 file: `permission denied` for it, the watcher goes on with the next file."""
    for number, (relpath, title) in enumerate(GOOD.items()):
        text = render_article(article_fields(title=title, webUrl=f"https://e.com/{number}"))
        write_bytes(content_dir, relpath, text.encode())
    command = [sys.executable, "-m", "newsgraph", "watch", "--content", str(content_dir)]
    process = subprocess.Popen(
        unprivileged([*command, "--db", str(db_path), "--workers", "1"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
    )
    try:

        def titles() -> dict[str, str]:
            return dict(read_only(db_path, "SELECT path, title FROM articles"))

        wait_for(lambda: titles() == GOOD or process.poll() is not None, 30, "start-up")
        assert process.poll() is None, process.communicate(timeout=10)
        locked = content_dir / "_news/2024-03-05-locked.md"
        locked.write_text(render_article(article_fields(title="Locked")), encoding="utf-8")
        locked.chmod(0o000)
        wait_for(
            lambda: read_only(db_path, "SELECT message FROM ingest_errors") or process.poll(),
            timeout=20,
        )
        errors = read_only(db_path, "SELECT path, message FROM ingest_errors")
        assert errors == [("_news/2024-03-05-locked.md", "permission denied")]
        after = content_dir / "_news/2024-03-06-after.md"
        after.write_text(render_article(article_fields(title="After")), encoding="utf-8")
        wait_for(lambda: "After" in titles().values() or process.poll() is not None, timeout=20)
        assert {p: titles().get(p) for p in GOOD} == GOOD
        assert "Locked" not in titles().values()
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


# -- the one new property: any file name can be stored -----------------------------------------


@given(st.lists(st.binary(min_size=1, max_size=12), min_size=1, max_size=3))
def test_any_file_name_has_a_storable_path(parts: list[bytes]) -> None:
    """Whatever bytes a name holds, the stored path is valid UTF-8 text, and a name that
    already was valid UTF-8 is stored unchanged (only undecodable names are escaped).
    """
    relpath = "/".join(os.fsdecode(part.replace(b"/", b"_")) for part in parts)
    stored = stored_path(relpath)
    stored.encode("utf-8")  # would raise on a lone surrogate
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        assert stored != relpath and "\\x" in stored
    else:
        assert stored == relpath
