"""Wiring replication into a server: the writer ships, a replica follows and serves read-only.

A replica's server answers `/healthz` and `/readyz` ("restoring") from the first moment; its
reader pool and change broker open only once the first restore is done, and from then on every
advance of the follower makes every reader reopen (fresh pages) and wakes the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Protocol

from prometheus_client import Gauge
from starlette.applications import Starlette

from newsgraph.config import Settings
from newsgraph.db.pool import ReaderPool
from newsgraph.live import live_services
from newsgraph.metrics import Metrics
from newsgraph.replication import Follower, Replicator

POLL_INTERVAL = 0.05
log = logging.getLogger(__name__)


class Replication(Protocol):
    """What `/readyz` and `/metrics` read of a `Replicator` or `Follower`."""

    def check(self) -> str: ...

    def details(self) -> dict[str, Any]: ...


def export_metrics(metrics: Metrics, replication: Replicator | Follower) -> None:
    """`newsgraph_replication_*` gauges, read at scrape time."""
    state = replication.supervisor.state
    registry = metrics.registry
    Gauge(
        "newsgraph_replication_up", "1 while the Litestream process runs", registry=registry
    ).set_function(lambda: 1.0 if state.running else 0.0)
    Gauge(
        "newsgraph_replication_restarts", "times the Litestream process was restarted",
        registry=registry,
    ).set_function(lambda: float(state.restarts))  # fmt: skip
    if isinstance(replication, Follower):
        follower = replication
        Gauge(
            "newsgraph_replication_lag_seconds",
            "seconds the local copy may be behind the replica (0 while following)",
            registry=registry,
        ).set_function(follower.lag_seconds)


@asynccontextmanager
async def replicating(
    app: Starlette, settings: Settings, *, ships: bool
) -> AsyncIterator[Replicator | None]:
    """`litestream replicate` for as long as the block runs, when `--replicate-to` is set and
    this process `ships` the database (the API workers of `serve --workers N` leave it to
    their writer process: one Litestream per database)."""
    if not settings.replicate_to or not ships:
        yield None
        return
    replicator = Replicator(settings.db, settings.replicate_to, settings.replication_interval_ms)
    app.state.replication = replicator
    replicator.start()
    try:
        yield replicator
    finally:
        await asyncio.to_thread(replicator.stop)


@asynccontextmanager
async def following(
    app: Starlette, settings: Settings, pool: ReaderPool, view: Any
) -> AsyncIterator[Follower]:
    """Follow `--replica-of`; open the readers and the broker once the first restore is done."""
    follower = Follower(settings.db, settings.replica_of, settings.replication_interval_ms)
    app.state.replication = follower
    follower.start()
    stack = AsyncExitStack()
    brokers: list[Any] = []

    async def advanced() -> bool:
        if not await asyncio.to_thread(follower.poll):
            return False
        # One line per advance, as the writer logs one per commit: the two logs line up.
        log.info("replication: local copy advanced to txid %s", follower.txid)
        pool.refresh()
        for broker in brokers:
            broker.refresh()
        return True

    async def serve_when_restored() -> None:
        while not await asyncio.to_thread(follower.poll):
            await asyncio.sleep(POLL_INTERVAL)
        pool.open()
        stack.callback(pool.close)
        live = await stack.enter_async_context(live_services(app, settings, detect=advanced))
        brokers.append(app.state.broker)
        view.live = live

    task = asyncio.create_task(serve_when_restored(), name="newsgraph-replica-start")
    try:
        yield follower
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await stack.aclose()
        await asyncio.to_thread(follower.stop)
