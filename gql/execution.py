"""A graphql-core executor that serves plain scalar attributes without per-field machinery.

graphql-core spends ~5-10 µs on every field: a `Path`, a `GraphQLResolveInfo`, Strawberry's
resolver wrapper, and `complete_value`'s type dispatch. Most fields of a news query are plain
scalars read straight off a row (`title`, `webUrl`, `publishedAt`), where all of that produces
nothing but `getattr(row, name)`. For those fields, when the value already has the exact Python
type the scalar would serialize to, `execute_fields` stores it directly. Everything else
(resolvers, objects, lists, nulls on non-null fields, values needing coercion, errors) takes the
normal path unchanged, so results and errors are identical; only the cost differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
# Scalars whose serializer returns a `str` argument unchanged.
_TEXT_SCALARS = {GraphQLString.name, GraphQLID.name, "DateTime"}


@dataclass(frozen=True, slots=True)
class _Leaf:
    python_name: str
    kind: str  # "text", "int", "bool" or "float"
    non_null: bool


_MISSING = object()
# Keyed by the type itself, weakly: a plan lives exactly as long as its schema, so building
# schemas (tests, reloads) neither leaks them nor reuses a dead type's plan for a new one.
_PLANS: WeakKeyDictionary[GraphQLObjectType, dict[str, _Leaf | None]] = WeakKeyDictionary()


def _leaf(field: GraphQLField) -> _Leaf | None:
    resolve = field.resolve
    if resolve is None or getattr(resolve, "__name__", "") != "_get_basic_result" or field.args:
        return None
    definition = (field.extensions or {}).get("strawberry-definition")
    python_name = getattr(definition, "python_name", None)
    if not isinstance(python_name, str):
        return None
    kind_of: Any = field.type
    non_null = isinstance(kind_of, GraphQLNonNull)
    if non_null:
        kind_of = kind_of.of_type
    if not isinstance(kind_of, GraphQLScalarType):
        return None
    if kind_of.name in _TEXT_SCALARS:
        return _Leaf(python_name, "text", non_null)
    kinds = {GraphQLInt.name: "int", GraphQLBoolean.name: "bool", GraphQLFloat.name: "float"}
    kind = kinds.get(kind_of.name)
    return None if kind is None else _Leaf(python_name, kind, non_null)


def _plans(parent_type: GraphQLObjectType) -> dict[str, _Leaf | None]:
    plans = _PLANS.get(parent_type)
    if plans is None:
        plans = {name: _leaf(field) for name, field in parent_type.fields.items()}
        _PLANS[parent_type] = plans
    return plans


def _fast_value(leaf: _Leaf, source: Any) -> Any:
    """The serialized value, or `_MISSING` when the normal path must decide."""
    try:
        value = getattr(source, leaf.python_name)
    except Exception:
        return _MISSING  # the normal path reports the error with its location
    if value is None:
        return _MISSING if leaf.non_null else None
    kind = type(value)
    if leaf.kind == "text":
        return value if kind is str else _MISSING
    if leaf.kind == "int":
        return value if kind is int and MIN_INT <= value <= MAX_INT else _MISSING
    if leaf.kind == "bool":
        if kind is bool:
            return value
        return value != 0 if kind is int else _MISSING
    return value if kind is float else _MISSING


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor with a shortcut for plain scalar attributes."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:  # a resolve hook must see every field
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plans = _plans(parent_type)
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                leaf = None if node.arguments else plans.get(node.name.value)
                if leaf is not None:
                    value = _fast_value(leaf, source_value)
                    if value is not _MISSING:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:  # let the others settle, as graphql-core does
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather_fields(results, awaitable_fields)

    async def _gather_fields(
        self, results: dict[str, Any], awaitable_fields: list[str]
    ) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
            return results
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
        return results
