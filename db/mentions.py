"""`mentionedBy`: the articles whose related items point at a URL, paged per URL in one query.

A window function numbers each URL's mentioning articles newest first, so a batch of 100 URLs
costs one statement however the mentions are spread. An article listing the same URL twice
counts once.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from newsgraph.db import keyset
from newsgraph.db.reads import keys_param
from newsgraph.db.rows import ARTICLE_COLUMNS, ArticleRow, ResultColumns
from newsgraph.db.sql import Params

A = TypeVar("A", bound=ArticleRow)
_KEYS = [keyset.Key("a.published_at", descending=True), keyset.Key("a.id", descending=True)]


def mentioned_by(
    conn: sqlite3.Connection,
    urls: Sequence[str],
    limit: int,
    cursor: Sequence[Any] | None,
    make: type[A],
) -> dict[str, tuple[list[A], list[tuple[Any, ...]], bool]]:
    """For each URL: up to `limit` mentioning articles after `cursor`, their sort keys
    (published_at, id), and whether more follow."""
    params = Params()
    where = "1" if cursor is None else keyset.after(_KEYS, cursor, params)
    sql = (
        f"SELECT * FROM (SELECT m.web_url AS mentioned_url, {ARTICLE_COLUMNS}, "  # noqa: S608
        "row_number() OVER ("
        "PARTITION BY m.web_url ORDER BY a.published_at DESC, a.id DESC) AS rank_in_url "
        "FROM (SELECT DISTINCT web_url, article_id FROM related "
        f"WHERE web_url IN (SELECT value FROM json_each({params.add(keys_param(urls))}))) m "
        f"JOIN articles a ON a.id = m.article_id WHERE {where}) "
        f"WHERE rank_in_url <= {params.add(limit + 1)}"
    )
    found: dict[str, tuple[list[A], list[tuple[Any, ...]], bool]] = defaultdict(
        lambda: ([], [], False)
    )
    statement = conn.execute(sql, params.values)
    columns = ResultColumns(statement)
    url_of, rank_of, read = (
        columns.value("mentioned_url"),
        columns.value("rank_in_url"),
        columns.reader(make),
    )
    for row in statement:
        url = url_of(row)
        rows, keys, _more = found[url]
        if rank_of(row) > limit:
            found[url] = (rows, keys, True)
            continue
        article = read(row)
        rows.append(article)
        keys.append((article.published_at, article.id))
    return dict(found)


def mention_counts(conn: sqlite3.Connection, urls: Sequence[str]) -> dict[str, int]:
    sql = (
        "SELECT web_url, count(DISTINCT article_id) FROM related "
        "WHERE web_url IN (SELECT value FROM json_each(?)) GROUP BY web_url"
    )
    return dict(conn.execute(sql, [keys_param(urls)]).fetchall())
