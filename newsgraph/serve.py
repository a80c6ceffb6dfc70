"""`newsgraph serve` and `newsgraph schema`: watch (optionally) and serve with uvicorn."""

from __future__ import annotations

from dataclasses import replace

from newsgraph.app import create_app
from newsgraph.config import ConfigError, Settings
from newsgraph.db.connection import open_writer
from newsgraph.db.errors import DatabaseUnavailable
from newsgraph.gql.schema import print_sdl
from newsgraph.live import LiveServer, server_config
from newsgraph.replication import check_replica_path
from newsgraph.workers import run_workers


def run_server(settings: Settings) -> int:
    """Serve until SIGTERM/SIGINT, then stop cleanly and return 0.

    With watching on (the default) the app's lifespan starts the watcher, which reconciles the
    store with the content before the first request is served. `--no-watch` serves an
    existing database read-only: no reconcile, no writer, so any number of such processes can
    run beside one `newsgraph watch`. `--replica-of` serves a Litestream copy read-only (it
    is created by the follower, so it need not exist yet).
    """
    if settings.replica_of:
        if settings.replicate_to:
            raise ConfigError("--replica-of and --replicate-to exclude each other")
        if settings.api_processes > 1:
            raise ConfigError(
                "--replica-of serves from one process; run more replicas for more capacity"
            )
        check_replica_path(settings.db)
        settings = replace(settings, watch=False)  # a replica never watches or writes
    elif settings.watch:
        open_writer(settings.db).close()  # create and migrate before the readers open it
    elif not settings.db.is_file():
        raise DatabaseUnavailable(
            f"{settings.db} does not exist; `serve --no-watch` only reads: create it with "
            "`newsgraph ingest` or `newsgraph watch`"
        )
    if settings.api_processes > 1:
        return run_workers(settings)
    app = create_app(settings)
    LiveServer(server_config(app, settings), app).run()
    return 0


def print_schema() -> str:
    """The schema's SDL, as committed in `schema.graphql`."""
    return print_sdl()
