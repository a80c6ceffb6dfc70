"""Composing front matter into a YAML node graph, within the limits that keep it safe.

Composition is libyaml's job (in C) when available; our subclasses only make PyYAML's Python-side
tag resolution cheaper and, for the pure-Python fallback, stop runaway nesting before Python's
recursion limit does. Building values from the nodes is `ingest.yaml_values`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

LIBYAML: bool = getattr(yaml, "__with_libyaml__", False)

TAG = "tag:yaml.org,2002:"
STR = TAG + "str"
SEQ = TAG + "seq"
MAP = TAG + "map"
NULL = TAG + "null"
# The stock resolvers, grouped once by first character (PyYAML concatenates lists per scalar).
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_IMPLICIT: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: tuple(resolvers) for first, resolvers in _RESOLVERS.items() if first
}
_IMPLICIT[""] = tuple(_RESOLVERS.get("", ()))

# Where an anchor can start (after whitespace, a flow indicator or ':'); a cheap test that lets
# almost every file skip the event scan that finds anchors exactly.
_ANCHOR_HINT = re.compile(r"&(?<![^\s\[\{,:]&)[\w-]")


class YamlProblem(Exception):
    """Why front matter cannot be loaded, at `index` (a character offset into it), in `field`."""

    SHOWN_LEVELS = 8

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
        path = field_path(reversed(self._segments[-self.SHOWN_LEVELS :]))
        return path if len(self._segments) <= self.SHOWN_LEVELS else path + "..."


def field_path(segments: Any) -> str:
    """`related[2].webUrl` from `("related", 2, "webUrl")`."""
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            parts.append(f".{segment}" if parts else segment)
    return "".join(parts)


class _CheapResolution:
    """Mixin: the stock tag resolution, made cheaper.

    Resolution runs in Python for every scalar even under libyaml, so it dominates loading time;
    path resolvers, which PyYAML consults on every node, are never used here.
    """

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, pattern in _IMPLICIT.get(value[:1], ()):
                    if pattern.match(value):
                        return tag
            return STR
        return SEQ if kind is SequenceNode else MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


class PurePythonLoader(_CheapResolution, yaml.SafeLoader):
    """The fallback loader; its composer recurses, so nesting is bounded as it composes.

    (libyaml refuses more than 1,000 levels itself and composes without Python recursion.)
    """

    max_depth = 32
    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > self.max_depth + 1:  # a node this deep sits in a too-deep collection
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]  # stub gap
                raise YamlProblem(f"nesting is deeper than {self.max_depth} levels", _index(mark))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if LIBYAML:

    class LibyamlLoader(_CheapResolution, yaml.CSafeLoader):
        """The libyaml loader with cheaper tag resolution."""


def _loader(text: str, max_depth: int) -> yaml.CSafeLoader | PurePythonLoader:
    if LIBYAML:
        return LibyamlLoader(text)
    loader = PurePythonLoader(text)  # its reader checks every character right here
    loader.max_depth = max_depth
    return loader


def compose_front_matter(text: str, *, max_depth: int, allow_aliases: bool) -> Node | None:
    """The node graph of one YAML document (None when empty or null), or raise `YamlProblem`."""
    if not allow_aliases:
        _reject_anchors(text, max_depth)
    try:
        loader = _loader(text, max_depth)
        try:
            root: Node | None = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _syntax_problem(exc, text, max_depth) from None
    except RecursionError:  # max_depth configured beyond what the pure-Python composer reaches
        raise YamlProblem(f"nesting is deeper than {max_depth} levels", None) from None
    if type(root) is ScalarNode and root.tag == NULL:  # `~` or `null`: as empty as no text
        return None
    return root


def has_key(node: Node, key: str) -> bool:
    """Whether `node` is a mapping with `key`: decides if a file is an article before building."""
    return type(node) is MappingNode and any(k.value == key for k, _ in node.value)


def at(node: Node) -> int:
    """The character offset where `node` starts."""
    return _index(node.start_mark)


def _index(mark: Any) -> int:
    return mark.index if mark is not None else 0


def _reject_anchors(text: str, max_depth: int) -> None:
    """Raise at the first alias (or, failing that, anchor) when the cheap hint says one may exist.

    Aliases are what make expansion bombs; anchors are refused too (FORMAT.md) since they are
    useless without them. Syntax errors are left for the composer to report.
    """
    if "&" not in text or _ANCHOR_HINT.search(text) is None:
        return
    anchor_at: int | None = None
    try:
        loader = _loader(text, max_depth)
        try:
            while loader.check_event():
                event = loader.get_event()
                if isinstance(event, AliasEvent):
                    message = f"YAML aliases are not allowed in front matter (*{event.anchor})"
                    raise YamlProblem(message, _index(event.start_mark))
                if anchor_at is None and isinstance(event, NodeEvent) and event.anchor is not None:
                    anchor_at = _index(event.start_mark)
        finally:
            loader.dispose()
    except yaml.YAMLError:
        return
    if anchor_at is not None:
        raise YamlProblem("YAML anchors are not allowed in front matter", anchor_at)


def _syntax_problem(exc: yaml.YAMLError, text: str, max_depth: int) -> YamlProblem:
    """A YAMLError as a problem at the character it points to."""
    if isinstance(exc, yaml.reader.ReaderError):
        index = exc.position
        if LIBYAML:  # libyaml counts bytes of the UTF-8 text
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
