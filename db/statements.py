"""The SQL of the write path, in one place (db/writes.py decides when each one runs)."""

from __future__ import annotations

# New articles get their id from the writer and are inserted with their child rows in one
# executemany per table per batch; an update is an UPDATE by id (an upsert with RETURNING costs
# ~3x as much, and one statement per child list ~20 us more per article).
INSERT_ARTICLE = """
INSERT INTO articles (path, slug, title, excerpt, body, category, type, published_at, web_url,
original_url, amp_web_url, cdn_amp_web_url, quality, heat, published, secured, provider_id,
extra, image_count, html, headings, word_count, reading_time_minutes, created_at, updated_at, id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
UPDATE_ARTICLE = """
UPDATE articles SET path = ?, slug = ?, title = ?, excerpt = ?, body = ?, category = ?, type = ?,
published_at = ?, web_url = ?, original_url = ?, amp_web_url = ?, cdn_amp_web_url = ?,
quality = ?, heat = ?, published = ?, secured = ?, provider_id = ?, extra = ?, image_count = ?,
html = ?, headings = ?, word_count = ?, reading_time_minutes = ?, updated_at = ?,
revision = revision + 1
WHERE id = ?
"""
UPSERT_FILE = (
    "INSERT INTO files (path, size, mtime_ns, sha256, state, reason, warnings, seen_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET size = excluded.size, "
    "mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, state = excluded.state, "
    "reason = excluded.reason, warnings = excluded.warnings, seen_at = excluded.seen_at"
)


INSERT_IMAGES = "INSERT INTO article_images VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_TOPICS = "INSERT INTO article_topics (article_id, topic_id, position) VALUES (?, ?, ?)"
INSERT_RELATED = (
    "INSERT INTO related (id, article_id, position, web_url, title, excerpt, published_at,"
    " original_url, amp_web_url, cdn_amp_web_url, type, quality, provider_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_RELATED_IMAGES = "INSERT INTO related_images VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_FTS = (
    "INSERT INTO articles_fts (rowid, title, excerpt, body, provider, topics) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_CHANGE = "INSERT INTO changes (op, article_id, path, at) VALUES (?, ?, ?, ?)"
CLEAR_ERROR = "DELETE FROM ingest_errors WHERE path = ?"
# Buffered rows are written in this order: parents before the rows that reference them.
BUFFERED = (
    INSERT_ARTICLE, INSERT_IMAGES, INSERT_TOPICS, INSERT_RELATED, INSERT_RELATED_IMAGES,
    INSERT_FTS, INSERT_CHANGE, UPSERT_FILE, CLEAR_ERROR,
)  # fmt: skip
