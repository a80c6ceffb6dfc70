"""Query benchmark: GraphQL vs a raw SQL handler on the same server (`python -m bench.query`).

Builds (once, cached in the temp folder) 20,000 synthetic articles, serves the app plus raw
routes (`bench.raw`) with uvicorn (uvloop + httptools) in a child process on a free loopback
port, and drives each query with 8 keep-alive connections from a minimal asyncio HTTP/1.1
client (so the client costs little of the machine). Prints requests/s, p50 and p99 per query
beside its raw baseline and the ratio GraphQL / raw.

The corpus's biggest topic has ~900 articles, so "page 500 by cursor" is measured two ways:
page 500 of all articles (20 per page) and the last page of the biggest topic, each against
page 1 of the same listing.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

NESTED = (
    "edges { node { id title publishedAt webUrl provider { name domain } "
    "images { url width height } topics { name } "
    "related { title webUrl provider { name domain } } } }"
)
PLAIN = "edges { node { id title publishedAt } }"


def ensure_data(count: int, seed: int) -> Path:
    """The benchmark database, built once per (count, seed) and reused."""
    # Keyed by the generator's source too: a changed generator must not reuse stale data.
    import hashlib

    import newsgraph.demo

    source = Path(newsgraph.demo.__file__).parent
    digest = hashlib.sha256(
        b"".join(
            (source / name).read_bytes() for name in ("demo.py", "demo_words.py", "demo_yaml.py")
        )
    ).hexdigest()[:10]
    folder = Path(tempfile.gettempdir()) / f"newsgraph-bench-{count}-{seed}-{digest}"
    db = folder / "newsgraph.db"
    if (folder / "done").exists():
        return db
    from newsgraph.commands import ingest_once
    from newsgraph.config import Settings
    from newsgraph.demo import write_demo_content
    from newsgraph.pipeline import open_pipeline

    print(f"building {count} articles in {folder} (once)...", flush=True)
    write_demo_content(folder / "content", count=count, seed=seed)
    settings = Settings(content=folder / "content", db=db)
    with open_pipeline(settings) as pipeline:
        ingest_once(pipeline, settings)
    (folder / "done").write_text("ok")
    return db


def serve(db: Path, port: int) -> None:
    """Child process: the app plus raw routes on 127.0.0.1:`port`."""
    import uvicorn

    from bench.raw import raw_routes
    from newsgraph.app import create_app
    from newsgraph.config import Settings

    app = create_app(Settings(db=db, watch=False))
    app.router.routes.extend(raw_routes(app.state.pool))
    uvicorn.run(
        app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning"
    )


class Connection:
    """Just enough HTTP/1.1 keep-alive to send a request and read a Content-Length reply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, request: bytes) -> bytes:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace"))
        length = 0
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return await self.reader.readexactly(length)


