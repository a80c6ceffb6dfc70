"""The typed context every resolver receives."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import strawberry
from starlette.requests import Request
from starlette.websockets import WebSocket

from newsgraph.db.pool import ReaderPool
from newsgraph.gql.live_state import LiveState
from newsgraph.gql.loaders import Loaders
from newsgraph.gql.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class Limits:
    """Page sizes: what `first`/`last` default to and the most they may ask for."""

    default_page_size: int = DEFAULT_PAGE_SIZE
    max_page_size: int = MAX_PAGE_SIZE


def new_request_id() -> str:
    """A short random id that ties a client's error report to the server's log line."""
    return secrets.token_hex(8)


@dataclass
class Context:
    """One request's world: the reader pool, its fresh loaders, and the limits."""

    pool: ReaderPool
    limits: Limits = field(default_factory=Limits)
    request: Request | WebSocket | None = None
    live: LiveState | None = None  # the broker (subscriptions) and watcher status, when serving
    request_id: str = field(default_factory=new_request_id)  # in logs and masked errors
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.pool)

    def fresh_loaders(self) -> Loaders:
        """New, empty caches (a subscription calls this once per event it emits)."""
        self.loaders = Loaders(self.pool)
        return self.loaders


Info = strawberry.Info[Context, None]
