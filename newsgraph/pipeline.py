"""The ingest pipeline of a process (writer connection + parse pool), built from settings.

Its own module so that every command that ingests (`ingest`, `watch`, `serve`) reaches it
without importing the others: the composition modules form a tree, not a cycle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from newsgraph.config import ConfigError, Settings
from newsgraph.db.connection import open_writer
from newsgraph.db.filestate import forget_stamps_unless
from newsgraph.db.writes import Writer
from newsgraph.ingest.collections import BadCollectionRule, CollectionRules
from newsgraph.ingest.limits import ParseLimits
from newsgraph.ingest.pipeline import Pipeline


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(
        max_bytes=settings.max_file_bytes,
        max_depth=settings.max_yaml_depth,
        allow_aliases=settings.allow_yaml_aliases,
        embed_hosts=settings.embed_hosts,
    )


def collection_rules(settings: Settings) -> CollectionRules:
    """The `collections` setting as rules; a bad rule is a configuration error."""
    try:
        return CollectionRules.parse(settings.collections)
    except BadCollectionRule as error:
        raise ConfigError(f"collections: {error}") from error


@contextmanager
def open_pipeline(settings: Settings) -> Iterator[Pipeline]:
    """The writer connection and parse pool of a process, closed on the way out."""
    rules = collection_rules(settings)
    conn = open_writer(settings.db)
    # Files parsed under other collection rules or embed hosts (or before collections
    # existed) are read again: an unchanged file is otherwise never parsed twice.
    parsing = {"collections": rules.rules, "embed_hosts": settings.embed_hosts}
    forget_stamps_unless(conn, "parsing", json.dumps(parsing))
    pipeline = Pipeline(
        settings.content.resolve(),
        Writer(conn, change_retention=settings.change_retention),
        parse_limits(settings),
        workers=settings.parse_processes,
        collections=rules,
    )
    try:
        yield pipeline
    finally:
        pipeline.close()
        conn.close()
