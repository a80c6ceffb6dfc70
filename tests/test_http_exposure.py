"""Exposure: loopback by default, CORS only when configured, nothing internal reaches a client,
and a query over the time limit is cancelled with its SQL interrupted."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.edge_fixtures import Serve, serve, stored

__all__ = ["serve", "stored"]

QUERY = "{ articles(first: 1) { totalCount } }"


def assert_nothing_internal(text: str, *secrets: str) -> None:
    """No stack trace, SQL, SQLite message or file path in what the client got."""
    for needle in ("Traceback", 'File "', ".py", "SELECT", "sqlite", "Expression tree", *secrets):
        assert needle not in text, f"{needle!r} leaked: {text}"


def test_an_internal_error_is_masked_with_a_request_id_that_is_logged(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A filter SQLite rejects (an expression tree deeper than 1,000) is a real internal error."""
    api = serve()
    query = "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }"
    variables = {"f": {"allTopics": [f"topic{n}" for n in range(1001)]}}
    with caplog.at_level(logging.ERROR, logger="newsgraph.gql"):
        response = api.client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    error = response.json()["errors"][0]
    request_id = response.headers["x-request-id"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert_nothing_internal(response.text, str(tmp_path))
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and "Expression tree is too large" in logged[0].getMessage()
    assert logged[0].exc_info is not None  # the traceback stays in the log


def test_a_corrupted_database_leaks_no_path_or_sql(
    serve: Serve, db_path: Path, tmp_path: Path
) -> None:
    api = serve()  # started on a good database; its pages go bad underneath it
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    size = db_path.stat().st_size
    with db_path.open("r+b") as handle:  # keep the header page, scramble the rest
        handle.seek(page_size)
        handle.write(bytes(range(256)) * ((size - page_size) // 256))
    for query in (QUERY, "{ ingestStatus { articleCount } }", '{ topic(name: "x") { name } }'):
        response = api.client.post("/graphql", json={"query": query})
        assert response.json()["errors"][0]["message"] == "Unexpected error.", response.text
        assert_nothing_internal(response.text, str(tmp_path), str(db_path))


def test_cors_is_off_unless_origins_are_configured(serve: Serve) -> None:
    api = serve()
    response = api.client.post(
        "/graphql", json={"query": QUERY}, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = api.client.options(
        "/graphql",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_allows_exactly_the_configured_origins(serve: Serve) -> None:
    api = serve(cors_origins=("https://news.example",))
    preflight = api.client.options(
        "/graphql",
        headers={
            "origin": "https://news.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://news.example"
    response = api.client.post(
        "/graphql", json={"query": QUERY}, headers={"origin": "https://news.example"}
    )
    assert response.headers["access-control-allow-origin"] == "https://news.example"
    other = api.client.post(
        "/graphql", json={"query": QUERY}, headers={"origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_a_query_over_the_time_limit_is_cancelled_and_its_sql_interrupted(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """The reader's statement is held inside SQLite (its trace hook waits), as a slow query
    would be: the client still gets its answer at the deadline, and the statement is
    interrupted, so the only reader thread is free again for the next query."""
    api = serve(query_timeout_ms=300, reader_threads=1)
    pool = api.app.state.pool
    entered, release = threading.Event(), threading.Event()
    held_until_released: list[bool] = []

    def hold(statement: str) -> None:
        if "articles" in statement and not entered.is_set():
            entered.set()
            held_until_released.append(release.wait(60))

    pool.set_trace(hold)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="newsgraph.gql"):
        body = api.post("{ articles(first: 5) { edges { node { title } } } }")
        took = time.monotonic() - started
        release.set()
    pool.set_trace(None)
    assert entered.is_set()
    error = body["errors"][0]
    assert error["message"].startswith(
        "query ran longer than the limit of 300 ms (NEWSGRAPH_QUERY_TIMEOUT_MS) and was cancelled"
    )
    assert error["extensions"]["code"] == "QUERY_TIMEOUT"
    assert body["data"] is None
    assert took >= 0.3
    assert any("1 statement(s) interrupted" in r.getMessage() for r in caplog.records)
    assert api.data(QUERY)["articles"]["totalCount"] == 3  # the reader is free again
    # The answer came while the statement was still held (released only after the answer), so
    # the deadline answered, not the statement finishing: no wall-clock bound needed.
    assert held_until_released == [True]


def test_a_query_under_the_time_limit_is_answered(serve: Serve) -> None:
    api = serve(query_timeout_ms=5_000)
    assert api.data(QUERY)["articles"]["totalCount"] == 3


def test_serve_binds_loopback_unless_told_otherwise(
    content_dir: Path, db_path: Path, stored: None
) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    command = [sys.executable, "-m", "newsgraph", "serve", "--content", str(content_dir)]
    command += ["--db", str(db_path), "--port", "0", "--no-watch"]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ
    )
    try:
        assert server.stdout is not None
        seen: list[str] = []
        for line in server.stdout:  # ends when the process does; bounded by the test timeout
            seen.append(line)
            if "running on" in line.lower():
                assert "http://127.0.0.1:" in line, line
                break
        else:
            pytest.fail("server did not start:\n" + "".join(seen))
    finally:
        server.terminate()
        server.communicate(timeout=10)  # reads what is left and closes the pipe
