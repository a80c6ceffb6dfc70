"""The synthetic article generator and the front-matter renderer it (and the test fixtures) use."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from newsgraph.demo import render_article, write_demo_content
from newsgraph.ingest.parse import parse_article

SEED = 7
COUNT = 300
# libyaml's loader when available: the same safe construction, just quicker over 300 files.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FILE_NAME = re.compile(r"\d{4}-\d{2}-\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*\.md\Z")


def front_matter(text: str) -> dict[str, Any]:
    """The YAML mapping between the opening and closing `---` lines."""
    assert text.startswith("---\n")
    end = text.index("\n---\n", 3)
    loaded = yaml.load(text[4:end], Loader=LOADER) if end > 3 else {}
    assert isinstance(loaded, dict)
    return loaded


def relative_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "content"
    write_demo_content(root, count=COUNT, seed=SEED)
    return root


@pytest.fixture(scope="module")
def articles(demo_root: Path) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(demo_root).as_posix(): front_matter(path.read_text(encoding="utf-8"))
        for path in sorted(demo_root.rglob("*.md"))
    }


def test_same_seed_writes_byte_identical_files(tmp_path: Path, demo_root: Path) -> None:
    write_demo_content(tmp_path / "again", count=COUNT, seed=SEED)
    assert relative_files(tmp_path / "again") == relative_files(demo_root)


def test_different_seed_writes_different_files(tmp_path: Path, demo_root: Path) -> None:
    write_demo_content(tmp_path / "other", count=COUNT, seed=SEED + 1)
    assert relative_files(tmp_path / "other") != relative_files(demo_root)


def test_writes_count_files_and_returns_their_paths(tmp_path: Path) -> None:
    paths = write_demo_content(tmp_path / "new" / "root", count=40, seed=1)
    assert len(paths) == len(set(paths)) == 40
    assert sorted(paths) == sorted(p for p in (tmp_path / "new" / "root").rglob("*") if p.is_file())


def test_zero_count_writes_nothing_and_negative_count_is_refused(tmp_path: Path) -> None:
    assert write_demo_content(tmp_path / "empty", count=0, seed=1) == []
    with pytest.raises(ValueError, match="count"):
        write_demo_content(tmp_path / "bad", count=-1, seed=1)


def test_files_are_named_by_date_and_slug_across_several_folders(demo_root: Path) -> None:
    paths = list(demo_root.rglob("*.md"))
    assert all(FILE_NAME.match(p.name) for p in paths)
    folders = {p.parent.relative_to(demo_root).as_posix().split("/")[0] for p in paths}
    assert {"_news", "_archive", "world", "tech"} <= folders


def test_some_archive_files_share_a_file_name_with_news_files(demo_root: Path) -> None:
    news = {p.name for p in (demo_root / "_news").iterdir()}
    archived = {p.name for p in (demo_root / "_archive" / "_news").iterdir()}
    assert news & archived


def test_every_file_is_yaml_with_the_required_keys(articles: dict[str, dict[str, Any]]) -> None:
    assert len(articles) == COUNT
    for fields in articles.values():
        assert isinstance(fields["title"], str) and fields["title"]
        assert isinstance(fields["publishedDateTime"], datetime)
        assert fields["publishedDateTime"].tzinfo is not None
        assert fields.get("webUrl") or fields.get("originalUrl")


def test_timestamps_are_written_unquoted_with_z_or_an_offset(demo_root: Path) -> None:
    stamp = re.compile(
        r"^publishedDateTime: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$", re.M
    )
    zones = Counter[bool]()
    for path in demo_root.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        found = stamp.search(text)
        assert found, path
        zones[found.group(1) == "Z"] += 1
    assert zones[True] and zones[False]


def test_some_related_items_resolve_to_other_generated_articles(
    articles: dict[str, dict[str, Any]],
) -> None:
    web_urls = {fields["webUrl"] for fields in articles.values() if "webUrl" in fields}
    related = [item["webUrl"] for f in articles.values() for item in f.get("related", [])]
    assert sum(url in web_urls for url in related) > 20
    assert sum(url not in web_urls for url in related) > 20
    assert max(len(f.get("related", [])) for f in articles.values()) == 10


def test_optional_fields_vary_across_files(articles: dict[str, dict[str, Any]]) -> None:
    files = list(articles.values())

    def some(predicate: Any) -> bool:
        return any(predicate(f) for f in files)

    assert some(lambda f: "webUrl" not in f and "originalUrl" in f)
    assert some(lambda f: "webUrl" in f and "originalUrl" in f)
    assert some(lambda f: "ampWebUrl" in f) and some(lambda f: "cdnAmpWebUrl" in f)
    assert some(lambda f: "category" not in f) and some(lambda f: "excerpt" not in f)
    assert some(lambda f: f.get("heat") == -1) and some(lambda f: "quality" not in f)
    assert {f.get("published", "absent") for f in files} == {True, False, "absent"}
    assert some(lambda f: "provider" not in f)
    assert some(lambda f: len(f.get("provider", {}).get("images", [])) == 3)
    assert some(lambda f: "topics" not in f) and some(lambda f: len(f.get("topics", [])) >= 5)
    assert some(lambda f: any("isCached" in i and "title" in i for i in f.get("images", [])))
    assert some(lambda f: "secured" in f) and some(lambda f: "sponsor" in f)


def test_some_files_repeat_a_topic_in_another_case(articles: dict[str, dict[str, Any]]) -> None:
    def has_case_twin(topics: list[str]) -> bool:
        return len({t.casefold() for t in topics}) < len(topics)

    assert any(has_case_twin(f.get("topics", [])) for f in articles.values())


def test_some_providers_share_a_domain_under_other_names_or_case(
    articles: dict[str, dict[str, Any]],
) -> None:
    by_domain: dict[str, set[tuple[str, str]]] = {}
    for fields in articles.values():
        if "provider" in fields:
            name, domain = fields["provider"]["name"], fields["provider"]["domain"]
            by_domain.setdefault(domain.lower(), set()).add((name, domain))
    spellings = [{domain for _name, domain in seen} for seen in by_domain.values()]
    names = [{name for name, _domain in seen} for seen in by_domain.values()]
    assert any(len(s) > 1 for s in spellings)
    assert any(len(n) > 1 for n in names)


def test_titles_and_excerpts_carry_unicode_and_searchable_words(
    articles: dict[str, dict[str, Any]],
) -> None:
    titles = [f["title"] for f in articles.values()]
    excerpts = [f["excerpt"] for f in articles.values() if "excerpt" in f]
    assert any(not t.isascii() for t in titles)
    assert any(not e.isascii() for e in excerpts)
    text = " ".join(titles + excerpts).lower()
    for word in ("quantum", "robotics", "climate"):
        assert word in text


def test_some_files_have_a_markdown_body(demo_root: Path) -> None:
    bodies = [p.read_text(encoding="utf-8").split("\n---\n", 1)[1] for p in demo_root.rglob("*.md")]
    assert any(body.strip().startswith(("## ", "**")) or len(body) > 200 for body in bodies)
    assert any(body.strip() == "" for body in bodies)


def test_every_generated_file_parses_as_an_article_without_warnings(
    demo_root: Path, articles: dict[str, dict[str, Any]]
) -> None:
    for relpath, fields in articles.items():
        record = parse_article((demo_root / relpath).read_text(encoding="utf-8"), path=relpath)
        assert record.title == fields["title"]
        assert record.web_url == fields.get("webUrl", fields.get("originalUrl"))
        assert record.warnings == ()
        assert len(record.topics) == len({t.casefold() for t in fields.get("topics", [])})


def test_files_average_one_to_four_kilobytes(demo_root: Path) -> None:
    sizes = [p.stat().st_size for p in demo_root.rglob("*.md")]
    assert 1024 <= sum(sizes) / len(sizes) <= 4096


# fmt: off
TRICKY_STRINGS = [
    "yes", "No", "null", "~", "true", "5G", "1.5", "0x1F", "2024-01-01", "", " ", "-", "- item",
    "a: b", "a #b", "# x", "trail:", "[x]", "{x}", "@at", "%p", "!tag", "*alias", "&anchor", "|",
    ">", "'single'", '"double"', "back\\slash", "line\nbreak", "tab\there", "  padded  ",
    "Signal & Noise", "café 東京 🚀", "nel\x85ls\u2028ps\u2029", "del\x7f", "bom\ufeff",
]
# fmt: on


@pytest.mark.parametrize("value", TRICKY_STRINGS)
def test_rendered_strings_load_back_unchanged(value: str) -> None:
    fields = {"title": value, "topics": [value], "provider": {"name": value}}
    assert front_matter(render_article(fields)) == fields


def test_rendered_values_of_every_supported_type_load_back_equal() -> None:
    fields: dict[str, Any] = {
        "title": "Mixed",
        "publishedDateTime": datetime(2024, 3, 1, 8, 15, tzinfo=UTC),
        "offset": datetime(2024, 3, 1, 8, 15, 30, 250000, tzinfo=timezone(timedelta(hours=-8))),
        "naive": datetime(2024, 3, 1, 8, 15),
        "day": date(2024, 3, 1),
        "quality": 137,
        "heat": -1,
        "ratio": 0.25,
        "big": 1e20,
        "published": False,
        "nothing": None,
        "empty_list": [],
        "empty_map": {},
        "related": [{"title": "A", "images": [{"url": "https://x.example/1.jpg"}]}],
        "nested": [[1, 2], {"a": [True]}],
    }
    assert front_matter(render_article(fields)) == fields


def test_render_writes_timestamps_unquoted_and_utc_as_z() -> None:
    text = render_article({"publishedDateTime": datetime(2024, 3, 1, 8, 15, tzinfo=UTC)})
    assert "publishedDateTime: 2024-03-01T08:15:00Z\n" in text


def test_render_sets_blocks_apart_and_appends_the_body() -> None:
    text = render_article({"title": "T", "topics": ["AI"], "secured": "x"}, "Body text")
    assert text == "---\ntitle: T\n\ntopics:\n  - AI\n\nsecured: x\n---\n\nBody text\n"


def test_render_refuses_values_yaml_cannot_carry() -> None:
    with pytest.raises(TypeError, match="set"):
        render_article({"title": {1, 2}})


@given(st.dictionaries(st.text(min_size=1, max_size=40), st.text() | st.integers() | st.booleans()))
def test_any_text_round_trips_through_the_renderer(fields: dict[str, Any]) -> None:
    assert front_matter(render_article(fields)) == fields


class Tags(list[str]):
    """A list subclass, as a caller's own collection types might be."""


def test_render_accepts_list_subclasses() -> None:
    fields = {"title": "T", "topics": Tags(["AI", "Climate"])}
    assert front_matter(render_article(fields)) == {"title": "T", "topics": ["AI", "Climate"]}
