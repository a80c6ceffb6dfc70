"""Loading front matter into plain Python values, safely and with enough to locate errors.

libyaml (when installed) composes the node graph in C; one recursive pass of ours then builds the
values instead of PyYAML's constructor, because that single pass is where we can, at no extra
cost: bound nesting depth, refuse aliases (or bound their expansion), warn about duplicate keys,
and remember each container's node so a later error can name its line without a second walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# libyaml's loader when the C extension is present; pure Python gives the same results.
_LIBYAML: bool = getattr(yaml, "__with_libyaml__", False)
if TYPE_CHECKING:
    _Base = yaml.CSafeLoader
else:
    _Base = yaml.CSafeLoader if _LIBYAML else yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_SEQ = _TAG + "seq"
_MAP = _TAG + "map"
# The stock resolvers, grouped once by first character (PyYAML concatenates lists per scalar).
_IMPLICIT: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: tuple(resolvers) for first, resolvers in _Base.yaml_implicit_resolvers.items() if first
}
_IMPLICIT[""] = tuple(_Base.yaml_implicit_resolvers.get("", ()))


class FrontMatterLoader(_Base):
    """The safe loader, composing only; its tag resolution is the stock one, made cheaper.

    Resolution runs in Python for every scalar even under libyaml, so it dominates loading
    time; path resolvers, which PyYAML checks on every node, are never used here.
    """

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, pattern in _IMPLICIT.get(value[:1], ()):
                    if pattern.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


# With aliases allowed, each use is expanded; this many nodes bounds a "billion laughs".
MAX_EXPANDED_NODES = 100_000

_MAPPING_TAGS = frozenset((_MAP, _TAG + "set"))
_SEQUENCE_TAGS = frozenset((_SEQ, _TAG + "omap", _TAG + "pairs"))
_SCALARS = yaml.constructor.SafeConstructor()
_SCALAR_CONSTRUCTORS: dict[str, Callable[[ScalarNode], Any]] = {
    _TAG + "null": _SCALARS.construct_yaml_null,
    _TAG + "bool": _SCALARS.construct_yaml_bool,
    _TAG + "int": _SCALARS.construct_yaml_int,
    _TAG + "float": _SCALARS.construct_yaml_float,
    _TAG + "timestamp": _SCALARS.construct_yaml_timestamp,
    _TAG + "binary": _SCALARS.construct_yaml_binary,
    _TAG + "value": _SCALARS.construct_scalar,  # a lone "=": PyYAML resolves it but cannot build it
}
_MERGE = _TAG + "merge"

# Where an anchor can start (after whitespace, a flow indicator or ':'); a cheap test that lets
# almost every file skip the event scan that finds anchors exactly.
_ANCHOR_HINT = re.compile(r"&(?<![^\s\[\{,:]&)[\w-]")


_SHOWN_LEVELS = 8


class YamlProblem(Exception):
    """Why front matter cannot be loaded, at `index` (a character offset into it), in `field`."""

    def __init__(self, message: str, index: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self._segments: list[str | int] = []  # innermost first, added while unwinding

    def inside(self, segment: str | int) -> YamlProblem:
        """Record that the problem sits under `segment` (a key or a list index) and return self."""
        self._segments.append(segment)
        return self

    @property
    def field(self) -> str | None:
        """The field path, cut after a few levels: a nesting error's path can be very long."""
        if not self._segments:
            return None
        path = field_path(reversed(self._segments[-_SHOWN_LEVELS:]))
        return path if len(self._segments) <= _SHOWN_LEVELS else path + "..."


def field_path(segments: Any) -> str:
    """`related[2].webUrl` from `("related", 2, "webUrl")`."""
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            parts.append(f".{segment}" if parts else segment)
    return "".join(parts)


@dataclass(slots=True)
class LoadedFrontMatter:
    """The loaded values plus what is needed to locate a problem found later.

    `nodes` maps `id()` of each built dict or list to its node; `duplicates` holds
    `(index, field)` of every key that repeats one before it in the same mapping.
    """

    data: dict[str, Any]
    nodes: dict[int, Node]
    duplicates: list[tuple[int, str]]


def compose_front_matter(text: str, *, max_depth: int, allow_aliases: bool) -> Node | None:
    """The node graph of one YAML document (None when empty), or raise `YamlProblem`."""
    if not allow_aliases:
        _reject_anchors(text)
    loader = FrontMatterLoader(text)
    try:
        root: Node | None = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _syntax_problem(exc, text, max_depth) from None
    except RecursionError:  # the pure-Python composer recurses; libyaml stops at 1,000 levels
        raise YamlProblem(f"nesting is deeper than {max_depth} levels", None) from None
    finally:
        loader.dispose()
    return root


