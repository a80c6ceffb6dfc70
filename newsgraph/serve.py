"""`newsgraph serve` and `newsgraph schema`: reconcile once, then serve with uvicorn."""

from __future__ import annotations

import uvicorn

from gql.schema import print_sdl
from newsgraph.app import create_app
from newsgraph.commands import ingest_once, open_pipeline
from newsgraph.config import Settings


def run_server(settings: Settings) -> int:
    """Bring the store in line with the content, then serve until interrupted."""
    with open_pipeline(settings) as pipeline:
        summary = ingest_once(pipeline, settings)
    print(f"ingest: {summary.line()}", flush=True)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        lifespan="on",
    )
    uvicorn.Server(config).run()
    return 0


def print_schema() -> str:
    """The schema's SDL, as committed in `schema.graphql`."""
    return print_sdl()
