"""How Python values are spelled in the database, in one place."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime

from newsgraph.db.records import HeadingRecord

# Fixed width (always microseconds) so that text order is time order: keyset cursors and
# ORDER BY compare these strings directly.
_DB_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db_time(value: datetime) -> str:
    """Spell an aware datetime as fixed-width UTC text."""
    return value.astimezone(UTC).strftime(_DB_TIME).rjust(len("0000-00-00T00:00:00.000000Z"), "0")


def from_db_time(value: str) -> datetime:
    """Read back a time written by `to_db_time` (or any ISO 8601 text)."""
    return datetime.fromisoformat(value).astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def fold_case(text: str) -> str:
    """The one case-insensitivity rule of the store, for every language: NFKC, then Unicode
    case folding (`École` and `école`, `Straße` and `STRASSE`, `ＡＩ` and `ai` compare equal).

    SQLite's `lower()` folds ASCII only, so SQL compares through this function (registered on
    every connection as `fold_case`) or against values folded by it.
    """
    return unicodedata.normalize("NFKC", text).casefold().strip()


def topic_key(name: str) -> str:
    """Topics are one topic whatever their case: `AI` and `ai` share this key."""
    return fold_case(name)


def domain_key(domain: str) -> str:
    """A provider's identity: its domain, case-folded like everything else."""
    return fold_case(domain)


_NON_SLUG = re.compile(r"[^\w]+", re.UNICODE)


def slugify(text: str) -> str:
    """A URL-friendly, lower-case, hyphenated form of `text` that keeps non-Latin letters."""
    slug = _NON_SLUG.sub("-", unicodedata.normalize("NFKC", text).casefold()).strip("-_")
    return slug.replace("_", "-") or "-"


def headings_json(headings: Iterable[HeadingRecord]) -> str:
    """A rendered body's headings as stored: a JSON list of {depth, text, id}."""
    return json.dumps(
        [{"depth": h.depth, "text": h.text, "id": h.id} for h in headings], ensure_ascii=False
    )


def headings_from_json(text: str) -> tuple[HeadingRecord, ...]:
    return tuple(HeadingRecord(h["depth"], h["text"], h["id"]) for h in json.loads(text))
