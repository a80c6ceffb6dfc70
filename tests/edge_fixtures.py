"""Fixtures for the edge tests: the real app, with settings overridden, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from newsgraph.app import create_app
from newsgraph.config import Settings
from tests.conftest import ServerStack, WriteArticle
from tests.gql_fixtures import serving

GRAPHQL_RESPONSE = "application/graphql-response+json"


@dataclass
class Served:
    """A running app and a client for it."""

    app: Starlette
    client: httpx.Client

    def post(self, query: str, **variables: Any) -> dict[str, Any]:
        """POST a query as legacy JSON; the status must be 200. Returns the body."""
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or None}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def messages(self, query: str, **variables: Any) -> list[str]:
        """The error messages of a query that must fail."""
        body = self.post(query, **variables)
        assert body.get("errors"), body
        return [error["message"] for error in body["errors"]]

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.post(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


Serve = Callable[..., Served]


@pytest.fixture
def stored(write_article: WriteArticle, ingest: Callable[..., Any]) -> None:
    """Three articles in the database."""
    for number in range(3):
        write_article(
            f"_news/2024-03-0{number + 1}-story.md",
            title=f"Story {number}",
            webUrl=f"https://example.com/{number}",
            body="Robots and fusion.",
        )
    ingest()


@pytest.fixture
def serve(
    content_dir: Path, db_path: Path, stored: None, server_stack: ServerStack
) -> Iterator[Serve]:
    """`serve(**settings)`: start the app with those settings; returns a client for it."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> Served:
            app = create_app(Settings(content=content_dir, db=db_path, **overrides))
            url = stack.enter_context(serving(app, server_stack))
            return Served(app, stack.enter_context(httpx.Client(base_url=url, timeout=30)))

        yield start