def post(port: int, query: str, variables: dict[str, Any] | None = None) -> bytes:
    body = orjson.dumps({"query": query, "variables": variables or {}})
    return (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def get(port: int, path: str, params: dict[str, str]) -> bytes:
    query = urllib.parse.urlencode(params)
    return f"GET {path}?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float


async def load(port: int, request: bytes, seconds: float, concurrency: int) -> Result:
    connections = [
        Connection(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(concurrency)
    ]
    body = await connections[0].send(request)
    if b'"errors"' in body:
        raise RuntimeError(body[:500].decode())

    async def warm(connection: Connection) -> None:
        for _ in range(5):
            await connection.send(request)

    await asyncio.gather(*(warm(c) for c in connections))  # idle ones would time out
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(connection: Connection) -> None:
        while (now := time.perf_counter()) < deadline:
            await connection.send(request)
            latencies.append(time.perf_counter() - now)

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.writer.close()
    latencies.sort()
    return Result(
        len(latencies) / elapsed,
        latencies[len(latencies) // 2] * 1000,
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    )


def cursor_at(db: Path, topic: str | None, offset: int) -> tuple[str, str, int]:
    """The GraphQL cursor and raw (published_at, id) of the row before page `offset`."""
    from newsgraph.gql.pagination import encode_cursor

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    where = (
        "1"
        if topic is None
        else (
            "a.id IN (SELECT article_id FROM article_topics at JOIN topics t ON t.id = at.topic_id "
            "WHERE t.key = :topic)"
        )
    )
    at, article_id = conn.execute(
        f"SELECT published_at, id FROM articles a WHERE {where} "  # noqa: S608
        "ORDER BY published_at DESC, id DESC LIMIT 1 OFFSET :offset",
        {"topic": topic, "offset": offset - 1},
    ).fetchone()
    conn.close()
    return encode_cursor("published_at-", [at, article_id]), at, article_id


def biggest_topic(db: Path) -> tuple[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    key, count = conn.execute(
        "SELECT t.key, count(*) AS n FROM article_topics at JOIN topics t ON t.id = at.topic_id "
        "GROUP BY t.id ORDER BY n DESC LIMIT 1"
    ).fetchone()
    conn.close()
    return key, count


GQL_TOPIC = "query($topic: String!, $after: String) { articles(first: %d, after: $after, "
GQL_TOPIC += "filter: {topics: [$topic]}) { %s } }"
GQL_ALL = "query($after: String) { articles(first: %d, after: $after) { %s } }"
GQL_SEARCH = (
    "query($q: String!) { articles(search: $q, first: 20) { edges { highlight "
    "node { id title publishedAt provider { name } } } } }"
)


async def measure(port: int, db: Path, seconds: float, concurrency: int) -> None:
    topic, topic_size = biggest_topic(db)
    last_page = min(499, (topic_size - 1) // 20)  # page 500 when the topic is big enough
    deep_all, all_at, all_id = cursor_at(db, None, 499 * 20)
    deep_topic, topic_at, topic_id = cursor_at(db, topic, last_page * 20)
    on_topic = {"topic": topic}
    cases: list[tuple[str, bytes, bytes]] = [
        ("q1 20 newest, nested", post(port, GQL_ALL % (20, NESTED)), get(port, "/raw/q1", {})),
        (
            "q2 100 by topic, nested",
            post(port, GQL_TOPIC % (100, NESTED), on_topic),
            get(port, "/raw/q2", on_topic),
        ),
        (
            "q3 search + highlight",
            post(port, GQL_SEARCH, {"q": "robot*"}),
            get(port, "/raw/q3", {"match": '"robot"*'}),
        ),
        ("q4a all, page 1", post(port, GQL_ALL % (20, PLAIN)), get(port, "/raw/q4", {})),
        (
            "q4a all, page 500",
            post(port, GQL_ALL % (20, PLAIN), {"after": deep_all}),
            get(port, "/raw/q4", {"at": all_at, "id": str(all_id)}),
        ),
        (
            "q4b topic, page 1",
            post(port, GQL_TOPIC % (20, PLAIN), on_topic),
            get(port, "/raw/q4", on_topic),
        ),
        (
            f"q4b topic, page {last_page + 1}",
            post(port, GQL_TOPIC % (20, PLAIN), {**on_topic, "after": deep_topic}),
            get(port, "/raw/q4", {**on_topic, "at": topic_at, "id": str(topic_id)}),
        ),
    ]
    print(f"{concurrency} connections, {seconds:g} s per run; topic {topic!r} ({topic_size})")
    print(
        f"{'query':28} {'graphql req/s':>13} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'raw req/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}"
    )
    results: dict[str, Result] = {}
    for name, graphql, raw in cases:
        mine = await load(port, graphql, seconds, concurrency)
        base = await load(port, raw, seconds, concurrency)
        results[name] = mine
        print(
            f"{name:28} {mine.rps:13.0f} {mine.p50_ms:7.2f} {mine.p99_ms:7.2f} "
            f"{base.rps:10.0f} {base.p50_ms:7.2f} {base.p99_ms:7.2f} {mine.rps / base.rps:6.3f}",
            flush=True,
        )
    names = list(results)
    for first, deep in ((names[3], names[4]), (names[5], names[6])):
        ratio = results[deep].p50_ms / results[first].p50_ms
        print(f"deep page / page 1 (p50): {deep} vs {first}: {ratio:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.query")
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_port is not None:
        serve(args.db, args.serve_port)
        return 0
    db = ensure_data(args.count, args.seed)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))  # a free port; the child binds it a moment later
        port = probe.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.query", "--serve-port", str(port), "--db", str(db)]
    )
    try:
        asyncio.run(_wait_and_measure(port, db, args.seconds, args.concurrency))
    finally:
        child.terminate()
        child.wait(timeout=10)
    return 0


async def _wait_and_measure(port: int, db: Path, seconds: float, concurrency: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            body = await Connection(reader, writer).send(get(port, "/healthz", {}))
            writer.close()
            if b"ok" in body:
                break
        except (OSError, RuntimeError, asyncio.IncompleteReadError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
    await measure(port, db, seconds, concurrency)


if __name__ == "__main__":
    sys.exit(main())
