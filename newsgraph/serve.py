"""`newsgraph serve` and `newsgraph schema`: watch (optionally) and serve with uvicorn."""

from __future__ import annotations

from newsgraph.app import create_app
from newsgraph.config import Settings
from newsgraph.db.connection import open_writer
from newsgraph.db.errors import DatabaseUnavailable
from newsgraph.gql.schema import print_sdl
from newsgraph.live import LiveServer, server_config
from newsgraph.workers import run_workers


def run_server(settings: Settings) -> int:
    """Serve until SIGTERM/SIGINT, then stop cleanly and return 0.

    With watching on (the default) the app's lifespan starts the watcher, which reconciles the
    store with the content before the first request is served. `--no-watch` serves an
    existing database read-only: no reconcile, no writer, so any number of such processes can
    run beside one `newsgraph watch`.
    """
    if settings.watch:
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
