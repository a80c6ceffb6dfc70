"""One execution path for every transport: a read snapshot per operation, the timeout, request
ids, and client errors kept out of the error log, over HTTP and both WebSocket protocols."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket, LiveApp

pytest_plugins = ["tests.live_fixtures"]
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
TIMEOUT = 10.0

Server = Callable[..., "LiveApp"]
Sockets = Callable[..., "GqlSocket"]
Write = Callable[..., Path]
Ingest = Callable[..., Any]

RECIPE = """
{ articles(first: 100) { totalCount edges { node { path } } }
  ingestStatus { articleCount lastChangeCursor } }
"""


def post(server: LiveApp, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"http://{server.address}/graphql",
        json={"query": query, "variables": variables or None},
        timeout=TIMEOUT,
    )
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def held_statement(server: LiveApp, fragment: str) -> Iterator[tuple[threading.Event, Any]]:
    """Hold the first reader statement containing `fragment` inside SQLite until released."""
    pool = server.app.state.pool
    entered, release = threading.Event(), threading.Event()

    def hold(statement: str) -> None:
        if fragment in statement and not entered.is_set():
            entered.set()
            release.wait(TIMEOUT)

    pool.set_trace(hold)
    try:
        yield entered, release
    finally:
        release.set()
        pool.set_trace(None)


def test_the_resume_recipe_misses_nothing_committed_between_its_reads(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    """A list and its cursor are read in one request; a commit lands while the request is
    reading. Both come from the snapshot taken before that commit, so subscribing `since` the
    cursor delivers the new article: nothing falls between the list and the events."""
    for name in ("a.md", "b.md"):
        write_article(name)
    ingest()
    server = live_server()
    with (
        held_statement(server, "FROM articles") as (entered, release),
        ThreadPoolExecutor(1) as pool,
    ):
        reply = pool.submit(post, server, RECIPE)
        assert entered.wait(TIMEOUT)
        write_article("late.md")  # commits while the request is mid-read
        ingest()
        release.set()
        body = reply.result(TIMEOUT)
    assert "errors" not in body, body
    listed = {edge["node"]["path"] for edge in body["data"]["articles"]["edges"]}
    status = body["data"]["ingestStatus"]
    assert listed == {"a.md", "b.md"}
    assert body["data"]["articles"]["totalCount"] == status["articleCount"] == 2
    client = sockets(server.address)
    client.subscribe("resume", since=status["lastChangeCursor"])
    [event] = client.events(1)
    assert (event["kind"], event["path"]) == ("CREATED", "late.md")


def test_every_request_reads_one_snapshot_under_concurrent_commits(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    """Races commits against many requests: counts read by different root fields agree."""
    server = live_server(reader_threads=4)
    stop = threading.Event()
    written = 0

    def keep_writing() -> None:
        nonlocal written
        while not stop.is_set() and written < 300:
            write_article(f"w{written:04}.md")
            ingest()
            written += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        for _ in range(150):
            data = post(server, RECIPE)["data"]
            assert data["articles"]["totalCount"] == data["ingestStatus"]["articleCount"]
    finally:
        stop.set()
        writer.join(TIMEOUT * 3)
    assert written > 0


def test_a_query_over_a_websocket_is_held_to_the_timeout(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    write_article("a.md")
    ingest()
    server = live_server(query_timeout_ms=300, reader_threads=1)
    client = sockets(server.address)
    with held_statement(server, "FROM articles") as (entered, _release):
        client.subscribe("slow", "{ articles(first: 5) { edges { node { title } } } }")
        message = client.receive()
        assert entered.is_set()
    assert message["type"] == "next", message
    [error] = message["payload"]["errors"]
    assert error["extensions"]["code"] == "QUERY_TIMEOUT"
    assert len(error["extensions"]["requestId"]) == 16
    assert client.receive()["type"] == "complete"
    client.subscribe("after", "{ articles { totalCount } }")  # the one reader is free again
    assert client.next_data()["articles"]["totalCount"] == 1


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
def test_queries_over_either_websocket_protocol_answer_as_over_http(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest, protocol: str
) -> None:
    write_article("a.md", title="Over the socket")
    ingest()
    server = live_server()
    query = "{ articles { totalCount edges { node { title } } } }"
    over_http = post(server, query)
    client = sockets(server.address, protocol)
    client.subscribe("q", query)
    assert client.next_data() == over_http["data"]
    assert client.receive()["type"] == "complete"


def test_each_operation_on_a_socket_has_its_own_request_id(
    live_server: Server, sockets: Sockets
) -> None:
    server = live_server(query_timeout_ms=300, reader_threads=1)
    client = sockets(server.address)
    ids = []
    for number in range(2):
        with held_statement(server, "FROM articles"):
            client.subscribe(f"op{number}", "{ articles { totalCount } }")
            message = client.receive()
        ids.append(message["payload"]["errors"][0]["extensions"]["requestId"])
        assert client.receive()["type"] == "complete"
    assert ids[0] != ids[1]


def test_client_mistakes_are_counted_and_logged_below_error(
    live_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    server = live_server()
    mistakes = ["{ articles { nope } }", "{ articles(first: -1) { totalCount } }", "{"]
    with caplog.at_level(logging.DEBUG):
        for query in mistakes:
            assert post(server, query)["errors"]
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert loud == [], [r.getMessage() for r in loud]
    quiet = [r.getMessage() for r in caplog.records if "client error" in r.getMessage()]
    assert len(quiet) == 3
    assert all(len(message) < 300 for message in quiet)
    metrics = httpx.get(f"http://{server.address}/metrics", timeout=TIMEOUT).text
    counted = {
        line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("newsgraph_graphql_client_errors_total{")
    }
    assert counted == {
        'code="GRAPHQL_VALIDATION_FAILED"': 1.0,
        'code="BAD_USER_INPUT"': 1.0,
        'code="GRAPHQL_PARSE_FAILED"': 1.0,
    }


def test_a_fault_of_ours_is_still_logged_as_an_error(
    live_server: Server, write_article: Write, ingest: Ingest, db_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    write_article("a.md", topics=["Space"])
    ingest()
    server = live_server()
    with sqlite3.connect(db_path) as conn:  # a table our own SQL needs is gone
        conn.execute("DROP TABLE article_topics")
    with caplog.at_level(logging.INFO):
        body = post(server, "{ articles { edges { node { topics { name } } } } }")
    [error] = body["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1
    assert error["extensions"]["requestId"] in logged[0].getMessage()
