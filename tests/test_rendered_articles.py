"""Articles' rendered bodies: rendered at ingest, stored, searched as plain text, served."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from newsgraph.db.connection import open_writer
from newsgraph.db.writes import Writer
from newsgraph.ingest.pipeline import Pipeline
from newsgraph.ingest.scan import ScanSummary, reconcile
from tests.conftest import WriteArticle
from tests.gql_fixtures import Api, api

__all__ = ["api"]

BODY = """# Sorting *robots*

The line **learns** from its [mistakes](https://example.com/m) every day.

## Results

Fewer errors.

## Results

<script>document.title = "owned"</script>
"""
ARTICLE = "_news/2024-03-01-robots.md"
M002_COLUMNS = ("html", "headings", "word_count", "reading_time_minutes")


def test_a_rendered_body_is_stored_beside_the_markdown(
    write_article: WriteArticle, ingest: Callable[..., ScanSummary], read_db: sqlite3.Connection
) -> None:
    write_article(body=BODY)
    ingest()
    row = read_db.execute("SELECT * FROM articles").fetchone()
    assert row["body"] == BODY.strip()
    assert row["html"].startswith('<h1 id="sorting-robots">Sorting <em>robots</em></h1>')
    assert '<a href="https://example.com/m" rel="noopener nofollow ugc">mistakes</a>' in row["html"]
    assert "script" not in row["html"] and "owned" not in row["html"]
    assert row["headings"] == (
        '[{"depth": 1, "text": "Sorting robots", "id": "sorting-robots"}, '
        '{"depth": 2, "text": "Results", "id": "results"}, '
        '{"depth": 2, "text": "Results", "id": "results-1"}]'
    )
    assert (row["word_count"], row["reading_time_minutes"]) == (14, 1)


def test_the_search_index_holds_plain_text_so_highlights_carry_no_markdown(
    api: Api, write_article: WriteArticle, ingest: Callable[..., ScanSummary]
) -> None:
    write_article(body=BODY, excerpt=None, title="Line notes")
    ingest()
    query = """query($q: String!) {
        articles(search: $q) { totalCount edges { highlight node { path } } } }"""
    found = api.query(query, q="mistakes")["articles"]
    assert found["totalCount"] == 1
    highlight = found["edges"][0]["highlight"]
    assert "<mark>mistakes</mark>" in highlight
    for syntax in ("**", "](", "#", "https://"):
        assert syntax not in highlight, highlight
    # Markdown syntax is not searchable either: the URL of a link is not the body's text.
    assert api.query(query, q="https")["articles"]["totalCount"] == 0


def test_article_serves_html_headings_and_counts(
    api: Api, write_article: WriteArticle, ingest: Callable[..., ScanSummary]
) -> None:
    write_article(body=BODY)
    write_article("_news/2024-03-02-empty.md", webUrl="https://example.com/empty")
    ingest()
    query = """query($p: String!) { article(path: $p) {
        body html headings { depth text id } wordCount readingTimeMinutes } }"""
    article = api.query(query, p=ARTICLE)["article"]
    assert article["body"] == BODY.strip()
    assert article["html"].startswith('<h1 id="sorting-robots">')
    assert article["headings"] == [
        {"depth": 1, "text": "Sorting robots", "id": "sorting-robots"},
        {"depth": 2, "text": "Results", "id": "results"},
        {"depth": 2, "text": "Results", "id": "results-1"},
    ]
    assert (article["wordCount"], article["readingTimeMinutes"]) == (14, 1)
    empty = api.query(query, p="_news/2024-03-02-empty.md")["article"]
    assert empty == {
        "body": "", "html": "", "headings": [], "wordCount": 0, "readingTimeMinutes": 0
    }  # fmt: skip


def test_an_edit_re_renders(
    write_article: WriteArticle, ingest: Callable[..., ScanSummary], read_db: sqlite3.Connection
) -> None:
    write_article(body=BODY)
    ingest()
    write_article(body="## New plan\n\nTwo words.\n")
    assert ingest().updated == 1
    row = read_db.execute("SELECT html, headings, word_count FROM articles").fetchone()
    assert tuple(row) == (
        '<h2 id="new-plan">New plan</h2>\n<p>Two words.</p>\n',
        '[{"depth": 2, "text": "New plan", "id": "new-plan"}]',
        4,
    )


def _as_before_m002(db_path: Path) -> None:
    """Turn a current database back into what m001 left: no rendered columns, m002 unapplied."""
    conn = sqlite3.connect(db_path)
    for column in M002_COLUMNS:
        conn.execute(f"ALTER TABLE articles DROP COLUMN {column}")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_rendered_bodies'")
    conn.commit()
    conn.close()


def test_m002_on_a_database_with_articles_re_renders_them_on_the_next_reconcile(
    write_article: WriteArticle, content_dir: Path, db_path: Path, pipeline: Pipeline
) -> None:
    write_article(body=BODY)
    write_article("_news/2024-03-02-plain.md", webUrl="https://example.com/plain", body="Hi.")
    (content_dir / "_news" / "2024-03-03-broken.md").write_text("---\ntitle: [\n---\n")
    reconcile(pipeline)
    pipeline.writer.conn.close()
    _as_before_m002(db_path)

    conn = open_writer(db_path)  # applies m002
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
        assert set(M002_COLUMNS) <= columns
        assert conn.execute("SELECT count(*), max(html) FROM articles").fetchone() == (2, "")
        again = Pipeline(content_dir.resolve(), Writer(conn), workers=1)
        try:
            summary = reconcile(again)
        finally:
            again.close()
        assert (summary.updated, summary.new, summary.errors) == (2, 0, 1)
        stored = dict(conn.execute("SELECT path, html FROM articles").fetchall())
        assert stored[ARTICLE].startswith('<h1 id="sorting-robots">')
        assert stored["_news/2024-03-02-plain.md"] == "<p>Hi.</p>\n"
        indexed = conn.execute(
            "SELECT f.body FROM articles_fts f JOIN articles a ON a.id = f.rowid WHERE a.path = ?",
            [ARTICLE],
        ).fetchone()[0]
        assert indexed.startswith("Sorting robots\nThe line learns from its mistakes every day.")
        ops = [row[0] for row in conn.execute("SELECT op FROM changes ORDER BY seq")]
        assert ops == ["created", "created", "updated", "updated"]
    finally:
        conn.close()
