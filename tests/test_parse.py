"""The article format (FORMAT.md), one rule per test, asserting what a user would see."""

from __future__ import annotations

import json
import pickle
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsgraph.db.records import (
    ArticleRecord,
    ErrorRecord,
    ImageRecord,
    ProviderRecord,
    RelatedRecord,
    RenderedBody,
)
from newsgraph.ingest.errors import ArticleError, IngestError, NotAnArticle
from newsgraph.ingest.limits import ParseLimits
from newsgraph.ingest.parse import decode_article, parse_article, slug_for

PATH = "_news/2024-03-01-robots-sort-recycling.md"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "smartable-ai"

# Lines 2-4 of every fixture; lines passed to `article_text` start on line 5.
BASE = {
    "title": "title: Robots learn to sort recycling",
    "publishedDateTime": "publishedDateTime: 2024-03-01T08:15:00Z",
    "webUrl": "webUrl: https://example.com/news/robots",
}


def article_text(*lines: str, drop: tuple[str, ...] = (), body: str = "Some *Markdown*.") -> str:
    """A file: `---`, the BASE lines (minus `drop`), then `lines`, `---` and the body."""
    head = [line for key, line in BASE.items() if key not in drop]
    return "\n".join(["---", *head, *lines, "---", body]) + "\n"


def parse(text: str, **limits: Any) -> ArticleRecord:
    return parse_article(text, path=PATH, limits=ParseLimits(**limits))


def error_of(text: str, **limits: Any) -> ErrorRecord:
    with pytest.raises(ArticleError) as info:
        parse(text, **limits)
    return info.value.record


def skip_reason(text: str) -> str:
    with pytest.raises(NotAnArticle) as info:
        parse(text)
    assert info.value.record.path == PATH
    return info.value.record.reason


# --- fences, encoding, body ---------------------------------------------------------------------


def test_minimal_article_has_required_fields_and_defaults() -> None:
    article = parse(article_text())
    assert article == ArticleRecord(
        path=PATH,
        slug="robots-sort-recycling",
        title="Robots learn to sort recycling",
        published_at=datetime(2024, 3, 1, 8, 15, tzinfo=UTC),
        web_url="https://example.com/news/robots",
        body="Some *Markdown*.",
        rendered=RenderedBody(
            html="<p>Some <em>Markdown</em>.</p>\n",
            headings=(),
            word_count=2,
            reading_time_minutes=1,
            plain_text="Some Markdown.",
        ),
    )


def test_every_named_field_lands_in_the_record() -> None:
    text = article_text(
        "category: news",
        "excerpt: Sorting lines that learn.",
        "originalUrl: https://origin.example.org/robots",
        "ampWebUrl: https://example.com/amp/robots",
        "cdnAmpWebUrl: https://cdn.example.net/c/s/example.com/amp/robots",
        "type: article",
        "quality: 63",
        "heat: -1",
        "published: true",
        "secured: 'opaque+token/=='",
        "provider:",
        "  name: Example News",
        "  domain: Example.COM ",
        "  images:",
        "    - url: /assets/example-50x50.jpg",
        "      width: 50",
        "      height: 50",
        "topics: [Robotics, Recycling]",
        "images:",
        "  - url: https://img.example.com/1.jpg",
        "    width: 1200",
        "    height: 630",
        "    isCached: true",
        "    title: A robot arm",
        "related:",
        "  - title: Other story",
        "    excerpt: More robots.",
        "    publishedDateTime: 2024-02-28T10:00:00+01:00",
        "    webUrl: https://other.example/story",
        "    originalUrl: https://other.example/original",
        "    ampWebUrl: https://other.example/amp",
        "    cdnAmpWebUrl: https://cdn.example.net/other",
        "    type: article",
        "    quality: 137",
        "    provider: {name: Other, domain: other.example}",
        "    images: [{url: 'https://other.example/i.png'}]",
    )
    article = parse(text)
    assert article.category == "news"
    assert article.excerpt == "Sorting lines that learn."
    assert article.original_url == "https://origin.example.org/robots"
    assert article.amp_web_url == "https://example.com/amp/robots"
    assert article.cdn_amp_web_url == "https://cdn.example.net/c/s/example.com/amp/robots"
    assert (article.type, article.quality, article.heat) == ("article", 63, -1)
    assert article.published is True
    assert article.secured == "opaque+token/=="
    assert article.provider == ProviderRecord(
        name="Example News",
        domain="example.com",
        images=(ImageRecord(url="/assets/example-50x50.jpg", width=50, height=50),),
    )
    assert article.topics == ("Robotics", "Recycling")
    assert article.images == (
        ImageRecord("https://img.example.com/1.jpg", 1200, 630, True, "A robot arm"),
    )
    assert article.related == (
        RelatedRecord(
            web_url="https://other.example/story",
            title="Other story",
            excerpt="More robots.",
            published_at=datetime(2024, 2, 28, 9, 0, tzinfo=UTC),
            original_url="https://other.example/original",
            amp_web_url="https://other.example/amp",
            cdn_amp_web_url="https://cdn.example.net/other",
            type="article",
            quality=137,
            provider=ProviderRecord(name="Other", domain="other.example"),
            images=(ImageRecord(url="https://other.example/i.png"),),
        ),
    )
    assert article.extra == {}
    assert article.warnings == ()


