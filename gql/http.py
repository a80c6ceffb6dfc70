"""GraphQL over HTTP, as the graphql-over-http spec and its `graphql-http` audit ask, with the
caching protocols clients and CDNs speak.

Strawberry's ASGI view serves WebSockets and the GraphiQL page; GraphQL requests themselves are
answered here. A GET repeating a query string this view has already worked out, whose answer is
stored, is sent straight from the scope (`gql.http_hits`); every other request goes this way:

1. Refusals that need no body (`gql.http_request`): 405 for other methods, 406 when `Accept`
   takes neither `application/graphql-response+json` nor legacy `application/json`, 413 for a
   body over the limit (by `Content-Length`, and again while reading).
2. The operation: 415 for a POST that is not `application/json` (utf-8), 400 for malformed
   JSON, a batch, a non-object, bad fields; then persisted queries (`gql.persisted`) turn a
   hash or `documentId` into the document, or answer `PersistedQueryNotFound`.
3. The newest data version (`db.pool`, read on the event loop), with the request, keys the
   response cache (`gql.response_cache`) and names the ETag (`gql.http_cache`): a GET whose
   `If-None-Match` names the current tag is a 304 before anything executes; a hit is sent as
   stored bytes; concurrent identical misses execute once. An execution reads one snapshot
   for the whole request, and its ETag names that snapshot's version.
4. Execution is the schema's one guarded path (`gql.operation`: timeout, request id, limits,
   masking), shared with the WebSocket transports. With the new media type, a request that
   fails before execution is a 400 without `data`; with the legacy type it is a 200.
5. Bodies of 1 KB or more are gzipped for clients that accept it; every response carries
   `X-Request-ID`; errors are `Cache-Control: no-store`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Awaitable, Callable
from typing import ClassVar

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from newsgraph.db.pool import DataVersion, ReaderPool
from newsgraph.gql.context import Context
from newsgraph.gql.http_cache import (
    NO_STORE,
    VARY,
    HttpCaching,
    accepts_gzip,
    encoded_response,
    entity_tag,
    matches,
    not_modified,
)
from newsgraph.gql.http_hits import RawRequests, answer, recognise
from newsgraph.gql.http_request import (
    GRAPHQL_RESPONSE,
    JSON,
    HttpError,
    HttpLimits,
    HttpOperation,
    error_body,
    is_request_error,
    negotiate,
    operation_problem,
    request_data,
    wrong_method,
)
from newsgraph.gql.operation import operation_type
from newsgraph.gql.persisted import NOT_FOUND, NOT_IN_LIST, PersistedDocuments, PersistedQueryError
from newsgraph.gql.response_cache import Encoded, RequestKey, ResponseCache

__all__ = ["GRAPHQL_RESPONSE", "JSON", "GraphQLHTTP", "HttpError", "HttpLimits", "negotiate"]


class _BodyTooLarge(Exception):
    pass


class GraphQLHTTP(GraphQL[Context, None]):
    """Strawberry's ASGI view with spec-conformant HTTP, persisted queries and caching."""

    http_limits: HttpLimits = HttpLimits()
    http_caching: HttpCaching = HttpCaching()
    pool: ReaderPool  # set by the subclass that owns the pool
    cache: ResponseCache = ResponseCache(0)
    raw_requests: RawRequests = RawRequests(0)  # the app gives each view its own
    version_on_loop: bool = True  # False on a replica: see `_latest_version`
    documents: PersistedDocuments = PersistedDocuments()
    _ALLOWED: ClassVar[dict[str, set[OperationType]]] = {
        "GET": {OperationType.QUERY},
        "POST": {OperationType.QUERY, OperationType.MUTATION},
    }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "GET" and self.cache.enabled and await self._hit(scope, send):
            return
        request = Request(scope, receive=self._limited(receive))
        media = negotiate(request.headers.get("accept"))
        request.state.media_type = media or JSON
        context = await self.get_context(request, response=await self.get_sub_response(request))
        try:
            self._check_request(request, media)
            if self._wants_ide(request):
                response = await self.run(request, context=context)
            else:
                response = await self._answer(request, context)
        except HttpError as error:
            response = self._error_response(request, error)
        except _BodyTooLarge:
            response = self._error_response(request, self._too_large())
        except HTTPException as error:  # Strawberry's own refusals
            response = self._error_response(request, HttpError(error.status_code, error.reason))
        response.headers["x-request-id"] = context.request_id
        await response(scope, receive, send)

    async def _hit(self, scope: Scope, send: Send) -> bool:
        """A repeated GET whose answer is stored, sent without the general path (see
        `gql.http_hits`); False sends the request the general way."""
        hit = recognise(scope.get("query_string", b""), scope["headers"], self.raw_requests)
        if hit is None:
            return False
        try:
            version = (await self._latest_version()).token
        except sqlite3.Error:
            return False
        return await answer(hit, version, self.cache, self.http_caching.cache_control, send)

    # -- refusals ------------------------------------------------------------------------------

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
        params = request.query_params
        return (
            request.method == "GET"
            and not ({"query", "extensions", "documentId"} & params.keys())
            and "text/html" in request.headers.get("accept", "")
        )

    def _error_response(self, request: Request, error: HttpError) -> Response:
        media = getattr(request.state, "media_type", JSON)
        headers = {"cache-control": NO_STORE, **error.headers}
        return Response(
            error_body(error.message, error.code), error.status, headers, media_type=media
        )

    # -- the operation -------------------------------------------------------------------------

    async def _operation(self, request: Request) -> HttpOperation:
        """The request's operation with its document resolved (persisted queries)."""
        adapter = self.request_adapter_class(request)
        try:
            operation = await self._parse(adapter)
        except json.JSONDecodeError as error:
            raise HttpError(400, "Unable to parse request body as JSON") from error
        try:
            query = self.documents.resolve(
                operation.query, operation.extensions, operation.document_id
            )
        except PersistedQueryError as error:
            raise _persisted_refusal(error, request.state.media_type) from error
        return HttpOperation(
            query, operation.variables, operation.operation_name, operation.extensions, None
        )

    async def _parse(self, request: AsyncHTTPRequestAdapter) -> HttpOperation:
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
        return request_data(data)

    # -- answering -----------------------------------------------------------------------------

    async def _latest_version(self) -> DataVersion:
        """The newest data version: on the event loop, or on a reader thread for a replica.

        A Litestream follower writes pages straight into the file; the loop's long-lived
        version connection stalled it in a store-outage test (its lock and the follower's
        collide), so a replica (`version_on_loop = False`) asks a reader thread instead.
        """
        if self.version_on_loop:
            return self.pool.latest_version()
        return await self.pool.version()

    async def _answer(self, request: Request, context: Context) -> Response:
        """Conditional, cached, shared or executed in one snapshot, at the newest data version.

        The version is read on the event loop (`ReaderPool.latest_version`, no thread hop), so
        a 304, a hit, or joining the request that is executing the same operation right now
        costs no reader thread; the first request after a commit leads the execution before it
        waits for its snapshot, so the herd behind it joins at once. A commit can land between
        that read and the leader's snapshot: the leader then stores its (newer) answer under
        its own version and its followers look again, where they find it.
        """
        operation = await self._operation(request)
        query = operation.query or ""
        gzip = accepts_gzip(request.headers.get("accept-encoding"))
        if operation_type(query, operation.operation_name) is not OperationType.QUERY:
            return (await self._execute(request, context, operation, gzip))[0]
        media = request.state.media_type
        key = RequestKey.of(query, operation.operation_name, operation.variables, media)
        if request.method == "GET":
            self.raw_requests.remember(request.scope.get("query_string", b""), key)
        for attempt in (1, 2):
            try:
                version = (await self._latest_version()).token
            except sqlite3.Error:  # executing reports it, masked, as for any fault
                break
            tag = entity_tag(version, key.digest, gzip)
            if request.method == "GET" and matches(request.headers.get("if-none-match"), tag):
                return not_modified(tag, self.http_caching.cache_control)
            if not self.cache.enabled:
                break
            stored = self.cache.get((key, version))
            if stored is not None:
                return self._stored(request, stored, gzip, tag)
            flight = self.cache.in_flight((key, version))
            if flight is None:
                return await self._lead(request, context, operation, key, version, gzip)
            shared = await self.cache.shared(flight)
            if shared is not None:
                return self._stored(request, shared, gzip, tag)
            if attempt == 2:  # the leader's answer could not be shared (an error): run alone
                break
        return await self._in_snapshot(request, context, operation, key, gzip)

    async def _lead(
        self, request: Request, context: Context, operation: HttpOperation, key: RequestKey,
        version: str, gzip: bool,
    ) -> Response:  # fmt: skip
        """Execute for everyone who asks for (key, version) meanwhile (single flight)."""
        with self.cache.leading((key, version)) as publish:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    snapshot = await stack.enter_async_context(self.pool.snapshot())
                except sqlite3.Error:  # the guarded path reports it, masked, as for any fault
                    return (await self._execute(request, context, operation, gzip))[0]
                context.use_snapshot(snapshot)
                now = snapshot.version.token
                tag = entity_tag(now, key.digest, gzip)
                response, shareable = await self._execute(request, context, operation, gzip, tag)
            if now == version:
                publish(shareable)
            elif shareable is not None:  # newer than the followers asked: stored, found again
                self.cache.put((key, now), shareable)
            return response

    async def _in_snapshot(
        self, request: Request, context: Context, operation: HttpOperation, key: RequestKey,
        gzip: bool,
    ) -> Response:  # fmt: skip
        """Executed alone in one snapshot, its ETag naming that snapshot's version."""
        async with contextlib.AsyncExitStack() as stack:
            try:
                snapshot = await stack.enter_async_context(self.pool.snapshot())
            except sqlite3.Error:  # the guarded path reports it, masked, as for any fault
                return (await self._execute(request, context, operation, gzip))[0]
            tag = entity_tag(snapshot.version.token, key.digest, gzip)
            context.use_snapshot(snapshot)
            return (await self._execute(request, context, operation, gzip, tag))[0]

    async def _execute(
        self, request: Request, context: Context, operation: HttpOperation, gzip: bool,
        tag: str | None = None,
    ) -> tuple[Response, Encoded | None]:  # fmt: skip
        """Execute, encode and frame; the encoded answer too when it may be reused."""
        result = await self._run_operation(request, context, operation)
        request_error = is_request_error(result) and not context.timed_out
        body = process_result(result)
        if request_error:
            body.pop("data", None)
        media = request.state.media_type
        status = 400 if request_error and media == GRAPHQL_RESPONSE else 200
        encoded = Encoded.of(self.encode_json(body))
        reusable = not result.errors and context.cacheable and tag is not None
        headers = {"vary": VARY}
        if not reusable:
            headers["cache-control"] = NO_STORE if result.errors or tag else "no-cache"
        elif request.method == "GET":
            headers |= {"etag": tag or "", "cache-control": self.http_caching.cache_control}
        response = encoded_response(
            encoded, status=status, media_type=media, gzip=gzip, headers=headers
        )
        return response, encoded if reusable else None

    def _stored(self, request: Request, encoded: Encoded, gzip: bool, tag: str) -> Response:
        headers = {"vary": VARY}
        if request.method == "GET":
            headers |= {"etag": tag, "cache-control": self.http_caching.cache_control}
        return encoded_response(
            encoded, status=200, media_type=request.state.media_type, gzip=gzip, headers=headers
        )

    async def _run_operation(
        self, request: Request, context: Context, operation: HttpOperation
    ) -> ExecutionResult:
        """The schema's one guarded path (`gql.operation`), with HTTP's own refusals."""
        method = request.method
        try:
            return await self.schema.execute(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                allowed_operation_types=self._ALLOWED.get(method, set()),
                operation_extensions=operation.extensions,
            )
        except MissingQueryError as error:
            raise HttpError(400, "the request has no `query`") from error
        except CannotGetOperationTypeError as error:
            raise HttpError(400, operation_problem(error.operation_name)) from error
        except InvalidOperationTypeError as error:
            raise wrong_method(error.operation_type, method) from error

    def encode_json(self, data: object) -> bytes:  # overridden by the app (orjson)
        return json.dumps(data).encode()


def _persisted_refusal(error: PersistedQueryError, media: str) -> HttpError:
    """`PersistedQueryNotFound` is a 200 for legacy JSON clients (Apollo's and urql's links
    read the error and resend the query) and a 404 with the new media type; a document an
    endpoint does not trust is 403; a bad hash or version is 400."""
    if error.code == NOT_FOUND:
        status = 404 if media == GRAPHQL_RESPONSE else 200
    elif error.code == NOT_IN_LIST:
        status = 403
    else:
        status = 400
    return HttpError(status, error.message, error.code)
