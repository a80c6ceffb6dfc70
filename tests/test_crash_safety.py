"""Crashes and hostile storage: kill -9 mid-ingest, a full disk, a database path we must refuse.

Every process here is a real `newsgraph` subprocess, killed or failing for real, and every check
reads the real database afterwards. What must hold after each:

- `PRAGMA integrity_check` is ok and foreign keys hold;
- every stored article matches its file now on disk (content hash for all of them, and title,
  web_url, published_at and list sizes re-parsed from the file for a large sample);
- the `changes` feed has no gap a resuming subscriber could fall into: the rows at or below a
  cursor taken before the crash are exactly the rows that were visible then (nothing is ever
  inserted below a cursor), the AUTOINCREMENT counter is not behind, every article's last
  change is a create/update naming its path, and no change points at an article that is
  missing or half-written.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from newsgraph.db.convert import to_db_time
from newsgraph.demo_yaml import render_article
from newsgraph.ingest.parse import decode_article
from tests.conftest import article_fields

if TYPE_CHECKING:
    from tests.watcher_fixtures import WaitFor

pytest_plugins = ["tests.watcher_fixtures"]

PROJECT = Path(__file__).resolve().parents[1]
NEWSGRAPH = [sys.executable, "-m", "newsgraph"]
COLD_COUNT = 20_000
SAMPLE = 3_000  # files re-parsed and compared field by field (all are compared by hash)

Change = tuple[int, str, int, str]


# -- running newsgraph ----------------------------------------------------------------------------


def start(*args: str | Path, max_file_size: int | None = None) -> subprocess.Popen[str]:
    """A `newsgraph` process in its own session, so its parse workers can be killed with it.

    `max_file_size` runs it under RLIMIT_FSIZE (through a tiny exec wrapper, not preexec_fn).
    """
    command = [*NEWSGRAPH, *map(str, args)]
    if max_file_size is not None:
        command = [sys.executable, "-c", LIMIT_FILE_SIZE, str(max_file_size), *command]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
        start_new_session=True,
    )


# A write past the limit fails with EFBIG instead of killing the process with SIGXFSZ
# (ignored here; an ignored signal stays ignored across exec).
LIMIT_FILE_SIZE = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
os.execv(sys.argv[2], sys.argv[2:])
"""


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL whatever is left of the process's session (parse pool, forkserver); reap it."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        process.communicate(timeout=30)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@contextmanager
def running(*args: str | Path, max_file_size: int | None = None) -> Iterator[subprocess.Popen[str]]:
    process = start(*args, max_file_size=max_file_size)
    try:
        yield process
    finally:
        kill_group(process)


def run(
    *args: str | Path, timeout: float = 120, max_file_size: int | None = None
) -> subprocess.CompletedProcess[str]:
    with running(*args, max_file_size=max_file_size) as process:
        out, err = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


# -- reading the store ----------------------------------------------------------------------------


