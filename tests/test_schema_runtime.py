"""Every field the schema declares resolves on the object the resolvers really return.

`gql.types` only declares fields; at run time they are read off `gql.nodes` classes and
`db.rows` rows. Nothing but this test ties the two: one query selecting every field of every
object type reachable from `Query` (built from the schema, so new fields are included) runs
against the real corpus through a tracing executor, which records each field's source class.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any, ClassVar

from graphql import (
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from newsgraph.db.pool import ReaderPool
from newsgraph.gql.context import Context
from newsgraph.gql.schema import build_schema
from tests.corpus_fixtures import corpus_db, corpus_pool

__all__ = ["corpus_db", "corpus_pool"]

MAX_DEPTH = 5
# Object types no query can reach on this corpus: subscription payloads, the ingest-error
# types (the corpus ingests cleanly) and Heading (no corpus body has one); the subscription,
# ingest and rendering tests cover them.
UNREACHABLE = {
    "ArticleEvent",
    "ContentEvent",
    "IngestErrorEvent",
    "IngestError",
    "IngestErrorEdge",
    "Heading",
}


_BY_PATH = {"article", "event", "person", "organization", "learningResource"}


class _Tracing(StrawberryGraphQLCoreExecutionContext):
    sources: ClassVar[dict[tuple[str, str], set[type]]] = defaultdict(set)

    def execute_field(self, parent_type: GraphQLObjectType, *args: Any, **kwargs: Any) -> Any:
        source, field_details_list = args[0], args[1]
        name = field_details_list[0].node.name.value
        _Tracing.sources[(parent_type.name, name)].add(type(source))
        return super().execute_field(parent_type, *args, **kwargs)


def _selection(
    schema: GraphQLSchema, parent: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType,
    arguments: dict[str, str], depth: int, path: frozenset[str],
) -> str:  # fmt: skip
    if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
        parts = [
            f"... on {kind.name} {_selection(schema, kind, arguments, depth, path)}"
            for kind in schema.get_possible_types(parent)
        ]
        return "{ __typename " + " ".join(parts) + " }"
    parts = []
    for name, field in parent.fields.items():
        required = [
            arg for arg, spec in field.args.items()
            if isinstance(spec.type, GraphQLNonNull) and spec.default_value is Undefined
        ]  # fmt: skip
        given = [arg for arg in field.args if arg in arguments] if required else []
        if parent is schema.query_type and name in _BY_PATH:  # one of their optional lookups
            given = ["path"]
        args = "(" + ", ".join(f"{a}: {arguments[a]}" for a in given) + ")" if given else ""
        target = get_named_type(field.type)
        # Aliased per type: Provider.name (String) and Topic.name (String!) share a selection.
        selected = f"{parent.name}_{name}: {name}{args}"
        if is_leaf_type(target):
            parts.append(selected)
        elif depth < MAX_DEPTH and selected not in path:  # each field once per path
            assert isinstance(target, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
            inner = _selection(schema, target, arguments, depth + 1, path | {selected})
            parts.append(f"{selected} {inner}")
    return "{ " + " ".join(parts or ["__typename"]) + " }"


def _execute(pool: ReaderPool, query: str) -> Any:
    schema = build_schema(executor=_Tracing)

    async def run() -> Any:
        return await schema.execute(query, context_value=Context(pool))

    return asyncio.run(run())


def _arguments(pool: ReaderPool) -> dict[str, str]:
    found = _execute(
        pool,
        "{ articles(first: 1) { edges { node { id path } } } "
        "providers(first: 1) { edges { node { id domain } } } "
        "topics(first: 1) { edges { node { id name } } } }",
    ).data
    article = found["articles"]["edges"][0]["node"]
    provider = found["providers"]["edges"][0]["node"]
    topic = found["topics"]["edges"][0]["node"]
    ids = [article["id"], provider["id"], topic["id"]]
    return {
        "id": json.dumps(article["id"]),
        "ids": json.dumps(ids),
        "path": json.dumps(article["path"]),
        "domain": json.dumps(provider["domain"]),
        "name": json.dumps(topic["name"]),
        "collection": "EVENT",
        "query": json.dumps("robots"),
    }


def test_every_field_of_every_type_resolves_on_its_runtime_class(corpus_pool: ReaderPool) -> None:
    pool = corpus_pool
    schema = build_schema()._schema
    assert schema.query_type is not None
    arguments = _arguments(pool)
    _Tracing.sources.clear()
    query = _selection(schema, schema.query_type, arguments, 0, frozenset())
    result = _execute(pool, query)
    assert not result.errors, [error.formatted for error in result.errors]
    declared = {
        (kind.name, name)
        for kind in schema.type_map.values()
        if isinstance(kind, GraphQLObjectType) and not kind.name.startswith("__")
        and kind is not schema.subscription_type and kind.name not in UNREACHABLE
        for name in kind.fields
    }  # fmt: skip
    resolved = set(_Tracing.sources)
    assert declared - resolved == set(), "fields the query never reached"
    # Plain fields (no resolver) are attribute reads: each runtime class must have them.
    for (type_name, name), classes in _Tracing.sources.items():
        if name.startswith("__"):
            continue
        kind = schema.type_map[type_name]
        assert isinstance(kind, GraphQLObjectType)
        definition = (kind.fields[name].extensions or {}).get("strawberry-definition")
        if definition is None or definition.base_resolver is not None:
            continue
        for runtime in classes:
            assert hasattr(runtime, definition.python_name), (type_name, name, runtime)
