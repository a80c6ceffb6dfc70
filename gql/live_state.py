"""What the live half of a server process hands to resolvers: its broker and watcher status.

`gql` may not import `ingest`, so the watcher's status is described here as a protocol that
`ingest.watcher.WatcherStatus` satisfies; `newsgraph.app` wires the two together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from newsgraph.gql.broker import ChangeBroker


class WatchSnapshot(Protocol):
    """The parts of the watcher's status that `ingestStatus` reports."""

    @property
    def watching(self) -> bool: ...
    @property
    def observer_kind(self) -> str | None: ...
    @property
    def last_event_at(self) -> datetime | None: ...
    @property
    def queue_depth(self) -> int: ...


@dataclass(frozen=True)
class LiveState:
    """The process's change broker, and its watcher's status when it runs one."""

    broker: ChangeBroker
    watcher_status: Callable[[], WatchSnapshot] | None = None
    max_subscriptions: int = 20