def read(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """A query on a fresh read-only connection; [] while the schema does not exist yet."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return [tuple(row) for row in conn.execute(sql, params)]
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise
    finally:
        conn.close()


def article_count(db: Path) -> int:
    rows = read(db, "SELECT count(*) FROM articles")
    return int(rows[0][0]) if rows else 0


def changes(db: Path) -> list[Change]:
    return [
        (r[0], r[1], r[2], r[3])
        for r in read(db, "SELECT seq, op, article_id, path FROM changes ORDER BY seq")
    ]


def content_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*.md")}


def check_store(
    db: Path, root: Path, *, before_crash: list[Change] | None = None, complete: bool = True
) -> int:
    """Assert everything the module docstring promises; return the number of articles.

    `complete`: every file must have its article (False after a failed run: what is stored
    must still be right, but the run may not have got to everything).
    """
    assert read(db, "PRAGMA integrity_check") == [("ok",)]
    assert read(db, "PRAGMA foreign_key_check") == []
    articles = {
        row[0]: row[1:]
        for row in read(
            db,
            "SELECT a.path, a.id, a.title, a.web_url, a.published_at, a.image_count, "
            "(SELECT count(*) FROM article_images i WHERE i.article_id = a.id), "
            "(SELECT count(*) FROM related r WHERE r.article_id = a.id), "
            "(SELECT count(*) FROM article_topics t WHERE t.article_id = a.id), "
            "(SELECT count(*) FROM articles_fts f WHERE f.rowid = a.id), "
            "f.state, f.sha256 FROM articles a LEFT JOIN files f ON f.path = a.path",
        )
    }
    files = content_files(root)
    assert set(articles) <= files, "an article without a file"
    if complete:
        assert set(articles) == files, f"{len(files - set(articles))} files without an article"
    assert read(db, "SELECT count(*) FROM ingest_errors") == [(0,)]

    # Every article: whole (its images, its search row, its file row) and from today's bytes.
    for path, (_id, _t, _u, _p, image_count, images, _r, _tp, fts, state, sha) in articles.items():
        assert (images, fts, state) == (image_count, 1, "article"), f"half-written: {path}"
        assert sha == hashlib.sha256((root / path).read_bytes()).hexdigest(), path
    # A sample, re-parsed: the row says what the file says.
    sample = sorted(articles)
    sample = random.Random(len(sample)).sample(sample, min(SAMPLE, len(sample)))
    for path in sample:
        _id, title, web_url, published_at, image_count, _i, related, topics, *_ = articles[path]
        record = decode_article((root / path).read_bytes(), path=path)
        assert (title, web_url, published_at) == (
            record.title,
            record.web_url,
            to_db_time(record.published_at),
        ), path
        assert (image_count, related, topics) == (
            len(record.images),
            len(record.related),
            len(record.topics),
        ), path

    # The changes feed.
    feed = changes(db)
    seqs = [row[0] for row in feed]
    assert seqs == sorted(set(seqs))
    counter = read(db, "SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
    assert not feed or counter[0][0] >= seqs[-1], "AUTOINCREMENT is behind: a seq could repeat"
    if before_crash:
        cursor = before_crash[-1][0]
        assert [row for row in feed if row[0] <= cursor] == before_crash, (
            "rows appeared below a cursor a subscriber already read past"
        )
    last: dict[int, Change] = {}
    for row in feed:
        last[row[2]] = row
    by_id = {values[0]: path for path, values in articles.items()}
    for article_id, path in by_id.items():
        assert article_id in last, f"{path} has no change row"
        _seq, op, _id, change_path = last[article_id]
        assert (op, change_path) in (("created", path), ("updated", path)), path
    for article_id, (_seq, op, _id, path) in last.items():
        if op == "deleted":
            assert article_id not in by_id, f"{path}: deleted in the feed, still stored"
        else:
            assert by_id.get(article_id) == path, f"{path}: in the feed, not (whole) in the store"
    return len(articles)


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 synthetic articles, written once per module (generation takes ~5-10 s)."""
    folder = tmp_path_factory.mktemp("demo") / "content"
    result = run("demo-content", folder, "--count", str(COLD_COUNT), "--seed", "1", timeout=180)
    assert result.returncode == 0, result.stderr
    return folder


# -- (a) kill -9 during a cold ingest -------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_during_cold_ingest_then_restart(
    demo_content: Path, db_path: Path, wait_for: WaitFor
) -> None:
    """A cold ingest of 20,000 files is SIGKILLed once a quarter of it is committed, mid-batch
    most likely (the writer is inside a transaction nearly all the time); the rerun finishes it.
    """
    with running(
        "ingest", "--content", demo_content, "--db", db_path, "--log-level", "warning"
    ) as process:
        wait_for(
            lambda: article_count(db_path) >= COLD_COUNT // 4 or process.poll() is not None,
            timeout=90,
            what="a quarter of the ingest",
        )
        before_crash = changes(db_path)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the ingest ended before it could be killed"
    assert 0 < len(before_crash) < COLD_COUNT

    result = run("ingest", "--content", demo_content, "--db", db_path, "--log-level", "warning")
    assert result.returncode == 0, result.stderr
    assert check_store(db_path, demo_content, before_crash=before_crash) == COLD_COUNT


# -- (b) kill -9 during a burst under watch -------------------------------------------------------


