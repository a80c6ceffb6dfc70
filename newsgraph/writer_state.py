"""The writer process's watcher status, shared with the API processes of `serve --workers N`.

With several workers the watcher runs in a process of its own, but `/readyz` and `ingestStatus`
of every worker should still describe it (is it reconciling, is the content root there, how
deep is its queue), as they do in a single process. The writer publishes its `WatcherStatus`
into a few shared doubles several times a second; a worker reads them as if it were the
watcher (`status()`, `wait_ready()`), so the ops and GraphQL code need no second path. The
supervisor marks the writer as not running when its process ends.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from multiprocessing.context import SpawnContext
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any, get_args

from newsgraph.ingest.observers import ObserverKind
from newsgraph.ingest.watcher import WatcherStatus

KINDS: tuple[ObserverKind, ...] = get_args(ObserverKind)
FIELDS = ("running", "ready", "watching", "kind", "root_present", "last_event_at", "queue_depth",
          "last_change_seq", "rescans")  # fmt: skip
_AT = {name: index for index, name in enumerate(FIELDS)}


class SharedWriterState:
    """A handful of doubles in shared memory (passed to child processes when they start)."""

    def __init__(self, context: SpawnContext) -> None:
        self._values: SynchronizedArray[Any] = context.Array("d", len(FIELDS))

    def publish(self, status: WatcherStatus, *, ready: bool) -> None:
        """The writer, every tick: its watcher's status now."""
        values = [0.0] * len(FIELDS)
        values[_AT["running"]] = 1.0
        values[_AT["ready"]] = float(ready)
        values[_AT["watching"]] = float(status.watching)
        values[_AT["kind"]] = KINDS.index(status.observer_kind) + 1 if status.observer_kind else 0
        values[_AT["root_present"]] = float(status.root_present)
        at = status.last_event_at
        values[_AT["last_event_at"]] = at.timestamp() if at is not None else math.nan
        values[_AT["queue_depth"]] = float(status.queue_depth)
        seq = status.last_change_seq
        values[_AT["last_change_seq"]] = float(seq) if seq is not None else math.nan
        values[_AT["rescans"]] = float(status.rescans)
        with self._values.get_lock():
            self._values[:] = values

    def mark_stopped(self) -> None:
        """The supervisor, when the writer process has ended (crashed or stopped)."""
        with self._values.get_lock():
            self._values[:] = [0.0] * len(FIELDS)

    @property
    def running(self) -> bool:
        return bool(self._values[_AT["running"]])

    # The watcher's interface (`ops.WatcherLike`, `gql.live_state.WatchSnapshot` source).

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Whether the writer has finished its start-up reconcile (never waits: it is polled)."""
        return bool(self._values[_AT["ready"]])

    def status(self) -> WatcherStatus:
        with self._values.get_lock():
            values: list[float] = self._values[:]
        kind = int(values[_AT["kind"]])
        at, seq = values[_AT["last_event_at"]], values[_AT["last_change_seq"]]
        return WatcherStatus(
            watching=bool(values[_AT["watching"]]),
            observer_kind=KINDS[kind - 1] if kind else None,
            root_present=bool(values[_AT["root_present"]]),
            last_event_at=None if math.isnan(at) else datetime.fromtimestamp(at, UTC),
            queue_depth=int(values[_AT["queue_depth"]]),
            last_change_seq=None if math.isnan(seq) else int(seq),
            rescans=int(values[_AT["rescans"]]),
        )
