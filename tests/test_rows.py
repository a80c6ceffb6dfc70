"""Rows are read by column name: every field holds the stored column of its name."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from newsgraph.db import articles, lists, reads, status
from newsgraph.db.connection import open_reader
from newsgraph.db.rows import ArticleRow, ProviderRow, RelatedRow, ResultColumns, TopicRow
from tests.corpus_fixtures import corpus_db

__all__ = ["corpus_db"]

# Fields named differently from the column they are read from.
_STORED_AS = {"extra_json": "extra", "headings_json": "headings"}


@pytest.fixture
def conn(corpus_db: Path) -> Iterator[sqlite3.Connection]:
    connection = open_reader(corpus_db)
    yield connection
    connection.close()


def _stored(conn: sqlite3.Connection, table: str) -> dict[int, sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    try:
        return {row["id"]: row for row in conn.execute(f"SELECT * FROM {table}")}
    finally:
        conn.row_factory = None


def _assert_matches(row: Any, stored: sqlite3.Row) -> None:
    for field in fields(row):
        column = _STORED_AS.get(field.name, field.name)
        assert getattr(row, field.name) == stored[column], (type(row).__name__, field.name)


def test_article_rows_hold_their_named_columns(conn: sqlite3.Connection) -> None:
    stored = _stored(conn, "articles")
    by_id = reads.articles_by_ids(conn, list(stored), ArticleRow)
    page = articles.article_page(conn, articles.ArticlePageQuery(limit=len(stored)), ArticleRow)
    assert len(by_id) == len(page.rows) == len(stored) > 100
    for row in [*by_id.values(), *page.rows]:
        _assert_matches(row, stored[row.id])
    assert [key[-1] for key in page.keys] == [row.id for row in page.rows]


def test_related_provider_and_topic_rows_hold_their_named_columns(
    conn: sqlite3.Connection,
) -> None:
    article_ids = list(_stored(conn, "articles"))
    related = _stored(conn, "related")
    found = [r for rs in reads.related_of(conn, article_ids, RelatedRow).values() for r in rs]
    assert len(found) == len(related) > 0
    for row in found:
        _assert_matches(row, related[row.id])
    providers = _stored(conn, "providers")
    rows, _keys, _more = lists.provider_page(
        conn, search=None, order="domain", descending=False, limit=1000, cursor=None,
        make=ProviderRow,
    )  # fmt: skip
    assert len(rows) == len(providers) > 0
    for provider in rows:
        _assert_matches(provider, providers[provider.id])
    topics = _stored(conn, "topics")
    for topic in reads.topics_by_keys(conn, [t["key"] for t in topics.values()], TopicRow).values():
        _assert_matches(topic, topics[topic.id])


def test_ingest_status_reads_each_count_by_name(conn: sqlite3.Connection) -> None:
    counts = status.ingest_status(conn)
    assert counts.article_count == len(_stored(conn, "articles"))
    assert counts.provider_count == len(_stored(conn, "providers"))
    assert counts.topic_count == len(_stored(conn, "topics"))


def test_a_missing_or_ambiguous_column_is_an_error_not_a_shifted_value() -> None:
    conn = sqlite3.connect(":memory:")
    cursor = conn.execute("SELECT 1 AS id, 2 AS id, 3 AS key, 'n' AS name")
    columns = ResultColumns(cursor)
    with pytest.raises(LookupError, match="ambiguous"):
        columns.reader(TopicRow)
    with pytest.raises(LookupError, match="slug"):
        ResultColumns(conn.execute("SELECT 1 AS id, 3 AS key, 'n' AS name")).reader(TopicRow)
    conn.close()
