"""contentEvents over real WebSockets: every collection, the same cursors as articleEvents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.collection_fixtures import EVENT, PERSON, VIDEO

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket, LiveApp

pytest_plugins = ["tests.live_fixtures"]

CONTENT = """
subscription ($in: [ContentCollection!], $since: String) {
  contentEvents(collections: $in, since: $since) {
    kind cursor collection nodeId path at
    node { __typename ... on Article { title } ... on Content { path }
           ... on Event { name startDate } ... on Person { name } }
  }
}
"""
Server = Callable[..., "LiveApp"]
Sockets = Callable[..., "GqlSocket"]
Ingest = Callable[..., Any]


def put(content_dir: Path, relpath: str, text: str) -> None:
    path = content_dir / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def content_events(client: GqlSocket, count: int) -> list[dict[str, Any]]:
    return [client.next_data()["contentEvents"] for _ in range(count)]


def test_every_collection_arrives_and_article_events_stay_articles_only(
    live_server: Server,
    sockets: Sockets,
    content_dir: Path,
    ingest: Ingest,
    write_article: Callable[..., Path],
) -> None:
    server = live_server()
    everything = sockets(server.address)
    everything.subscribe("all", CONTENT)
    articles_only = sockets(server.address)
    articles_only.subscribe("articles")
    server.wait_subscribed(2)
    put(content_dir, "_events/summit.md", EVENT)
    put(content_dir, "_people/ada.md", PERSON)
    ingest()
    write_article("news/a.md", title="An article")
    ingest()
    (content_dir / "_people/ada.md").unlink()
    ingest()
    events = content_events(everything, 4)
    assert [(e["kind"], e["collection"], e["path"]) for e in events] == [
        ("CREATED", "EVENT", "_events/summit.md"),
        ("CREATED", "PERSON", "_people/ada.md"),
        ("CREATED", "ARTICLE", "news/a.md"),
        ("DELETED", "PERSON", "_people/ada.md"),
    ]
    assert events[0]["node"] == {
        "__typename": "Event", "path": "_events/summit.md", "name": "Robotics Summit 2030",
        "startDate": "2030-05-04T16:00:00.000000Z",
    }  # fmt: skip
    assert events[2]["node"]["title"] == "An article" and events[3]["node"] is None
    # The same cursors as articleEvents, which only ever sees the article.
    [article_event] = articles_only.events(1)
    assert article_event["path"] == "news/a.md"
    assert article_event["cursor"] == events[2]["cursor"]
    put(content_dir, "_learning/videos/v.md", VIDEO)
    write_article("news/b.md", title="Another")
    ingest()
    later = content_events(everything, 2)
    assert {e["path"] for e in later} == {"_learning/videos/v.md", "news/b.md"}
    assert articles_only.events(1)[0]["path"] == "news/b.md"


def test_since_resumes_across_collections_and_collections_filter(
    live_server: Server, sockets: Sockets, content_dir: Path, ingest: Ingest
) -> None:
    server = live_server()
    first = sockets(server.address)
    first.subscribe("1", CONTENT)
    server.wait_subscribed()
    put(content_dir, "_events/summit.md", EVENT)
    ingest()
    [seen] = content_events(first, 1)
    first.close()
    put(content_dir, "_people/ada.md", PERSON)
    ingest()
    put(content_dir, "_learning/videos/v.md", VIDEO)
    ingest()
    put(content_dir, "_events/summit.md", EVENT.replace("Oakland, CA", "Online"))
    ingest()
    people_and_events = sockets(server.address)
    people_and_events.subscribe("2", CONTENT, since=seen["cursor"], **{"in": ["PERSON", "EVENT"]})
    replayed = content_events(people_and_events, 2)
    assert [(e["kind"], e["path"]) for e in replayed] == [
        ("CREATED", "_people/ada.md"),
        ("UPDATED", "_events/summit.md"),
    ]
    # A cursor of a left-out collection's change still resumes exactly after it.
    everything = sockets(server.address)
    everything.subscribe("3", CONTENT, since=replayed[0]["cursor"])
    assert [e["path"] for e in content_events(everything, 2)] == [
        "_learning/videos/v.md",
        "_events/summit.md",
    ]


def test_the_readme_content_events_example_runs(
    live_server: Server, sockets: Sockets, content_dir: Path, ingest: Ingest
) -> None:
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = next(
        block
        for block in re.findall(r"```graphql live\n(.*?)```", readme, re.S)
        if "contentEvents" in block
    )
    server = live_server()
    client = sockets(server.address)
    client.subscribe("readme", example, since=None)
    server.wait_subscribed()
    put(content_dir, "_people/ada.md", PERSON)  # not asked for: left out
    put(content_dir, "_events/summit.md", EVENT)
    ingest()
    [event] = content_events(client, 1)
    assert (event["collection"], event["node"]["name"]) == ("EVENT", "Robotics Summit 2030")
    assert "<strong>robots</strong>" in event["node"]["html"]
