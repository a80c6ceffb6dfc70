"""The live half of a server process: change broker, optional watcher, WebSocket settings.

`live_services` runs inside the app's lifespan. It starts the `ChangeBroker` (every process
has one: it tails the `changes` table, so it also sees another process's writer) and, when the
process watches, a `Watcher` whose `on_commit` wakes the broker at once instead of at its next
50 ms poll. The watcher reconciles at start-up (observer first, so nothing changed meanwhile is
lost) and the app is served only once that reconcile is done.

`LiveServer` makes shutdown bounded and clean: on SIGTERM/SIGINT it first closes every
subscription with close code 1001 and a reason (uvicorn would otherwise wait for open
WebSockets), then lets uvicorn drain, and exits 0 rather than re-raising the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from newsgraph.config import Settings
from newsgraph.db.writes import BatchResult
from newsgraph.event_loop import LOOP_FACTORY
from newsgraph.gql import subscriptions
from newsgraph.gql.broker import ChangeBroker, Detect
from newsgraph.gql.live_state import LiveState
from newsgraph.heap import tune_collector_for_serving
from newsgraph.ingest.watcher import Watcher
from newsgraph.pipeline import open_pipeline
from newsgraph.writer_state import WriterLink, drain_wake

log = logging.getLogger("newsgraph")

SHUTDOWN_CLOSE_TIMEOUT = 2.0  # seconds to let close frames go out before uvicorn takes over
GRACEFUL_SHUTDOWN_TIMEOUT = 5  # uvicorn's bound on waiting for connections and tasks


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Sends GraphQL-over-WebSocket messages as text frames.

    The view encodes with orjson (bytes), and Strawberry sends bytes as *binary* frames, which
    browser clients (`graphql-ws`, Apollo) cannot parse: both protocols are text.
    """

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        text = encoded.decode("utf-8") if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except Exception as error:  # closed under us (a slow subscriber, a shutdown)
            raise WebSocketDisconnected from error


def configure_websockets(view: Any, settings: Settings) -> None:
    """Both protocols on one path, with the limits from settings."""
    view.protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
    view.websocket_adapter_class = TextWebSocketAdapter
    view.max_subscriptions_per_connection = settings.max_subscriptions_per_connection or None
    view.connection_init_wait_timeout = timedelta(seconds=settings.connection_init_wait_timeout)
    # graphql-ws has application-level `ka` messages; graphql-transport-ws relies on WebSocket
    # ping frames, which uvicorn sends every `keepalive_interval` (see `server_config`).
    view.keep_alive = settings.keepalive_interval > 0
    view.keep_alive_interval = float(settings.keepalive_interval) or None


@asynccontextmanager
async def live_services(
    app: Starlette,
    settings: Settings,
    observe_batch: Callable[[BatchResult], None] | None = None,
    writer: WriterLink | None = None,
    detect: Detect | None = None,
) -> AsyncIterator[LiveState]:
    """Broker (always) and watcher (when `settings.watch`) for as long as the lifespan runs.

    An API worker of `serve --workers N` is given a link to the writer process instead: it runs
    no watcher of its own but reports that one (readiness, `ingestStatus`), and the writer's
    commits wake its broker as an in-process watcher's would. `detect`: how the broker notices
    new data when `PRAGMA data_version` cannot (a replica).
    """
    broker = ChangeBroker(settings.db, buffer_size=settings.subscriber_buffer or 1, detect=detect)
    await broker.start()
    app.state.broker = broker
    limit = settings.max_subscriptions_per_connection
    try:
        if writer is not None:
            app.state.watcher = writer.state
            async with _woken_by_commits(broker, writer.wake):
                yield LiveState(broker, writer.state.status, limit)
            return
        if not settings.watch:
            yield LiveState(broker, None, limit)
            return

        def on_commit(batch: BatchResult) -> None:
            broker.notify()
            if observe_batch is not None:
                observe_batch(batch)

        with open_pipeline(settings) as pipeline:
            watcher = Watcher(
                pipeline, include=settings.include, exclude=settings.exclude,
                poll=settings.poll, debounce_ms=settings.debounce_ms, on_commit=on_commit,
            )  # fmt: skip
            watcher.start()
            app.state.watcher = watcher
            try:
                await asyncio.to_thread(watcher.wait_ready)
                yield LiveState(broker, watcher.status, settings.max_subscriptions_per_connection)
            finally:
                await asyncio.to_thread(watcher.stop)  # the batch in hand is committed first
    finally:
        await broker.stop()


@asynccontextmanager
async def _woken_by_commits(broker: ChangeBroker, wake: socket.socket) -> AsyncIterator[None]:
    """Check the change feed whenever the writer process signals a commit (`CommitSignal`)."""
    loop = asyncio.get_running_loop()
    wake.setblocking(False)

    def on_wake() -> None:
        drain_wake(wake)
        broker.notify()

    loop.add_reader(wake.fileno(), on_wake)
    try:
        yield
    finally:
        loop.remove_reader(wake.fileno())


def server_config(app: Starlette, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """uvicorn settings for `newsgraph serve`: WebSocket pings and a bounded shutdown."""
    interval = float(settings.keepalive_interval) or None
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": LOOP_FACTORY,  # uvloop, accepting greedily: see newsgraph.event_loop
        "http": "httptools",
        "log_level": settings.log_level,
        "log_config": None,  # uvicorn's loggers propagate to ours (text or JSON, see logs.py)
        "lifespan": "on",
        "ws_ping_interval": interval,
        "ws_ping_timeout": interval,
        # Events are small JSON messages: compressing each one cost more CPU than it saved
        # bytes (a 10,000-event burst spent ~10% of the server's time in deflate).
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_TIMEOUT,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


class LiveServer(uvicorn.Server):
    """uvicorn, closing subscriptions first at shutdown and exiting 0 after a signal."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises a captured signal after shutting down, which would end the process
        # with that signal; a graceful stop on request is a success (exit 0).
        self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)  # the lifespan (watcher reconcile) has run
        tune_collector_for_serving()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        broker = getattr(self.app.state, "broker", None)
        if isinstance(broker, ChangeBroker):
            broker.close_subscribers()  # each subscription's hook sends its close frame
            closing = set(subscriptions.pending_closes())
            if closing:
                with contextlib.suppress(Exception):
                    await asyncio.wait(closing, timeout=SHUTDOWN_CLOSE_TIMEOUT)
        await super().shutdown(sockets)
