"""Rows as the API reads them: slotted dataclasses built straight from SELECT tuples.

They differ from `db.records` (what the parser produces) because reads need the store's own
columns (`id`, `provider_id`, `updated_at`) and keep values in their stored spelling: times stay
fixed-width UTC text (already ISO 8601, so the API serves them without a datetime round trip)
and booleans stay SQLite integers (GraphQL's `Boolean` coerces them). Readers construct them
positionally in column order, so the field order below *is* the SELECT list order in
`db.reads`. They are not frozen: a frozen dataclass's `__init__` is several times slower, and
the API builds thousands per request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from newsgraph.db.convert import headings_from_json
from newsgraph.db.records import HeadingRecord

ARTICLE_COLUMNS = (
    "a.id, a.path, a.slug, a.title, a.excerpt, a.body, a.category, a.type, a.published_at, "
    "a.web_url, a.original_url, a.amp_web_url, a.cdn_amp_web_url, a.quality, a.heat, "
    "a.published, a.secured, a.provider_id, a.extra, a.image_count, a.created_at, a.updated_at, "
    "a.html, a.headings, a.word_count, a.reading_time_minutes"
)
PROVIDER_COLUMNS = "p.id, p.domain, p.name, p.updated_at"
TOPIC_COLUMNS = "t.id, t.key, t.name, t.slug"
RELATED_COLUMNS = (
    "r.id, r.article_id, r.position, r.web_url, r.title, r.excerpt, r.published_at, "
    "r.original_url, r.amp_web_url, r.cdn_amp_web_url, r.type, r.quality, r.provider_id"
)


@dataclass(slots=True)
class ArticleRow:
    id: int
    path: str
    slug: str
    title: str
    excerpt: str | None
    body: str
    category: str | None
    type: str | None
    published_at: str
    web_url: str
    original_url: str | None
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    quality: int | None
    heat: int | None
    published: int | None
    secured: str | None
    provider_id: int | None
    extra_json: str
    image_count: int
    created_at: str
    updated_at: str
    html: str
    headings_json: str
    word_count: int
    reading_time_minutes: int

    @property
    def extra(self) -> Any:
        """The keys the format does not name, decoded only when asked for."""
        return json.loads(self.extra_json)

    @property
    def headings(self) -> tuple[HeadingRecord, ...]:
        """The rendered body's headings, decoded only when asked for."""
        return headings_from_json(self.headings_json)


@dataclass(slots=True)
class ProviderRow:
    id: int
    domain: str
    name: str | None
    updated_at: str


@dataclass(slots=True)
class TopicRow:
    id: int
    key: str
    name: str
    slug: str


@dataclass(slots=True)
class ImageRow:
    url: str
    width: int | None
    height: int | None
    is_cached: int | None
    title: str | None


@dataclass(slots=True)
class RelatedRow:
    id: int
    article_id: int
    position: int
    web_url: str
    title: str | None
    excerpt: str | None
    published_at: str | None
    original_url: str | None
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    type: str | None
    quality: int | None
    provider_id: int | None


@dataclass(frozen=True, slots=True)
class IngestErrorRow:
    path: str
    line: int | None
    column: int | None
    field: str | None
    message: str
    first_seen: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class IngestStatusRow:
    article_count: int
    provider_count: int
    topic_count: int
    skipped_count: int
    error_count: int
    last_ingest_at: str | None