def test_optional_fields_may_be_null() -> None:
    text = article_text(
        "excerpt:", "quality: null", "published: ~", "provider:", "topics:", "related:"
    )
    article = parse(text)
    assert (article.excerpt, article.quality, article.published) == (None, None, None)
    assert (article.provider, article.topics, article.related) == (None, (), ())


def test_bom_is_dropped_from_text_and_bytes() -> None:
    assert parse("\ufeff" + article_text()).title == "Robots learn to sort recycling"
    data = b"\xef\xbb\xbf" + article_text().encode()
    assert decode_article(data, path=PATH).title == "Robots learn to sort recycling"


def test_crlf_line_endings_are_accepted_and_keep_line_numbers() -> None:
    text = article_text("quality: high", body="Line one.\nLine two.").replace("\n", "\r\n")
    assert (error_of(text).line, error_of(text).field) == (5, "quality")
    article = parse(article_text(body="Line one.\nLine two.").replace("\n", "\r\n"))
    assert article.body == "Line one.\nLine two."


def test_lone_cr_line_endings_count_as_newlines() -> None:
    text = article_text("heat: hot").replace("\n", "\r")
    assert (error_of(text).line, error_of(text).column) == (5, 7)


def test_opening_fence_may_have_trailing_spaces() -> None:
    assert parse(article_text().replace("---\n", "---  \t\n", 1)).title.startswith("Robots")


def test_front_matter_may_close_with_three_dots() -> None:
    text = "---\n" + "\n".join(BASE.values()) + "\n...\nThe body.\n"
    assert parse(text).body == "The body."


@pytest.mark.parametrize("ending", ["---", "---\n", "...", "---   "])
def test_closing_fence_may_be_the_last_line(ending: str) -> None:
    article = parse("---\n" + "\n".join(BASE.values()) + "\n" + ending)
    assert article.body == ""


@pytest.mark.parametrize(
    "text",
    ["", "Just Markdown.\n", "----\ntitle: x\n----\n", " ---\ntitle: x\n---\n", "# ---\n"],
)
def test_file_without_front_matter_is_skipped(text: str) -> None:
    assert skip_reason(text) == "no front matter"


@pytest.mark.parametrize("text", ["---\ntitle: Cut off\n", "---", "---\n", "---\n--- x\n"])
def test_front_matter_that_never_closes_is_an_error_on_line_1(text: str) -> None:
    error = error_of(text)
    assert (error.line, error.column, error.field) == (1, 1, None)
    assert "never closes" in error.message
    assert str(error).startswith(f"{PATH}:1:1: -: front matter")


def test_body_is_the_text_after_the_fence_without_blank_lines_around_it() -> None:
    body = "\n  \n    indented code\n\nParagraph with a rule:\n\n---\n\nEnd.  \n\n\n"
    assert (
        parse(article_text(body=body)).body
        == "    indented code\n\nParagraph with a rule:\n\n---\n\nEnd."
    )


