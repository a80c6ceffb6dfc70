"""The settings of the public edge, turned into what `gql` and Starlette take.

Query limits (`gql.limits`), the operation guard (`gql.operation`), HTTP limits (`gql.http`)
and CORS. CORS is off unless origins
are configured: without `Access-Control-Allow-Origin` a browser page on another site cannot
read our answers, which is the safe default for an API that may sit on an intranet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from newsgraph.config import ENV_PREFIX, Settings
from newsgraph.gql.cost import PageSizes
from newsgraph.gql.http import HttpLimits
from newsgraph.gql.limits import QueryLimits, limit_extensions
from newsgraph.gql.operation import OperationGuard
from newsgraph.gql.pagination import DEFAULT_PAGE_SIZE


def query_limits(settings: Settings) -> QueryLimits:
    return QueryLimits(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_query_tokens,
        max_cost=settings.max_query_cost,
        introspection=settings.introspection,
        env_prefix=ENV_PREFIX,
    )


def guards(settings: Settings) -> list[Callable[[], Any]]:
    """The schema extensions that enforce the query limits."""
    pages = PageSizes(default=DEFAULT_PAGE_SIZE, maximum=settings.max_page_size)
    return limit_extensions(query_limits(settings), pages)


def http_limits(settings: Settings) -> HttpLimits:
    return HttpLimits(max_body_bytes=settings.max_body_bytes, env_prefix=ENV_PREFIX)


def operation_guard(settings: Settings) -> OperationGuard:
    """What every operation is held to, over HTTP and WebSocket alike."""
    return OperationGuard(
        timeout_ms=settings.query_timeout_ms, timeout_setting=ENV_PREFIX + "QUERY_TIMEOUT_MS"
    )


def cors(settings: Settings) -> list[Middleware]:
    """Starlette's CORS middleware for the configured origins, or nothing at all."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "accept"],
            expose_headers=["x-request-id"],
            max_age=600,
        )
    ]
