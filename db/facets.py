"""Facet counts over the articles a filter (and search) selects: topics, providers, months,
published. Each facet is one GROUP BY over the same condition."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Generic, TypeVar

from newsgraph.db.articles import execute_search, search_condition
from newsgraph.db.filters import ArticleFilterSpec, compile_filter
from newsgraph.db.rows import PROVIDER_COLUMNS, TOPIC_COLUMNS, ProviderRow, TopicRow
from newsgraph.db.sql import Params

P = TypeVar("P", bound=ProviderRow)
T = TypeVar("T", bound=TopicRow)


@dataclass(slots=True)
class Facets(Generic[T, P]):
    total: int
    topics: list[tuple[T, int]]
    providers: list[tuple[P, int]]
    months: list[tuple[str, int]]
    published: list[tuple[bool, int]]


def article_facets(
    conn: sqlite3.Connection,
    spec: ArticleFilterSpec | None,
    match: str | None,
    limit: int,
    topic: type[T],
    provider: type[P],
) -> Facets[T, P]:
    """Counts of the selected articles by topic and provider (the `limit` largest), by month
    (`YYYY-MM`, newest first) and by `published` (unset counts as false)."""
    params = Params()
    where = compile_filter(spec, params) + " AND " + search_condition(match, params)
    cap = params.add(limit)
    values = params.values

    def run(sql: str) -> sqlite3.Cursor:
        return execute_search(conn, sql, values, match)

    total: int = run(
        f"SELECT count(*) FROM articles a WHERE {where}",  # noqa: S608
    ).fetchone()[0]
    topics = [
        (topic(*row[:4]), row[4])
        for row in run(
            f"SELECT {TOPIC_COLUMNS}, count(*) AS n FROM articles a "  # noqa: S608
            "JOIN article_topics at ON at.article_id = a.id JOIN topics t ON t.id = at.topic_id "
            f"WHERE {where} GROUP BY t.id ORDER BY n DESC, t.key LIMIT {cap}"
        )
    ]
    providers = [
        (provider(*row[:4]), row[4])
        for row in run(
            f"SELECT {PROVIDER_COLUMNS}, count(*) AS n FROM articles a "  # noqa: S608
            f"JOIN providers p ON p.id = a.provider_id WHERE {where} "
            f"GROUP BY p.id ORDER BY n DESC, p.domain LIMIT {cap}"
        )
    ]
    months = run(
        f"SELECT substr(a.published_at, 1, 7) AS month, count(*) FROM articles a "  # noqa: S608
        f"WHERE {where} GROUP BY month ORDER BY month DESC"
    ).fetchall()
    published = [
        (bool(flag), n)
        for flag, n in run(
            f"SELECT a.published IS 1 AS flag, count(*) FROM articles a "  # noqa: S608
            f"WHERE {where} GROUP BY flag ORDER BY flag DESC"
        )
    ]
    return Facets(total, topics, providers, months, published)
