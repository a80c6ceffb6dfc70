"""Turning the text of one article file into an `ArticleRecord`: the rules of FORMAT.md.

Pure (no file I/O, no clock) so every rule is a fast unit test. The only exceptions that leave
this module are `ArticleError` (with path, line, column and field) and `NotAnArticle`.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import MappingNode

from newsgraph.db.records import ArticleRecord, ErrorRecord, SkipRecord
from newsgraph.ingest.errors import ArticleError, NotAnArticle
from newsgraph.ingest.fields import Fields
from newsgraph.ingest.frontmatter import (
    FrontMatterNotClosed,
    normalise_newlines,
    split_front_matter,
)
from newsgraph.ingest.limits import ParseLimits
from newsgraph.ingest.render import render_body
from newsgraph.ingest.values import jsonable
from newsgraph.ingest.yaml_loader import YamlProblem, compose_front_matter, has_key
from newsgraph.ingest.yaml_values import build_values

_DEFAULT_LIMITS = ParseLimits()
_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}-")
_ARTICLE_KEYS = frozenset(
    [
        "category",
        "title",
        "excerpt",
        "publishedDateTime",
        "webUrl",
        "originalUrl",
        "ampWebUrl",
        "cdnAmpWebUrl",
        "type",
        "quality",
        "heat",
        "published",
        "provider",
        "topics",
        "images",
        "related",
        "secured",
    ]
)


def slug_for(path: str) -> str:
    """The file name without its extension and without a leading `YYYY-MM-DD-` date."""
    name = path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    slug = _DATE_PREFIX.sub("", stem, count=1)
    return slug or stem


def decode_article(
    data: bytes, *, path: str, limits: ParseLimits = _DEFAULT_LIMITS
) -> ArticleRecord:
    """Decode UTF-8 (a BOM is dropped) and parse; bad UTF-8 is reported at its first bad byte."""
    if len(data) > limits.max_bytes:
        raise _too_large(path, limits)
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position_after(data[bom : bom + exc.start].decode("utf-8"))
        offset = bom + exc.start
        message = f"not valid UTF-8 (byte 0x{data[offset]:02x} at offset {offset})"
        raise ArticleError(ErrorRecord(path, message, line, column)) from None
    return _parse_text(text, path, limits)


def parse_article(text: str, *, path: str, limits: ParseLimits = _DEFAULT_LIMITS) -> ArticleRecord:
    """Parse one article file's text; raise `ArticleError` or `NotAnArticle`, nothing else."""
    size = len(text)
    if size <= limits.max_bytes and not text.isascii():
        # Encoding measures the UTF-8 size and refuses lone surrogates, which a str can hold
        # but no file decodes to and no store can encode. ASCII needs neither.
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            line, column = _position_after(text[: exc.start])
            message = "text contains a lone surrogate (not valid Unicode)"
            raise ArticleError(ErrorRecord(path, message, line, column)) from None
    if size > limits.max_bytes:
        raise _too_large(path, limits)
    return _parse_text(text, path, limits)


def _parse_text(text: str, path: str, limits: ParseLimits) -> ArticleRecord:
    text = normalise_newlines(text)
    try:
        sections = split_front_matter(text)
    except FrontMatterNotClosed:
        message = "front matter opened on line 1 never closes (no '---' or '...' line after it)"
        raise ArticleError(ErrorRecord(path, message, 1, 1)) from None
    if sections is None:
        raise NotAnArticle(SkipRecord(path, "no front matter"))
    front_matter = sections.front_matter

    def locate(index: int) -> tuple[int, int]:
        # Count "\n" ourselves: YAML also breaks lines at U+2028 and NEL, editors mostly don't.
        line_start = front_matter.rfind("\n", 0, index) + 1
        return front_matter.count("\n", 0, index) + 2, index - line_start + 1

    try:
        root = compose_front_matter(
            front_matter, max_depth=limits.max_depth, allow_aliases=limits.allow_aliases
        )
        # Files without a title are skipped before their values are built, so a profile's
        # odd values never turn a skip into an error.
        if root is None or (type(root) is MappingNode and not has_key(root, "title")):
            raise NotAnArticle(SkipRecord(path, "front matter has no title"))
        loaded = build_values(root, max_depth=limits.max_depth, allow_aliases=limits.allow_aliases)
    except YamlProblem as problem:
        line, column = (None, None) if problem.index is None else locate(problem.index)
        record = ErrorRecord(path, problem.message, line, column, problem.field)
        raise ArticleError(record) from None
    fields = Fields(path, loaded.nodes, locate)
    warnings = tuple(
        f"line {locate(index)[0]}: duplicate key {name!r} (the last value wins)"
        for index, name in loaded.duplicates
    )
    return _article(fields, loaded.data, path, sections.body, warnings)


def _article(
    fields: Fields, data: dict[str, Any], path: str, body: str, warnings: tuple[str, ...]
) -> ArticleRecord:
    extra = {key: jsonable(value) for key, value in data.items() if key not in _ARTICLE_KEYS}
    title = fields.title(data, "")
    published_at = fields.required_timestamp(data, "publishedDateTime", "")
    web_url = fields.url(data, "webUrl", "")
    original_url = fields.url(data, "originalUrl", "")
    if web_url is None:
        if original_url is None:
            raise fields.fail(
                data, None, "webUrl", "missing: an article needs webUrl or originalUrl"
            )
        web_url = original_url
    return ArticleRecord(
        path=path,
        slug=slug_for(path),
        title=title,
        published_at=published_at,
        web_url=web_url,
        body=body,
        excerpt=fields.string(data, "excerpt", ""),
        category=fields.string(data, "category", ""),
        type=fields.string(data, "type", ""),
        original_url=original_url,
        amp_web_url=fields.url(data, "ampWebUrl", ""),
        cdn_amp_web_url=fields.url(data, "cdnAmpWebUrl", ""),
        quality=fields.integer(data, "quality", ""),
        heat=fields.integer(data, "heat", ""),
        published=fields.boolean(data, "published", ""),
        secured=fields.string(data, "secured", ""),
        provider=fields.provider(data, "provider", "", extra),
        topics=fields.topics(data, "topics", ""),
        images=fields.images(data, "images", "", extra),
        related=fields.related(data, "related", extra),
        extra=extra,
        warnings=warnings,
        rendered=render_body(body),
    )


def _too_large(path: str, limits: ParseLimits) -> ArticleError:
    message = f"file is larger than the limit of {limits.max_bytes} bytes"
    return ArticleError(ErrorRecord(path, message))


def _position_after(prefix: str) -> tuple[int, int]:
    """1-based (line, column) of the character after `prefix`, with newlines normalised."""
    prefix = normalise_newlines(prefix)
    return prefix.count("\n") + 1, len(prefix) - prefix.rfind("\n")
