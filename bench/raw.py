"""The benchmark's baseline: the same data as the GraphQL queries, by hand-written SQL.

This is bench code, not product code: it shows what the GraphQL layer costs over the least a
handler could do (plain SQL on the same reader pool, dicts, orjson).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsgraph.db.pool import ReaderPool

_PAGE = (
    "SELECT a.id, a.path, a.title, a.published_at, a.web_url, a.provider_id FROM articles a "
    "WHERE {where} ORDER BY a.published_at DESC, a.id DESC LIMIT ?"
)
_NEWEST = _PAGE.format(where="1")
_BY_TOPIC = _PAGE.format(
    where="EXISTS (SELECT 1 FROM article_topics at JOIN topics t "
    "ON t.id = at.topic_id WHERE at.article_id = a.id AND t.key = ?)"
)
_AFTER = _PAGE.format(where="(a.published_at, a.id) < (?, ?)")
_BY_TOPIC_AFTER = _PAGE.format(
    where="EXISTS (SELECT 1 FROM article_topics at JOIN topics t "
    "ON t.id = at.topic_id WHERE at.article_id = a.id AND t.key = ?) "
    "AND (a.published_at, a.id) < (?, ?)"
)
_SEARCH = (
    "SELECT a.id, a.path, a.title, a.published_at, p.name, "
    "snippet(articles_fts, -1, '<mark>', '</mark>', '…', 24) "
    "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
    "LEFT JOIN providers p ON p.id = a.provider_id "
    "WHERE articles_fts MATCH ? ORDER BY bm25(articles_fts, 10.0, 4.0, 1.0, 2.0, 5.0) LIMIT 20"
)


def _nested(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    rows = conn.execute(sql, params).fetchall()
    ids = orjson.dumps([row[0] for row in rows])
    images: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for owner, url, width, height in conn.execute(
        "SELECT article_id, url, width, height FROM article_images WHERE article_id IN "
        "(SELECT value FROM json_each(?)) ORDER BY article_id, position",
        [ids],
    ):
        images[owner].append({"url": url, "width": width, "height": height})
    topics: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for owner, name in conn.execute(
        "SELECT at.article_id, t.name FROM article_topics at JOIN topics t ON t.id = at.topic_id "
        "WHERE at.article_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY at.article_id, at.position",
        [ids],
    ):
        topics[owner].append({"name": name})
    related: dict[int, list[dict[str, Any]]] = defaultdict(list)
    provider_ids = {row[5] for row in rows if row[5] is not None}
    related_rows = conn.execute(
        "SELECT article_id, title, web_url, provider_id FROM related WHERE article_id IN "
        "(SELECT value FROM json_each(?)) ORDER BY article_id, position",
        [ids],
    ).fetchall()
    provider_ids.update(row[3] for row in related_rows if row[3] is not None)
    providers = {
        pid: {"name": name, "domain": domain}
        for pid, name, domain in conn.execute(
            "SELECT id, name, domain FROM providers WHERE id IN (SELECT value FROM json_each(?))",
            [orjson.dumps(sorted(provider_ids))],
        )
    }
    for owner, title, web_url, provider_id in related_rows:
        related[owner].append(
            {"title": title, "webUrl": web_url, "provider": providers.get(provider_id)}
        )
    return [
        {
            "id": path,
            "title": title,
            "publishedAt": published_at,
            "webUrl": web_url,
            "provider": providers.get(provider_id),
            "images": images.get(article_id, []),
            "topics": topics.get(article_id, []),
            "related": related.get(article_id, []),
        }
        for article_id, path, title, published_at, web_url, provider_id in rows
    ]


def _plain(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return [
        {"id": path, "title": title, "publishedAt": published_at}
        for _id, path, title, published_at, _url, _pid in conn.execute(sql, params)
    ]


def _search(conn: sqlite3.Connection, match: str) -> list[dict[str, Any]]:
    return [
        {
            "highlight": snippet,
            "node": {"id": path, "title": title, "publishedAt": at, "provider": {"name": name}},
        }
        for _id, path, title, at, name, snippet in conn.execute(_SEARCH, [match])
    ]


Work = Callable[[sqlite3.Connection, Request], Any]
WORK: dict[str, Work] = {
    "q1": lambda conn, r: _nested(conn, _NEWEST, [20]),
    "q2": lambda conn, r: _nested(conn, _BY_TOPIC, [r.query_params["topic"], 100]),
    "t20": lambda conn, r: _nested(conn, _BY_TOPIC, [r.query_params["topic"], 20]),
    "q3": lambda conn, r: _search(conn, r.query_params["match"]),
    "q4": lambda conn, r: _page(conn, r),
}


def _page(conn: sqlite3.Connection, request: Request) -> list[dict[str, Any]]:
    """20 newest, optionally of one topic, optionally after (published_at, id)."""
    query = request.query_params
    topic = [query["topic"]] if "topic" in query else []
    after = [query["at"], int(query["id"])] if "at" in query else []
    sql = {
        (True, True): _BY_TOPIC_AFTER,
        (True, False): _BY_TOPIC,
        (False, True): _AFTER,
        (False, False): _NEWEST,
    }[(bool(topic), bool(after))]
    return _plain(conn, sql, [*topic, *after, 20])


def raw_routes(pool: ReaderPool) -> list[Route]:
    def handler(name: str) -> Callable[[Request], Any]:
        work = WORK[name]

        async def endpoint(request: Request) -> Response:
            data = await pool.submit(lambda conn: work(conn, request))
            return Response(orjson.dumps({"data": data}), media_type="application/json")

        return endpoint

    return [Route(f"/raw/{name}", handler(name), methods=["GET"]) for name in WORK]
