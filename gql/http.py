"""GraphQL over HTTP, as the graphql-over-http spec and its `graphql-http` audit ask.

Strawberry's ASGI view answers most requests well; this subclass settles what it leaves open:

- Media types: `application/graphql-response+json` when the client accepts it, else legacy
  `application/json` (also for `*/*` or no `Accept`); 406 when it accepts neither.
  With the new type, a request that fails before execution (unparsable, invalid, too complex,
  bad variables) is a 400 without a `data` key; with the legacy type it is a 200, still
  without `data`, as the GraphQL spec says for request errors.
- 405 with `Allow: POST` for a mutation or subscription sent by GET; 415 for a POST body that is
  not `application/json` (utf-8); 400 for malformed JSON, a body that is not an object, a
  missing or non-string `query`, a bad `operationName` or an unknown operation; batches (a
  JSON array) are refused with 400 rather than multiplying every limit below.
- Request body limit: checked against `Content-Length` and while reading, before any parsing
  (413). The time limit, the read snapshot and the request id of the execution itself are the
  schema's (`gql.operation`), shared with the WebSocket transports.
- Every response carries `X-Request-ID`, the id that masked errors quote and logs record.

Errors the view raises itself are GraphQL-shaped JSON: `{"errors": [{"message", "extensions":
{"code"}}]}`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from newsgraph.gql.context import Context
from newsgraph.gql.masking import INTERNAL
from newsgraph.gql.operation import TIMEOUT

log = logging.getLogger("newsgraph.gql")

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


class _BodyTooLarge(Exception):
    pass


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


class GraphQLHTTP(GraphQL[Context, None]):
    """Strawberry's ASGI view with spec-conformant HTTP semantics and the edge limits."""

    http_limits: HttpLimits = HttpLimits()
    _ALLOWED: ClassVar[dict[str, set[OperationType]]] = {
        "GET": {OperationType.QUERY},
        "POST": {OperationType.QUERY, OperationType.MUTATION},
    }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=self._limited(receive))
        media = negotiate(request.headers.get("accept"))
        request.state.media_type = media or JSON
        context = await self.get_context(request, response=await self.get_sub_response(request))
        request.state.context = context
        try:
            self._check_request(request, media)
            response = await self._run_http(request, context)
        except HttpError as error:
            response = self._error_response(request, error)
        except _BodyTooLarge:
            response = self._error_response(request, self._too_large())
        except HTTPException as error:  # Strawberry's own refusals (bad JSON, missing query)
            response = self._error_response(request, HttpError(error.status_code, error.reason))
        response.headers["x-request-id"] = context.request_id
        await response(scope, receive, send)

    def _limited(self, receive: Receive) -> Callable[[], Awaitable[Message]]:
        """`receive`, refusing a body that grows past the limit while it is read."""
        limit = self.http_limits.max_body_bytes
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if limit and message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        return limited

    def _too_large(self) -> HttpError:
        limit = self.http_limits.max_body_bytes
        setting = self.http_limits.env_prefix + "MAX_BODY_BYTES"
        return HttpError(
            413, f"request body exceeds the limit of {limit:,} bytes ({setting})", "BODY_TOO_LARGE"
        )

    def _check_request(self, request: Request, media: str | None) -> None:
        """Refusals that need no body: wrong method, unacceptable `Accept`, body too large."""
        if request.method not in ("GET", "POST"):
            raise HttpError(405, "use GET or POST", "METHOD_NOT_ALLOWED", {"Allow": "GET, POST"})
        if media is None and not self._wants_ide(request):
            raise HttpError(
                406,
                f"cannot answer with any type in Accept; this server speaks {GRAPHQL_RESPONSE} "
                f"and {JSON}",
                "NOT_ACCEPTABLE",
            )
        length = request.headers.get("content-length", "")
        limit = self.http_limits.max_body_bytes
        if limit and length.isdigit() and int(length) > limit:
            raise self._too_large()

    def _wants_ide(self, request: Request) -> bool:
        accept = request.headers.get("accept", "")
        return (
            request.method == "GET"
            and "query" not in request.query_params
            and ("text/html" in accept)
        )

    def _error_response(self, request: Request, error: HttpError) -> Response:
        media = getattr(request.state, "media_type", JSON)
        return Response(
            error_body(error.message, error.code),
            status_code=error.status,
            media_type=media,
            headers=error.headers,
        )

    async def _run_http(self, request: Request, context: Context) -> Response:
        """Strawberry's `run`, then the negotiated media type and the request-error status."""
        response = await self.run(request, context=context)
        media = request.state.media_type
        if response.media_type == JSON or response.headers.get("content-type") == JSON:
            response.headers["content-type"] = media
            if media == GRAPHQL_RESPONSE and getattr(request.state, "request_error", False):
                response.status_code = 400
        return response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "GET":
            data: object = self.parse_query_params(request.query_params)
        else:
            media, params = parse_content_type(request.content_type or "")
            charset = params.get("charset", "utf-8").lower()
            if media != JSON or charset not in ("utf-8", "utf8"):
                raise HttpError(
                    415,
                    f"send the request as {JSON} (utf-8); got {request.content_type or 'none'}",
                    "UNSUPPORTED_MEDIA_TYPE",
                )
            data = self.parse_json(await request.get_body())
        if isinstance(data, list):
            raise HttpError(400, "batched requests are not supported; send one operation")
        if not isinstance(data, dict):
            raise HttpError(400, "the request must be a JSON object with a `query`")
        return _request_data(data)

    async def execute_single(
        self, request: Request, request_adapter: AsyncHTTPRequestAdapter, sub_response: Response,
        context: Context, root_value: None, request_data: GraphQLRequestData,
    ) -> ExecutionResult:  # fmt: skip
        """The schema's one guarded path (`gql.operation`), with HTTP's own refusals."""
        method = request_adapter.method
        try:
            return await self.schema.execute(
                request_data.query,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=self._ALLOWED.get(method, set()),
                operation_extensions=request_data.extensions,
            )
        except MissingQueryError as error:
            raise HttpError(400, "the request has no `query`") from error
        except CannotGetOperationTypeError as error:
            raise HttpError(400, _operation_problem(error.operation_name)) from error
        except InvalidOperationTypeError as error:
            raise _wrong_method(error.operation_type, method) from error

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = process_result(result)
        context = getattr(request.state, "context", None)
        if context is not None and context.timed_out:
            return response
        if _is_request_error(result):
            response.pop("data", None)
            request.state.request_error = True
        return response


def _is_request_error(result: ExecutionResult) -> bool:
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


def _request_data(data: dict[str, Any]) -> GraphQLRequestData:
    query, variables = data.get("query"), data.get("variables")
    operation_name, extensions = data.get("operationName"), data.get("extensions")
    if query is None:
        raise HttpError(400, "the request has no `query`")
    if not isinstance(query, str):
        raise HttpError(400, "`query` must be a string")
    if not isinstance(variables, dict | None):
        raise HttpError(400, "`variables` must be a JSON object (a map) or null")
    if not isinstance(operation_name, str | None):
        raise HttpError(400, "`operationName` must be a string or null")
    if not isinstance(extensions, dict | None):
        raise HttpError(400, "`extensions` must be a JSON object (a map) or null")
    return GraphQLRequestData(query, variables, operation_name, extensions)


def _operation_problem(name: str | None) -> str:
    if name is None:
        return "the document has several operations (or none): say which with `operationName`"
    return f"the document has no operation named {name!r} (`operationName`)"


def _wrong_method(kind: OperationType, method: str) -> HttpError:
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
