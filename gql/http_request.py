"""The parts of a GraphQL-over-HTTP request that need no server: media types, the request
body's shape, and the refusals (`HttpError`) the view answers without executing anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from newsgraph.gql.masking import INTERNAL
from newsgraph.gql.operation import TIMEOUT

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Per-request limits of the HTTP edge; 0 turns one off."""

    max_body_bytes: int = 262_144
    env_prefix: str = "NEWSGRAPH_"


class HttpError(Exception):
    """A request the view refuses before (or instead of) executing it."""

    def __init__(
        self, status: int, message: str, code: str = "BAD_REQUEST",
        headers: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


def negotiate(accept: str | None) -> str | None:
    """The response media type for an `Accept` header; None when we offer nothing it takes.

    The most preferred (highest q) of our two types wins; on a tie the spec's own type wins,
    except that a bare wildcard means the legacy `application/json` (old clients send `*/*`).
    """
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for part in accept.split(","):
        media, params = parse_content_type(part.strip())
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            offer = (quality, 2, GRAPHQL_RESPONSE)
        elif media == JSON:
            offer = (quality, 1, JSON)
        elif media in ("*/*", "application/*"):
            offer = (quality, 0, JSON)
        else:
            continue
        if best is None or offer[:2] > best[:2]:
            best = offer
    return best[2] if best else None


def error_body(message: str, code: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


def is_request_error(result: ExecutionResult) -> bool:
    """Failed before execution: unparsable, invalid, too complex, or bad variables.

    Variable coercion failures come back from graphql-core's execute (not as a
    `PreExecutionError`) with no data and errors that have no path; field errors always have one.
    """
    if isinstance(result, PreExecutionError):
        return True
    errors = result.errors or ()
    return (
        result.data is None
        and bool(errors)
        and all(e.path is None and _code(e) not in SERVER_FAULTS for e in errors)
    )


SERVER_FAULTS = frozenset({INTERNAL, TIMEOUT})


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


@dataclass(frozen=True, slots=True)
class HttpOperation:
    """One request's operation, as sent: the document may be named instead of given."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    document_id: str | None  # a trusted document's id (persisted documents)


def request_data(data: Mapping[str, Any]) -> HttpOperation:
    """The operation in a request body or query string, or the reason it is malformed."""
    query, variables = data.get("query"), data.get("variables")
    operation_name, extensions = data.get("operationName"), data.get("extensions")
    document_id = data.get("documentId")
    if not isinstance(query, str | None):
        raise HttpError(400, "`query` must be a string")
    if not isinstance(document_id, str | None):
        raise HttpError(400, "`documentId` must be a string")
    if not isinstance(variables, dict | None):
        raise HttpError(400, "`variables` must be a JSON object (a map) or null")
    if not isinstance(operation_name, str | None):
        raise HttpError(400, "`operationName` must be a string or null")
    if not isinstance(extensions, dict | None):
        raise HttpError(400, "`extensions` must be a JSON object (a map) or null")
    persisted = extensions is not None and "persistedQuery" in extensions
    if query is None and document_id is None and not persisted:
        raise HttpError(400, "the request has no `query`")
    return HttpOperation(query, variables, operation_name, extensions, document_id)


def operation_problem(name: str | None) -> str:
    if name is None:
        return "the document has several operations (or none): say which with `operationName`"
    return f"the document has no operation named {name!r} (`operationName`)"


def wrong_method(kind: OperationType, method: str) -> HttpError:
    if method == "GET":
        where = "a WebSocket (graphql-transport-ws)" if kind.value == "subscription" else "POST"
        return HttpError(
            405,
            f"a {kind.value} cannot be sent with GET; use {where}",
            "METHOD_NOT_ALLOWED",
            {"Allow": "POST"},
        )
    return HttpError(
        400,
        f"a {kind.value} cannot be sent over HTTP {method}; subscriptions use a WebSocket "
        "(graphql-transport-ws) at this same URL",
    )
