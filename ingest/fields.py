"""Typed reading of front-matter fields into records, with errors that say where and what.

Every reader takes the mapping, the key and the path prefix of that mapping (`""` at the top,
`related[2]` in a related item) so errors name fields as users see them: `related[2].webUrl`.
Positions are looked up from the YAML nodes only when an error is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from newsgraph.db.convert import domain_key, topic_key
from newsgraph.db.records import ErrorRecord, ImageRecord, ProviderRecord, RelatedRecord
from newsgraph.ingest.errors import ArticleError
from newsgraph.ingest.values import ValueProblem, expect, http_url, jsonable, to_utc

Locate = Callable[[int], tuple[int, int]]

_IMAGE_KEYS = frozenset(("url", "width", "height", "isCached", "title"))
_PROVIDER_KEYS = frozenset(("name", "domain", "images"))
_RELATED_KEYS = frozenset(
    [
        "title",
        "excerpt",
        "publishedDateTime",
        "webUrl",
        "originalUrl",
        "ampWebUrl",
        "cdnAmpWebUrl",
        "type",
        "quality",
        "provider",
        "images",
    ]
)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class Fields:
    """Reads fields of one parsed file; `fail` builds an `ArticleError` pointing at a value."""

    __slots__ = ("_locate", "_nodes", "_path")

    def __init__(self, path: str, nodes: dict[int, Node], locate: Locate) -> None:
        self._path = path
        self._nodes = nodes
        self._locate = locate

    def fail(
        self, container: object, key: str | int | None, name: str | None, message: str
    ) -> ArticleError:
        """An error on `name`, at `container[key]` (or at the container itself when key is None)."""
        node = self._nodes.get(id(container))
        if node is not None and key is not None:
            node = _child(node, key)
        line = column = None
        if node is not None and node.start_mark is not None:
            line, column = self._locate(node.start_mark.index)
        return ArticleError(ErrorRecord(self._path, message, line, column, name))

    def _check(self, m: dict[str, Any], key: str, prefix: str, check: Callable[[Any], Any]) -> Any:
        value = m.get(key)
        if value is None:
            return None
        try:
            return check(value)
        except ValueProblem as problem:
            raise self.fail(m, key, _join(prefix, key), str(problem)) from None

    def string(self, m: dict[str, Any], key: str, prefix: str) -> str | None:
        value = m.get(key)
        if value is None or type(value) is str:
            return value
        raise self.fail(m, key, _join(prefix, key), str(expect("a string", value)))

    def title(self, m: dict[str, Any], prefix: str) -> str:
        value = m.get("title")
        if type(value) is str and value.strip():
            return value
        message = str(expect("a non-empty string", value))
        raise self.fail(m, "title", _join(prefix, "title"), message)

    def integer(self, m: dict[str, Any], key: str, prefix: str) -> int | None:
        value = m.get(key)
        if value is None or type(value) is int:
            return value
        raise self.fail(m, key, _join(prefix, key), str(expect("an integer", value)))

    def boolean(self, m: dict[str, Any], key: str, prefix: str) -> bool | None:
        value = m.get(key)
        if value is None or type(value) is bool:
            return value
        message = str(expect("a boolean (true or false)", value))
        raise self.fail(m, key, _join(prefix, key), message)

    def url(self, m: dict[str, Any], key: str, prefix: str) -> str | None:
        result: str | None = self._check(m, key, prefix, http_url)
        return result

    def timestamp(self, m: dict[str, Any], key: str, prefix: str) -> datetime | None:
        result: datetime | None = self._check(m, key, prefix, to_utc)
        return result

    def required_timestamp(self, m: dict[str, Any], key: str, prefix: str) -> datetime:
        result = self.timestamp(m, key, prefix)
        if result is None:
            raise self.fail(
                m, key if key in m else None, _join(prefix, key), "missing: this field is required"
            )
        return result

    def _list(self, m: dict[str, Any], key: str, prefix: str) -> list[Any]:
        value = m.get(key)
        if value is None:
            return []
        if type(value) is not list:
            raise self.fail(m, key, _join(prefix, key), str(expect("a list", value)))
        return value

    def _item_mapping(self, items: list[Any], index: int, name: str) -> dict[str, Any]:
        item = items[index]
        if type(item) is not dict:
            raise self.fail(items, index, name, str(expect("a mapping", item)))
        return item

    def topics(self, m: dict[str, Any], key: str, prefix: str) -> tuple[str, ...]:
        """Non-empty strings, stripped; repeats collapse case-insensitively, first spelling wins."""
        topics: dict[str, str] = {}
        items = self._list(m, key, prefix)
        for index, item in enumerate(items):
            topic = item.strip() if type(item) is str else ""
            if not topic:
                message = str(expect("a non-empty string", item))
                raise self.fail(items, index, f"{_join(prefix, key)}[{index}]", message)
            topics.setdefault(topic_key(topic), topic)
        return tuple(topics.values())

    def images(
        self, m: dict[str, Any], key: str, prefix: str, extra: dict[str, Any]
    ) -> tuple[ImageRecord, ...]:
        items = self._list(m, key, prefix)
        base = _join(prefix, key)
        return tuple(self._image(items, i, f"{base}[{i}]", extra) for i in range(len(items)))

    def _image(self, items: list[Any], index: int, name: str, extra: dict[str, Any]) -> ImageRecord:
        image = self._item_mapping(items, index, name)
        url = image.get("url")
        if type(url) is not str or not url:
            where = "url" if "url" in image else None
            raise self.fail(image, where, f"{name}.url", str(expect("a non-empty string", url)))
        _keep_unknown(image, _IMAGE_KEYS, name, extra)
        return ImageRecord(
            url=url,
            width=self.integer(image, "width", name),
            height=self.integer(image, "height", name),
            is_cached=self.boolean(image, "isCached", name),
            title=self.string(image, "title", name),
        )

    def provider(
        self, m: dict[str, Any], key: str, prefix: str, extra: dict[str, Any]
    ) -> ProviderRecord | None:
        provider = m.get(key)
        name = _join(prefix, key)
        if provider is None:
            return None
        if type(provider) is not dict:
            raise self.fail(m, key, name, str(expect("a mapping", provider)))
        domain = provider.get("domain")
        if type(domain) is not str or not domain.strip():
            where = "domain" if "domain" in provider else None
            message = str(expect("a non-empty domain string", domain))
            raise self.fail(provider, where, f"{name}.domain", message)
        _keep_unknown(provider, _PROVIDER_KEYS, name, extra)
        return ProviderRecord(
            name=self.string(provider, "name", name),
            domain=domain_key(domain),
            images=self.images(provider, "images", name, extra),
        )

    def related(
        self, m: dict[str, Any], key: str, extra: dict[str, Any]
    ) -> tuple[RelatedRecord, ...]:
        items = self._list(m, key, "")
        return tuple(self._related_item(items, i, f"{key}[{i}]", extra) for i in range(len(items)))

    def _related_item(
        self, items: list[Any], index: int, name: str, extra: dict[str, Any]
    ) -> RelatedRecord:
        item = self._item_mapping(items, index, name)
        web_url = self.url(item, "webUrl", name)
        if web_url is None:
            where = "webUrl" if "webUrl" in item else None
            raise self.fail(item, where, f"{name}.webUrl", "missing: a related item needs a webUrl")
        _keep_unknown(item, _RELATED_KEYS, name, extra)
        return RelatedRecord(
            web_url=web_url,
            title=self.string(item, "title", name),
            excerpt=self.string(item, "excerpt", name),
            published_at=self.timestamp(item, "publishedDateTime", name),
            original_url=self.url(item, "originalUrl", name),
            amp_web_url=self.url(item, "ampWebUrl", name),
            cdn_amp_web_url=self.url(item, "cdnAmpWebUrl", name),
            type=self.string(item, "type", name),
            quality=self.integer(item, "quality", name),
            provider=self.provider(item, "provider", name, extra),
            images=self.images(item, "images", name, extra),
        )


def _keep_unknown(
    m: dict[str, Any], known: frozenset[str], prefix: str, extra: dict[str, Any]
) -> None:
    """Copy keys the format does not name into the article's `extra`, under their field path."""
    if known.issuperset(m):
        return
    for key, value in m.items():
        if key not in known:
            extra[f"{prefix}.{key}"] = jsonable(value)


def _child(node: Node, key: str | int) -> Node | None:
    """The node of `key` in a mapping (its value; its key when the value is empty) or list."""
    if type(node) is SequenceNode and type(key) is int:
        items: list[Node] = node.value
        return items[key] if 0 <= key < len(items) else node
    if type(node) is MappingNode:
        for key_node, value_node in reversed(node.value):  # the last duplicate is the one kept
            if key_node.value == key:
                empty = type(value_node) is ScalarNode and value_node.value == ""
                found: Node = key_node if empty else value_node
                return found
    return node