def test_invalid_utf8_names_line_and_column_of_the_first_bad_byte() -> None:
    data = article_text("excerpt: café").encode().replace("é".encode(), b"\xe9")
    with pytest.raises(ArticleError) as info:
        decode_article(data, path=PATH)
    record = info.value.record
    assert (record.line, record.column, record.field) == (5, 13, None)
    assert "not valid UTF-8" in record.message and "0xe9" in record.message


def test_invalid_utf8_after_a_bom_and_crlf_counts_lines_like_an_editor() -> None:
    data = b"\xef\xbb\xbf---\r\ntitle: a\xff\r\n---\r\n"
    with pytest.raises(ArticleError) as info:
        decode_article(data, path=PATH)
    assert (info.value.record.line, info.value.record.column) == (2, 9)


def test_lone_surrogate_in_text_is_an_error() -> None:
    error = error_of(article_text("excerpt: bad \ud800 char"))
    assert (error.line, error.column) == (5, 14)
    assert "surrogate" in error.message


# --- what is an article -------------------------------------------------------------------------


def test_front_matter_without_title_is_skipped_as_not_an_article() -> None:
    text = "---\nname: Ada Lovelace\ntype: profile\ntwitter: {followers: 2021-02-30}\n---\n"
    assert skip_reason(text) == "front matter has no title"


@pytest.mark.parametrize("front_matter", ["", "# only a comment\n", "~\n"])
def test_empty_front_matter_is_skipped(front_matter: str) -> None:
    assert skip_reason(f"---\n{front_matter}---\nBody\n") == "front matter has no title"


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("title:", "null"),
        ("title: ''", "a string ('')"),
        ("title: '   '", "a string ('   ')"),
        ("title: 2021", "an integer (2021)"),
        ("title: [a]", "a list"),
    ],
)
def test_title_must_be_a_non_empty_string(line: str, found: str) -> None:
    error = error_of(article_text(line, drop=("title",)))
    assert (error.field, error.line) == ("title", 4)
    assert error.message == f"expected a non-empty string, found {found}"


@pytest.mark.parametrize(("yaml_text", "found"), [("- a\n- b\n", "a list"), ("x\n", "'x'")])
def test_front_matter_must_be_a_mapping(yaml_text: str, found: str) -> None:
    error = error_of(f"---\n{yaml_text}---\n")
    assert (error.line, error.column) == (2, 1)
    assert "must be a mapping" in error.message and found in error.message


# --- required fields ----------------------------------------------------------------------------


def test_missing_published_date_time_is_an_error_naming_the_field() -> None:
    error = error_of(article_text(drop=("publishedDateTime",)))
    assert (error.field, error.line, error.column) == ("publishedDateTime", 2, 1)
    assert "missing" in error.message


def test_null_published_date_time_points_at_its_line() -> None:
    error = error_of(article_text("publishedDateTime:", drop=("publishedDateTime",)))
    assert (error.field, error.line) == ("publishedDateTime", 4)


def test_web_url_falls_back_to_original_url() -> None:
    article = parse(article_text("originalUrl: https://youtube.com/watch?v=x", drop=("webUrl",)))
    assert article.web_url == article.original_url == "https://youtube.com/watch?v=x"


def test_null_web_url_also_falls_back_to_original_url() -> None:
    article = parse(article_text("webUrl:", "originalUrl: https://a.example/x", drop=("webUrl",)))
    assert article.web_url == "https://a.example/x"


def test_article_without_any_url_is_an_error_naming_web_url() -> None:
    error = error_of(article_text(drop=("webUrl",)))
    assert error.field == "webUrl"
    assert error.message == "missing: an article needs webUrl or originalUrl"


