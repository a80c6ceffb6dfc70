"""Factory fixtures: real folders, real files, real SQLite databases."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsgraph.db.connection import open_writer
from newsgraph.db.writes import Writer
from newsgraph.demo_yaml import render_article
from newsgraph.event_loop import LOOP_FACTORY
from newsgraph.ingest.pipeline import Pipeline
from newsgraph.ingest.scan import ScanSummary, reconcile

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "smartable-ai"

WriteArticle = Callable[..., Path]


def article_fields(**overrides: Any) -> dict[str, Any]:
    """A valid article's front matter; `None` values remove a key."""
    fields: dict[str, Any] = {
        "category": "news",
        "title": "Robots learn to sort recycling",
        "excerpt": "A sorting line that learns from its mistakes.",
        "publishedDateTime": datetime(2024, 3, 1, 8, 15, tzinfo=UTC),
        "webUrl": "https://example.com/news/robots-sort-recycling",
        "type": "article",
        "quality": 70,
        "heat": 55,
        "published": True,
        "provider": {"name": "Example News", "domain": "example.com"},
        "topics": ["Robotics", "Recycling"],
        "images": [{"url": "https://img.example.com/1.jpg", "width": 800, "height": 600}],
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    return folder


@pytest.fixture
def write_article(content_dir: Path) -> WriteArticle:
    """Write one article file; keyword arguments override front-matter fields."""

    def write(relpath: str = "_news/2024-03-01-robots.md", body: str = "", **fields: Any) -> Path:
        path = content_dir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_article(article_fields(**fields), body), encoding="utf-8")
        return path

    return write


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "newsgraph.db"


@pytest.fixture
def pipeline(content_dir: Path, db_path: Path) -> Iterator[Pipeline]:
    conn = open_writer(db_path)
    pipe = Pipeline(content_dir.resolve(), Writer(conn), workers=1)
    yield pipe
    pipe.close()
    conn.close()


@pytest.fixture
def ingest(pipeline: Pipeline) -> Callable[..., ScanSummary]:
    def run(**kwargs: Any) -> ScanSummary:
        return reconcile(pipeline, **kwargs)

    return run


@pytest.fixture
def read_db(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@dataclass(frozen=True)
class ServerStack:
    """The event loop and HTTP parser uvicorn runs the app under in a test."""

    loop: str
    http: str


# The stock pair, and the one `newsgraph serve` runs (newsgraph.live.server_config: uvloop
# accepting greedily, and httptools): the HTTP and WebSocket suites run under both, so a
# difference between them fails a test.
SERVER_STACKS = {
    "asyncio-h11": ServerStack("asyncio", "h11"),
    "served-httptools": ServerStack(LOOP_FACTORY, "httptools"),
}


@pytest.fixture(params=sorted(SERVER_STACKS))
def server_stack(request: pytest.FixtureRequest) -> ServerStack:
    return SERVER_STACKS[request.param]


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every test must stop the threads it starts (observers, servers, pools)."""
    before = set(threading.enumerate())
    yield
    deadline = datetime.now(UTC).timestamp() + 5
    leaked: set[threading.Thread] = set()
    while datetime.now(UTC).timestamp() < deadline:
        leaked = {t for t in threading.enumerate() if t not in before and t.is_alive()}
        if not leaked:
            return
        for thread in leaked:
            thread.join(timeout=0.1)
    assert not leaked, f"threads leaked: {sorted(t.name for t in leaked)}"
