"""The store through the reconcile: real files in, real SQLite rows out."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from newsgraph.db.articles import execute_search
from newsgraph.db.connection import open_reader, open_writer
from newsgraph.db.errors import DatabaseUnavailable, NotANewsgraphDatabase, StoreWriteFailed
from newsgraph.db.migrations import migrations
from newsgraph.db.search import SearchSyntaxError
from newsgraph.db.writes import Writer
from newsgraph.demo import write_demo_content
from newsgraph.ingest.pipeline import Pipeline
from newsgraph.ingest.scan import ContentRootMissing, ScanSummary, reconcile
from tests.conftest import WriteArticle

Ingest = Callable[..., ScanSummary]


def rows(conn: sqlite3.Connection, sql: str, *params: object) -> list[tuple[object, ...]]:
    return [tuple(row) for row in conn.execute(sql, params)]


def test_new_article_lands_with_all_its_rows(
    write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    write_article(
        related=[
            {"title": "Other", "webUrl": "https://other.example/a", "images": [{"url": "x.jpg"}]}
        ]
    )
    summary = ingest()
    assert (summary.new, summary.updated, summary.errors) == (1, 0, 0)
    article = read_db.execute("SELECT * FROM articles").fetchone()
    assert article["path"] == "_news/2024-03-01-robots.md"
    assert article["slug"] == "robots"
    assert article["published_at"] == "2024-03-01T08:15:00.000000Z"
    assert rows(read_db, "SELECT name, domain FROM providers") == [("Example News", "example.com")]
    assert rows(read_db, "SELECT url FROM article_images") == [("https://img.example.com/1.jpg",)]
    assert rows(read_db, "SELECT name FROM topics ORDER BY name") == [("Recycling",), ("Robotics",)]
    assert rows(read_db, "SELECT title, web_url FROM related") == [
        ("Other", "https://other.example/a")
    ]
    assert rows(read_db, "SELECT url FROM related_images") == [("x.jpg",)]
    assert rows(read_db, "SELECT op, path FROM changes") == [
        ("created", "_news/2024-03-01-robots.md")
    ]
    hits = rows(read_db, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'recycling'")
    assert hits == [(article["id"],)]


def test_second_run_over_unchanged_files_writes_nothing(
    write_article: WriteArticle, ingest: Ingest, pipeline: Pipeline
) -> None:
    write_article()
    write_article("_news/2024-03-02-other.md", webUrl="https://example.com/2")
    ingest()
    before = pipeline.writer.conn.total_changes
    summary = ingest()
    assert pipeline.writer.conn.total_changes == before
    assert (summary.new, summary.updated, summary.unchanged, summary.deleted) == (0, 0, 2, 0)


def test_touched_file_with_same_content_is_not_reparsed_or_logged(
    write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    path = write_article()
    ingest()
    path.write_bytes(path.read_bytes())  # new mtime, same bytes
    summary = ingest()
    assert (summary.updated, summary.unchanged) == (0, 1)
    assert rows(read_db, "SELECT op FROM changes") == [("created",)]


def test_edit_replaces_child_rows_and_logs_an_update(
    write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    write_article()
    ingest()
    write_article(topics=["Climate"], images=None, title="Robots sort recycling faster")
    summary = ingest()
    assert summary.updated == 1
    assert rows(read_db, "SELECT name FROM topics") == [("Climate",)]  # orphans dropped
    assert rows(read_db, "SELECT count(*) FROM article_images") == [(0,)]
    assert rows(read_db, "SELECT title FROM articles") == [("Robots sort recycling faster",)]
    assert [r[0] for r in rows(read_db, "SELECT op FROM changes ORDER BY seq")] == [
        "created",
        "updated",
    ]


def test_deleted_file_deletes_its_article_and_logs_it(
    write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    path = write_article()
    ingest()
    path.unlink()
    summary = ingest()
    assert summary.deleted == 1
    assert rows(read_db, "SELECT count(*) FROM articles") == [(0,)]
    assert rows(read_db, "SELECT count(*) FROM articles_fts") == [(0,)]
    assert rows(read_db, "SELECT count(*) FROM providers") == [(0,)]
    assert rows(read_db, "SELECT op FROM changes ORDER BY seq DESC LIMIT 1") == [("deleted",)]


def test_bad_edit_keeps_the_last_good_version_and_fixing_clears_the_error(
    write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    path = write_article()
    ingest()
    good = path.read_text()
    path.write_text(good.replace("quality: 70", 'quality: "70"'))
    summary = ingest()
    assert summary.errors == 1
    error = read_db.execute("SELECT * FROM ingest_errors").fetchone()
    assert (error["path"], error["field"]) == ("_news/2024-03-01-robots.md", "quality")
    assert error["line"] is not None and error["line"] > 1
    assert rows(read_db, "SELECT quality FROM articles") == [(70,)]
    path.write_text(good.replace("quality: 70", "quality: 71"))
    summary = ingest()
    assert summary.errors == 0
    assert rows(read_db, "SELECT count(*) FROM ingest_errors") == [(0,)]
    assert rows(read_db, "SELECT quality FROM articles") == [(71,)]


def test_an_unchanged_bad_file_is_not_reread_but_stays_an_error(
    content_dir: Path, ingest: Ingest
) -> None:
    (content_dir / "bad.md").write_text("---\ntitle: [unclosed\n---\n")
    assert ingest().errors == 1
    summary = ingest()
    assert (summary.errors, summary.unchanged) == (1, 1)


def test_file_without_title_is_skipped_with_a_reason(
    content_dir: Path, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    (content_dir / "person.md").write_text("---\nname: Ada\n---\n")
    (content_dir / "notes.md").write_text("just notes\n")
    summary = ingest()
    assert (summary.new, summary.skipped, summary.errors) == (0, 2, 0)
    reasons = rows(read_db, "SELECT path, state, reason IS NOT NULL FROM files ORDER BY path")
    assert reasons == [("notes.md", "skipped", 1), ("person.md", "skipped", 1)]


def test_providers_are_one_per_domain_and_the_latest_name_wins(
    write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    write_article("a.md", provider={"name": "TechSpot", "domain": "TechSpot.com"})
    ingest()
    write_article(
        "b.md",
        webUrl="https://b.example/",
        provider={"name": "Tech Spot", "domain": "techspot.com"},
    )
    ingest()
    assert rows(read_db, "SELECT name, domain FROM providers") == [("Tech Spot", "techspot.com")]
    assert rows(read_db, "SELECT count(DISTINCT provider_id) FROM articles") == [(1,)]


def test_topics_are_one_per_name_whatever_the_case(
    write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    write_article("a.md", topics=["AI", "Machine Learning"])
    write_article("b.md", webUrl="https://b.example/", topics=["ai", "MACHINE LEARNING"])
    ingest()
    assert rows(read_db, "SELECT name, slug FROM topics ORDER BY name") == [
        ("AI", "ai"),
        ("Machine Learning", "machine-learning"),
    ]
    assert rows(read_db, "SELECT count(*) FROM article_topics") == [(4,)]


RESOLVED = (
    "SELECT r.web_url, a.path FROM related r LEFT JOIN articles a ON a.web_url = r.web_url "
    "ORDER BY r.position"
)


@pytest.mark.parametrize("first", ["citing", "cited"])
def test_related_item_resolves_whichever_file_arrives_first(
    first: str, write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    def citing() -> None:
        write_article("citing.md", related=[{"title": "Cited", "webUrl": "https://cited.example/"}])

    def cited() -> None:
        write_article("cited.md", webUrl="https://cited.example/")

    (citing if first == "citing" else cited)()
    ingest()
    (cited if first == "citing" else citing)()
    ingest()
    assert rows(read_db, RESOLVED) == [("https://cited.example/", "cited.md")]


def test_hidden_temp_and_non_markdown_files_are_ignored(
    content_dir: Path, write_article: WriteArticle, ingest: Ingest
) -> None:
    write_article("a.md")
    for name in (".hidden.md", "a.md~", ".#a.md", "a.md.swp", "4913", "x.tmp", "notes.txt"):
        (content_dir / name).write_text("---\ntitle: x\n---\n")
    (content_dir / ".git").mkdir()
    (content_dir / ".git" / "b.md").write_text("---\ntitle: x\n---\n")
    summary = ingest()
    assert (summary.new, summary.files) == (1, 1)


def test_include_and_exclude_globs_are_relative_to_the_root(
    write_article: WriteArticle, ingest: Ingest
) -> None:
    write_article("_news/a.md")
    write_article("_learning/books/b.md", webUrl="https://b.example/")
    write_article("_learning/c.md", webUrl="https://c.example/")
    summary = ingest(exclude=["_learning/**"])
    assert summary.new == 1
    summary = ingest(include=["_learning/**"])
    assert (summary.new, summary.deleted) == (2, 1)


@pytest.mark.parametrize(
    ("option", "patterns", "expected"),
    [
        ("include", ["[0-9]*.md"], {"2024-01-01-a.md", "news/9-b.md"}),
        ("include", ["news/[!0-9]*.md"], {"news/c.md"}),
        ("include", ["news/*.md", "!news/c.md"], {"news/9-b.md"}),
        ("exclude", ["drafts"], {"2024-01-01-a.md", "news/9-b.md", "news/c.md"}),
        ("exclude", ["/*.md"], {"news/9-b.md", "news/c.md", "drafts/d.md"}),
        ("include", ["news/**/*.md"], {"news/9-b.md", "news/c.md"}),
    ],
)
def test_globs_follow_gitignore_syntax(
    write_article: WriteArticle,
    ingest: Ingest,
    read_db: sqlite3.Connection,
    option: str,
    patterns: list[str],
    expected: set[str],
) -> None:
    """Character classes, negation, anchoring and folder names work as in .gitignore."""
    for n, path in enumerate(["2024-01-01-a.md", "news/9-b.md", "news/c.md", "drafts/d.md"]):
        write_article(path, webUrl=f"https://example.com/{n}")
    ingest(**{option: patterns})
    assert {row[0] for row in read_db.execute("SELECT path FROM articles")} == expected


def test_two_files_with_the_same_name_in_two_folders_are_two_articles(
    write_article: WriteArticle, ingest: Ingest
) -> None:
    write_article("_news/2020-01-01-same.md")
    write_article("_archive/_news/2020-01-01-same.md")
    assert ingest().new == 2


def test_missing_content_root_deletes_nothing(
    content_dir: Path, write_article: WriteArticle, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    write_article()
    ingest()
    moved = content_dir.with_name("elsewhere")
    content_dir.rename(moved)
    with pytest.raises(ContentRootMissing):
        ingest()
    assert rows(read_db, "SELECT count(*) FROM articles") == [(1,)]


def test_parse_pool_gives_the_same_result_as_in_process(tmp_path: Path, content_dir: Path) -> None:
    write_demo_content(content_dir, count=150, seed=3)
    results = []
    for workers in (1, 2):
        conn = open_writer(tmp_path / f"w{workers}.db")
        pipe = Pipeline(content_dir.resolve(), Writer(conn), workers=workers)
        summary = reconcile(pipe)
        pipe.close()
        results.append(
            (
                summary.new,
                summary.errors,
                rows(conn, "SELECT path, title, web_url FROM articles ORDER BY path"),
            )
        )
        conn.close()
    assert results[0] == results[1]
    assert results[0][0] == 150 and results[0][1] == 0


def test_migrations_create_the_schema_in_an_empty_file_and_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    open_writer(path).close()
    open_writer(path).close()
    conn = open_reader(path)
    names = sorted(r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations"))
    assert names == sorted(migration.name for migration in migrations._migrations)
    assert names[0] == "m001_initial_schema"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my precious notes\n")
    with pytest.raises(NotANewsgraphDatabase):
        open_writer(path)
    assert path.read_text() == "my precious notes\n"


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(NotANewsgraphDatabase):
        open_writer(path)


def test_database_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        open_writer(tmp_path / "nope" / "x.db")


def test_a_file_whose_rows_cannot_be_stored_costs_only_that_file(db_path: Path) -> None:
    from datetime import UTC, datetime

    from newsgraph.db.records import ArticleRecord, FileOutcome, FileStamp

    def outcome(path: str, quality: int) -> FileOutcome:
        article = ArticleRecord(
            path=path, slug=path, title=path, web_url=f"https://x.example/{path}",
            published_at=datetime(2024, 1, 1, tzinfo=UTC), quality=quality,
        )  # fmt: skip
        return FileOutcome(stamp=FileStamp(path, 1, 1, path), article=article)

    conn = open_writer(db_path)
    result = Writer(conn).apply_batch([outcome("a", 1), outcome("b", 2**70), outcome("c", 3)])
    read_db = conn
    assert (result.created, result.errors) == (2, 1)
    assert [f.path for f in result.failures] == ["b"]
    assert rows(read_db, "SELECT path FROM articles ORDER BY path") == [("a",), ("c",)]
    assert rows(read_db, "SELECT path FROM ingest_errors") == [("b",)]
    assert rows(read_db, "SELECT path FROM changes ORDER BY seq") == [("a",), ("c",)]
    conn.close()


def test_the_change_feed_keeps_only_the_retained_number_of_rows(
    write_article: WriteArticle, content_dir: Path, db_path: Path
) -> None:
    conn = open_writer(db_path)
    pipe = Pipeline(content_dir.resolve(), Writer(conn, change_retention=3), workers=1)
    for number in range(5):
        write_article(f"a{number}.md", webUrl=f"https://x.example/{number}")
        reconcile(pipe)
    seqs = [row[0] for row in conn.execute("SELECT seq FROM changes ORDER BY seq")]
    pipe.close()
    conn.close()
    assert seqs == [3, 4, 5]


def test_the_same_path_twice_in_one_batch_is_a_create_then_an_update(db_path: Path) -> None:
    from datetime import UTC, datetime

    from newsgraph.db.records import ArticleRecord, FileOutcome, FileStamp, ImageRecord

    def outcome(title: str) -> FileOutcome:
        article = ArticleRecord(
            path="a.md", slug="a", title=title, web_url="https://x.example/a",
            published_at=datetime(2024, 1, 1, tzinfo=UTC), topics=(title,),
            images=(ImageRecord(url=f"{title}.jpg"),),
        )  # fmt: skip
        return FileOutcome(stamp=FileStamp("a.md", 1, 1, title), article=article)

    conn = open_writer(db_path)
    writer = Writer(conn)
    result = writer.apply_batch([outcome("first"), outcome("second")])
    assert (result.created, result.updated) == (1, 1)
    assert rows(conn, "SELECT title FROM articles") == [("second",)]
    assert rows(conn, "SELECT url FROM article_images") == [("second.jpg",)]
    assert rows(conn, "SELECT name FROM topics") == [("second",)]
    result = writer.apply_batch([outcome("third")], deletions=["a.md"])
    assert (result.updated, result.deleted) == (1, 1)
    assert rows(conn, "SELECT count(*) FROM articles") == [(0,)]
    assert rows(conn, "SELECT count(*) FROM articles_fts") == [(0,)]
    ops = [r[0] for r in rows(conn, "SELECT op FROM changes ORDER BY seq")]
    assert ops == ["created", "updated", "updated", "deleted"]
    conn.close()


def test_two_writer_processes_taking_turns_do_not_reuse_each_others_ids(
    write_article: WriteArticle, content_dir: Path, db_path: Path
) -> None:
    """A one-off `newsgraph ingest` beside a running watcher: two writers, one database."""
    first = Pipeline(content_dir.resolve(), Writer(open_writer(db_path)), workers=1)
    second = Pipeline(content_dir.resolve(), Writer(open_writer(db_path)), workers=1)
    for number in range(6):
        related = [{"title": "r", "webUrl": f"https://r.example/{number}"}]
        url = f"https://x.example/{number}"
        write_article(f"n{number}.md", webUrl=url, topics=[f"T{number}"], related=related)
        summary = reconcile(first if number % 2 else second)
        assert (summary.new, summary.errors) == (1, 0), number
    conn = first.writer.conn
    assert rows(conn, "SELECT count(*), count(DISTINCT id) FROM articles") == [(6, 6)]
    assert rows(conn, "SELECT count(*) FROM related") == [(6,)]
    assert rows(conn, "SELECT count(*) FROM article_topics") == [(6,)]
    for pipe in (first, second):
        pipe.close()
        pipe.writer.conn.close()


def test_a_writer_notices_another_writers_commits_before_trusting_its_caches(
    write_article: WriteArticle, content_dir: Path, db_path: Path
) -> None:
    """The most recently ingested provider name wins even when two processes take turns."""
    first = Pipeline(content_dir.resolve(), Writer(open_writer(db_path)), workers=1)
    second = Pipeline(content_dir.resolve(), Writer(open_writer(db_path)), workers=1)
    steps = [("p0.md", first, "Old"), ("p0.md", second, "New"), ("p1.md", first, "Old")]
    for number, (path, pipe, name) in enumerate(steps):
        url = f"https://x.example/{path}"
        write_article(path, webUrl=url, provider={"name": name, "domain": "x.example"})
        summary = reconcile(pipe)
        assert summary.errors == 0, number
    assert rows(first.writer.conn, "SELECT name FROM providers") == [("Old",)]
    for pipe in (first, second):
        pipe.close()
        pipe.writer.conn.close()


def test_a_bug_in_our_sql_is_not_blamed_on_the_search(
    write_article: WriteArticle, ingest: Callable[..., ScanSummary], read_db: sqlite3.Connection
) -> None:
    """Only the client's FTS5 expression is the client's fault: a broken statement of ours
    carrying a valid expression stays an internal error (masked by the API), while the same
    statement with a malformed expression is a `SearchSyntaxError`."""
    write_article("a.md", title="Robots at work")
    ingest()
    broken = (
        "SELECT nosuch_column FROM articles WHERE id IN (SELECT rowid FROM articles_fts "
        "WHERE articles_fts MATCH ?)"
    )
    with pytest.raises(sqlite3.OperationalError) as raised:
        execute_search(read_db, broken, ['"robots"'], '"robots"')
    assert not isinstance(raised.value, SearchSyntaxError)
    assert execute_search(read_db, _SEARCH, ['"robots"'], '"robots"').fetchone()[0] == 1
    for bad in ("AND OR (", "nosuchcolumn: robots"):
        with pytest.raises(SearchSyntaxError, match="search cannot be understood"):
            execute_search(read_db, _SEARCH, [bad], bad)


_SEARCH = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"


def test_a_store_that_refuses_writes_fails_the_batch_not_the_files(
    write_article: WriteArticle, pipeline: Pipeline, db_path: Path
) -> None:
    """A read-only database (SQLITE_READONLY, whose message names neither "disk" nor "I/O")
    is the store's fault: the batch fails as a whole with `StoreWriteFailed` and no file is
    blamed with an ingest error. Classified by SQLite's result code, not its message."""
    write_article("kept.md", title="Kept")
    reconcile(pipeline)
    write_article("new.md", title="New")
    pipeline.writer.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreWriteFailed, match="cannot write to the database"):
        reconcile(pipeline)
    pipeline.writer.conn.execute("PRAGMA query_only = OFF")
    with closing(open_reader(db_path)) as conn:
        assert [row[0] for row in conn.execute("SELECT path FROM articles")] == ["kept.md"]
        assert conn.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0
