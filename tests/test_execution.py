"""The fast executor answers exactly as Strawberry's own, and its shortcut is really taken.

`gql.execution.FastExecutor` copies graphql-core's private `execute_fields` and recognises plain
fields by the name of Strawberry's inner resolver. Both are upgrade hazards, so: generated
queries over the whole schema must give the same data (in the same key order) and the same
errors from both executors on the real corpus, and a known query must skip the per-field
machinery for its plain fields (which fails if an upgrade renames what the shortcut looks for).
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from collections import Counter
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, execute, parse, validate
from hypothesis import HealthCheck, Phase, given, settings
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from newsgraph.db.pool import ReaderPool
from newsgraph.gql import execution
from newsgraph.gql.context import Context
from newsgraph.gql.execution import FastExecutor
from newsgraph.gql.schema import build_schema
from tests.corpus_fixtures import corpus_db, corpus_pool
from tests.query_strategy import Generated, Samples, from_introspection, queries

__all__ = ["corpus_db", "corpus_pool"]

_SAMPLES_QUERY = """{
  articles(first: 4) { edges { cursor node { id path webUrl } } }
  providers(first: 3) { edges { cursor node { id domain } } }
  topics(first: 3) { edges { cursor node { id name } } }
}"""


def _run(
    schema: strawberry.Schema, pool: ReaderPool, query: str, variables: dict[str, Any] | None
) -> tuple[str, list[dict[str, Any]]]:
    """(data as JSON text, so key order counts; formatted errors) of one execution."""

    async def run() -> Any:
        # One request id for both executors: masked errors carry it.
        context = Context(pool, request_id="same-for-both")
        return await schema.execute(query, variable_values=variables, context_value=context)

    result = asyncio.run(run())
    return json.dumps(result.data), [error.formatted for error in result.errors or ()]


def _samples(schema: strawberry.Schema, pool: ReaderPool) -> Samples:
    """Ids, cursors and names the corpus holds, so generated arguments find rows."""
    data_text, errors = _run(schema, pool, _SAMPLES_QUERY, None)
    assert not errors, errors
    data = json.loads(data_text)
    edges = {name: data[name]["edges"] for name in ("articles", "providers", "topics")}
    nodes = [edge["node"] for group in edges.values() for edge in group]
    cursors = [edge["cursor"] for group in edges.values() for edge in group]
    ids = [node["id"] for node in nodes]
    return Samples(
        by_argument={
            "id": ids,
            "ids": ids,
            "after": cursors,
            "before": cursors,
            "path": [node["path"] for node in edges_nodes(edges["articles"])],
            "webUrl": [node["webUrl"] for node in edges_nodes(edges["articles"])],
            "domain": [node["domain"] for node in edges_nodes(edges["providers"])],
            "name": [node["name"] for node in edges_nodes(edges["topics"])],
            "first": [0, 1, 2, 3],  # given even where optional: nested defaults of 20 explode
            "last": [1, 2],
            "limit": [1, 2, 3],
        },
        strings=["ai", "robot", "data", *(node["name"] for node in edges_nodes(edges["topics"]))],
        always=frozenset({"first", "limit"}),
    )


def edges_nodes(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in edges]


@pytest.mark.timeout(600)  # a loaded CI machine: 100 queries, each run by both executors
# graphql-core leaves a failed field's unstarted siblings unawaited (both executors alike).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_fast_and_stock_executors_agree_on_generated_queries(corpus_pool: ReaderPool) -> None:
    pool = corpus_pool
    fast = build_schema()
    stock = build_schema(executor=StrawberryGraphQLCoreExecutionContext)
    client_view = from_introspection(fast._schema)
    samples = _samples(stock, pool)
    seen: Counter[str] = Counter()

    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
        derandomize=True,  # the same queries on every run: CI stays reproducible
        # No shrinking: a failure is reported as generated (shrinking a query over the whole
        # schema can take longer than the suite may).
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    @given(queries(client_view, samples, max_depth=4))
    def agree(generated: Generated) -> None:
        problems = validate(fast._schema, parse(generated.query))
        assert not problems, (generated.query, problems)
        expected = _run(stock, pool, generated.query, generated.variables)
        actual = _run(fast, pool, generated.query, generated.variables)
        assert actual == expected, (generated.query, generated.variables)
        seen["with errors" if expected[1] else "clean"] += 1

    agree()
    assert seen["clean"] >= 1, seen  # some generated queries must reach data, not just errors


def _counting(
    base: type[StrawberryGraphQLCoreExecutionContext],
) -> tuple[type[StrawberryGraphQLCoreExecutionContext], Counter[str]]:
    """`base`, recording the fields that went through graphql-core's per-field path."""
    slow: Counter[str] = Counter()

    class Counting(base):  # type: ignore[valid-type,misc]
        def execute_field(self, parent_type: GraphQLObjectType, *args: Any, **kw: Any) -> Any:
            slow[f"{parent_type.name}.{args[1][0].node.name.value}"] += 1
            return super().execute_field(parent_type, *args, **kw)

    return Counting, slow


def test_plain_fields_take_the_shortcut(corpus_pool: ReaderPool) -> None:
    pool = corpus_pool
    query = """{ articles(first: 5) { edges { node {
        title webUrl publishedAt slug path quality heat provider { domain } } } } }"""
    plain = ["title", "webUrl", "publishedAt", "slug", "path"]
    fast, fast_slow = _counting(FastExecutor)
    stock, stock_slow = _counting(StrawberryGraphQLCoreExecutionContext)
    results = [_run(build_schema(executor=kind), pool, query, None) for kind in (fast, stock)]
    assert results[0] == results[1]
    assert not results[0][1]
    # The stock path visits each plain field once per article; the fast one never does.
    assert all(stock_slow[f"Article.{name}"] == 5 for name in plain), stock_slow
    assert {name: fast_slow[f"Article.{name}"] for name in plain} == dict.fromkeys(plain, 0)
    # Relations and connections still take the normal path.
    assert fast_slow["Article.provider"] == 5
    assert fast_slow["Query.articles"] == 1


def test_cached_plans_die_with_their_schema() -> None:
    # Straight through graphql-core: Strawberry's ValidationCache keeps recent schemas itself.
    schema = build_schema()._schema
    result = execute(schema, parse("{ __typename }"), executor_class=FastExecutor)
    assert result == ({"__typename": "Query"}, None)
    query_type = schema.query_type
    assert query_type is not None and query_type in execution._PLANS
    gone = weakref.ref(query_type)
    del schema, result, query_type
    gc.collect()
    assert gone() is None, "the plan cache keeps a dropped schema alive"
