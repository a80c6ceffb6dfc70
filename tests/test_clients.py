"""Real third-party clients speak our persisted queries and caching: Apollo Client 4 with its
`PersistedQueryLink` (`useGETForHashedQueries`) and urql with `persistedExchange`
(`preferGetForPersistedQueries`), set up exactly as the README shows.

The clients run in Node (`tests/clients/clients.mjs`, installed by `npm ci` from the committed
lock file; `make test` does it). What they send is observed on the server side: a small ASGI
recorder in front of the real app sees every request and its status, and `/metrics` counts the
response-cache hits. The watcher is the real one on a real folder.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsgraph.app import create_app
from newsgraph.config import Settings
from newsgraph.ingest.pipeline import Pipeline
from tests.gql_fixtures import serving

pytest_plugins = ["tests.watcher_fixtures"]
CLIENTS = Path(__file__).parent / "clients"
TIMEOUT = 30.0
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"


@dataclass
class Seen:
    """One GraphQL request as the server saw it."""

    method: str
    params: dict[str, Any]  # query, variables, extensions, operationName (GET or POST alike)
    status: int = 0
    body: bytes = b""

    @property
    def operation(self) -> str | None:
        name = self.params.get("operationName")
        return name if isinstance(name, str) else None

    @property
    def hash_only(self) -> bool:
        persisted = (self.params.get("extensions") or {}).get("persistedQuery") or {}
        return "query" not in self.params and "sha256Hash" in persisted

    @property
    def code(self) -> str | None:
        try:
            errors = json.loads(self.body).get("errors") or [{}]
        except ValueError:  # gzip or not JSON: not an error answer of ours
            return None
        code = errors[0].get("extensions", {}).get("code")
        return code if isinstance(code, str) else None


class RecordRequests:
    """ASGI middleware that records every `/graphql` request: method, parameters, status."""

    def __init__(self, app: ASGIApp, log: list[Seen]) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        seen = Seen(scope["method"], _params(scope["query_string"]))
        self.log.append(seen)
        body = b""

        async def reading() -> Message:
            nonlocal body
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body") and body:
                seen.params = json.loads(body)
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
            elif message["type"] == "http.response.body":
                seen.body += message.get("body", b"")
            await send(message)

        await self.app(scope, reading, sending)


def _params(query_string: bytes) -> dict[str, Any]:
    """GET parameters as the POST body would carry them (JSON-encoded ones decoded)."""
    params: dict[str, Any] = {}
    for name, [value] in parse_qs(query_string.decode()).items():
        params[name] = json.loads(value) if name in ("variables", "extensions") else value
    return params


def cache_hits(address: str) -> float:
    text = httpx.get(f"http://{address}/metrics", timeout=TIMEOUT).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "newsgraph_response_cache_hits_total"
    )


class NodeClients:
    """The Node script, one JSON line at a time (every read has a timeout)."""

    def __init__(self, url: str) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.skip("node is not installed (make test installs it when root)")
        if not (CLIENTS / "node_modules" / "@apollo" / "client").is_dir():
            pytest.skip("the clients are not installed: run `npm ci` in tests/clients (make test)")
        self.process = subprocess.Popen(
            [node, str(CLIENTS / "clients.mjs"), url], cwd=CLIENTS, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self.reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put("")

    def answer(self) -> dict[str, list[list[str]]]:
        try:
            line = self.lines.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail("the Node clients did not answer in time")
        if not line:
            assert self.process.stderr is not None
            pytest.fail(f"the Node clients failed:\n{self.process.stderr.read()}")
        answer: dict[str, list[list[str]]] = json.loads(line)
        return answer

    def go_on(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        self.reader.join(timeout=TIMEOUT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def watched_server(
    pipeline: Pipeline, content_dir: Path, db_path: Path
) -> Iterator[tuple[str, list[Seen]]]:
    """`newsgraph serve`'s app with its watcher, behind the request recorder."""
    log: list[Seen] = []
    app = create_app(Settings(content=content_dir, db=db_path, watch=True, debounce_ms=20))
    app.add_middleware(RecordRequests, log=log)
    with serving(app) as url:
        yield url.removeprefix("http://"), log


def test_apollo_and_urql_persist_their_queries_and_get_fresh_cached_answers(
    watched_server: tuple[str, list[Seen]],
    write_article: Callable[..., Path],
    ingest: Callable[..., Any],
    wait_for: Callable[..., None],
) -> None:
    for day in range(1, 4):
        write_article(f"_news/2024-03-0{day}-story.md", title=f"Story {day}")
    ingest()
    address, log = watched_server
    clients = NodeClients(f"http://{address}/graphql")
    try:
        before = clients.answer()
        old = {"Story 1", "Story 2", "Story 3"}
        for name in ("apollo", "urql"):
            first, again = before[name]
            assert set(first) == old and again == first, name
        hits = cache_hits(address)
        assert hits == 2  # each client's repeat was a hit

        write_article("_news/2024-03-09-breaking.md", title="Breaking story")
        wait_for(lambda: _count(address) == 4, what="the watcher ingests the new file")
        clients.go_on()
        after = clients.answer()
    finally:
        clients.close()
    for name in ("apollo", "urql"):
        [fresh] = after[name]
        assert set(fresh) == old | {"Breaking story"}, name  # never the answer from before
    assert cache_hits(address) == hits  # the first question after a commit is not a hit

    for operation in ("ApolloHome", "UrqlHome"):
        requests = [seen for seen in log if seen.operation == operation]
        unknown, registering, repeat, after_drop = requests
        assert (unknown.method, unknown.hash_only, unknown.code) == ("GET", True, NOT_FOUND)
        assert unknown.status in (200, 404)
        assert not registering.hash_only and registering.status == 200, operation
        assert "persistedQuery" in registering.params["extensions"]  # resent to register it
        for seen in (repeat, after_drop):
            assert (seen.method, seen.hash_only, seen.status) == ("GET", True, 200), operation
            assert seen.params["variables"] == {"first": 20}


def _count(address: str) -> int:
    query = {"query": "{ articles { totalCount } }"}
    body = httpx.post(f"http://{address}/graphql", json=query, timeout=TIMEOUT).json()
    count: int = body["data"]["articles"]["totalCount"]
    return count


def test_the_readme_client_set_up_is_what_the_clients_test_runs() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    script = {line.strip() for line in (CLIENTS / "clients.mjs").read_text().splitlines()}
    blocks = re.findall(r"```js\n(.*?)```", readme, flags=re.DOTALL)
    assert len(blocks) == 2, "the README shows Apollo Client's and urql's set-up"
    for block in blocks:
        for line in block.splitlines():
            line = line.replace('url: "https://news.example/graphql"', "url")
            line = line.replace('"https://news.example/graphql"', "url").strip()
            assert not line or line in script, f"README line not in clients.mjs: {line}"
