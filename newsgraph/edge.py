"""The settings of the public edge, turned into what `gql` and Starlette take.

Query limits (`gql.limits`), the operation guard (`gql.operation`), HTTP limits and caching
(`gql.http`, `gql.http_cache`), persisted queries (`gql.persisted`) and CORS. CORS is off
unless origins are configured: without `Access-Control-Allow-Origin` a browser page on another
site cannot read our answers, which is the safe default for an API that may sit on an intranet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from newsgraph.config import ENV_PREFIX, ConfigError, Settings
from newsgraph.gql.cost import PageSizes
from newsgraph.gql.http import HttpLimits
from newsgraph.gql.http_cache import HttpCaching
from newsgraph.gql.limits import QueryLimits, limit_extensions
from newsgraph.gql.lookups import MAX_FACETS, MAX_NODES
from newsgraph.gql.operation import OperationGuard
from newsgraph.gql.pagination import DEFAULT_PAGE_SIZE
from newsgraph.gql.persisted import ManifestError, PersistedDocuments, load_manifest


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
    pages = PageSizes(
        default=DEFAULT_PAGE_SIZE,
        maximum=settings.page_size_limit,
        most_ids=MAX_NODES,
        most_counts=MAX_FACETS,
    )
    return limit_extensions(query_limits(settings), pages)


def http_limits(settings: Settings) -> HttpLimits:
    return HttpLimits(max_body_bytes=settings.max_body_bytes, env_prefix=ENV_PREFIX)


def operation_guard(settings: Settings) -> OperationGuard:
    """What every operation is held to, over HTTP and WebSocket alike."""
    return OperationGuard(
        timeout_ms=settings.query_timeout_ms, timeout_setting=ENV_PREFIX + "QUERY_TIMEOUT_MS"
    )


def http_caching(settings: Settings) -> HttpCaching:
    return HttpCaching(
        max_age=settings.cache_max_age,
        stale_while_revalidate=settings.cache_stale_while_revalidate,
    )


def persisted_documents(settings: Settings) -> PersistedDocuments:
    """The trusted manifest (read once, at start-up) and the APQ registry's size.

    A manifest that is missing or malformed stops start-up (exit 2) naming the file and the
    problem: an endpoint meant to run only trusted documents must not start open.
    """
    if settings.persisted_only and not settings.persisted_queries:
        raise ConfigError(
            "persisted_only: needs persisted_queries, the manifest of trusted documents"
        )
    trusted: dict[str, str] = {}
    if settings.persisted_queries:
        try:
            trusted = load_manifest(Path(settings.persisted_queries))
        except ManifestError as error:
            raise ConfigError(f"persisted_queries: {error}") from error
    return PersistedDocuments(
        trusted=trusted,
        only_trusted=settings.persisted_only,
        registry_size=0 if settings.persisted_only else settings.apq_registry_size,
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
