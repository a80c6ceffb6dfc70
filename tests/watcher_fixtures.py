"""Fixtures for watcher tests: a real observer on the `content_dir`, a reader, and waiting.

Test modules load it with `pytest_plugins = ["tests.watcher_fixtures"]` and import from it only
under TYPE_CHECKING (importing it first would stop pytest from rewriting its asserts).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsgraph.db.writes import BatchResult
from newsgraph.ingest.pipeline import Pipeline
from newsgraph.ingest.watcher import Watcher

StartWatcher = Callable[..., Watcher]
Query = Callable[..., list[tuple[Any, ...]]]
WaitFor = Callable[..., None]

# Generous: a loaded CI machine may be slow, and a passing test returns as soon as it can.
TIMEOUT = 10.0


def wait_for(predicate: Callable[[], object], timeout: float = TIMEOUT, what: str = "") -> None:
    """Poll `predicate` every 10 ms until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.01)


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> WaitFor:
    """`wait_for(predicate, timeout=10, what="...")`: tests wait on conditions, never sleep."""
    return wait_for


class Commits:
    """Every batch the watcher committed, as seen by its `on_commit` hook."""

    def __init__(self) -> None:
        self.batches: list[BatchResult] = []

    def __call__(self, batch: BatchResult) -> None:
        self.batches.append(batch)

    def clear(self) -> None:
        self.batches.clear()

    @property
    def errors(self) -> int:
        return sum(batch.errors for batch in self.batches)


@pytest.fixture
def commits() -> Commits:
    return Commits()


@pytest.fixture
def start_watcher(pipeline: Pipeline, commits: Commits) -> Iterator[StartWatcher]:
    """Start a watcher on the pipeline (fast root checks for tests); stopped at teardown."""
    started: list[Watcher] = []

    def start(*, ready: bool = True, **options: Any) -> Watcher:
        options.setdefault("root_check_interval", 0.05)
        options.setdefault("on_commit", commits)
        watcher = Watcher(pipeline, **options)
        started.append(watcher)
        watcher.start()
        if ready:
            assert watcher.wait_ready(TIMEOUT)
        return watcher

    yield start
    for watcher in started:
        watcher.stop()


@pytest.fixture
def query(pipeline: Pipeline, db_path: Path) -> Iterator[Query]:
    """Run a read-only query against the store, as the API would (a separate connection)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)

    def run(sql: str, *params: object) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in conn.execute(sql, params)]

    yield run
    conn.close()
