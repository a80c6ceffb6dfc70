"""Pins for the Strawberry internals newsgraph relies on, so an upgrade fails here, loudly.

`gql.http.GraphQLHTTP`, `gql.operation.GuardedSchema` and `newsgraph.live.TextWebSocketAdapter`
lean on Strawberry beyond its documented surface. Each reliance and the test that pins it:

- `GraphQL.__call__` serves WebSocket scopes (our view answers only HTTP itself):
  `tests/test_operation_path.py::test_queries_over_either_websocket_protocol_answer_as_over_http`
  and every subscription test.
- `GraphQL.run` serves GraphiQL to a browser: `tests/test_http_status.py::
  test_query_over_get_works_and_browsers_get_graphiql` and `tests/test_gql_more.py::
  test_graphql_get_queries_and_graphiql`.
- `parse_query_params` (GET's JSON-encoded `variables` and `extensions`), `parse_json` and
  `request_adapter_class` (method, query parameters, content type, body): here, below.
- The graphql-transport-ws handler calls `schema.stream` and the legacy graphql-ws handler
  `schema.subscribe`, for queries and for subscriptions: here, below, on both protocols (a
  refusal that only our overrides give); queries also in `test_operation_path`.
- `Schema.process_errors(errors, execution_context)` sees every client mistake:
  `tests/test_operation_path.py::test_client_mistakes_are_counted_and_logged_below_error`.
- `ASGIWebSocketAdapter.send_json` is where every message leaves (we send text frames): every
  WebSocket test, since `tests/live_fixtures.GqlSocket.receive` fails on a binary frame; and
  here, that the view still takes its adapter from `websocket_adapter_class`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from starlette.requests import Request
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL

from newsgraph.app import create_app
from newsgraph.config import Settings
from newsgraph.live import TextWebSocketAdapter

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket, LiveApp

pytest_plugins = ["tests.live_fixtures"]

Server = Callable[..., "LiveApp"]
Sockets = Callable[..., "GqlSocket"]
LEGACY_WS, TRANSPORT_WS = "graphql-ws", "graphql-transport-ws"
TRUSTED = "query Count { articles { totalCount } }"


def the_view(tmp_path: Path) -> GraphQL[Any, Any]:
    app = create_app(Settings(db=tmp_path / "unused.db", watch=False))
    views = [getattr(route, "app", None) for route in app.routes]
    [view] = [view for view in views if isinstance(view, GraphQL)][:1]
    return view


def test_get_parameters_decode_as_the_persisted_queries_need(tmp_path: Path) -> None:
    view = the_view(tmp_path)
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}
    params = {
        "operationName": "Home",
        "variables": json.dumps({"first": 20}),
        "extensions": json.dumps(extensions),
    }
    parsed = view.parse_query_params(params)
    assert parsed["variables"] == {"first": 20}
    assert parsed["extensions"] == extensions
    assert parsed["operationName"] == "Home"
    assert "query" not in parsed or parsed["query"] is None  # a hash-only GET
    assert view.parse_json(b'{"query": "{ a }"}') == {"query": "{ a }"}


def test_the_request_adapter_gives_what_the_view_reads(tmp_path: Path) -> None:
    view = the_view(tmp_path)
    body = b'{"query": "{ a }"}'
    scope = {
        "type": "http", "method": "POST", "path": "/graphql", "query_string": b"x=1",
        "headers": [(b"content-type", b"application/json; charset=utf-8")],
    }  # fmt: skip

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def read() -> tuple[str, object, str | None, bytes]:
        adapter = view.request_adapter_class(Request(scope, receive))
        params = dict(adapter.query_params)
        return adapter.method, params, adapter.content_type, await adapter.get_body()

    assert asyncio.run(read()) == (
        "POST", {"x": "1"}, "application/json; charset=utf-8", body
    )  # fmt: skip


def test_the_view_sends_through_our_websocket_adapter(tmp_path: Path) -> None:
    view = the_view(tmp_path)
    assert view.websocket_adapter_class is TextWebSocketAdapter
    assert issubclass(TextWebSocketAdapter, ASGIWebSocketAdapter)
    assert "send_json" in ASGIWebSocketAdapter.__dict__  # the method we override still exists


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize(
    "document",
    ["query Other { ingestStatus { articleCount } }", "subscription { articleEvents { kind } }"],
)
def test_both_websocket_handlers_reach_the_guarded_schema(
    live_server: Server, sockets: Sockets, tmp_path: Path, protocol: str, document: str
) -> None:
    """Only `GuardedSchema.stream`/`subscribe` refuse an untrusted document on a socket: if a
    handler stopped calling them, this document would run."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({hashlib.sha256(TRUSTED.encode()).hexdigest(): TRUSTED}))
    server = live_server(persisted_queries=str(manifest), persisted_only=True)
    client = sockets(server.address, protocol)
    client.subscribe("untrusted", document)
    message = client.receive()
    assert message["type"] in ("error", "data"), message
    payload = message["payload"]  # graphql-ws's `error` carries one error, the other a list
    error = payload if isinstance(payload, dict) and "message" in payload else payload[0]
    if message["type"] == "data":
        error = payload["errors"][0]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    client.subscribe("trusted", TRUSTED)
    trusted = client.receive()
    while trusted["type"] == "complete":  # the refused operation's end, on some protocols
        trusted = client.receive()
    assert trusted["payload"]["data"] == {"articles": {"totalCount": 0}}
