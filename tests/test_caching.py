"""The response cache, HTTP caching and compression, over real HTTP to a real server."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from newsgraph.gql.http import GraphQLHTTP
from newsgraph.gql.http_hits import RawRequests
from newsgraph.gql.http_request import JSON
from newsgraph.gql.response_cache import RequestKey

if TYPE_CHECKING:
    from tests.live_fixtures import LiveApp

pytest_plugins = ["tests.live_fixtures"]
TIMEOUT = 10.0
HOMEPAGE = "{ articles(first: 20) { edges { node { path title provider { name } } } } }"

Server = Callable[..., "LiveApp"]
Write = Callable[..., Path]
Ingest = Callable[..., Any]


def get(server: LiveApp, query: str, **headers: str) -> httpx.Response:
    return httpx.get(
        f"http://{server.address}/graphql", params={"query": query}, headers=headers,
        timeout=TIMEOUT,
    )  # fmt: skip


def post(server: LiveApp, query: str) -> httpx.Response:
    return httpx.post(f"http://{server.address}/graphql", json={"query": query}, timeout=TIMEOUT)


def cache_metrics(server: LiveApp) -> dict[str, float]:
    text = httpx.get(f"http://{server.address}/metrics", timeout=TIMEOUT).text
    return {
        sample.name.removeprefix("newsgraph_response_cache_"): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("newsgraph_response_cache_")
    }


def count_statements(server: LiveApp, fragment: str) -> Callable[[], int]:
    """Count reader statements containing `fragment` from now on."""
    seen = 0
    lock = threading.Lock()

    def trace(statement: str) -> None:
        nonlocal seen
        if fragment in statement:
            with lock:
                seen += 1

    server.app.state.pool.set_trace(trace)
    return lambda: seen


def write_long_homepage(write_article: Write, ingest: Ingest) -> None:
    """20 articles: a homepage answer well over the 1 KB at which answers are gzipped."""
    for number in range(20):
        write_article(f"a{number:02}.md", title=f"A long enough title number {number}")
    ingest()


def test_a_repeated_query_is_a_hit_until_a_commit_changes_the_data(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    write_article("a.md", title="First")
    ingest()
    server = live_server()
    executed = count_statements(server, "FROM articles")
    first = post(server, HOMEPAGE).json()
    assert post(server, HOMEPAGE).json() == first
    assert executed() == 1  # the second answer did no SQL beyond the snapshot's version
    assert cache_metrics(server)["hits_total"] == 1
    write_article("b.md", title="Second")
    ingest()
    titles = [
        e["node"]["title"] for e in post(server, HOMEPAGE).json()["data"]["articles"]["edges"]
    ]
    assert sorted(titles) == ["First", "Second"]  # never the answer from before the commit
    assert executed() == 2


def test_a_hit_takes_no_reader_thread(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    """The hit path reads the data version on the event loop (no thread hop, see
    `ReaderPool.latest_version`), and still sees a commit made just before it."""
    write_article("a.md", title="First")
    ingest()
    server = live_server()
    first = get(server, HOMEPAGE).json()
    seen: list[tuple[str, str]] = []
    server.app.state.pool.set_trace(lambda sql: seen.append((threading.current_thread().name, sql)))
    assert get(server, HOMEPAGE).json() == first
    server.app.state.pool.set_trace(None)
    on_readers = [sql for name, sql in seen if name.startswith("newsgraph-reader")]
    assert [sql for sql in on_readers if sql != "ROLLBACK"] == []  # the first one's end only
    assert [sql for _, sql in seen if "data_version" in sql] == ["PRAGMA data_version"]
    write_article("b.md", title="Second")
    ingest()
    edges = get(server, HOMEPAGE).json()["data"]["articles"]["edges"]
    assert sorted(edge["node"]["title"] for edge in edges) == ["First", "Second"]


def test_every_answer_after_a_commit_shows_it(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    server = live_server()
    for number in range(15):
        write_article(f"n{number:02}.md", title=f"Story {number}")
        ingest()
        for _ in range(2):  # the second is a hit, and must be just as fresh
            data = get(server, HOMEPAGE).json()["data"]
            titles = {edge["node"]["title"] for edge in data["articles"]["edges"]}
            assert f"Story {number}" in titles


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_concurrent_identical_misses_execute_once(
    live_server: Server, write_article: Write, ingest: Ingest, method: str
) -> None:
    """By GET the query string is known from an earlier answer, so the herd waits in the fast
    lane (`gql.http_hits`); by POST it goes the general path."""
    write_article("a.md")
    ingest()
    server = live_server(reader_threads=4)
    send = post if method == "POST" else get
    if method == "GET":
        assert "errors" not in get(server, HOMEPAGE).json()  # an answer at the old version
        write_article("b.md")
        ingest()
    pool = server.app.state.pool
    entered, release = threading.Event(), threading.Event()
    lock = threading.Lock()
    counts = {"versions": 0, "articles": 0}

    def trace(statement: str) -> None:
        with lock:
            if "data_version" in statement:  # each request reads the newest version once
                counts["versions"] += 1
            if "FROM articles" in statement:
                counts["articles"] += 1
                first = not entered.is_set()
                entered.set()
            else:
                first = False
        if first:
            release.wait(TIMEOUT)  # the first execution is still running when the others come

    pool.set_trace(trace)
    general = count_contexts(server)
    clients = 8
    with ThreadPoolExecutor(clients) as workers:
        replies = [workers.submit(send, server, HOMEPAGE) for _ in range(clients)]
        assert entered.wait(TIMEOUT)
        deadline = threading.Event()
        for _ in range(1000):  # until every request has read its snapshot's version
            with lock:
                if counts["versions"] >= clients:
                    break
            deadline.wait(0.01)
        release.set()
        bodies = [reply.result(TIMEOUT).json() for reply in replies]
    pool.set_trace(None)
    assert all(body == bodies[0] for body in bodies)
    assert "errors" not in bodies[0]
    assert counts["articles"] == 1
    metrics = cache_metrics(server)
    assert general() == (1 if method == "GET" else clients)  # by GET only the leader's
    earlier = 1 if method == "GET" else 0
    assert (metrics["misses_total"], metrics["hits_total"]) == (1 + earlier, clients - 1)


def test_errors_and_process_state_are_never_cached(live_server: Server) -> None:
    server = live_server()
    for query in ("{ articles(first: -1) { totalCount } }", "{ ingestStatus { queueDepth } }"):
        for _ in range(2):
            response = get(server, query)
            assert response.headers["cache-control"] == "no-store"
            assert "etag" not in response.headers
    assert cache_metrics(server)["hits_total"] == 0
    assert cache_metrics(server)["entries"] == 0


def test_etag_revalidation_answers_304_without_executing(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    write_article("a.md")
    ingest()
    server = live_server(response_cache_bytes=0)  # the 304 must not depend on the cache
    first = get(server, HOMEPAGE)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"')
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["vary"] == "Accept, Accept-Encoding"
    executed = count_statements(server, "FROM articles")
    again = get(server, HOMEPAGE, **{"if-none-match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert executed() == 0
    write_article("b.md")
    ingest()
    changed = get(server, HOMEPAGE, **{"if-none-match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert len(changed.json()["data"]["articles"]["edges"]) == 2


def test_cache_control_for_cdns_comes_from_settings(live_server: Server) -> None:
    server = live_server(cache_max_age=5, cache_stale_while_revalidate=30)
    response = get(server, "{ articles { totalCount } }")
    assert response.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"
    assert post(server, "{ articles { totalCount } }").headers.get("etag") is None


def test_large_answers_are_gzipped_once_for_clients_that_accept_it(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    write_long_homepage(write_article, ingest)
    server = live_server()
    url = f"http://{server.address}/graphql"
    with httpx.Client(timeout=TIMEOUT) as client:
        for _ in range(2):  # a miss, then a hit from the stored compressed form
            raw = client.build_request(
                "GET", url, params={"query": HOMEPAGE}, headers={"accept-encoding": "gzip"}
            )
            response = client.send(raw, stream=True)
            wire = b"".join(response.iter_raw())
            response.close()
            assert response.headers["content-encoding"] == "gzip"
            body = gzip.decompress(wire)
            assert len(wire) < len(body)
            assert b'"title":"A long enough title number' in body
        plain = client.get(url, params={"query": HOMEPAGE}, headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == body
        small = client.get(
            url, params={"query": "{ articles { totalCount } }"},
            headers={"accept-encoding": "gzip"},
        )  # fmt: skip
        assert "content-encoding" not in small.headers


def test_the_cache_stays_within_its_byte_budget(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    write_article("a.md")
    ingest()
    server = live_server(response_cache_bytes=2_000)
    for size in range(1, 30):
        assert post(server, f"{{ articles(first: {size}) {{ totalCount }} }}").status_code == 200
    metrics = cache_metrics(server)
    assert metrics["bytes"] <= 2_000
    assert metrics["evictions_total"] > 0


def graphql_view(server: LiveApp) -> GraphQLHTTP:
    for route in server.app.routes:
        endpoint = getattr(route, "endpoint", None)
        if getattr(route, "path", None) == "/graphql" and isinstance(endpoint, GraphQLHTTP):
            return endpoint
    raise AssertionError("no GraphQL view at /graphql")


def count_contexts(server: LiveApp) -> Callable[[], int]:
    """How many requests took the general path (each builds a `Context`) from now on."""
    view = graphql_view(server)
    built = 0
    general = view.get_context

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal built
        built += 1
        return await general(*args, **kwargs)

    view.get_context = counted  # type: ignore[method-assign]
    return lambda: built


def comparable(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "x-request-id")}
    return response.status_code, response.content, headers


def test_a_repeated_get_is_sent_from_its_query_string_exactly_as_the_first(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    """The fast lane (`gql.http_hits`) skips the general path and must not be told apart."""
    write_long_homepage(write_article, ingest)
    server = live_server()
    general = count_contexts(server)
    url = f"http://{server.address}/graphql"
    seen_ids: set[str] = set()
    with httpx.Client(timeout=TIMEOUT) as client:
        for media in ("application/json", "application/graphql-response+json"):
            for encoding in ("gzip", "identity"):
                headers = {"accept": media, "accept-encoding": encoding}
                first, again = (
                    client.get(url, params={"query": HOMEPAGE}, headers=headers) for _ in "12"
                )
                assert comparable(again) == comparable(first)
                assert again.headers["content-type"] == media
                assert (again.headers.get("content-encoding") == "gzip") == (encoding == "gzip")
                seen_ids |= {first.headers["x-request-id"], again.headers["x-request-id"]}
    assert general() == 2  # the first GET per media type; every other one took the fast lane
    assert len(seen_ids) == 8  # every response still has its own request id
    assert cache_metrics(server)["hits_total"] == 6  # a miss per media type, then hits


def test_the_fast_lane_revalidates_and_stays_fresh(
    live_server: Server, write_article: Write, ingest: Ingest
) -> None:
    write_article("a.md", title="First")
    ingest()
    server = live_server()
    first = get(server, HOMEPAGE)
    general = count_contexts(server)
    tag = first.headers["etag"]
    again = get(server, HOMEPAGE, **{"if-none-match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert again.headers["cache-control"] == "no-cache"
    assert again.headers["vary"] == "Accept, Accept-Encoding"
    assert again.headers["x-request-id"]
    assert general() == 0
    write_article("b.md", title="Second")
    ingest()
    changed = get(server, HOMEPAGE, **{"if-none-match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    edges = changed.json()["data"]["articles"]["edges"]
    assert sorted(edge["node"]["title"] for edge in edges) == ["First", "Second"]
    assert general() == 1  # the new version's first answer is executed on the general path
    assert get(server, HOMEPAGE).content == changed.content
    assert general() == 1


def test_a_get_with_a_body_or_an_unservable_accept_takes_the_general_path(
    live_server: Server,
) -> None:
    server = live_server(max_body_bytes=1_000)
    url = f"http://{server.address}/graphql"
    assert get(server, HOMEPAGE).status_code == 200
    with httpx.Client(timeout=TIMEOUT) as client:
        big = client.request("GET", url, params={"query": HOMEPAGE}, content=b"x" * 2_000)
        assert big.status_code == 413
        refused = client.get(url, params={"query": HOMEPAGE}, headers={"accept": "text/csv"})
        assert refused.status_code == 406


def test_remembered_query_strings_are_bounded_in_entries_and_bytes() -> None:
    requests = RawRequests(entries=3, max_bytes=10_000)
    keys = [RequestKey.of("{ articles { totalCount } }", None, {"n": n}, JSON) for n in range(5)]
    for number, key in enumerate(keys):
        requests.remember(f"query=q&n={number}".encode(), key)
    assert len(requests) == 3
    assert requests.recall(b"query=q&n=0", JSON) is None  # the oldest went first
    assert requests.recall(b"query=q&n=4", JSON) is not None
    big = RawRequests(entries=100, max_bytes=3_000)
    for number in range(10):
        big.remember(b"x" * 1_000 + str(number).encode(), keys[0])
    assert big.bytes <= 3_000 and 0 < len(big) < 10
    assert big.recall(b"x" * 1_000 + b"9", JSON) is not None