def edit_title(path: Path, title: str) -> None:
    """Replace the title line by writing a new file over the old name (an atomic save)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [f"title: {title}\n" if line.startswith("title: ") else line for line in lines]
    temp = path.with_name(path.name + ".tmp")
    temp.write_text("".join(lines), encoding="utf-8")
    os.replace(temp, path)


@pytest.mark.slow
def test_kill_9_during_a_burst_under_watch_then_restart(
    demo_content: Path, content_dir: Path, db_path: Path, wait_for: WaitFor
) -> None:
    """1,000 files are watched; then 4,000 arrive, 100 are edited and 100 deleted at once, and
    the watcher is SIGKILLed while it commits them. A restarted watcher reconciles the rest.
    """
    sources = sorted(demo_content.rglob("*.md"))[:5000]

    def place(source: Path, link: bool) -> Path:
        target = content_dir / source.relative_to(demo_content)
        target.parent.mkdir(parents=True, exist_ok=True)
        if link:
            os.link(source, target)  # a burst as fast as the filesystem allows
        else:
            shutil.copyfile(source, target)  # copied: these get edited
        return target

    initial = [place(source, link=False) for source in sources[:1000]]
    watch = ("watch", "--content", content_dir, "--db", db_path, "--debounce-ms", "20")
    with running(*watch) as process:
        wait_for(
            lambda: article_count(db_path) == 1000 or process.poll() is not None, 60, "start-up"
        )
        assert process.poll() is None, process.communicate(timeout=10)
        for source in sources[1000:]:
            place(source, link=True)
        for number, path in enumerate(initial[:100]):
            edit_title(path, f"Edited {number}")
        for path in initial[100:200]:
            path.unlink()
        wait_for(
            lambda: article_count(db_path) >= 2000 or process.poll() is not None, 60, "the burst"
        )
        before_crash = changes(db_path)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    expected = 1000 - 100 + 4000
    assert len(before_crash) < expected + 200, "the burst was fully applied before the kill"

    with running(*watch) as process:
        wait_for(
            lambda: (
                (
                    article_count(db_path) == expected
                    and read(db_path, "SELECT count(*) FROM articles WHERE title LIKE 'Edited %'")
                    == [(100,)]
                )
                or process.poll() is not None
            ),
            60,
            "the restarted watcher to catch up",
        )
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
    assert check_store(db_path, content_dir, before_crash=before_crash) == expected


# -- (c) disk full --------------------------------------------------------------------------------


@contextmanager
def small_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A size-limited tmpfs at `folder` (root only; skips where mounting is not allowed)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({mounted.stderr.strip()}); the fsize case covers it")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


@pytest.mark.parametrize("how", ["tmpfs", "fsize"])
def test_disk_full_fails_clearly_and_keeps_earlier_data(
    how: str, demo_content: Path, content_dir: Path, tmp_path: Path
) -> None:
    """The first 200 articles fit; 1,500 more do not. The second run must say so, exit 1,
    leave the first 200 as they were, and, once there is room, a rerun completes.

    `tmpfs`: the database on a 3 MB tmpfs (ENOSPC, "database or disk is full"). `fsize`: a
    file size limit (EFBIG, which SQLite reports as a disk I/O error), for where mounting is
    not allowed.
    """
    sources = sorted(demo_content.rglob("*.md"))
    copy_articles(sources[:200], demo_content, content_dir)
    with ExitStack() as stack:
        if how == "tmpfs":
            folder = stack.enter_context(small_tmpfs(tmp_path / "small", "3m"))
        else:
            folder = tmp_path / "state"
            folder.mkdir()
        db = folder / "newsgraph.db"
        ingest = ("ingest", "--content", content_dir, "--db", db, "--log-level", "warning")
        first = run(*ingest)
        assert first.returncode == 0, first.stderr
        assert check_store(db, content_dir) == 200
        kept = read(db, "SELECT path, title, revision, updated_at FROM articles ORDER BY path")

        copy_articles(sources[200:1700], demo_content, content_dir)
        if how == "tmpfs":
            full = run(*ingest)
        else:
            full = run(*ingest, max_file_size=db.stat().st_size + 256 * 1024)
        assert full.returncode == 1, full.stderr
        assert "newsgraph: error: cannot write to the database" in full.stderr
        assert "Traceback" not in full.stderr
        if how == "tmpfs":
            assert "database or disk is full" in full.stderr
            subprocess.run(["mount", "-o", "remount,size=64m", str(folder)], check=True, timeout=30)
        stored = read(db, "SELECT path, title, revision, updated_at FROM articles ORDER BY path")
        assert set(kept) <= set(stored), "an article of the first run was lost or changed"
        check_store(db, content_dir, complete=False)

        again = run(*ingest)
        assert again.returncode == 0, again.stderr
        assert check_store(db, content_dir) == 1700


def copy_articles(sources: list[Path], source_root: Path, root: Path) -> None:
    for source in sources:
        target = root / source.relative_to(source_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


# -- (d) a database path we must refuse -----------------------------------------------------------

COMMANDS = ("ingest", "watch", "serve")


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file in `folder` with its content hash: "nothing overwritten, nothing created"."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
    }


def refuse_everywhere(content: Path, db: Path, *messages: str) -> None:
    """`ingest`, `watch` and `serve` on `db`, at once: each exits 2 at start-up with a
    `newsgraph: error:` line holding `messages`, no traceback, and the folder is unchanged.
    """
    folder = db.parent
    before = fingerprint(folder) if folder.is_dir() else None
    processes = [
        start(
            command,
            "--content",
            content,
            "--db",
            db,
            *(("--port", "0") if command == "serve" else ()),
        )
        for command in COMMANDS
    ]
    try:
        for command, process in zip(COMMANDS, processes, strict=True):
            _out, err = process.communicate(timeout=60)
            assert process.returncode == 2, f"{command}: {err}"
            assert err.startswith("newsgraph: error: "), f"{command}: {err}"
            assert "Traceback" not in err
            for message in messages:
                assert message in err, f"{command}: {err}"
    finally:
        for process in processes:
            kill_group(process)
    assert (fingerprint(folder) if folder.is_dir() else None) == before


@pytest.fixture
def one_article(content_dir: Path) -> Path:
    text = render_article(article_fields(title="Only"))
    (content_dir / "2024-03-01-only.md").write_text(text, encoding="utf-8")
    return content_dir


def test_missing_folder_is_refused(one_article: Path, tmp_path: Path) -> None:
    db = tmp_path / "no" / "such" / "folder" / "newsgraph.db"
    refuse_everywhere(one_article, db, "does not exist", str(db.parent))
    assert not (tmp_path / "no").exists(), "the missing folder was created"


def test_not_a_database_is_refused(one_article: Path, tmp_path: Path) -> None:
    """A text file, and a SQLite database of someone else's: both left byte for byte."""
    text_file = tmp_path / "notes" / "newsgraph.db"
    text_file.parent.mkdir()
    text_file.write_text("my notes, not a database\n", encoding="utf-8")
    refuse_everywhere(one_article, text_file, "is not a SQLite database")

    foreign = tmp_path / "foreign" / "app.db"
    foreign.parent.mkdir()
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
    conn.execute("INSERT INTO accounts (owner) VALUES ('alice')")
    conn.commit()
    conn.close()
    refuse_everywhere(one_article, foreign, "not a newsgraph database")


