"""The writer process's watcher status, shared with the API processes of `serve --workers N`.

With several workers the watcher runs in a process of its own, but `/readyz` and `ingestStatus`
of every worker should still describe it (is it reconciling, is the content root there, how
deep is its queue), as they do in a single process. The writer publishes its `WatcherStatus`
into a few shared doubles several times a second; a worker reads them as if it were the
watcher (`status()`, `wait_ready()`), so the ops and GraphQL code need no second path. The
supervisor marks the writer as not running when its process ends. `CommitSignal` carries
the writer's commits to the workers' brokers as they happen.
"""

from __future__ import annotations

import contextlib
import math
import socket
from dataclasses import dataclass
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


class CommitSignal:
    """Wakes each API worker's change broker when the writer commits.

    Without it a worker sees a commit at its broker's next 50 ms look at `changes`; with it, at
    once, as in a single process. One datagram socket pair per worker slot, made by the
    supervisor and kept for its lifetime (a replacement worker inherits its slot's pair). Both
    ends are non-blocking: a worker that is down or busy has a full buffer, which already means
    "wake up", so the writer never waits on a worker.
    """

    def __init__(self, workers: int) -> None:
        self.pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(workers)]

    def senders(self) -> list[socket.socket]:
        return [sender for sender, _receiver in self.pairs]

    def receiver(self, index: int) -> socket.socket:
        return self.pairs[index][1]

    def close(self) -> None:
        for pair in self.pairs:
            for end in pair:
                end.close()


def send_wake(senders: list[socket.socket]) -> None:
    """The writer, after each commit (on its watcher thread)."""
    for sender in senders:
        with contextlib.suppress(OSError):  # full (a wake is pending anyway) or gone
            sender.send(b"!")


def drain_wake(receiver: socket.socket) -> None:
    """The worker, when its wake socket is readable: consume every pending wake."""
    with contextlib.suppress(OSError):
        while receiver.recv(64):
            pass


@dataclass(frozen=True)
class WriterLink:
    """What an API worker is given of the writer process: its status and its commit wake-ups."""

    state: SharedWriterState
    wake: socket.socket