# --- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-01-18T07:00:00Z", datetime(2021, 1, 18, 7, tzinfo=UTC)),
        ("2021-01-18T07:00:00-08:00", datetime(2021, 1, 18, 15, tzinfo=UTC)),
        ("2021-01-18T07:00:00.5+01:00", datetime(2021, 1, 18, 6, 0, 0, 500000, tzinfo=UTC)),
        ("2021-01-18 07:00:00", datetime(2021, 1, 18, 7, tzinfo=UTC)),
        ("2021-01-18T07:00:00", datetime(2021, 1, 18, 7, tzinfo=UTC)),
        ("2021-01-18", datetime(2021, 1, 18, tzinfo=UTC)),
        ("'2021-01-18T07:00:00Z'", datetime(2021, 1, 18, 7, tzinfo=UTC)),
        ("'2021-01-18T07:00:00-08:00'", datetime(2021, 1, 18, 15, tzinfo=UTC)),
        ("'2021-01-18T07:00'", datetime(2021, 1, 18, 7, tzinfo=UTC)),
        ("'2021-01-18'", datetime(2021, 1, 18, tzinfo=UTC)),
    ],
)
def test_timestamps_are_stored_as_aware_utc(value: str, expected: datetime) -> None:
    text = article_text(f"publishedDateTime: {value}", drop=("publishedDateTime",))
    published_at = parse(text).published_at
    assert published_at == expected
    assert published_at.utcoffset() is not None and published_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("20210118", "expected a timestamp, found an integer (20210118)"),
        ("[2021-01-18]", "expected a timestamp, found a list"),
        ("yesterday", "expected an ISO 8601 timestamp such as 2021-01-18T07:00:00Z"),
        ("'99999-01-01T00:00:00Z'", "out of range (years 1 to 9999)"),
        ("2021-02-30T00:00:00Z", "cannot read '2021-02-30T00:00:00Z' as a YAML timestamp"),
        ("0000-01-01", "year 0 is out of range"),
        ("9999-12-31T23:00:00-05:00", "out of range once converted to UTC"),
    ],
)
def test_bad_timestamps_are_errors(value: str, message: str) -> None:
    error = error_of(article_text(f"publishedDateTime: {value}", drop=("publishedDateTime",)))
    assert (error.field, error.line, error.column) == ("publishedDateTime", 4, 20)
    assert message in error.message


# --- strict types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("quality: high", "quality", "expected an integer, found a string ('high')"),
        ("quality: '42'", "quality", "expected an integer, found a string ('42')"),
        ("quality: 4.5", "quality", "expected an integer, found a number (4.5)"),
        ("heat: true", "heat", "expected an integer, found a boolean (true)"),
        ("published: 'true'", "published", "expected a boolean (true or false), found a string"),
        ("published: 1", "published", "expected a boolean (true or false), found an integer (1)"),
        ("category: 5", "category", "expected a string, found an integer (5)"),
        ("excerpt: [a, b]", "excerpt", "expected a string, found a list"),
        ("type: {a: 1}", "type", "expected a string, found a mapping"),
        ("secured: 2021-01-01", "secured", "expected a string, found a date (2021-01-01)"),
    ],
)
def test_wrong_types_are_errors_not_guesses(line: str, field: str, message: str) -> None:
    error = error_of(article_text(line))
    assert (error.field, error.line) == (field, 5)
    assert error.column == line.index(":") + 3
    assert error.message.startswith(message)


@pytest.mark.parametrize("key", ["webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl"])
@pytest.mark.parametrize(
    "value",
    [
        "ftp://example.com/a",
        "/relative/path",
        "https://",
        "https://exa mple.com/",
        "42",
        "mailto:x",
    ],
)
def test_urls_must_be_http_or_https_with_a_host(key: str, value: str) -> None:
    drop = ("webUrl",) if key == "webUrl" else ()
    error = error_of(article_text(f"{key}: '{value}'", drop=drop))
    assert (error.field, error.line) == (key, 4 if drop else 5)
    assert "http(s) URL" in error.message


def test_url_of_the_wrong_type_is_an_error() -> None:
    error = error_of(article_text("ampWebUrl: [https://example.com]"))
    assert (error.field, error.message) == ("ampWebUrl", "expected an http(s) URL, found a list")


def test_image_fields_are_typed_and_named_by_index() -> None:
    text = article_text("images:", "  - url: /a.png", "  - url: /b.png", "    width: '640'")
    error = error_of(text)
    assert (error.field, error.line, error.column) == ("images[1].width", 8, 12)
    assert error.message == "expected an integer, found a string ('640')"


