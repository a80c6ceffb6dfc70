"""A database ingested once per test session from the real smartable-ai corpus (read-only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsgraph.db.connection import open_writer
from newsgraph.db.pool import ReaderPool
from newsgraph.db.writes import Writer
from newsgraph.ingest.pipeline import Pipeline
from newsgraph.ingest.scan import reconcile
from tests.conftest import CORPUS


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The path of a database holding every article of the corpus."""
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not present")
    path = tmp_path_factory.mktemp("corpus") / "newsgraph.db"
    conn = open_writer(path)
    pipeline = Pipeline(CORPUS, Writer(conn), workers=1)
    try:
        summary = reconcile(pipeline)
    finally:
        pipeline.close()
        conn.close()
    assert summary.new > 100, summary
    yield path


@pytest.fixture
def corpus_pool(corpus_db: Path) -> Iterator[ReaderPool]:
    """Reader threads over the corpus database, stopped after the test."""
    readers = ReaderPool(corpus_db, threads=2)
    readers.open()
    yield readers
    readers.close()
