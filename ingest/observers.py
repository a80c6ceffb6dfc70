"""Choosing and starting a watchdog observer: inotify when the kernel allows, polling otherwise.

inotify is instant but limited (`fs.inotify.max_user_watches`, `max_user_instances`) and blind
on network filesystems and some bind mounts; polling works everywhere at the cost of a delay of
one interval. Falling back is logged, never fatal.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from watchdog.observers.api import BaseObserver
from watchdog.observers.inotify import InotifyObserver
from watchdog.observers.polling import PollingObserver

from newsgraph.ingest.handler import EVENT_TYPES, ContentEventHandler

log = logging.getLogger(__name__)

ObserverKind = Literal["inotify", "polling"]
HandlerFactory = Callable[[bool], ContentEventHandler]  # track_writes -> handler


def start_observer(
    root: Path, make_handler: HandlerFactory, *, poll: bool, poll_interval: float
) -> tuple[BaseObserver, ObserverKind]:
    """A running recursive observer on `root`; raises OSError only when the root is unusable."""
    if not poll:
        observer = _try_inotify(root, make_handler(True))
        if observer is not None:
            return observer, "inotify"
    # Polling sees no closes, so a modified file cannot be known to be still open for writing.
    polling = PollingObserver(timeout=poll_interval)
    polling.schedule(make_handler(False), str(root), recursive=True, event_filter=EVENT_TYPES)
    polling.start()
    return polling, "polling"


def _try_inotify(root: Path, handler: ContentEventHandler) -> BaseObserver | None:
    """An inotify observer, or None (logged) when the kernel refuses one."""
    try:
        observer = InotifyObserver()  # EMFILE: inotify instance limit reached
    except OSError as error:
        log.warning("watcher: inotify unavailable (%s); falling back to polling", error)
        return None
    try:
        observer.schedule(handler, str(root), recursive=True, event_filter=EVENT_TYPES)
        observer.start()  # ENOSPC: watch limit reached (for the root; sub-folders fail silently)
    except OSError as error:
        log.warning("watcher: cannot watch with inotify (%s); falling back to polling", error)
        with contextlib.suppress(Exception):
            observer.stop()  # also stops the inotify reader thread its constructor started
        return None
    report_overflows(observer, handler.on_overflow)
    return observer


def report_overflows(observer: BaseObserver, callback: Callable[[], None]) -> None:
    """Call `callback` when the kernel's inotify queue overflows (events were dropped).

    watchdog 7.1 handles IN_Q_OVERFLOW itself (it logs a warning and rebuilds its watches) but
    tells no event handler, so we wrap the watch group's `on_queue_overflow`. That reaches into
    a private attribute; if a later watchdog moves it we log it, and the start-up reconcile and
    root checks remain.
    """
    for emitter in list(observer.emitters):
        group = getattr(emitter, "_inotify", None)
        original = getattr(group, "on_queue_overflow", None)
        if group is None or original is None:
            log.warning("watcher: cannot hook inotify overflows in this watchdog version")
            continue

        def on_queue_overflow(original: Callable[[], None] = original) -> None:
            original()
            callback()

        group.on_queue_overflow = on_queue_overflow
