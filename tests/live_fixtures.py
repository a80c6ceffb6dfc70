"""Fixtures for live tests: a real server with WebSockets on, and GraphQL-over-WebSocket clients.

Test modules load it with `pytest_plugins = ["tests.live_fixtures"]` and import the helper
classes from it. The clients are websockets' synchronous ones: every wait has a timeout.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from newsgraph.app import create_app
from newsgraph.config import Settings
from newsgraph.gql.broker import ChangeBroker
from newsgraph.gql.fanout import FanOut
from newsgraph.ingest.pipeline import Pipeline
from tests.conftest import ServerStack

TIMEOUT = 10.0
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

EVENTS = """
subscription ($filter: ArticleFilter, $since: String) {
  articleEvents(filter: $filter, since: $since) {
    kind cursor articleId path at article { path title topics { name } }
  }
}
"""


@contextmanager
def serving_live(app: Starlette, stack: ServerStack) -> Iterator[str]:
    """Run `app` under uvicorn (WebSockets on) on a free loopback port; yields ws://host:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, loop=stack.loop, http=stack.http, lifespan="on", log_level="warning",
        timeout_graceful_shutdown=5,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        threading.Event().wait(0.005)  # uvicorn offers no event; poll its flag with a deadline
    try:
        assert server.started, "uvicorn did not start"
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


class GqlSocket:
    """One GraphQL-over-WebSocket connection speaking either protocol."""

    def __init__(self, address: str, protocol: str = TRANSPORT_WS, **options: Any) -> None:
        self.protocol = protocol
        self._stack = ExitStack()  # websockets 17 wants connect() used as a context manager
        self.ws: ClientConnection = self._stack.enter_context(
            connect(
                f"ws://{address}/graphql", subprotocols=[Subprotocol(protocol)],
                open_timeout=TIMEOUT, close_timeout=2, **options,
            )
        )  # fmt: skip
        self.send({"type": "connection_init", "payload": {}})
        assert self.receive()["type"] == "connection_ack"

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next protocol message, answering pings and skipping keep-alives."""
        while True:
            raw = self.ws.recv(timeout=timeout)
            assert isinstance(raw, str), "GraphQL over WebSocket is text frames"
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                self.send({"type": "pong"})
            elif message["type"] != "ka":
                return message

    def subscribe(self, op_id: str, query: str = EVENTS, **variables: Any) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        self.send({"id": op_id, "type": kind, "payload": {"query": query, "variables": variables}})

    def stop(self, op_id: str) -> None:
        self.send({"id": op_id, "type": "complete" if self.protocol == TRANSPORT_WS else "stop"})

    def next_data(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next `next`/`data` payload; fails on anything else."""
        message = self.receive(timeout)
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message["payload"]
        data: dict[str, Any] = message["payload"]["data"]
        return data

    def events(self, count: int, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        return [self.next_data(timeout)["articleEvents"] for _ in range(count)]

    def closed_with(self, timeout: float = TIMEOUT) -> tuple[int | None, str]:
        """Read until the server closes; its close code and reason."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code, frame.reason) if frame else (None, "")
        pytest.fail("the server did not close the connection")

    def close(self) -> None:
        self._stack.close()


@dataclass
class LiveApp:
    address: str
    app: Starlette

    @property
    def broker(self) -> ChangeBroker:
        broker: ChangeBroker = self.app.state.broker
        return broker

    @property
    def fanout(self) -> FanOut:
        fanout: FanOut = self.app.state.fanout
        return fanout

    @property
    def slow_disconnects(self) -> int:
        """Subscribers cut off as too slow: by their shared group's queue or by the broker."""
        return self.fanout.slow_disconnects + self.broker.slow_disconnects

    def wait_subscribed(self, count: int = 1, *, errors: bool = False) -> None:
        """Until `count` subscriptions are registered (a subscription sees changes after that)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            have = len(self.broker.errors.listeners) if errors else self.fanout.subscriber_count
            if have >= count:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"only {have} of {count} subscriptions registered")
            threading.Event().wait(0.005)


@pytest.fixture
def live_server(
    pipeline: Pipeline, content_dir: Path, db_path: Path, server_stack: ServerStack
) -> Iterator[Callable[..., LiveApp]]:
    """Serve the app over the test database with live services.

    `pipeline` creates the database first. Options are settings (`watch=True` starts the
    watcher in the lifespan, as `newsgraph serve` does).
    """
    with ExitStack() as stack:

        def start(**options: Any) -> LiveApp:
            options.setdefault("watch", False)
            options.setdefault("workers", 1)
            options.setdefault("debounce_ms", 20)
            app = create_app(Settings(content=content_dir, db=db_path, **options))
            return LiveApp(stack.enter_context(serving_live(app, server_stack)), app)

        yield start


@pytest.fixture
def sockets() -> Iterator[Callable[..., GqlSocket]]:
    """Open GraphQL WebSocket clients; all closed at teardown."""
    opened: list[GqlSocket] = []

    def open_socket(address: str, protocol: str = TRANSPORT_WS, **options: Any) -> GqlSocket:
        client = GqlSocket(address, protocol, **options)
        opened.append(client)
        return client

    yield open_socket
    for client in opened:
        client.close()
