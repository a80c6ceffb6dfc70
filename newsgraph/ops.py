"""Operations endpoints: `/healthz` (liveness), `/readyz` (readiness), `/metrics` (Prometheus).

Liveness and readiness answer different questions. `/healthz` says the process is up and its
event loop answers, and touches nothing else: an orchestrator restarts a process that fails it,
and restarting does not cure a locked database. `/readyz` says this process can serve correct
answers now (database readable, schema fully migrated, content being watched unless watching was
turned off on purpose) and answers 503 naming what is not, so a load balancer takes the process
out of rotation until it is.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass
from typing import Any, Protocol

from sqlite_utils import Database
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsgraph.db.migrations import pending_migrations
from newsgraph.db.pool import ReaderPool
from newsgraph.ingest.watcher import WatcherStatus
from newsgraph.metrics import CONTENT_TYPE, Metrics

# A database that does not answer within this is not ready (locked, or a stalled disk).
DATABASE_TIMEOUT = 2.0


class WatcherLike(Protocol):
    """What readiness needs of the watcher (`ingest.watcher.Watcher`)."""

    @property
    def running(self) -> bool: ...

    def status(self) -> WatcherStatus: ...

    def wait_ready(self, timeout: float | None = None) -> bool: ...


def _pending(conn: sqlite3.Connection) -> list[str]:
    """Migration names not yet applied; reading them also proves the database answers."""
    return pending_migrations(Database(conn, recursive_triggers=False))


def watcher_state(watcher: WatcherLike | None, *, enabled: bool) -> str:
    """One word or phrase for the watcher; `ok` and `disabled` are the ready ones."""
    if not enabled:
        return "disabled"
    if watcher is None or not watcher.running:
        return "not running"
    status = watcher.status()
    if not status.root_present:
        return "content root missing"
    if not watcher.wait_ready(0):
        return "reconciling"
    return "ok" if status.watching else "not watching"


async def database_state(pool: ReaderPool) -> tuple[str, str]:
    """(database, migrations) checks through the same reader pool queries use."""
    try:
        pending = await asyncio.wait_for(pool.submit(_pending), DATABASE_TIMEOUT)
    except TimeoutError:
        return f"no answer within {DATABASE_TIMEOUT:g} s", "unknown"
    except sqlite3.Error as error:
        return f"cannot read: {error}", "unknown"
    return "ok", ("ok" if not pending else "pending: " + ", ".join(pending))


@dataclass(frozen=True)
class Ops:
    """The operations routes of one app."""

    pool: ReaderPool
    metrics: Metrics
    watch: bool

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz, methods=["GET", "HEAD"]),
            Route("/readyz", self.readyz, methods=["GET", "HEAD"]),
            Route("/metrics", self.scrape, methods=["GET"]),
        ]

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        replication = getattr(request.app.state, "replication", None)
        replicated = replication.check() if replication is not None else "off"
        if replicated == "restoring":  # the readers open after the first restore
            database, migrations = "waiting for the first restore", "unknown"
        else:
            database, migrations = await database_state(self.pool)
        watcher = getattr(request.app.state, "watcher", None)
        checks: dict[str, Any] = {
            "database": database,
            "migrations": migrations,
            "watcher": watcher_state(watcher, enabled=self.watch),
        }
        if replication is not None:
            checks["replication"] = replicated
        failing = [name for name, state in checks.items() if state not in ("ok", "disabled")]
        body: dict[str, Any] = {
            "status": "not ready" if failing else "ready",
            "checks": checks,
            "pid": os.getpid(),
        }
        if replication is not None:
            body["replication"] = replication.details()
        if failing:
            body["not_ready"] = failing
        return JSONResponse(body, status_code=503 if failing else 200)

    async def scrape(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type=CONTENT_TYPE)
