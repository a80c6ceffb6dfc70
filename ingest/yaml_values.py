"""Building plain values from a composed front-matter node graph, in one recursive pass.

We build instead of PyYAML's constructor because this single pass is where we can, at no extra
cost: bound nesting depth, refuse aliases (or bound their expansion), warn about duplicate keys,
and remember each container's node so that a later error can name its line without a second walk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from newsgraph.ingest.yaml_loader import MAP, NULL, SEQ, STR, TAG, YamlProblem, at, field_path

# With aliases allowed, each use is expanded; this many nodes bounds a "billion laughs".
MAX_EXPANDED_NODES = 100_000

_MERGE = TAG + "merge"
_MAPPING_TAGS = frozenset((MAP, TAG + "set"))
_SEQUENCE_TAGS = frozenset((SEQ, TAG + "omap", TAG + "pairs"))
_SCALARS = yaml.constructor.SafeConstructor()
_SCALAR_CONSTRUCTORS: dict[str, Callable[[ScalarNode], Any]] = {
    NULL: _SCALARS.construct_yaml_null,
    TAG + "bool": _SCALARS.construct_yaml_bool,
    TAG + "int": _SCALARS.construct_yaml_int,
    TAG + "float": _SCALARS.construct_yaml_float,
    TAG + "timestamp": _SCALARS.construct_yaml_timestamp,
    TAG + "binary": _SCALARS.construct_yaml_binary,
    TAG + "value": _SCALARS.construct_scalar,  # a lone "=": PyYAML resolves it but cannot build it
}


@dataclass(slots=True)
class LoadedFrontMatter:
    """The values plus what is needed to locate a problem found later.

    `nodes` maps `id()` of each built dict or list to its node; `duplicates` holds
    `(index, field)` of every key that repeats one before it in the same mapping.
    """

    data: dict[str, Any]
    nodes: dict[int, Node]
    duplicates: list[tuple[int, str]]


def build_values(root: Node, *, max_depth: int, allow_aliases: bool) -> LoadedFrontMatter:
    """Build the values of a composed mapping, or raise `YamlProblem`."""
    if type(root) is not MappingNode:
        kind = "a list" if type(root) is SequenceNode else f"a single value ({root.value!r:.40})"
        message = f"front matter must be a mapping of keys to values, found {kind}"
        raise YamlProblem(message, at(root))
    builder = _Builder(max_depth, allow_aliases)
    try:
        data: dict[str, Any] = builder.build(root, 1)
    except RecursionError:  # only when max_depth was configured beyond the stack's reach
        raise YamlProblem(f"nesting is deeper than {max_depth} levels", None) from None
    duplicates = [(i, _path_of(root, key, node)) for i, key, node in builder.dups]
    return LoadedFrontMatter(data, builder.nodes, duplicates)


class _Builder:
    """One recursive pass from nodes to dicts, lists and scalars (see the module docstring)."""

    __slots__ = ("allow_aliases", "budget", "dups", "max_depth", "nodes", "seen")

    def __init__(self, max_depth: int, allow_aliases: bool) -> None:
        self.nodes: dict[int, Node] = {}
        self.max_depth = max_depth
        self.allow_aliases = allow_aliases
        self.seen: set[int] = set()
        self.budget = MAX_EXPANDED_NODES
        self.dups: list[tuple[int, str, MappingNode]] = []

    def build(self, node: Node, depth: int) -> Any:
        if type(node) is ScalarNode:
            return self.scalar(node)
        if depth > self.max_depth:
            raise YamlProblem(f"nesting is deeper than {self.max_depth} levels", at(node))
        if self.allow_aliases:
            self.budget -= len(node.value)
            if self.budget < 0:
                message = f"aliases expand to more than {MAX_EXPANDED_NODES} nodes"
                raise YamlProblem(message, at(node))
        elif id(node) in self.seen:  # a node met twice is an alias that the scan missed
            raise YamlProblem("YAML aliases are not allowed in front matter", at(node))
        else:
            self.seen.add(id(node))
        if type(node) is MappingNode:
            return self.mapping(node, depth)
        if type(node) is SequenceNode and node.tag in _SEQUENCE_TAGS:
            return self.sequence(node, depth)
        raise YamlProblem(f"unsupported YAML tag {node.tag!r}", at(node))

    def mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        if node.tag not in _MAPPING_TAGS:
            raise YamlProblem(f"unsupported YAML tag {node.tag!r}", at(node))
        result: dict[str, Any] = {}
        self.nodes[id(result)] = node
        for key_node, value_node in node.value:
            # A key is kept as written: `on:` or `2020:` stay strings (extra is served as JSON).
            if type(key_node) is not ScalarNode:
                raise YamlProblem("a mapping key must be a plain string", at(key_node))
            if key_node.tag == _MERGE:
                raise YamlProblem("merge keys ('<<') are not supported", at(key_node))
            key: str = key_node.value
            if key in result:
                self.dups.append((at(key_node), key, node))
            try:
                result[key] = self.build(value_node, depth + 1)
            except YamlProblem as problem:
                raise problem.inside(key) from None
        return result

    def sequence(self, node: SequenceNode, depth: int) -> list[Any]:
        result: list[Any] = []
        self.nodes[id(result)] = node
        for index, item in enumerate(node.value):
            try:
                result.append(self.build(item, depth + 1))
            except YamlProblem as problem:
                raise problem.inside(index) from None
        return result

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == STR:
            return node.value
        construct = _SCALAR_CONSTRUCTORS.get(tag)
        if construct is None:
            raise YamlProblem(f"unsupported YAML tag {tag!r}", at(node))
        try:
            return construct(node)
        # PyYAML's scalar constructors raise ValueError, KeyError, AttributeError... on
        # explicitly tagged nonsense (`!!bool maybe`) or impossible dates: all mean the same.
        except Exception as exc:
            kind = tag.removeprefix(TAG)
            message = f"cannot read {node.value!r} as a YAML {kind}: {exc}"
            raise YamlProblem(message, at(node)) from None


def _path_of(root: Node, key: str, target: MappingNode) -> str:
    """The field path of `key` in mapping `target`: a search, paid only when a key repeats."""
    stack: list[tuple[Node, tuple[str | int, ...]]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, segments = stack.pop()
        if node is target:
            return field_path((*segments, key))
        if id(node) in seen or type(node) is ScalarNode:
            continue
        seen.add(id(node))
        if type(node) is MappingNode:
            stack.extend((v, (*segments, k.value)) for k, v in node.value)
        else:
            stack.extend((item, (*segments, i)) for i, item in enumerate(node.value))
    return key