def has_key(node: Node, key: str) -> bool:
    """Whether `node` is a mapping with `key`: decides if a file is an article before building."""
    return type(node) is MappingNode and any(k.value == key for k, _ in node.value)


def build_values(root: Node, *, max_depth: int, allow_aliases: bool) -> LoadedFrontMatter:
    """Build the values of a composed mapping, or raise `YamlProblem`."""
    if type(root) is not MappingNode:
        kind = "a list" if type(root) is SequenceNode else f"a single value ({root.value!r:.40})"
        message = f"front matter must be a mapping of keys to values, found {kind}"
        raise YamlProblem(message, _at(root))
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
            raise YamlProblem(f"nesting is deeper than {self.max_depth} levels", _at(node))
        if self.allow_aliases:
            self.budget -= len(node.value)
            if self.budget < 0:
                message = f"aliases expand to more than {MAX_EXPANDED_NODES} nodes"
                raise YamlProblem(message, _at(node))
        elif id(node) in self.seen:  # a node met twice is an alias that the scan missed
            raise YamlProblem("YAML aliases are not allowed in front matter", _at(node))
        else:
            self.seen.add(id(node))
        if type(node) is MappingNode:
            return self.mapping(node, depth)
        if type(node) is SequenceNode and node.tag in _SEQUENCE_TAGS:
            return self.sequence(node, depth)
        raise YamlProblem(f"unsupported YAML tag {node.tag!r}", _at(node))

    def mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        if node.tag not in _MAPPING_TAGS:
            raise YamlProblem(f"unsupported YAML tag {node.tag!r}", _at(node))
        result: dict[str, Any] = {}
        self.nodes[id(result)] = node
        for key_node, value_node in node.value:
            # A key is kept as written: `on:` or `2020:` stay strings (extra is served as JSON).
            if type(key_node) is not ScalarNode:
                raise YamlProblem("a mapping key must be a plain string", _at(key_node))
            if key_node.tag == _MERGE:
                raise YamlProblem("merge keys ('<<') are not supported", _at(key_node))
            key: str = key_node.value
            if key in result:
                self.dups.append((_at(key_node), key, node))
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
        if tag == _STR:
            return node.value
        construct = _SCALAR_CONSTRUCTORS.get(tag)
        if construct is None:
            raise YamlProblem(f"unsupported YAML tag {tag!r}", _at(node))
        try:
            return construct(node)
        # PyYAML's scalar constructors raise ValueError, KeyError, AttributeError... on
        # explicitly tagged nonsense (`!!bool maybe`) or impossible dates: all mean the same.
        except Exception as exc:
            kind = tag.removeprefix(_TAG)
            message = f"cannot read {node.value!r} as a YAML {kind}: {exc}"
            raise YamlProblem(message, _at(node)) from None


def _at(node: Node) -> int:
    return _index(node.start_mark)


def _index(mark: Any) -> int:
    return mark.index if mark is not None else 0


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


def _reject_anchors(text: str) -> None:
    """Raise at the first alias (or, failing that, anchor) when the cheap hint says one may exist.

    Aliases are what make expansion bombs; anchors are refused too (FORMAT.md) since they are
    useless without them. Syntax errors are left for the composer to report.
    """
    if "&" not in text or _ANCHOR_HINT.search(text) is None:
        return
    loader = FrontMatterLoader(text)
    anchor_at: int | None = None
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, AliasEvent):
                message = f"YAML aliases are not allowed in front matter (found *{event.anchor})"
                raise YamlProblem(message, _index(event.start_mark))
            if anchor_at is None and isinstance(event, NodeEvent) and event.anchor is not None:
                anchor_at = _index(event.start_mark)
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()
    if anchor_at is not None:
        raise YamlProblem("YAML anchors are not allowed in front matter", anchor_at)


def _syntax_problem(exc: yaml.YAMLError, text: str, max_depth: int) -> YamlProblem:
    """A YAMLError as a problem at the character it points to."""
    if isinstance(exc, yaml.reader.ReaderError):
        index = exc.position
        if _LIBYAML:  # libyaml counts bytes of the UTF-8 text
            index = len(text.encode("utf-8", "surrogatepass")[:index].decode("utf-8", "ignore"))
        character = exc.character if isinstance(exc.character, int) else ord(exc.character[:1])
        return YamlProblem(f"invalid YAML: character #x{character:04x} is not allowed", index)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        index = mark.index if mark else None
        problem = exc.problem or "syntax error"
        if "maximum nesting depth" in problem:  # libyaml's own limit of 1,000 levels
            return YamlProblem(f"nesting is deeper than {min(max_depth, 1000)} levels", index)
        if exc.context:
            problem = f"{problem} ({exc.context})"
        return YamlProblem(f"invalid YAML: {problem}", index)
    return YamlProblem(f"invalid YAML: {exc}", None)