@contextmanager
def read_only_folder(folder: Path, fill: list[Path]) -> Iterator[Path]:
    """`folder` as a read-only mount holding copies of `fill`: root cannot write there either.

    Where mounting is not allowed the test falls back to /proc, whose top folder no one can
    create files in (that covers a new database only).
    """
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if mounted.returncode != 0:
        yield Path("/proc")
        return
    try:
        for source in fill:
            shutil.copyfile(source, folder / source.name)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, timeout=30)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def test_read_only_folder_is_refused(one_article: Path, tmp_path: Path) -> None:
    """A new database there, and an existing one whose -wal and -shm were left by a crash:
    SQLite would open the latter read-only without a word and fail at the first write.
    """
    made = tmp_path / "made" / "newsgraph.db"
    made.parent.mkdir()
    assert run("ingest", "--content", one_article, "--db", made).returncode == 0
    holder = sqlite3.connect(made)  # while open, the -wal and -shm files exist
    try:
        holder.execute("SELECT count(*) FROM articles").fetchone()
        leftovers = [made, made.with_name(made.name + "-wal"), made.with_name(made.name + "-shm")]
        assert all(path.exists() for path in leftovers)
        with read_only_folder(tmp_path / "ro", leftovers) as folder:
            refuse_everywhere(one_article, folder / "fresh.db", "is not writable")
            if folder != Path("/proc"):
                refuse_everywhere(one_article, folder / made.name, "is not writable")
    finally:
        holder.close()
