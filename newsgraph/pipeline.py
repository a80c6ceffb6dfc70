"""The ingest pipeline of a process (writer connection + parse pool), built from settings.

Its own module so that every command that ingests (`ingest`, `watch`, `serve`) reaches it
without importing the others: the composition modules form a tree, not a cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from newsgraph.config import Settings
from newsgraph.db.connection import open_writer
from newsgraph.db.writes import Writer
from newsgraph.ingest.limits import ParseLimits
from newsgraph.ingest.pipeline import Pipeline


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(
        max_bytes=settings.max_file_bytes,
        max_depth=settings.max_yaml_depth,
        allow_aliases=settings.allow_yaml_aliases,
        embed_hosts=settings.embed_hosts,
    )


@contextmanager
def open_pipeline(settings: Settings) -> Iterator[Pipeline]:
    """The writer connection and parse pool of a process, closed on the way out."""
    conn = open_writer(settings.db)
    pipeline = Pipeline(
        settings.content.resolve(),
        Writer(conn, change_retention=settings.change_retention),
        parse_limits(settings),
        workers=settings.parse_workers,
    )
    try:
        yield pipeline
    finally:
        pipeline.close()
        conn.close()
