"""Fixtures for the GraphQL tests: a real app over a real database, queried over HTTP.

Import the fixtures into a test module with `from tests.gql_fixtures import *  # noqa: F403`
style imports of the names used (pytest finds fixtures by name in the module namespace).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from newsgraph.app import create_app
from newsgraph.config import Settings
from newsgraph.db.pool import ReaderPool
from newsgraph.ingest.pipeline import Pipeline
from tests.conftest import SERVER_STACKS, ServerStack


@dataclass
class Api:
    """A running app and a client; `query` fails the test on GraphQL errors."""

    client: httpx.Client
    pool: ReaderPool
    statements: list[str] = field(default_factory=list)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def query(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.post(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def errors(self, query: str, **variables: Any) -> list[str]:
        """The error messages of a query that must fail (and must not leak internals)."""
        body = self.post(query, variables)
        assert body.get("errors"), body
        return [error["message"] for error in body["errors"]]

    def count_statements(self) -> Callable[[], list[str]]:
        """Start recording the SQL the readers run; call the result to stop and read it."""
        recorded: list[str] = []
        self.pool.set_trace(recorded.append)

        def stop() -> list[str]:
            self.pool.set_trace(None)
            control = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")
            return [s for s in recorded if not s.startswith(control)]

        return stop


@contextmanager
def serving(app: Starlette, stack: ServerStack = SERVER_STACKS["asyncio-h11"]) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, loop=stack.loop, http=stack.http, lifespan="on", log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn")
    thread.start()
    started = threading.Event()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        started.wait(0.005)  # uvicorn offers no event; poll its flag with a deadline
    try:
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def api(
    pipeline: Pipeline, content_dir: Path, db_path: Path, server_stack: ServerStack
) -> Iterator[Api]:
    """The app over the test database (created by `pipeline`), served over real HTTP."""
    app = create_app(Settings(content=content_dir, db=db_path, watch=False))
    with serving(app, server_stack) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Api(client, app.state.pool)


ARTICLE_FIELDS = """
    id path slug title excerpt body category type publishedAt webUrl originalUrl ampWebUrl
    cdnAmpWebUrl quality heat published secured extra updatedAt
"""


ROBOTS_URL = "https://example.com/news/robots-sort-recycling"
FUSION_URL = "https://science.example/fusion-record"


@pytest.fixture
def newsroom(
    write_article: Callable[..., Path], content_dir: Path, ingest: Callable[..., Any]
) -> dict[str, str]:
    """A small, known set of articles (and one broken and one skipped file), ingested."""
    write_article(
        "_news/2024-03-01-robots.md",
        body="Robots sort recycling on a line that learns.",
        related=[
            {"webUrl": FUSION_URL, "title": "Fusion reactor hits record", "quality": 88,
             "provider": {"name": "Science Daily", "domain": "science.example"},
             "images": [{"url": "https://img.science.example/f.jpg"}]},
            {"webUrl": "https://elsewhere.org/story", "title": "Elsewhere",
             "provider": {"name": "Else", "domain": "Elsewhere.org"}},
        ],
    )  # fmt: skip
    write_article(
        "_archive/_news/2024-03-01-robots.md",
        title="Robots learn to sort recycling (archived copy)",
        publishedDateTime=datetime(2024, 2, 20, 9, 0, tzinfo=UTC),
        quality=None,
        topics=["Robotics"],
    )
    write_article(
        "_news/2024-03-02-fusion.md",
        title="Fusion reactor hits record",
        excerpt="A tokamak held its plasma for a record time.",
        publishedDateTime=datetime(2024, 3, 2, 12, 0, tzinfo=UTC),
        webUrl=FUSION_URL,
        quality=90,
        heat=-1,
        published=False,
        provider={"name": "Science Daily", "domain": "science.example"},
        topics=["Energy", "Physics"],
        images=None,
        related=[{"webUrl": ROBOTS_URL, "title": "Robots learn to sort recycling"}],
    )
    write_article(
        "world/2024/2024-03-03-ai-robots.md",
        title="AI robots move into warehouses",
        excerpt="Automation spreads through logistics.",
        publishedDateTime=datetime(2024, 3, 3, 7, 30, tzinfo=UTC),
        webUrl="https://example.com/news/ai-robots",
        quality=None,
        heat=10,
        published=None,
        topics=["Robotics", "AI"],
        body="Warehouse automation with robotic arms and fusion-powered dreams.",
        mood="optimistic",
    )
    write_article(
        "tech/robotics/2024-02-01-drones.md",
        title="Drones deliver parcels",
        publishedDateTime=datetime(2024, 2, 1, 6, 0, tzinfo=UTC),
        webUrl="https://air.example/drones",
        category="analysis",
        type="video",
        quality=20,
        heat=99,
        provider={"name": "Air News", "domain": "air.example"},
        topics=["Drones"],
        images=[{"url": "https://air.example/1.jpg"}, {"url": "https://air.example/2.jpg"}],
    )
    (content_dir / "_news" / "2024-03-04-broken.md").write_text(
        "---\ntitle: Broken\npublishedDateTime: [unclosed\n---\n", encoding="utf-8"
    )
    (content_dir / "_people").mkdir()
    (content_dir / "_people" / "ada.md").write_text("---\nname: Ada\n---\n", encoding="utf-8")
    ingest()
    return {
        "robots": "_news/2024-03-01-robots.md",
        "archived": "_archive/_news/2024-03-01-robots.md",
        "fusion": "_news/2024-03-02-fusion.md",
        "ai": "world/2024/2024-03-03-ai-robots.md",
        "drones": "tech/robotics/2024-02-01-drones.md",
    }


def paths(connection: dict[str, Any]) -> list[str]:
    """The article paths of a connection's edges, in order."""
    return [edge["node"]["path"] for edge in connection["edges"]]
