"""`newsgraph watch`: the watcher alone, as a process, until SIGTERM or SIGINT.

This is the writer half of a split deployment: one `newsgraph watch` feeds the database and any
number of `newsgraph serve --no-watch` processes read it (they wake on the `changes` table).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from newsgraph.config import Settings
from newsgraph.db.writes import BatchResult
from newsgraph.ingest.watcher import Watcher
from newsgraph.pipeline import open_pipeline
from newsgraph.replication import replicating_sync

log = logging.getLogger("newsgraph")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
TICK = 0.1  # seconds between the main thread's looks at signals (and `on_tick`)


def log_commit(batch: BatchResult) -> None:
    """One line per committed batch that changed something, for operators tailing the log."""
    if batch.changed or batch.errors:
        log.info(
            "watch: %d created, %d updated, %d deleted, %d errors (change %s)",
            batch.created, batch.updated, batch.deleted, batch.errors, batch.last_seq,
        )  # fmt: skip


def run_watch(
    settings: Settings,
    *,
    on_commit: Callable[[BatchResult], None] = log_commit,
    on_tick: Callable[[Watcher], bool] | None = None,
) -> int:
    """Reconcile, then apply every change under the content root until told to stop; exit 0.

    A signal only sets an event: the stop itself (observer stopped, the batch in hand
    committed, threads joined) runs on the main thread, never inside the signal handler.
    `on_tick` (the writer of `serve --workers N`) runs on the main thread every `TICK`
    seconds; it returns False to stop.
    """
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("watch: %s received; stopping", signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        with open_pipeline(settings) as pipeline:
            watcher = Watcher(
                pipeline,
                include=settings.include,
                exclude=settings.exclude,
                poll=settings.poll,
                debounce_ms=settings.debounce_ms,
                on_commit=on_commit,
            )
            with watcher, replicating_sync(settings):
                # A timed wait, so the main thread returns to the interpreter and runs the
                # signal handler promptly on every platform.
                while not stopping.wait(TICK):
                    if on_tick is not None and not on_tick(watcher):
                        break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("watch: stopped")
    return 0