@pytest.mark.parametrize(
    ("lines", "field", "line"),
    [
        (("images:", "  - width: 5"), "images[0].url", 6),
        (("images:", "  - url: ''"), "images[0].url", 6),
        (("images:", "  - https://a.example/x.png"), "images[0]", 6),
        (("images: https://a.example/x.png",), "images", 5),
        (("images:", "  - url: /x.png", "    isCached: 'yes'"), "images[0].isCached", 7),
    ],
)
def test_bad_images_are_errors(lines: tuple[str, ...], field: str, line: int) -> None:
    error = error_of(article_text(*lines))
    assert (error.field, error.line) == (field, line)


def test_image_url_may_be_relative() -> None:
    article = parse(article_text("images: [{url: /assets/images/x.jpg, isCached: false}]"))
    assert article.images == (ImageRecord(url="/assets/images/x.jpg", is_cached=False),)


# --- provider, topics, related ------------------------------------------------------------------


def test_provider_domain_is_lower_cased_and_stripped() -> None:
    provider = parse(article_text("provider: {name: TechSpot, domain: ' TechSpot.COM '}")).provider
    assert provider == ProviderRecord(name="TechSpot", domain="techspot.com")


@pytest.mark.parametrize(
    ("lines", "field", "line", "message"),
    [
        (("provider: {name: X}",), "provider.domain", 5, "expected a non-empty domain string"),
        (("provider:", "  domain: ''"), "provider.domain", 6, "found a string ('')"),
        (("provider:", "  domain: 42"), "provider.domain", 6, "found an integer (42)"),
        (("provider: Example",), "provider", 5, "expected a mapping, found a string"),
        (("provider:", "  domain: a.example", "  name: [x]"), "provider.name", 7, "a list"),
    ],
)
def test_bad_providers_are_errors(
    lines: tuple[str, ...], field: str, line: int, message: str
) -> None:
    error = error_of(article_text(*lines))
    assert (error.field, error.line) == (field, line)
    assert message in error.message


def test_topics_are_stripped_and_collapse_case_insensitively_first_spelling_wins() -> None:
    text = article_text("topics: [AI, ' Robots ', ai, Straße, STRASSE, robots, Vision]")
    assert parse(text).topics == ("AI", "Robots", "Straße", "Vision")


@pytest.mark.parametrize(
    ("line", "field", "column"),
    [("topics: [AI, '']", "topics[1]", 14), ("topics: [AI, 5]", "topics[1]", 14)],
)
def test_topics_must_be_non_empty_strings(line: str, field: str, column: int) -> None:
    error = error_of(article_text(line))
    assert (error.field, error.line, error.column) == (field, 5, column)
    assert error.message.startswith("expected a non-empty string")


def test_topics_must_be_a_list() -> None:
    error = error_of(article_text("topics: AI"))
    assert (error.field, error.message) == ("topics", "expected a list, found a string ('AI')")


def related_text(*items: str) -> str:
    return article_text("related:", *items)


@pytest.mark.parametrize(
    ("items", "field", "line", "message"),
    [
        (
            ("  - webUrl: https://a.example/1", "  - webUrl: https://a.example/2", "  - title: x"),
            "related[2].webUrl",
            8,
            "missing: a related item needs a webUrl",
        ),
        (("  - webUrl: 'a.example/1'",), "related[0].webUrl", 6, "expected an http(s) URL"),
        (("  - just a string",), "related[0]", 6, "expected a mapping, found a string"),
        (
            ("  - webUrl: https://a.example/1", "    quality: '9'"),
            "related[0].quality",
            7,
            "expected an integer",
        ),
        (
            ("  - webUrl: https://a.example/1", "    provider: {name: A}"),
            "related[0].provider.domain",
            7,
            "expected a non-empty domain string, found null",
        ),
        (
            ("  - webUrl: https://a.example/1", "    publishedDateTime: soon"),
            "related[0].publishedDateTime",
            7,
            "expected an ISO 8601 timestamp",
        ),
        (
            ("  - webUrl: https://a.example/1", "    images: [{url: 3}]"),
            "related[0].images[0].url",
            7,
            "expected a non-empty string, found an integer (3)",
        ),
    ],
)
def test_bad_related_items_are_errors_named_by_index(
    items: tuple[str, ...], field: str, line: int, message: str
) -> None:
    error = error_of(related_text(*items))
    assert (error.field, error.line) == (field, line)
    assert message in error.message


