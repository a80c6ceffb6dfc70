"""Providers and topics: the shared rows articles point at, upserted with cached ids.

Thousands of articles name the same few hundred providers and topics; caching each id (and
what was last written for it) makes a repeated provider or topic cost no SQL at all. The caches
are dropped whenever a transaction rolls back or orphans are deleted, so they never outlive
the rows they describe.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from newsgraph.db.convert import domain_key, slugify, topic_key
from newsgraph.db.records import ImageRecord, ProviderRecord


def image_rows(owner_id: int, images: Sequence[ImageRecord]) -> list[tuple[Any, ...]]:
    """Rows for provider_images, article_images and related_images (same column layout)."""
    return [
        (owner_id, position, i.url, i.width, i.height, i.is_cached, i.title)
        for position, i in enumerate(images)
    ]


class Catalog:
    """Provider and topic ids for one writer connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._providers: dict[str, tuple[int, str | None, tuple[ImageRecord, ...]]] = {}
        self._topic_ids: dict[str, int] = {}

    def provider_id(self, provider: ProviderRecord, now: str) -> int:
        """Upsert a provider; the most recently ingested name (and image list) wins.

        Only what differs from the cached state is written: a provider seen again with the same
        name and images costs no SQL, a renamed one one UPDATE.
        """
        domain = domain_key(provider.domain)
        known = self._providers.get(domain)
        stored_images: tuple[ImageRecord, ...] | None  # None: not known, replace if given
        if known is not None:
            provider_id, stored_name, stored_images = known
        else:
            row = self.conn.execute(
                "SELECT id, name FROM providers WHERE domain = ?", [domain]
            ).fetchone()
            if row is None:
                cursor = self.conn.execute(
                    "INSERT INTO providers (domain, name, updated_at) VALUES (?, ?, ?)",
                    [domain, provider.name, now],
                )
                provider_id, stored_name, stored_images = (
                    int(cursor.lastrowid or 0),
                    provider.name,
                    (),
                )
            else:
                provider_id, stored_name, stored_images = int(row[0]), row[1], None
        if provider.name is not None and provider.name != stored_name:
            self.conn.execute(
                "UPDATE providers SET name = ?, updated_at = ? WHERE id = ?",
                [provider.name, now, provider_id],
            )
            stored_name = provider.name
        if provider.images and provider.images != stored_images:
            self.conn.execute("DELETE FROM provider_images WHERE provider_id = ?", [provider_id])
            self.conn.executemany(
                "INSERT INTO provider_images VALUES (?, ?, ?, ?, ?, ?, ?)",
                image_rows(provider_id, provider.images),
            )
            stored_images = provider.images
        self._providers[domain] = (provider_id, stored_name, stored_images or ())
        return provider_id

    def topic_id(self, name: str) -> int:
        key = topic_key(name)
        known = self._topic_ids.get(key)
        if known is not None:
            return known
        row = self.conn.execute(
            "INSERT INTO topics (key, name, slug) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET key = key RETURNING id",
            [key, name.strip(), slugify(name)],
        ).fetchone()
        topic_id: int = row[0]
        self._topic_ids[key] = topic_id
        return topic_id

    def drop_orphans(self) -> None:
        """Topics and providers live while something refers to them: no list shows zero counts."""
        self.conn.execute(
            "DELETE FROM topics WHERE NOT EXISTS "
            "(SELECT 1 FROM article_topics WHERE topic_id = topics.id)"
        )
        self.conn.execute(
            "DELETE FROM providers WHERE NOT EXISTS "
            "(SELECT 1 FROM articles WHERE provider_id = providers.id) AND NOT EXISTS "
            "(SELECT 1 FROM related WHERE provider_id = providers.id)"
        )
        self.forget()

    def forget(self) -> None:
        """Drop the caches (after a rollback or an orphan sweep)."""
        self._providers.clear()
        self._topic_ids.clear()
