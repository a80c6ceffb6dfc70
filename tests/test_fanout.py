"""Shared subscriptions (`gql.fanout`) over real WebSockets: one execution per event, counted."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from newsgraph.gql.fanout import share_key
from tests.watcher_fixtures import wait_for

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket, LiveApp

pytest_plugins = ["tests.live_fixtures"]

Server = Callable[..., "LiveApp"]
Sockets = Callable[..., "GqlSocket"]
Write = Callable[..., Path]
Ingest = Callable[..., Any]
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
EVENTS = (
    "subscription ($filter: ArticleFilter, $since: String) { articleEvents(filter: $filter, "
    "since: $since) { kind path article { path title topics { name } } } }"
)
KIND_PATH = "subscription { articleEvents { kind path cursor } }"
RESUME = "subscription ($since: String) { articleEvents(since: $since) { kind path cursor } }"


def count_statements(server: LiveApp) -> Callable[[], int]:
    """Every SQL statement the server's reader threads run from now on (subscriptions read
    there; the broker tails the feed on its own connection)."""
    seen = 0
    lock = threading.Lock()

    def trace(_statement: str) -> None:
        nonlocal seen
        with lock:
            seen += 1

    server.app.state.pool.set_trace(trace)
    return lambda: seen


class StalledClient:
    """A graphql-transport-ws client that subscribes and then never reads.

    websockets' own clients keep reading into their buffers, and loopback autotuning would let
    a socket absorb tens of megabytes: this one has a 4 KB receive buffer and raw frames.
    """

    def __init__(self, address: str, query: str) -> None:
        host, port = address.rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /graphql HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {TRANSPORT_WS}\r\n\r\n".encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:  # frames sent before the upgrade are not read
            response += self.sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101"), response
        self._send({"type": "connection_init", "payload": {}})
        self._send({"id": "stalled", "type": "subscribe", "payload": {"query": query}})

    def _send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        assert len(payload) < 126
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + bytes(4) + payload)  # mask 0

    def everything_until_closed(self) -> bytes:
        chunks = []
        while chunk := self.sock.recv(1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


def metric(server: LiveApp, name: str, **labels: str) -> float:
    text = httpx.get(f"http://{server.address}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def test_subscribers_of_one_document_share_one_execution_per_event(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server()
    statements = count_statements(server)
    clients = [sockets(server.address, (LEGACY_WS, TRANSPORT_WS)[n % 2]) for n in range(12)]
    clients[0].subscribe("0")
    server.wait_subscribed()
    write_article("a.md", topics=["Space"])
    ingest()
    assert clients[0].events(1)[0]["path"] == "a.md"
    alone = statements()
    assert alone > 0
    for number, client in enumerate(clients[1:], start=1):
        client.subscribe(str(number))
    server.wait_subscribed(12)
    write_article("b.md", topics=["Space"])
    ingest()
    received = [client.events(1)[0] for client in clients]
    assert all(event == received[0] for event in received)  # both protocols, the same event
    assert received[0]["path"] == "b.md" and received[0]["article"]["topics"] == [{"name": "Space"}]
    assert statements() - alone == alone  # read once for twelve subscribers, not twelve times
    assert server.fanout.group_count == 1


def test_different_variables_get_their_own_execution(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server()
    statements = count_statements(server)
    space = [sockets(server.address) for _ in range(3)]
    cooking = [sockets(server.address) for _ in range(3)]
    for number, client in enumerate(space):
        client.subscribe(f"s{number}", filter={"topics": ["space"]})
    server.wait_subscribed(3)
    write_article("first.md", topics=["Space"])
    ingest()
    assert {client.events(1)[0]["path"] for client in space} == {"first.md"}
    one_group = statements()
    for number, client in enumerate(cooking):
        client.subscribe(f"c{number}", filter={"topics": ["cooking"]})
    server.wait_subscribed(6)
    assert server.fanout.group_count == 2
    write_article("both.md", topics=["Space", "Cooking"])
    ingest()
    assert {client.events(1)[0]["path"] for client in space + cooking} == {"both.md"}
    assert statements() - one_group == 2 * one_group  # one execution per distinct filter
    write_article("stew.md", topics=["Cooking"])
    ingest()
    assert {client.events(1)[0]["path"] for client in cooking} == {"stew.md"}
    write_article("moon.md", topics=["Space"])
    ingest()
    assert {client.events(1)[0]["path"] for client in space} == {"moon.md"}  # stew.md not sent


def test_a_slow_member_is_cut_off_while_the_others_keep_receiving(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server(subscriber_buffer=8)
    query = "subscription { articleEvents { path article { body } } }"
    stalled = StalledClient(server.address, query)
    fast = [sockets(server.address), sockets(server.address, LEGACY_WS)]
    try:
        for number, client in enumerate(fast):
            client.subscribe(str(number), query=query)
        server.wait_subscribed(3)
        assert server.fanout.group_count == 1
        big = "lorem ipsum " * 20_000  # ~240 KB per event: the stalled socket fills quickly
        number = 0
        while server.slow_disconnects == 0:
            number += 1
            assert number < 200, "the slow member was never cut off"
            write_article(f"big/{number}.md", body=big)
            ingest()  # one change per event: the shared execution itself never falls behind
            for client in fast:
                assert client.next_data()["articleEvents"]["path"] == f"big/{number}.md"
        closing = stalled.everything_until_closed()[-200:]
        assert b"\x88" in closing and b"\x03\xf0subscriber too slow" in closing  # 1008, reason
    finally:
        stalled.close()
    write_article("after.md")
    ingest()
    for client in fast:  # still subscribed, nothing lost or repeated
        assert client.next_data()["articleEvents"]["path"] == "after.md"
    assert server.broker.slow_disconnects == 0  # the member's own queue cut it, not the feed


def test_a_member_leaving_never_disturbs_the_others_and_the_last_stops_the_execution(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server()
    staying = sockets(server.address)
    leaving = sockets(server.address, LEGACY_WS)
    gone = sockets(server.address)
    for name, client in (("stay", staying), ("leave", leaving), ("gone", gone)):
        client.subscribe(name, query=KIND_PATH)
    server.wait_subscribed(3)
    assert metric(server, "newsgraph_subscriptions_active") == 3
    leaving.stop("leave")
    assert leaving.receive() == {"type": "complete", "id": "leave"}
    gone.close()  # a disconnect, without a word
    wait_for(lambda: server.fanout.subscriber_count == 1, what="two members to leave")
    write_article("a.md")
    ingest()
    assert staying.next_data()["articleEvents"]["path"] == "a.md"
    assert server.broker.subscriber_count == 1  # one feed for the group all along
    staying.stop("stay")
    wait_for(lambda: server.broker.subscriber_count == 0, what="the execution to release its feed")
    assert server.fanout.group_count == 0

    def ended() -> float:
        labels = {"operation_type": "subscription", "outcome": "ok"}
        return metric(server, "newsgraph_graphql_requests_total", **labels)

    wait_for(lambda: ended() == 3, what="each member counted once as it left")


def test_errors_of_a_shared_execution_reach_every_member(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server()
    query = (
        "subscription { articleEvents { path article { "
        'mentionedBy(after: "not-a-cursor") { totalCount } } } }'
    )
    clients = [sockets(server.address), sockets(server.address, LEGACY_WS)]
    for number, client in enumerate(clients):
        client.subscribe(str(number), query=query)
    server.wait_subscribed(2)
    assert server.fanout.group_count == 1
    write_article("a.md")
    ingest()
    for client in clients:
        message = client.receive()
        assert message["type"] in ("next", "data")
        [error] = message["payload"]["errors"]
        assert "not a valid cursor" in error["message"]
        assert error["path"] == ["articleEvents", "article", "mentionedBy"]
    write_article("b.md")
    ingest()
    for client in clients:  # an error in one event does not end the subscription
        assert client.receive()["payload"]["data"]["articleEvents"]["path"] == "b.md"


def test_since_replays_its_own_changes_exactly_beside_a_shared_group(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server()
    live = [sockets(server.address), sockets(server.address)]
    for number, client in enumerate(live):
        client.subscribe(str(number), query=KIND_PATH)
    server.wait_subscribed(2)
    write_article("a.md")
    ingest()
    seen, _same = (client.next_data()["articleEvents"] for client in live)
    for name in ("b.md", "c.md"):
        write_article(name)
        ingest()
    for client in live:
        assert [client.next_data()["articleEvents"]["path"] for _ in range(2)] == ["b.md", "c.md"]
    resuming = sockets(server.address)
    resuming.subscribe("r", query=RESUME, since=seen["cursor"])
    server.wait_subscribed(3)
    assert server.fanout.group_count == 2  # the replay is its own
    write_article("d.md")
    ingest()
    replayed = [resuming.next_data()["articleEvents"]["path"] for _ in range(3)]
    assert replayed == ["b.md", "c.md", "d.md"]
    write_article("e.md")
    ingest()
    assert resuming.next_data()["articleEvents"]["path"] == "e.md"  # no duplicate in between
    for client in live:
        assert [client.next_data()["articleEvents"]["path"] for _ in range(2)] == ["d.md", "e.md"]


def test_with_sharing_off_every_subscriber_executes_alone(
    live_server: Server, sockets: Sockets, write_article: Write, ingest: Ingest
) -> None:
    server = live_server(share_subscriptions=False)
    clients = [sockets(server.address) for _ in range(3)]
    for number, client in enumerate(clients):
        client.subscribe(str(number), query=KIND_PATH)
    server.wait_subscribed(3)
    assert server.fanout.group_count == 3
    assert server.broker.subscriber_count == 3
    write_article("a.md")
    ingest()
    assert {client.next_data()["articleEvents"]["path"] for client in clients} == {"a.md"}


def test_what_may_be_shared() -> None:
    by_variable = RESUME
    defaulted = RESUME.replace("String)", 'String = "Y2hhbmdlOjE")')
    fragment = "subscription { ... on Subscription { articleEvents { path } } }"
    assert share_key(EVENTS, {"filter": {"topics": ["ai"]}}, None) is not None
    assert share_key(EVENTS, {"b": 1, "a": 2}, None) == share_key(EVENTS, {"a": 2, "b": 1}, None)
    assert share_key(EVENTS, {"since": None}, None) is not None
    assert share_key(EVENTS, {"since": "Y2hhbmdlOjE"}, None) is None
    assert share_key(by_variable, {}, None) is not None
    assert share_key(defaulted, {}, None) is None
    assert share_key(defaulted, {"since": None}, None) is not None
    assert share_key('subscription { articleEvents(since: "x") { path } }', None, None) is None
    assert share_key("subscription { articleEvents(since: null) { path } }", None, None)
    assert share_key(fragment, None, None) is None
    assert share_key("subscription {", None, None) is None
