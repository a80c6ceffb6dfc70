"""Collections: which files are events, people, organizations or learning, and how they parse."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsgraph.db.records import CollectionName
from newsgraph.ingest.collections import (
    DEFAULT_COLLECTIONS,
    BadCollectionRule,
    CollectionRules,
)
from newsgraph.ingest.entries import is_free, iso_duration_seconds, parse_entry
from newsgraph.ingest.errors import ArticleError, NotAnArticle
from newsgraph.ingest.scan import ScanSummary
from tests.collection_fixtures import (
    BOOK,
    COLLECTION,
    EVENT,
    ORGANIZATION,
    PERSON,
    SITE,
    VIDEO,
    write_site,
)

Ingest = Callable[..., ScanSummary]


def error_of(text: str, collection: CollectionName, path: str = "_x/f.md") -> ArticleError:
    with pytest.raises(ArticleError) as caught:
        parse_entry(text, path, collection)
    return caught.value


def test_default_rules_follow_the_folders_and_everything_else_is_an_article() -> None:
    rules = DEFAULT_COLLECTIONS
    assert rules.collection_for("_events/2030-x.md") == "event"
    assert rules.collection_for("_people/a.md") == "person"
    assert rules.collection_for("_companies/a.md") == "organization"
    assert rules.collection_for("_learning/books/a.md") == "learning"
    assert rules.collection_for("_news/a.md") is None
    assert rules.collection_for("notes/_events/a.md") is None


def test_custom_rules_are_ordered_and_article_opts_back_out() -> None:
    rules = CollectionRules.parse(["talks/drafts/**=article", "talks/**=event"])
    assert rules.collection_for("talks/a.md") == "event"
    assert rules.collection_for("talks/drafts/a.md") is None
    with pytest.raises(BadCollectionRule, match="GLOB=COLLECTION"):
        CollectionRules.parse(["talks/**=party"])


def test_an_event_parses_with_utc_times_and_its_details() -> None:
    event = parse_entry(EVENT, "_events/2030-05-04-robotics-summit.md", "event")
    assert (event.name, event.slug, event.kind) == (
        "Robotics Summit 2030", "robotics-summit", "conference"
    )  # fmt: skip
    assert event.starts_at == datetime(2030, 5, 4, 16, tzinfo=UTC)
    assert event.ends_at == datetime(2030, 5, 7, 0, tzinfo=UTC)
    assert event.location == "Oakland, CA"
    assert event.provider is not None and event.provider.domain == "summit.example.org"
    assert event.details["tags"] == ["Industry"] and event.topics == ("Robotics",)
    assert event.body == "Come and see **robots**."


def test_a_person_links_by_affiliation_domain() -> None:
    person = parse_entry(PERSON, "_people/ada-example.md", "person")
    assert (person.name, person.excerpt, person.heat) == (
        "Ada Example",
        "Builds sorting robots.",
        80,
    )
    assert person.domain == "sorters.example.com"
    assert person.details["twitter"] == {
        "username": "adaex", "url": "https://twitter.com/adaex", "followers": 1200
    }  # fmt: skip
    assert person.details["googleScholar"]["citations"] == 345


def test_an_organization_is_known_by_its_website_domain_without_www() -> None:
    org = parse_entry(ORGANIZATION, "_companies/sorters.md", "organization")
    assert org.domain == "sorters.example.com"
    assert (org.location, org.details["locations"]) == ("Porto", ["Porto", "Lisbon"])
    assert org.details["fundingStatus"] == "Seed" and org.details["yearFounded"] == 2021
    assert org.details["videos"] == ["https://video.example.com/watch?v=1"]


def test_learning_resources_need_no_date_and_collections_list_item_paths() -> None:
    book = parse_entry(BOOK, "_learning/books/robots-that-recycle.md", "learning")
    assert (book.kind, book.free, book.levels) == ("book", False, ("Intermediate", "Advanced"))
    assert book.details["ratingsAverage"] == 4.5 and book.details["authors"] == ["Ada Example"]
    assert book.details["lengthSeconds"] is None and book.details["publishedAt"] is None
    video = parse_entry(VIDEO, "_learning/videos/sorting-part-1.md", "learning")
    assert (video.kind, video.free, video.details["lengthSeconds"]) == ("video", True, 750)
    collection = parse_entry(COLLECTION, "_learning/collections/learn.md", "learning")
    assert collection.items == (
        "_learning/videos/sorting-part-1.md",
        "_learning/books/robots-that-recycle.md",
        "_learning/videos/not-written-yet.md",
    )


@pytest.mark.parametrize(
    ("price", "free"),
    [
        ("Free", True),
        ("Free+", True),
        ("$0.00", True),
        ("$22.00", False),
        ("$$", False),
        (None, None),
    ],
)
def test_free_is_read_from_the_price_text(price: str | None, free: bool | None) -> None:
    assert is_free(price) is free


def test_iso_durations_become_seconds_and_free_text_does_not() -> None:
    assert iso_duration_seconds("PT1H2M3S") == 3723
    assert iso_duration_seconds("9 hours") is None and iso_duration_seconds("P") is None


def test_errors_name_path_line_column_and_field() -> None:
    bad_start = EVENT.replace("startDateTime: 2030-05-04T09:00:00-07:00", "startDateTime: soon")
    record = error_of(bad_start, "event").record
    assert (record.path, record.line, record.column, record.field) == (
        "_x/f.md",
        5,
        16,
        "startDateTime",
    )
    record = error_of(EVENT.replace("2030-05-06T17", "2030-05-01T17"), "event").record
    assert record.field == "endDateTime" and "before" in record.message
    record = error_of(PERSON.replace("  followers: 1200", "  followers: many"), "person").record
    assert (record.field, record.line) == ("twitter.followers", 14)
    record = error_of(VIDEO.replace("type: video", "type: podcast"), "learning").record
    assert record.field == "type" and "video, article, course, book, collection" in record.message
    record = error_of(ORGANIZATION.replace('name: "Sorters Inc"\n', ""), "organization").record
    assert (record.field, record.message) == ("name", "missing: this field is required")
    record = error_of(
        COLLECTION.replace("  - books/robots-that-recycle", "  - 3"), "learning"
    ).record
    assert record.field == "items[1]"


def test_a_collection_file_without_front_matter_is_skipped() -> None:
    with pytest.raises(NotAnArticle):
        parse_entry("# Just notes\n", "_events/README.md", "event")


def test_every_collection_is_stored_with_its_file_state_and_change_rows(
    content_dir: Path, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    write_site(content_dir)
    summary = ingest()
    assert (summary.new, summary.errors, summary.skipped) == (len(SITE), 0, 0)
    assert dict(read_db.execute("SELECT collection, count(*) FROM entries GROUP BY 1")) == {
        "event": 2, "person": 1, "organization": 1, "learning": 3
    }  # fmt: skip
    assert {row[0] for row in read_db.execute("SELECT state FROM files")} == {"entry"}
    changes = read_db.execute("SELECT op, collection, path FROM changes ORDER BY seq").fetchall()
    assert sorted(tuple(c) for c in changes) == sorted(
        ("created", "learning" if p.startswith("_learning") else
         {"_e": "event", "_p": "person", "_c": "organization"}[p[:2]], p)
        for p in SITE
    )  # fmt: skip
    topics = {row[0] for row in read_db.execute("SELECT name FROM topics")}
    assert topics == {"Robotics", "Recycling", "Computer Vision"}
    hits = read_db.execute("SELECT rowid FROM entries_fts WHERE entries_fts MATCH 'robots'")
    assert len(hits.fetchall()) >= 2


def test_edits_deletes_and_bad_edits_of_entries(
    content_dir: Path, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    write_site(content_dir)
    ingest()
    person = content_dir / "_people/ada-example.md"
    person.write_text(PERSON.replace("heat: 80", "heat: 90"), encoding="utf-8")
    assert ingest().updated == 1
    assert tuple(
        read_db.execute("SELECT heat, revision FROM entries WHERE path LIKE '_people/%'").fetchone()
    ) == (90, 2)
    person.write_text(PERSON.replace("heat: 80", "heat: hot"), encoding="utf-8")
    assert ingest().errors == 1
    # The last good version stays; the error names the field.
    assert tuple(
        read_db.execute("SELECT heat FROM entries WHERE path LIKE '_people/%'").fetchone()
    ) == (90,)
    error = read_db.execute("SELECT field, line FROM ingest_errors").fetchone()
    assert tuple(error) == ("heat", 6)
    person.unlink()
    assert ingest().deleted == 1
    assert tuple(
        read_db.execute("SELECT count(*) FROM entries WHERE collection = 'person'").fetchone()
    ) == (0,)
    last = read_db.execute("SELECT op, collection FROM changes ORDER BY seq DESC").fetchone()
    assert tuple(last) == ("deleted", "person")
    assert tuple(read_db.execute("SELECT count(*) FROM ingest_errors").fetchone()) == (0,)


def test_topics_used_only_by_entries_survive_an_article_deletion(
    content_dir: Path,
    ingest: Ingest,
    read_db: sqlite3.Connection,
    write_article: Callable[..., Path],
) -> None:
    write_site(content_dir)
    article = write_article(topics=["Robotics"])
    ingest()
    article.unlink()
    ingest()
    assert tuple(
        read_db.execute("SELECT count(*) FROM topics WHERE name = 'Robotics'").fetchone()
    ) == (1,)


def test_bodies_are_rendered_and_embeds_sanitized_at_parse_time() -> None:
    event = parse_entry(EVENT + "\n## Agenda\n", "_events/e.md", "event")
    assert "<strong>robots</strong>" in event.rendered.html
    assert [(h.depth, h.text) for h in event.rendered.headings] == [(2, "Agenda")]
    assert "**" not in event.rendered.plain_text and event.rendered.word_count == 5
    video = parse_entry(VIDEO, "_learning/videos/v.md", "learning")
    assert "https://www.youtube.com/embed/abc" in video.details["featuredContent"]
    assert "sandbox=" in video.details["featuredContent"]
    hostile = VIDEO.replace("https://www.youtube.com/embed/abc", "https://evil.example/x")
    hostile = hostile.replace("<iframe ", '<iframe onload=\\"alert(1)\\" ')
    featured = parse_entry(hostile, "_learning/videos/v.md", "learning").details["featuredContent"]
    assert "evil.example" not in featured and "onload" not in featured


def test_demo_entries_are_deterministic_valid_and_linked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from newsgraph.cli import main

    for name in ("a", "b"):
        args = ["demo-content", str(tmp_path / name), "--count", "5", "--entries", "3"]
        assert main([*args, "--seed", "4"]) == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.md"))
    assert all(
        (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files
    )
    folders = {f.parts[0] for f in files}
    assert {"_events", "_people", "_companies", "_learning"} <= folders
    capsys.readouterr()
    assert main(["check", str(tmp_path / "a")]) == 0
    assert "check: 5 articles, 13 entries, 0 skipped, 0 errors" in capsys.readouterr().out
    collection = parse_entry(
        (tmp_path / "a/_learning/collections/demo-learning-path.md").read_text(encoding="utf-8"),
        "_learning/collections/demo-learning-path.md",
        "learning",
    )
    present = [item for item in collection.items if (tmp_path / "a" / item).is_file()]
    assert len(present) == 3 and len(collection.items) == 4


def test_the_readme_collection_examples_parse() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Collections\n", 1)[1]
    blocks = [block.split("```", 1)[0] for block in section.split("```yaml\n")[1:]]
    assert len(blocks) == 4
    names: list[CollectionName] = ["event", "person", "organization", "learning"]
    parsed = [
        parse_entry(block, f"_x/{name}.md", name) for block, name in zip(blocks, names, strict=True)
    ]
    event, person, organization, learning = parsed
    assert event.ends_at is not None and event.details["tags"] == ["Industry"]
    assert person.domain == "sorters.example.com"
    assert organization.domain == "sorters.example.com"
    assert learning.kind == "video" and learning.free is True and len(learning.items) == 2
    assert learning.details["authors"] == ["Ada Example"]


def test_changing_the_rules_reclassifies_unchanged_files(
    content_dir: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from newsgraph.cli import main

    write_site(content_dir)
    base = ["ingest", "--content", str(content_dir), "--db", str(db_path)]
    assert main(base) == 0
    assert main(base) == 0
    assert "0 new, 0 updated, 7 unchanged" in capsys.readouterr().out
    # Only people are a collection now: events and the organization (no title) are skipped,
    # the dated video becomes an article, the undated book and collection are article errors
    # (which keep their last good version, as every error does); the person is read again.
    assert main([*base, "--collections", "_people/**=person"]) == 0
    out = capsys.readouterr().out
    assert "1 new, 1 updated, 0 unchanged, 4 deleted, 3 skipped, 2 errors" in out
    conn = sqlite3.connect(db_path)
    kept = conn.execute("SELECT collection FROM entries ORDER BY collection").fetchall()
    assert kept == [("learning",), ("learning",), ("person",)]
    assert conn.execute("SELECT path FROM articles").fetchall() == [
        ("_learning/videos/sorting-part-1.md",)
    ]
    conn.close()
    assert main(base) == 0
    assert (
        "4 new, 3 updated, 0 unchanged, 1 deleted, 0 skipped, 0 errors" in capsys.readouterr().out
    )


def test_an_entry_that_cannot_be_stored_costs_only_itself(
    content_dir: Path, ingest: Ingest, read_db: sqlite3.Connection
) -> None:
    write_site(content_dir)
    huge = PERSON.replace("heat: 80", "heat: 99999999999999999999")  # beyond SQLite's 64 bits
    (content_dir / "_people/ada-example.md").write_text(huge, encoding="utf-8")
    summary = ingest()
    assert (summary.new, summary.result.errors) == (len(SITE) - 1, 1)
    stored = read_db.execute("SELECT count(*) FROM entries").fetchone()[0]
    assert stored == len(SITE) - 1
    error = read_db.execute("SELECT path, message FROM ingest_errors").fetchone()
    assert error[0] == "_people/ada-example.md" and "could not store" in error[1]
    (content_dir / "_people/ada-example.md").write_text(PERSON, encoding="utf-8")
    assert ingest().new == 1