def test_related_item_needs_only_a_web_url() -> None:
    related = parse(related_text("  - webUrl: https://a.example/1")).related
    assert related == (RelatedRecord(web_url="https://a.example/1"),)


# --- nothing is lost ----------------------------------------------------------------------------


def test_unknown_keys_are_kept_in_extra_as_json() -> None:
    text = article_text(
        "price: Free",
        "length: PT7M25S",
        "ratings: {count: 15, average: 4.2}",
        "startDateTime: 2021-01-01T09:00:00Z",
        "day: 2021-01-01",
        "levels: [Beginner, null]",
    )
    extra = parse(text).extra
    assert extra == {
        "price": "Free",
        "length": "PT7M25S",
        "ratings": {"count": 15, "average": 4.2},
        "startDateTime": "2021-01-01T09:00:00+00:00",
        "day": "2021-01-01",
        "levels": ["Beginner", None],
    }
    assert json.loads(json.dumps(extra)) == extra


def test_unknown_nested_keys_are_kept_under_their_field_path() -> None:
    text = article_text(
        "provider:",
        "  domain: amazon.com",
        "  authors: [{name: Chris}]",
        "  images: [{url: /a.png, alt: logo}]",
        "images: [{url: /b.png, credit: me}]",
        "related:",
        "  - webUrl: https://a.example/1",
        "  - webUrl: https://a.example/2",
        "    foo: {when: 2020-05-01}",
        "    provider: {domain: a.example, slogan: hi}",
    )
    assert parse(text).extra == {
        "provider.authors": [{"name": "Chris"}],
        "provider.images[0].alt": "logo",
        "images[0].credit": "me",
        "related[1].foo": {"when": "2020-05-01"},
        "related[1].provider.slogan": "hi",
    }


def test_keys_are_kept_as_written_even_when_yaml_reads_them_as_other_types() -> None:
    extra = parse(article_text("on: 1", "2020: year", "true: yes")).extra
    assert extra == {"on": 1, "2020": "year", "true": True}


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_key_last_wins_with_a_warning() -> None:
    article = parse(article_text("title: The second title"))
    assert article.title == "The second title"
    assert article.warnings == ("line 5: duplicate key 'title' (the last value wins)",)


def test_duplicate_nested_key_warning_names_its_path() -> None:
    text = related_text("  - webUrl: https://a.example/1", "    webUrl: https://a.example/2")
    article = parse(text)
    assert article.related[0].web_url == "https://a.example/2"
    assert article.warnings == ("line 7: duplicate key 'related[0].webUrl' (the last value wins)",)


def test_error_in_a_duplicated_key_points_at_the_value_that_wins() -> None:
    error = error_of(article_text("quality: 1", "quality: lots"))
    assert (error.field, error.line) == ("quality", 6)


# --- YAML problems ------------------------------------------------------------------------------


def test_yaml_syntax_error_names_the_file_line_and_column() -> None:
    error = error_of(article_text("excerpt: one", "  bad: indentation: here"))
    assert (error.line, error.field) == (6, None)
    assert error.message.startswith("invalid YAML: ")


def test_unclosed_flow_sequence_is_a_syntax_error() -> None:
    error = error_of(article_text("topics: [AI, Robots"))
    assert error.line is not None and error.line >= 5
    assert "invalid YAML" in error.message


def test_column_counts_characters_not_bytes() -> None:
    error = error_of(article_text("excerpt: 'déjà vu 😀'", "quality: [x]"))
    assert (error.line, error.column) == (6, 10)
    error = error_of(article_text("excerpt: 'déjà vu 😀' : [x"))
    assert error.line == 5


def test_control_characters_are_errors_at_their_position() -> None:
    error = error_of(article_text("excerpt: 'a\x0cb'"))
    assert (error.line, error.column) == (5, 12)
    assert "#x000c" in error.message


def test_unsupported_tags_are_errors() -> None:
    error = error_of(article_text("excerpt: !python/object x"))
    assert (error.field, error.line) == ("excerpt", 5)
    assert "unsupported YAML tag '!python/object'" in error.message


