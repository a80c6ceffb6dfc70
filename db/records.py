"""Frozen records that travel between the parser, the store and the API.

`ingest` produces them, `db` stores them, `gql` builds its types from them. They are plain
frozen dataclasses (not ORM rows) so that a parsed article can cross a process boundary
(pickled back from a parse worker) and be compared for equality in tests.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """An image of an article, a related item or a provider; only `url` is required."""

    url: str
    width: int | None = None
    height: int | None = None
    is_cached: bool | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """A publisher, identified by its lower-cased `domain`."""

    name: str | None
    domain: str
    images: tuple[ImageRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class RelatedRecord:
    """A summary of another article, listed under an article's `related` key."""

    web_url: str
    title: str | None = None
    excerpt: str | None = None
    published_at: datetime | None = None
    original_url: str | None = None
    amp_web_url: str | None = None
    cdn_amp_web_url: str | None = None
    type: str | None = None
    quality: int | None = None
    provider: ProviderRecord | None = None
    images: tuple[ImageRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class HeadingRecord:
    """One heading of a rendered body: its level (1-6), its text, and the `id` of its element."""

    depth: int
    text: str
    id: str


@dataclass(frozen=True, slots=True)
class RenderedBody:
    """A Markdown body rendered at ingest, so no query pays for rendering.

    `html` is sanitized and safe to insert into a page; `headings` agree with the `id`
    attributes in `html`; `plain_text` (no Markdown syntax, no tags) is what the search index
    stores, so snippets show words rather than `**` and `[...](...)`.
    """

    html: str
    headings: tuple[HeadingRecord, ...]
    word_count: int
    reading_time_minutes: int
    plain_text: str


EMPTY_BODY = RenderedBody(html="", headings=(), word_count=0, reading_time_minutes=0, plain_text="")


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """One parsed article file. `path` (relative, POSIX) is its identity.

    `published_at` is always timezone-aware UTC. `topics` are de-duplicated case-insensitively,
    first spelling wins. `extra` holds every key the format does not name, so nothing is lost.
    `warnings` are non-fatal findings (duplicate keys) that the store records beside the article.
    `rendered` is `body` rendered by the parse step (HTML, headings, counts, plain text).
    """

    path: str
    slug: str
    title: str
    published_at: datetime
    web_url: str
    body: str = ""
    excerpt: str | None = None
    category: str | None = None
    type: str | None = None
    original_url: str | None = None
    amp_web_url: str | None = None
    cdn_amp_web_url: str | None = None
    quality: int | None = None
    heat: int | None = None
    published: bool | None = None
    secured: str | None = None
    provider: ProviderRecord | None = None
    topics: tuple[str, ...] = ()
    images: tuple[ImageRecord, ...] = ()
    related: tuple[RelatedRecord, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    rendered: RenderedBody = EMPTY_BODY


@dataclass(frozen=True, slots=True)
class SkipRecord:
    """A Markdown file that is not an article (no front matter, or no `title`), and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """Why a file could not be ingested: where (1-based, as YAML points) and which field."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line or 0}:{self.column or 0}"
        return f"{where}: {self.field or '-'}: {self.message}"


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What the store remembers of a file to detect changes without reading it."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


FileState = Literal["article", "skipped", "error"]
ChangeOp = Literal["created", "updated", "deleted"]


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """The result of reading and parsing one file: exactly one of article/skip/error is set."""

    stamp: FileStamp
    article: ArticleRecord | None = None
    skip: SkipRecord | None = None
    error: ErrorRecord | None = None

    @property
    def state(self) -> FileState:
        if self.article is not None:
            return "article"
        if self.skip is not None:
            return "skipped"
        return "error"


def _pickle_by_fields(cls: type) -> None:
    """Pickle a record as (class, field values).

    Every parsed article crosses from a parse worker to the writer. The default pickling of a
    slotted dataclass calls `dataclasses.fields()` for every object on load (an article has
    dozens: images, related items, providers), which showed up as ~15% of a busy server's time.
    """
    values = operator.attrgetter(*(f.name for f in fields(cls)))

    def reduce(self: object) -> tuple[type, tuple[object, ...]]:
        got = values(self)
        return cls, got if isinstance(got, tuple) else (got,)

    cls.__reduce__ = reduce  # type: ignore[method-assign, assignment]


for _record in (
    HeadingRecord, RenderedBody, ImageRecord, ProviderRecord, RelatedRecord, ArticleRecord,
    SkipRecord, ErrorRecord, FileStamp, FileOutcome,
):  # fmt: skip
    _pickle_by_fields(_record)
