"""The live demo page: `/` and its static files, shipped inside the package (no build step).

The page is plain HTML, CSS and JavaScript that talk to `/graphql` like any client would. Its
Content-Security-Policy allows scripts, styles and connections to this origin only (images may
come from anywhere, as articles link them), so even a title that slipped past the page's escaping
could not run script.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from newsgraph import static

STATIC = static.FOLDER
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src http: https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


async def index(request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html",
        headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"},
    )


def page_routes() -> list[BaseRoute]:
    return [
        Route("/", index, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