def test_impossible_explicitly_tagged_value_is_an_error() -> None:
    error = error_of(article_text("flag: !!bool maybe"))
    assert (error.field, error.line) == ("flag", 5)
    assert "cannot read 'maybe' as a YAML bool" in error.message


def test_merge_keys_are_not_supported() -> None:
    error = error_of(article_text("<<: {quality: 5}"))
    assert (error.line, error.column) == (5, 1)
    assert "merge keys" in error.message


def test_mapping_keys_must_be_scalars() -> None:
    error = error_of(article_text("? [a, b]", ": value"))
    assert (error.line, error.column) == (5, 3)
    assert "key must be a plain string" in error.message


# --- limits -------------------------------------------------------------------------------------


def test_aliases_are_rejected_at_the_alias() -> None:
    error = error_of(article_text("excerpt: &e Shared text", "x:", "  copy: *e"))
    assert (error.line, error.column) == (7, 9)
    assert "aliases are not allowed" in error.message and "*e" in error.message


def test_anchors_alone_are_rejected_too() -> None:
    error = error_of(article_text("excerpt: &e Shared text"))
    assert (error.line, error.column) == (5, 10)
    assert "anchors are not allowed" in error.message


def test_ampersands_in_text_are_not_anchors() -> None:
    text = article_text("excerpt: 'R&D at AT&T: Q & A, &amp; more'", "x: 'a &b'")
    assert parse(text).excerpt == "R&D at AT&T: Q & A, &amp; more"


def test_aliases_can_be_allowed() -> None:
    text = article_text("excerpt: &e Shared", "x: {copy: *e, list: &l [1, 2]}", "y: *l")
    article = parse(text, allow_aliases=True)
    assert article.excerpt == "Shared"
    assert article.extra == {"x": {"copy": "Shared", "list": [1, 2]}, "y": [1, 2]}


def billion_laughs(levels: int = 10) -> list[str]:
    lines = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"lol{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return lines


# A large but legitimate front matter (10,000 list items): hostile input must cost no more
# than a small multiple of it. Unguarded, the inputs below would cost millions of times more.
LARGE_LEGITIMATE = article_text("big: [" + ", ".join(["lol"] * 10_000) + "]")


