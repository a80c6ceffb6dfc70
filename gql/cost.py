"""How big a query is: its depth, its aliases and its estimated cost, fragments expanded.

The cost estimates how many values a query can produce. Every field costs 1; a field that
returns a page multiplies the cost of what it selects by its page size: `first`/`last` (or the
default page size when neither is given), `limit`, or the number of `ids`. A plain list field
(`topics`, `images`, `related`) counts as one default page, except a list directly under a
paged field (`edges` of a connection, the counts of `articleFacets(limit:)`), which the page
size already counts. Nested pages multiply: 100 articles × 20 mentions each cost 2,000 values.

Fragments and inline fragments are expanded where they are spread, so a fragment of 10 aliases
spread 100 times counts 1,000 aliases (the way Strawberry's alias limiter was once bypassed).
Each fragment is measured once and reused, so a "fragment bomb" (A spreads B twice, B spreads C
twice, ...) is measured in linear time and reported with its true, exponential size.

Introspection (`__schema`, `__type`) is bounded by the schema, not the data: its fields cost 1
each and add no depth; graphql-core's `MaxIntrospectionDepthRule` stops its cycles instead.
A page size given by a variable is not known when the document is validated (once per distinct
document, cached), so it counts as the largest the argument allows: `max_page_size` for
`first`/`last`, and the bounds of `ids` and `limit` (100 each) for those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_list_type,
)
from graphql.type import GraphQLInterfaceType, GraphQLObjectType, get_nullable_type

PAGE_ARGUMENTS = ("first", "last")
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Size:
    """The measure of a selection set: deepest field nesting, aliases, estimated values."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


@dataclass(frozen=True, slots=True)
class PageSizes:
    """What a page costs when the query does not say exactly."""

    default: int = 20
    maximum: int = 100  # the largest `first`/`last`
    # What `ids` and `limit` take at most: their own bounds, not the page size.
    most_ids: int = 100
    most_counts: int = 100


@dataclass
class _Walk:
    schema: GraphQLSchema
    pages: PageSizes
    fragments: dict[str, FragmentDefinitionNode]
    measured: dict[str, Size] = field(default_factory=dict)
    visiting: set[str] = field(default_factory=set)


def measure(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: list[FragmentDefinitionNode],
    pages: PageSizes,
) -> Size:
    """The size of one operation of a document."""
    root = schema.get_root_type(operation.operation)
    walk = _Walk(schema, pages, {f.name.value: f for f in fragments})
    return _selections(walk, operation.selection_set, root, paged=False, introspection=False)


def _selections(
    walk: _Walk, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None,
    *, paged: bool, introspection: bool,
) -> Size:  # fmt: skip
    if selection_set is None:
        return Size()
    depth = aliases = cost = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            size = _field(walk, selection, parent, paged=paged, introspection=introspection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            kind = walk.schema.get_type(condition.name.value) if condition else parent
            size = _selections(
                walk, selection.selection_set, kind, paged=paged, introspection=introspection
            )
        elif isinstance(selection, FragmentSpreadNode):
            size = _fragment(walk, selection.name.value, paged=paged, introspection=introspection)
        else:  # pragma: no cover - graphql-core has no other selection kinds
            continue
        depth = max(depth, size.depth)
        aliases += size.aliases
        cost += size.cost
    return Size(depth, aliases, cost)


def _fragment(walk: _Walk, name: str, *, paged: bool, introspection: bool) -> Size:
    key = f"{name}/{paged}/{introspection}"
    known = walk.measured.get(key)
    if known is not None:
        return known
    fragment = walk.fragments.get(name)
    if fragment is None or name in walk.visiting:  # unknown or cyclic: other rules report it
        return Size()
    walk.visiting.add(name)
    kind = walk.schema.get_type(fragment.type_condition.name.value)
    size = _selections(walk, fragment.selection_set, kind, paged=paged, introspection=introspection)
    walk.visiting.discard(name)
    walk.measured[key] = size
    return size


def _field(
    walk: _Walk, node: FieldNode, parent: GraphQLNamedType | None, *, paged: bool,
    introspection: bool,
) -> Size:  # fmt: skip
    name = node.name.value
    alias = 1 if node.alias is not None else 0
    introspection = introspection or name in INTROSPECTION_ROOTS
    definition = _definition(walk.schema, parent, name)
    if definition is None:
        # __typename, or a field other rules will reject: a leaf either way
        children = _selections(walk, node.selection_set, None, paged=False, introspection=True)
        return Size(0, alias + children.aliases, 1 + children.cost)
    field_type = definition.type
    multiplier, sized = _multiplier(walk.pages, node, field_type, paged=paged)
    if introspection:
        multiplier = 1
    children = _selections(
        walk, node.selection_set, get_named_type(field_type), paged=sized,
        introspection=introspection,
    )  # fmt: skip
    depth = 0 if introspection else 1 + children.depth
    return Size(depth, alias + children.aliases, 1 + multiplier * children.cost)


def _definition(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | _Meta | None:
    if name in INTROSPECTION_ROOTS:
        kind = schema.get_type("__Schema" if name == "__schema" else "__Type")
        return _Meta(kind) if isinstance(kind, GraphQLObjectType) else None
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


@dataclass(frozen=True, slots=True)
class _Meta:
    """A stand-in definition for the introspection entry points (not in any type's fields)."""

    type: GraphQLOutputType


def _multiplier(
    pages: PageSizes, node: FieldNode, field_type: GraphQLOutputType, *, paged: bool
) -> tuple[int, bool]:
    """How many times the field's selection can repeat, and whether that is a page size."""
    arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
    for name in PAGE_ARGUMENTS:
        if name in arguments:
            return _count(arguments[name], pages.maximum), True
    if "limit" in arguments:
        return _count(arguments["limit"], pages.most_counts), True
    if "ids" in arguments:
        ids = arguments["ids"]
        return (len(ids.values) if isinstance(ids, ListValueNode) else pages.most_ids), True
    if _is_connection(field_type):  # queried without `first`/`last`: one default page
        return pages.default, True
    if is_list_type(get_nullable_type(field_type)):
        return (1 if paged else pages.default), False
    return 1, False


def _is_connection(field_type: GraphQLOutputType) -> bool:
    named = get_named_type(field_type)
    return named is not None and named.name.endswith("Connection")


def _count(value: object, largest: int) -> int:
    """A literal page size, or the largest allowed when a variable (unknown yet) gives it."""
    if isinstance(value, IntValueNode):
        return max(0, int(value.value))
    return largest
