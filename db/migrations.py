"""Numbered schema migrations, applied with sqlite-utils' `Migrations`.

Each migration is a list of SQL statements run inside one transaction (sqlite-utils records the
migration in the same transaction), so a crash mid-migration leaves the previous schema intact.
Never edit a released migration: add the next number.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "newsgraph"

migrations = Migrations(MIGRATION_SET)

_M001 = """
CREATE TABLE providers (
    id INTEGER PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,          -- lower-cased: the identity of a provider
    name TEXT,                            -- the most recently ingested name
    updated_at TEXT NOT NULL
);
CREATE TABLE provider_images (
    provider_id INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url TEXT NOT NULL, width INTEGER, height INTEGER, is_cached INTEGER, title TEXT,
    PRIMARY KEY (provider_id, position)
) WITHOUT ROWID;
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,            -- relative to the content root, POSIX: the identity
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    excerpt TEXT,
    body TEXT NOT NULL DEFAULT '',
    category TEXT,
    type TEXT,
    published_at TEXT NOT NULL,           -- fixed-width UTC text, see db.convert
    web_url TEXT NOT NULL,
    original_url TEXT,
    amp_web_url TEXT,
    cdn_amp_web_url TEXT,
    quality INTEGER,
    heat INTEGER,
    published INTEGER,
    secured TEXT,
    provider_id INTEGER REFERENCES providers(id),
    extra TEXT NOT NULL DEFAULT '{}',     -- JSON object of keys the format does not name
    image_count INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 1,  -- 1 when created, +1 on every update
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX articles_published_at ON articles(published_at, id);
CREATE INDEX articles_quality ON articles(quality, id);
CREATE INDEX articles_heat ON articles(heat, id);
CREATE INDEX articles_title ON articles(title, id);
CREATE INDEX articles_web_url ON articles(web_url);
CREATE INDEX articles_provider ON articles(provider_id, published_at);
CREATE TABLE article_images (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url TEXT NOT NULL, width INTEGER, height INTEGER, is_cached INTEGER, title TEXT,
    PRIMARY KEY (article_id, position)
) WITHOUT ROWID;
CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,             -- NFKC + casefold of the name: the identity
    name TEXT NOT NULL,                   -- the first spelling seen
    slug TEXT NOT NULL
);
CREATE INDEX topics_slug ON topics(slug);
CREATE TABLE article_topics (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    topic_id INTEGER NOT NULL REFERENCES topics(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (article_id, topic_id)
) WITHOUT ROWID;
CREATE INDEX article_topics_topic ON article_topics(topic_id, article_id);
CREATE TABLE related (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    web_url TEXT NOT NULL,                -- resolves to articles.web_url at read time, so the
    title TEXT,                           -- link appears whichever file arrives first
    excerpt TEXT,
    published_at TEXT,
    original_url TEXT,
    amp_web_url TEXT,
    cdn_amp_web_url TEXT,
    type TEXT,
    quality INTEGER,
    provider_id INTEGER REFERENCES providers(id)
);
CREATE UNIQUE INDEX related_article_position ON related(article_id, position);
CREATE INDEX related_web_url ON related(web_url, article_id);
CREATE INDEX related_provider ON related(provider_id);
CREATE TABLE related_images (
    related_id INTEGER NOT NULL REFERENCES related(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url TEXT NOT NULL, width INTEGER, height INTEGER, is_cached INTEGER, title TEXT,
    PRIMARY KEY (related_id, position)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, excerpt, body, provider, topics,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('article', 'skipped', 'error')),
    reason TEXT,                          -- why skipped
    warnings TEXT,                        -- JSON list of non-fatal findings
    seen_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE ingest_errors (
    path TEXT PRIMARY KEY,
    line INTEGER,
    "column" INTEGER,
    field TEXT,
    message TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so a resume cursor cannot alias
    op TEXT NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
    article_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


def statements(script: str) -> list[str]:
    """Split a migration script on `;` line ends (no statement here contains one)."""
    return [part.strip() for part in script.split(";\n") if part.strip()]


@migrations(name="m001_initial_schema")
def m001_initial_schema(db: Database) -> None:
    for statement in statements(_M001):
        db.execute(statement)


# Rendered bodies (ingest/render.py) live beside the Markdown they come from. The store cannot
# render (db imports nothing of ours), so the migration marks every article's file as changed:
# the next reconcile (`ingest`, `serve`, `watch`) re-parses and re-renders each article, which
# is an `updated` change like any other. Until then an old article serves an empty `html`.
_M002 = """
ALTER TABLE articles ADD COLUMN html TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN headings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE articles ADD COLUMN word_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN reading_time_minutes INTEGER NOT NULL DEFAULT 0;
UPDATE files SET size = -1, mtime_ns = -1, sha256 = '' WHERE state = 'article'
"""


@migrations(name="m002_rendered_bodies")
def m002_rendered_bodies(db: Database) -> None:
    for statement in statements(_M002):
        db.execute(statement)


_M004 = """
CREATE TABLE store_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    commits INTEGER NOT NULL              -- +1 by every write transaction: a data version
);
INSERT INTO store_version (id, commits) VALUES (1, 0)
"""


@migrations(name="m004_store_version")
def m004_store_version(db: Database) -> None:
    """A counter every commit moves, even one that adds no change-feed row (an ingest error),
    so a response cache keyed by it never serves an answer older than the newest commit."""
    for statement in statements(_M004):
        db.execute(statement)


def apply_migrations(db: Database) -> None:
    """Bring the schema up to date; safe to call on every start."""
    migrations.apply(db)


def pending_migrations(db: Database) -> list[str]:
    return [migration.name for migration in migrations.pending(db)]
