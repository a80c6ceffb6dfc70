"""Builds the schema, and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig

from newsgraph.gql.execution import FastExecutor
from newsgraph.gql.masking import MaskInternalErrors
from newsgraph.gql.operation import GuardedSchema, OperationGuard
from newsgraph.gql.queries import Query
from newsgraph.gql.scalars import SCALARS
from newsgraph.gql.subscriptions import Subscription
from newsgraph.gql.types import Article, Provider, Topic

# Documents are parsed and validated once per distinct query text; the caches are keyed by it.
CACHE_SIZE = 512


def build_schema(
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
    *,
    guards: Sequence[Callable[[], SchemaExtension]] = (),
    guard: OperationGuard | None = None,
) -> GuardedSchema:
    """The schema; `extensions` are added after ours (the app passes its metrics here).

    `guard` holds every operation, over any transport, to the timeout (see `gql.operation`).
    `guards` (the query limits of `gql.limits`) come first: their parse hook must wrap the
    parser cache's, and their validation rules must be in place before validation runs.
    """
    schema = GuardedSchema(
        query=Query,
        subscription=Subscription,
        types=[Article, Provider, Topic],
        execution_context_class=FastExecutor,
        config=StrawberryConfig(scalar_map=SCALARS),  # type: ignore[arg-type]
        extensions=[
            *guards,
            partial(ParserCache, maxsize=CACHE_SIZE),
            partial(ValidationCache, maxsize=CACHE_SIZE),
            MaskInternalErrors,
            *extensions,
        ],
    )
    if guard is not None:
        schema.guard = guard
    return schema


def print_sdl() -> str:
    return build_schema().as_str() + "\n"
