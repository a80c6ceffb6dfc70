"""The ASGI application: GraphQL at `/graphql`, the demo page at `/`, and the operations
endpoints `/healthz`, `/readyz` and `/metrics` (see `newsgraph.ops`).

`create_app(settings)` builds everything from settings and connects to nothing: the reader
pool opens in the lifespan, so importing this module (or building an app for `schema`) touches
no database. The GraphQL view encodes responses with orjson (several times faster than `json`
on large nested results) and builds a fresh `Context` (and so fresh loaders) per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from newsgraph.config import Settings
from newsgraph.db.pool import ReaderPool
from newsgraph.edge import (
    cors,
    guards,
    http_caching,
    http_limits,
    operation_guard,
    persisted_documents,
)
from newsgraph.gql.context import Context, Limits
from newsgraph.gql.fanout import FanOut
from newsgraph.gql.http import GraphQLHTTP
from newsgraph.gql.http_hits import RawRequests
from newsgraph.gql.live_state import LiveState
from newsgraph.gql.operation import GuardedSchema
from newsgraph.gql.response_cache import ResponseCache
from newsgraph.gql.schema import build_schema
from newsgraph.live import configure_websockets, live_services
from newsgraph.metrics import Metrics
from newsgraph.ops import Ops
from newsgraph.page import page_routes
from newsgraph.replicated import export_metrics, following, replicating
from newsgraph.writer_state import WriterLink

DEFAULT_READER_THREADS = 4


class GraphQLView(GraphQLHTTP):
    """Our HTTP semantics and limits (`gql.http`), with our context and orjson encoding."""

    def __init__(self, schema: GuardedSchema, pool: ReaderPool, limits: Limits) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.pool = pool
        self.limits = limits
        self.live: LiveState | None = None  # set by the lifespan: broker and watcher status

    async def get_context(self, request: Request | WebSocket, response: object) -> Context:
        return Context(pool=self.pool, limits=self.limits, request=request, live=self.live)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def reader_threads(settings: Settings) -> int:
    """0 means the default, like `workers`: a pool of no threads could answer nothing."""
    return settings.reader_threads or DEFAULT_READER_THREADS


def limits(settings: Settings) -> Limits:
    return Limits(max_page_size=settings.page_size_limit)


def create_app(settings: Settings, *, writer: WriterLink | None = None) -> Starlette:
    """The whole HTTP/WebSocket surface; the reader pool lives as long as the lifespan.

    `writer`: in an API worker of `serve --workers N`, its link to the writer process (see
    `newsgraph.workers`); that process watches and writes, this one only serves.
    """
    pool = ReaderPool(settings.db, threads=reader_threads(settings))
    metrics = Metrics()
    schema = build_schema(
        [metrics.extension()], guards=guards(settings), guard=operation_guard(settings)
    )
    schema.on_client_error = metrics.observe_client_error
    fanout = schema.fanout = FanOut(
        settings.subscriber_buffer or 1, share=settings.share_subscriptions
    )
    fanout.on_member_end = metrics.observe_subscription_end
    view = GraphQLView(schema, pool, limits(settings))
    configure_websockets(view, settings)
    view.http_limits = http_limits(settings)
    view.http_caching = http_caching(settings)
    view.documents = schema.documents = persisted_documents(settings)
    view.cache = ResponseCache(settings.response_cache_bytes)
    view.raw_requests = RawRequests()
    view.version_on_loop = not settings.replica_of
    metrics.read_cache(lambda: view.cache.stats)
    ops = Ops(pool, metrics, watch=settings.watch)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.replica_of:  # readers and broker open once the first restore is done
            async with following(app, settings, pool, view) as follower:
                export_metrics(metrics, follower)
                yield
            return
        pool.open()
        try:
            async with (
                replicating(app, settings, ships=writer is None) as replicator,
                live_services(app, settings, metrics.observe_batch, writer) as live,
            ):
                if replicator is not None:
                    export_metrics(metrics, replicator)
                view.live = live
                yield
        finally:
            pool.close()

    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            *ops.routes(),
            *page_routes(),
        ],
        lifespan=lifespan,
        middleware=cors(settings),
    )
    app.state.pool = pool
    app.state.fanout = fanout
    # The lifespan's watcher and broker (when it runs them) are `app.state.watcher` and
    # `app.state.broker`; the watcher's on_commit feeds `metrics.observe_batch`.
    app.state.metrics = metrics
    metrics.read_at_scrape(
        queue_depth=lambda: _queue_depth(app), subscriptions=lambda: _subscriptions(app)
    )
    return app


def _queue_depth(app: Starlette) -> float:
    watcher = getattr(app.state, "watcher", None)
    return float(watcher.status().queue_depth) if watcher is not None else 0.0


def _subscriptions(app: Starlette) -> float:
    fanout: FanOut = app.state.fanout  # every subscription starts there, shared or not
    return float(fanout.subscriber_count)
