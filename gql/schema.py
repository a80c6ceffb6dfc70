"""Builds the schema, and nothing else."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from gql.errors import should_mask
from gql.execution import FastExecutor
from gql.queries import Query
from gql.scalars import SCALARS
from gql.types import Article, Provider, Topic

# Documents are parsed and validated once per distinct query text; the caches are keyed by it.
CACHE_SIZE = 512


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        types=[Article, Provider, Topic],
        execution_context_class=FastExecutor,
        config=StrawberryConfig(scalar_map=SCALARS),  # type: ignore[arg-type]
        extensions=[
            partial(ParserCache, maxsize=CACHE_SIZE),
            partial(ValidationCache, maxsize=CACHE_SIZE),
            partial(MaskErrors, should_mask_error=should_mask),
        ],
    )


def print_sdl() -> str:
    return build_schema().as_str() + "\n"
