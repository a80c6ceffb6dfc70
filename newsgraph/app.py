"""The ASGI application: GraphQL at `/graphql`, a health check at `/healthz`.

`create_app(settings)` builds everything from settings and connects to nothing: the reader
pool opens in the lifespan, so importing this module (or building an app for `schema`) touches
no database. The GraphQL view encodes responses with orjson (several times faster than `json`
on large nested results) and builds a fresh `Context` (and so fresh loaders) per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from db.pool import ReaderPool
from gql.context import Context, Limits
from gql.schema import build_schema
from newsgraph.config import Settings

DEFAULT_READER_THREADS = 4


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context and orjson encoding."""

    def __init__(self, schema: strawberry.Schema, pool: ReaderPool, limits: Limits) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.pool = pool
        self.limits = limits

    async def get_context(self, request: Request | WebSocket, response: object) -> Context:
        return Context(pool=self.pool, limits=self.limits, request=request)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def reader_threads(settings: Settings) -> int:
    value = getattr(settings, "reader_threads", DEFAULT_READER_THREADS)
    return int(value) if value else DEFAULT_READER_THREADS


def limits(settings: Settings) -> Limits:
    size = getattr(settings, "max_page_size", None)
    return Limits(max_page_size=int(size)) if size else Limits()


def create_app(settings: Settings) -> Starlette:
    """The whole HTTP/WebSocket surface; the reader pool lives as long as the lifespan."""
    pool = ReaderPool(settings.db, threads=reader_threads(settings))
    view = GraphQLView(build_schema(), pool, limits(settings))

    async def healthz(request: Request) -> Response:
        await pool.submit(lambda conn: conn.execute("SELECT 1").fetchone())
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool.open()
        try:
            yield
        finally:
            pool.close()

    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.pool = pool
    return app