def fastest(work: Callable[[], object], runs: int = 3) -> float:
    """The fastest of a few runs: the one least disturbed by other work on a loaded machine."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def assert_costs_at_most_ten_large_articles(work: Callable[[], object]) -> None:
    """A ratio against a baseline measured in the same run, not a wall-clock bound."""
    baseline = fastest(lambda: parse(LARGE_LEGITIMATE))
    assert fastest(work) < 10 * baseline


@pytest.mark.parametrize("allow_aliases", [False, True])
def test_billion_laughs_is_rejected_fast(allow_aliases: bool) -> None:
    text = article_text(*billion_laughs())
    error = error_of(text, allow_aliases=allow_aliases)
    expected = "expand to more than" if allow_aliases else "not allowed"
    assert expected in error.message
    assert_costs_at_most_ten_large_articles(lambda: error_of(text, allow_aliases=allow_aliases))


def test_recursive_alias_is_rejected_by_the_depth_limit() -> None:
    error = error_of(article_text("x: &a [*a]"), allow_aliases=True)
    assert "nesting is deeper than 32 levels" in error.message


@pytest.mark.parametrize("kind", ["flow", "block"])
def test_ten_thousand_levels_of_nesting_are_rejected_fast(kind: str) -> None:
    if kind == "flow":
        deep = "deep: " + "[" * 10_000 + "]" * 10_000
    else:
        deep = "deep:\n" + "- " * 10_000 + "x"
    error = error_of(article_text(deep))
    assert error.line is not None and error.line >= 5
    assert "nesting is deeper than 32 levels" in error.message
    assert_costs_at_most_ten_large_articles(lambda: error_of(article_text(deep)))


def nested(levels: int) -> str:
    """`x:` holding `levels` nested lists: with the top mapping that is `levels + 1` levels."""
    return "x: " + "[" * levels + "]" * levels


def test_nesting_up_to_the_limit_is_accepted_and_beyond_it_rejected() -> None:
    assert parse(article_text(nested(31))).extra["x"] is not None
    error = error_of(article_text(nested(32)))
    assert (error.line, error.column) == (5, 35)
    assert error.field is not None and error.field.startswith("x[0][0]")
    assert error.message == "nesting is deeper than 32 levels"


def test_nesting_limit_is_configurable() -> None:
    assert parse(article_text(nested(40)), max_depth=41).title
    assert "deeper than 4 levels" in error_of(article_text(nested(4)), max_depth=4).message


def test_text_over_max_bytes_is_rejected() -> None:
    text = article_text(body="x" * 2000)
    assert "larger than the limit of 1000 bytes" in error_of(text, max_bytes=1000).message
    with pytest.raises(ArticleError):
        decode_article(text.encode(), path=PATH, limits=ParseLimits(max_bytes=1000))


def test_max_bytes_counts_utf8_bytes_not_characters() -> None:
    text = article_text(body="€" * 300)  # ~100 characters of front matter, 900 bytes of body
    assert len(text) < 1000 < len(text.encode())
    assert "larger than the limit" in error_of(text, max_bytes=1000).message
    assert parse(text, max_bytes=len(text.encode())).body == "€" * 300


# --- errors and slugs ---------------------------------------------------------------------------


def test_article_error_reads_path_line_column_field_message() -> None:
    error = ArticleError(ErrorRecord(PATH, "expected an integer", 5, 10, "quality"))
    assert str(error) == f"{PATH}:5:10: quality: expected an integer"
    assert isinstance(error, IngestError)


def test_errors_survive_pickling_across_processes() -> None:
    error = pickle.loads(pickle.dumps(ArticleError(ErrorRecord(PATH, "bad", 1, 2, "x"))))
    assert error.record == ErrorRecord(PATH, "bad", 1, 2, "x")
    with pytest.raises(NotAnArticle) as info:
        parse("no front matter")
    skipped = pickle.loads(pickle.dumps(info.value))
    assert skipped.record == info.value.record
    assert str(skipped) == f"{PATH}: skipped: no front matter"


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("_news/2020-11-18-lapd-bans-facial-recognition.md", "lapd-bans-facial-recognition"),
        (
            "_archive/_news/2020-11-18-lapd-bans-facial-recognition.md",
            "lapd-bans-facial-recognition",
        ),
        ("_people/animashree-anandkumar.md", "animashree-anandkumar"),
        ("notes.markdown", "notes"),
        ("2020-01-01.md", "2020-01-01"),
        ("a/2021-1-8-short-date.md", "2021-1-8-short-date"),
        ("a/2021-01-18-v1.2-release.md", "v1.2-release"),
    ],
)
def test_slug_is_the_file_name_without_extension_and_date(path: str, slug: str) -> None:
    assert slug_for(path) == slug


# --- the real corpus ----------------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the smartable-ai corpus is not checked out")
def test_real_corpus_parses_into_articles_errors_and_skips() -> None:
    outcomes: Counter[str] = Counter()
    errors: list[ErrorRecord] = []
    for file in sorted(CORPUS.rglob("*.md")):
        path = file.relative_to(CORPUS).as_posix()
        try:
            article = decode_article(file.read_bytes(), path=path)
        except NotAnArticle as skip:
            assert skip.record.reason == "front matter has no title"
            assert path.split("/")[0] in ("_people", "_events", "_companies")
            outcomes["skipped"] += 1
        except ArticleError as error:
            errors.append(error.record)
            outcomes["errors"] += 1
        else:
            assert article.published_at.tzinfo == UTC and article.web_url.startswith("http")
            json.dumps(article.extra)
            outcomes["articles"] += 1
    assert outcomes == {"articles": 167, "errors": 8, "skipped": 25}
    never_closes = [e for e in errors if e.path.startswith("_archive/")]
    assert len(never_closes) == 1 and "never closes" in never_closes[0].message
    learning = [e for e in errors if e.path.startswith("_learning/")]
    assert len(learning) == 7
    assert {e.field for e in learning} == {"publishedDateTime"}
