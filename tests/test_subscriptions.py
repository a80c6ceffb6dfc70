"""articleEvents and ingestErrorEvents over real WebSockets, fed by a real watcher or writer."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from newsgraph.db.connection import open_writer
from newsgraph.db.live import prune_changes
from newsgraph.gql.subscriptions import SentPaths
from tests.watcher_fixtures import wait_for

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket, LiveApp

pytest_plugins = ["tests.live_fixtures"]
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
ERROR_EVENTS = "subscription { ingestErrorEvents { kind path error { message } } }"

Server = Callable[..., "LiveApp"]
Sockets = Callable[..., "GqlSocket"]
Write = Callable[..., Path]
Ingest = Callable[..., Any]


def test_events_arrive_in_order_with_the_article_as_it_is_now(
    live_server: Server, sockets: Sockets, write_article: Write, content_dir: Path
) -> None:
    server = live_server(watch=True)
    client = sockets(server.address)
    client.subscribe("1")
    server.wait_subscribed()
    write_article("a.md", title="First")
    [created] = client.events(1)
    assert (created["kind"], created["path"]) == ("CREATED", "a.md")
    assert created["article"]["title"] == "First"
    write_article("a.md", title="First, edited", topics=["Space"])
    [updated] = client.events(1)
    assert updated["kind"] == "UPDATED"
    assert updated["article"]["title"] == "First, edited"
    assert updated["article"]["topics"] == [{"name": "Space"}]  # nested rows read fresh
    (content_dir / "a.md").unlink()
    [deleted] = client.events(1)
    assert (deleted["kind"], deleted["article"]) == ("DELETED", None)
    assert deleted["articleId"] == created["articleId"]
    assert len({created["cursor"], updated["cursor"], deleted["cursor"]}) == 3


def test_events_that_do_not_select_the_article_read_no_article_rows(
    live_server: Server, sockets: Sockets, write_article: Write
) -> None:
    server = live_server(watch=True)
    statements: list[str] = []
    server.app.state.pool.set_trace(statements.append)
    bare, fragment = sockets(server.address), sockets(server.address)
    bare.subscribe("1", "subscription { articleEvents { kind path } }")
    server.wait_subscribed(1)
    write_article("a.md", title="First")
    [event] = bare.events(1)
    assert (event["kind"], event["path"]) == ("CREATED", "a.md")
    assert not [sql for sql in statements if "FROM articles" in sql], statements
    fragment.subscribe(
        "2",
        "subscription { articleEvents { path ...Shown } } "
        "fragment Shown on ArticleEvent { ... on ArticleEvent { article { title } } }",
    )
    server.wait_subscribed(2)
    write_article("b.md", title="Second")
    [bare_event], [full_event] = bare.events(1), fragment.events(1)
    assert bare_event == {"kind": "CREATED", "path": "b.md"}
    assert full_event == {"path": "b.md", "article": {"title": "Second"}}
    server.app.state.pool.set_trace(None)


def test_a_filter_sends_matches_all_deletes_and_articles_that_stop_matching(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest, content_dir: Path
) -> None:
    server = live_server()
    client = sockets(server.address)
    client.subscribe("f", filter={"topics": ["space"]})
    server.wait_subscribed()
    write_article("other.md", topics=["Cooking"])
    write_article("space.md", topics=["Space"])
    ingest()
    [event] = client.events(1)
    assert (event["kind"], event["path"]) == ("CREATED", "space.md")
    write_article("space.md", topics=["Cooking"])  # leaves the filter
    ingest()
    [left] = client.events(1)
    assert (left["kind"], left["path"], left["article"]) == ("UPDATED", "space.md", None)
    write_article("other.md", topics=["Cooking"], title="Still not space")
    (content_dir / "space.md").unlink()
    ingest()
    [deleted] = client.events(1)  # the non-matching update is not sent; the delete is
    assert (deleted["kind"], deleted["path"]) == ("DELETED", "space.md")


def test_the_legacy_graphql_ws_protocol_delivers_too(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server(keepalive_interval=1)
    legacy = sockets(server.address, LEGACY_WS)
    modern = sockets(server.address, TRANSPORT_WS)
    legacy.subscribe("old")
    modern.subscribe("new")
    server.wait_subscribed(2)
    write_article("a.md")
    ingest()
    assert legacy.events(1)[0]["path"] == "a.md"
    assert modern.events(1)[0]["path"] == "a.md"


def test_resuming_with_since_delivers_what_was_missed_exactly_once(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server()
    address = server.address
    first = sockets(address)
    first.subscribe("1")
    server.wait_subscribed()
    write_article("a.md")
    ingest()
    [seen] = first.events(1)
    first.close()
    write_article("b.md")
    ingest()
    write_article("c.md")
    ingest()
    again = sockets(address)
    again.subscribe("2", since=seen["cursor"])
    write_article("d.md")
    ingest()
    events = again.events(3)
    assert [e["path"] for e in events] == ["b.md", "c.md", "d.md"]
    assert [e["kind"] for e in events] == ["CREATED"] * 3
    write_article("e.md")
    ingest()
    assert again.events(1)[0]["path"] == "e.md"  # nothing repeated in between


def test_bad_cursors_are_clear_errors(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest, db_path: Path
) -> None:
    server = live_server()
    client = sockets(server.address)
    client.subscribe("1")
    server.wait_subscribed()
    for name in ("a.md", "b.md", "c.md"):
        write_article(name)
        ingest()
    cursors = [event["cursor"] for event in client.events(3)]
    conn = open_writer(db_path)
    try:
        prune_changes(conn, keep_after=2)
    finally:
        conn.close()
    cases = {"bad": "not-a-cursor", "expired": cursors[0], "future": "Y2hhbmdlOjk5OTk"}
    for op_id, since in cases.items():
        client.subscribe(op_id, since=since)
        message = client.receive()
        assert message["type"] == "error" and message["id"] == op_id, message
        text = message["payload"][0]["message"]
        expected = {"bad": "is not a cursor", "expired": "has expired", "future": "is ahead"}
        assert expected[op_id] in text, text
        code = message["payload"][0]["extensions"]["code"]
        assert code == ("CURSOR_EXPIRED" if op_id == "expired" else "BAD_USER_INPUT"), code
    client.subscribe("ok", since=cursors[1])  # the oldest still kept
    assert client.events(1)[0]["cursor"] == cursors[2]


def test_subscriptions_per_connection_are_limited(live_server: Server, sockets: Sockets) -> None:
    client = sockets(live_server(max_subscriptions_per_connection=2).address)
    client.subscribe("1")
    client.subscribe("2")
    client.subscribe("3")
    message = client.receive()
    assert (message["type"], message["id"]) == ("error", "3")
    assert "limit" in message["payload"][0]["message"].lower()


def test_a_slow_subscriber_is_disconnected_with_its_reason(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server(subscriber_buffer=2)
    slow = sockets(server.address, max_queue=1)
    slow.subscribe("1", query="subscription { articleEvents { cursor article { body } } }")
    server.wait_subscribed()
    big = "lorem ipsum " * 20_000  # ~240 KB per event: socket buffers fill after a few dozen
    for number in range(60):
        write_article(f"big/{number}.md", body=big)
    ingest()
    round_number = 0

    def overflowed() -> bool:
        nonlocal round_number
        round_number += 1
        write_article(f"more/{round_number}.md")
        ingest()
        return server.slow_disconnects > 0

    wait_for(overflowed, what="the broker to cut off the slow subscriber")
    code, reason = slow.closed_with()
    assert code == 1008 and "too slow" in reason


def test_ingest_error_events_report_raised_and_cleared(
    live_server: Server, sockets: Sockets, write_article: Write, content_dir: Path
) -> None:
    server = live_server(watch=True)
    client = sockets(server.address)
    client.subscribe(
        "e", query="subscription { ingestErrorEvents { kind path error { message } } }"
    )
    server.wait_subscribed(errors=True)
    (content_dir / "bad.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    raised = client.next_data()["ingestErrorEvents"]
    assert (raised["kind"], raised["path"]) == ("RAISED", "bad.md")
    assert raised["error"]["message"]
    write_article("bad.md")
    cleared = client.next_data()["ingestErrorEvents"]
    assert (cleared["kind"], cleared["path"], cleared["error"]) == ("CLEARED", "bad.md", None)


def test_ingest_status_reports_the_watcher_and_a_usable_cursor(
    live_server: Server, sockets: Sockets, write_article: Write
) -> None:
    server = live_server(watch=True)
    write_article("a.md")
    query = "{ ingestStatus { watching observerKind queueDepth lastChangeCursor articleCount } }"
    with httpx.Client(base_url=f"http://{server.address}", timeout=10) as http:

        def status() -> dict[str, Any]:
            body: dict[str, Any] = http.post("/graphql", json={"query": query}).json()
            return dict(body["data"]["ingestStatus"])

        wait_for(lambda: status()["articleCount"] == 1, what="the watcher to ingest a.md")
        now = status()
    assert now["watching"] is True and now["observerKind"] in ("inotify", "polling")
    assert now["queueDepth"] == 0
    client = sockets(server.address)
    client.subscribe("1", since=now["lastChangeCursor"])
    server.wait_subscribed()
    write_article("b.md")
    assert client.events(1)[0]["path"] == "b.md"  # nothing before the cursor is replayed


README_LIVE = re.findall(
    r"```graphql live\n(.*?)```", (Path(__file__).parents[1] / "README.md").read_text(), re.S
)


def test_the_readme_subscription_example_runs(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    assert README_LIVE, "the README's Live updates section lost its example"
    server = live_server()
    client = sockets(server.address)
    client.subscribe("readme", query=README_LIVE[0], since=None)
    server.wait_subscribed()
    write_article("ai.md", topics=["AI"])
    ingest()
    event = client.next_data()["articleEvents"]
    assert (event["kind"], event["path"], event["article"]["topics"]) == (
        "CREATED", "ai.md", [{"name": "AI"}],
    )  # fmt: skip


def test_the_paths_a_filtered_subscription_remembers_are_bounded() -> None:
    """A filtered subscription remembers at most `capacity` delivered paths; after forgetting
    one it treats every path as possibly held, so a "no longer matches" drop is never missed."""
    sent = SentPaths(capacity=3)
    for n in range(10):
        sent.add(f"{n}.md")
        assert len(sent) <= 3
    assert sent.may_hold("9.md")
    assert sent.may_hold("0.md")  # forgotten, so possibly held: it gets its drop
    fresh = SentPaths(capacity=3)
    fresh.add("a.md")
    assert fresh.may_hold("a.md") and not fresh.may_hold("b.md")
    fresh.discard("a.md")
    assert not fresh.may_hold("a.md")
