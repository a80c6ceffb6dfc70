"""No N+1: the SQL a nested query runs is bounded by its depth, not by the articles it returns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsgraph.demo import write_demo_content
from tests.gql_fixtures import Api, api

__all__ = ["api"]

NESTED = """query($n: Int!) { articles(first: $n) { edges { node {
    id title provider { name domain } images { url } topics { name }
    related { title article { path provider { domain } } }
    mentionedBy { edges { node { id title } } }
} } } }"""


def _statements_for(api: Api, count: int) -> list[str]:
    stop = api.count_statements()
    data = api.query(NESTED, n=count)
    statements = stop()
    assert len(data["articles"]["edges"]) == count
    return statements


def test_nested_query_statement_count_does_not_grow_with_articles(
    api: Api, content_dir: Path, ingest: Callable[..., Any]
) -> None:
    write_demo_content(content_dir, count=150, seed=7)
    ingest()
    ten = _statements_for(api, 10)
    hundred = _statements_for(api, 100)
    assert len(hundred) == len(ten), (ten, hundred)
    assert len(hundred) <= 12, hundred  # page, providers, images, topics, related, ...
