"""Hypothesis strategies for valid GraphQL queries over any schema, read from its introspection.

Nothing here names our types: fields, arguments, input objects, enums, interfaces and their
implementations all come from the introspection result, so a type or field added to the schema
is generated without touching this module. Only argument *values* are steered towards the data
(`Samples`: ids, cursors, names the store holds), so arguments find rows instead of nothing.

Every object-valued field gets a document-unique alias, and inside an abstract scope (an
interface and the fragments under it) every field does, so the generated documents never break
`OverlappingFieldsCanBeMerged`; the test validates each one to keep that promise honest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    build_client_schema,
    get_named_type,
    introspection_from_schema,
    is_leaf_type,
)
from hypothesis import strategies as st

Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
TEXT = st.text(alphabet='ab xé*"-:()\\', max_size=6)
VALID_TIMES = ("2020-01-01T00:00:00Z", "2024-03-01T08:15:00.000000Z", "2031-12-31T23:59:59Z")
# A variable may also carry a time that does not parse: coercing it fails the same way in both
# executors. A literal may not: the document would not validate.
TIMES = (*VALID_TIMES, "soon")


@dataclass(frozen=True)
class Samples:
    """Argument values by argument name (`first`, `after`, `domain`, ...) and for any string."""

    by_argument: dict[str, list[Any]] = field(default_factory=dict)
    strings: list[str] = field(default_factory=list)
    always: frozenset[str] = frozenset()  # arguments always given (page sizes keep it small)


@dataclass(frozen=True)
class Generated:
    query: str
    variables: dict[str, Any]


def from_introspection(schema: GraphQLSchema) -> GraphQLSchema:
    """The schema as a client sees it: rebuilt from its introspection result."""
    return build_client_schema(introspection_from_schema(schema))


@st.composite
def queries(
    draw: st.DrawFn, schema: GraphQLSchema, samples: Samples, max_depth: int = 4
) -> Generated:
    builder = _Document(draw, schema, samples, max_depth)
    query_type = schema.query_type
    assert query_type is not None
    body = builder.selection_set(query_type, depth=0, abstract=False)
    definitions = ", ".join(f"${name}: {kind}" for name, (kind, _v) in builder.variables.items())
    header = f"query Generated({definitions})" if definitions else "query Generated"
    text = "\n".join([f"{header} {body}", *builder.fragments])
    variables = {
        name: value for name, (_kind, value) in builder.variables.items() if value is not Undefined
    }
    return Generated(text, variables)


class _Document:
    def __init__(
        self, draw: st.DrawFn, schema: GraphQLSchema, samples: Samples, max_depth: int
    ) -> None:
        self.draw = draw
        self.schema = schema
        self.samples = samples
        self.max_depth = max_depth
        self.fragments: list[str] = []
        self.variables: dict[str, tuple[str, Any]] = {}
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    # -- selections ---------------------------------------------------------------------------

    def selection_set(self, parent: Composite, depth: int, abstract: bool) -> str:
        abstract = abstract or isinstance(parent, GraphQLInterfaceType | GraphQLUnionType)
        size = self.draw(st.integers(1, 4))
        return "{ " + " ".join(self.selection(parent, depth, abstract) for _ in range(size)) + " }"

    def selection(self, parent: Composite, depth: int, abstract: bool) -> str:
        kind = self.draw(st.sampled_from(["field"] * 5 + ["__typename", "inline", "spread"]))
        if kind == "__typename":
            return "__typename" + self.directives()
        if kind == "field":
            return self.field(parent, depth, abstract)
        target = self.draw(st.sampled_from(self.conditions(parent)))
        if kind == "inline":
            typed = self.draw(st.booleans())
            condition = f" on {target.name}" if typed else ""
            body = self.selection_set(target if typed else parent, depth, abstract)
            return f"...{condition}{self.directives()} {body}"
        body = self.selection_set(target, depth, abstract)
        name = self.fresh("F")
        self.fragments.append(f"fragment {name} on {target.name} {body}")
        return f"...{name}{self.directives()}"

    def conditions(self, parent: Composite) -> list[Composite]:
        """Types a fragment inside `parent` may be on: itself, its interfaces, its kinds."""
        if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
            return [parent, *self.schema.get_possible_types(parent)]
        return [parent, *parent.interfaces]

    def field(self, parent: Composite, depth: int, abstract: bool) -> str:
        if isinstance(parent, GraphQLUnionType):  # a union has no fields of its own
            return "__typename"
        fields = sorted(parent.fields.items())
        if depth >= self.max_depth:
            fields = [(n, f) for n, f in fields if is_leaf_type(get_named_type(f.type))]
            if not fields:
                return "__typename"
        name, definition = self.draw(st.sampled_from(fields))
        arguments = self.arguments(definition)
        leaf = is_leaf_type(get_named_type(definition.type))
        alias = ""
        if not leaf or arguments or abstract or self.draw(st.booleans()):
            alias = self.fresh("a") + ": "
        text = f"{alias}{name}{arguments}{self.directives()}"
        if leaf:
            return text
        target = get_named_type(definition.type)
        assert isinstance(target, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
        return text + " " + self.selection_set(target, depth + 1, abstract=False)

    def directives(self) -> str:
        which = self.draw(st.sampled_from(["", "", "", "@skip", "@include"]))
        if not which:
            return ""
        if self.draw(st.booleans()):
            condition = json.dumps(self.draw(st.booleans()))
        else:
            condition = "$" + self.variable("Boolean!", self.draw(st.booleans()))
        return f" {which}(if: {condition})"

    def variable(self, kind: str, value: Any) -> str:
        name = self.fresh("v")
        self.variables[name] = (kind, value)
        return name

    # -- arguments ----------------------------------------------------------------------------

    def arguments(self, definition: GraphQLField) -> str:
        given: list[str] = []
        for name, argument in sorted(definition.args.items()):
            required = isinstance(argument.type, GraphQLNonNull) and (
                argument.default_value is Undefined
            )
            wanted = required or name in self.samples.always
            if not wanted and self.draw(st.integers(0, 9)) < 6:
                continue
            if self.draw(st.integers(0, 3)) == 0:  # through a variable, maybe absent or null
                value = self.value(argument.type, name, depth=0, literal=False)
                if not isinstance(argument.type, GraphQLNonNull) and self.draw(st.booleans()):
                    value = self.draw(st.sampled_from([None, Undefined]))
                given.append(f"{name}: ${self.variable(str(argument.type), value)}")
            else:
                value = self.value(argument.type, name, 0, literal=True)
                given.append(f"{name}: {literal(value, argument.type)}")
        return "(" + ", ".join(given) + ")" if given else ""

    def value(self, kind: GraphQLInputType, name: str, depth: int, literal: bool) -> Any:
        """A JSON value for an input of type `kind` (as a variable would carry it); one that
        parses as a literal of that type when `literal`."""
        if isinstance(kind, GraphQLNonNull):
            return self.non_null_value(kind.of_type, name, depth, literal)
        if self.draw(st.integers(0, 9)) == 0:
            return None
        return self.non_null_value(kind, name, depth, literal)

    def non_null_value(self, kind: GraphQLInputType, name: str, depth: int, literal: bool) -> Any:
        if isinstance(kind, GraphQLList):
            size = self.draw(st.integers(0, 2))
            return [self.value(kind.of_type, name, depth, literal) for _ in range(size)]
        if isinstance(kind, GraphQLEnumType):
            return self.draw(st.sampled_from(sorted(kind.values)))
        if isinstance(kind, GraphQLInputObjectType):
            return self.input_object(kind, depth, literal)
        assert isinstance(kind, GraphQLScalarType)
        return self.scalar(kind, name, literal)

    def input_object(
        self, kind: GraphQLInputObjectType, depth: int, literal: bool
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, entry in sorted(kind.fields.items()):
            required = isinstance(entry.type, GraphQLNonNull) and entry.default_value is Undefined
            nested = isinstance(get_named_type(entry.type), GraphQLInputObjectType)
            if required or (self.draw(st.integers(0, 9)) < 2 and not (nested and depth >= 1)):
                found[name] = self.value(entry.type, name, depth + 1, literal)
        return found

    def scalar(self, kind: GraphQLScalarType, name: str, literal: bool) -> Any:
        known = self.samples.by_argument.get(name)
        if known and self.draw(st.integers(0, 4)) > 0:
            return self.draw(st.sampled_from(known))
        if kind.name == "Int":
            return self.draw(st.integers(-1, 5))
        if kind.name == "Float":
            return self.draw(st.floats(-10, 10, allow_nan=False))
        if kind.name == "Boolean":
            return self.draw(st.booleans())
        if kind.name == "DateTime":
            return self.draw(st.sampled_from(VALID_TIMES if literal else TIMES))
        use_sample: bool = self.draw(st.booleans())
        if use_sample and self.samples.strings:
            return self.draw(st.sampled_from(self.samples.strings))
        return self.draw(TEXT)


def literal(value: Any, kind: GraphQLInputType) -> str:
    """`value` (JSON, as for a variable) written as a GraphQL literal of type `kind`."""
    if isinstance(kind, GraphQLNonNull):
        return literal(value, kind.of_type)
    if value is None:
        return "null"
    if isinstance(kind, GraphQLList):
        return "[" + ", ".join(literal(item, kind.of_type) for item in value) + "]"
    if isinstance(kind, GraphQLEnumType):
        return str(value)
    if isinstance(kind, GraphQLInputObjectType):
        entries = (f"{name}: {literal(v, kind.fields[name].type)}" for name, v in value.items())
        return "{" + ", ".join(entries) + "}"
    return json.dumps(value)
