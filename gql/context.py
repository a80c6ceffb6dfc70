"""The typed context every resolver receives."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

import strawberry
from starlette.requests import Request
from starlette.websockets import WebSocket

from newsgraph.db.pool import Reader, ReaderPool, Snapshot
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


class FeedHooks(Protocol):
    """What a subscription's resolver tells the execution around it (see `gql.fanout`)."""

    def feed_opened(self) -> None:
        """The resolver reached its change feed: events from here on reach the subscriber."""

    def feed_failed(self, error: Exception) -> None:
        """The feed cut this execution off (too slow, shutting down): close its sockets."""


@dataclass
class Context:
    """One operation's world: the reader pool, its snapshot, its fresh loaders, the limits.

    An HTTP request is one operation. A WebSocket connection carries many, so the connection's
    context is only a template: each operation runs with its own `for_operation()` copy (its
    own request id, snapshot and loaders).
    """

    pool: ReaderPool
    limits: Limits = field(default_factory=Limits)
    request: Request | WebSocket | None = None
    live: LiveState | None = None  # the broker (subscriptions) and watcher status, when serving
    request_id: str = field(default_factory=new_request_id)  # in logs and masked errors
    snapshot: Snapshot | None = None  # the operation's one read snapshot, while it executes
    timed_out: bool = False  # set when the operation was cancelled at the query timeout
    cacheable: bool = True  # False once a field read this process's state, not stored data
    feed_hooks: FeedHooks | None = None  # a subscription's execution, set by `gql.fanout`
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.reader)

    @property
    def reader(self) -> Reader:
        """Where this operation's reads go: its snapshot while it has one."""
        return self.snapshot if self.snapshot is not None else self.pool

    def use_snapshot(self, snapshot: Snapshot | None) -> None:
        """Read from `snapshot` from now on, with loaders whose caches belong to it."""
        self.snapshot = snapshot
        self.loaders = Loaders(self.reader)

    def fresh_loaders(self) -> Loaders:
        """New, empty caches (a subscription calls this once per event it emits)."""
        self.loaders = Loaders(self.reader)
        return self.loaders

    def depends_on_process_state(self, owner: object, name: str) -> Any:
        """`owner.name`, noting that the answer is not a function of the stored data alone."""
        self.cacheable = False
        return getattr(owner, name)

    def for_operation(self) -> Context:
        """A copy for one operation of a connection: new request id, no snapshot yet."""
        return Context(pool=self.pool, limits=self.limits, request=self.request, live=self.live)


Info = strawberry.Info[Context, None]
