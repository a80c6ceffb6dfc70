"""Properties of the parser over generated input: it never fails in an unplanned way."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newsgraph.db.records import ArticleRecord
from newsgraph.ingest.errors import ArticleError, NotAnArticle
from newsgraph.ingest.limits import ParseLimits
from newsgraph.ingest.parse import decode_article, parse_article

PATH = "_news/2024-01-01-generated.md"

# Characters that make YAML (and our fences) interesting, plus some text and a few oddities.
YAML_ALPHABET = st.sampled_from(
    list(":-?[]{},&*!|>'\"%@`#~.=<\n\r\t \\") + list("abcxyz019") + ["é", "\ufeff", "\x0c", "😀"]
)
KEYS = st.sampled_from(
    ["title", "webUrl", "publishedDateTime", "quality", "topics", "related", "provider", "x"]
)


DEFAULT_LIMITS = ParseLimits()


def outcome(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> ArticleRecord | None:
    """Parse, allowing only the two planned exceptions; errors must point inside the text."""
    try:
        return parse_article(text, path=PATH, limits=limits)
    except NotAnArticle as skip:
        assert skip.record.path == PATH and skip.record.reason
    except ArticleError as error:
        record = error.record
        assert record.path == PATH and record.message
        if record.line is not None:
            lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
            assert 1 <= record.line <= lines
            assert record.column is not None and record.column >= 1
    return None


@given(st.text())
def test_any_text_gives_an_article_a_skip_or_an_article_error(text: str) -> None:
    outcome(text)


@given(st.text(YAML_ALPHABET, max_size=200), st.booleans())
def test_any_front_matter_gives_an_article_a_skip_or_an_article_error(
    front_matter: str, allow_aliases: bool
) -> None:
    outcome(f"---\n{front_matter}\n---\nbody\n", ParseLimits(allow_aliases=allow_aliases))


@given(st.lists(st.tuples(KEYS, st.text(YAML_ALPHABET, max_size=30)), max_size=8))
def test_any_values_under_article_keys_give_only_planned_outcomes(
    pairs: list[tuple[str, str]],
) -> None:
    lines = ["title: Generated", *(f"{key}: {value}" for key, value in pairs)]
    outcome("---\n" + "\n".join(lines) + "\n---\n")


@given(st.binary())
def test_any_bytes_give_an_article_a_skip_or_an_article_error(data: bytes) -> None:
    with contextlib.suppress(ArticleError, NotAnArticle):
        decode_article(b"---\n" + data, path=PATH)


one_line = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"),
    min_size=1,
    max_size=40,
).filter(lambda text: bool(text.strip()))
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30))]
)
moments = st.datetimes(datetime(1900, 1, 2), datetime(9998, 12, 30), timezones=zones)


@settings(max_examples=150)
@given(
    title=one_line,
    published=moments,
    quality=st.none() | st.integers(-(2**40), 2**40),
    topics=st.lists(one_line, max_size=6),
    extra=st.dictionaries(
        st.sampled_from(["price", "length", "levels"]), st.integers() | one_line, max_size=3
    ),
)
def test_generated_articles_round_trip(
    title: str,
    published: datetime,
    quality: int | None,
    topics: list[str],
    extra: dict[str, Any],
) -> None:
    fields: dict[str, Any] = {
        "title": title,
        "publishedDateTime": published,
        "webUrl": "https://example.com/a",
        "quality": quality,
        "topics": topics,
        **extra,
    }
    front_matter = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False)
    assume(not any(line.rstrip() in ("---", "...") for line in front_matter.splitlines()))
    article = parse_article(f"---\n{front_matter}---\n", path=PATH)
    assert article.title == title
    assert article.published_at == published.astimezone(UTC)
    assert article.quality == quality
    assert article.extra == extra
    folded = [topic.casefold() for topic in article.topics]
    assert len(folded) == len(set(folded))
    assert {topic.strip().casefold() for topic in topics} == set(folded)
    for topic in article.topics:
        assert topic == topic.strip() and topic in [t.strip() for t in topics]
