"""The one path every GraphQL operation takes, over HTTP and over either WebSocket protocol.

Strawberry's transports meet the schema at two doors: the HTTP view calls `execute`, the
WebSocket handlers call `stream` (graphql-transport-ws) or `subscribe` (legacy graphql-ws).
`GuardedSchema` puts the safeguards behind those doors instead of in one transport, so a new
safeguard cannot reach one transport only:

- Every query runs in one read snapshot (`db.pool.Snapshot`) and under the query timeout; at
  the deadline it is cancelled and the snapshot's running SQL is interrupted, so the reader
  thread is freed too. The snapshot is opened here unless the caller already holds one (the
  HTTP view opens it first: its response cache needs the snapshot's data version).
- A WebSocket connection's context is only a template: each operation gets its own copy
  (`Context.for_operation`), so its own request id, loaders and snapshot.
- A query or mutation sent over a socket (both protocols) runs through `execute`, exactly as
  over HTTP. Legacy graphql-ws clients (`subscriptions-transport-ws`) send every operation
  over the socket; Strawberry's handler asks for a subscription only.
- A subscription is open-ended, so the timeout bounds its start (replay included), not its
  life; each event reads with fresh loaders (see `gql.subscriptions`). Subscriptions of one
  document and variables share one execution and one encoding per event (`gql.fanout`).
- Limits and masking are schema extensions; metrics too: they already see every operation.
- Errors the client caused (syntax, validation, bad arguments) are logged at INFO, once per
  operation and without the query text; ERROR is kept for faults of ours (masked errors are
  logged with their traceback by `gql.masking`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, GraphQLSyntaxError, get_operation_ast, parse
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from newsgraph.db.pool import Snapshot
from newsgraph.gql.context import Context
from newsgraph.gql.errors import should_mask
from newsgraph.gql.fanout import FanOut
from newsgraph.gql.masking import masked
from newsgraph.gql.persisted import NOT_IN_LIST, PersistedDocuments

log = logging.getLogger("newsgraph.gql")

TIMEOUT = "QUERY_TIMEOUT"
OVER_A_SOCKET = (OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION)
ClientErrorHook = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class OperationGuard:
    """What every operation is held to; 0 turns the timeout off."""

    timeout_ms: int = 10_000
    timeout_setting: str = "NEWSGRAPH_QUERY_TIMEOUT_MS"


@lru_cache(maxsize=512)
def _document(query: str) -> DocumentNode | None:
    try:
        return parse(query)
    except GraphQLSyntaxError:
        return None


def operation_type(query: str | None, operation_name: str | None) -> OperationType | None:
    """The operation's type, or None when the document cannot say (Strawberry then reports
    why, in the transport's own way)."""
    document = _document(query) if query else None
    operation = get_operation_ast(document, operation_name) if document else None
    return None if operation is None else OperationType(operation.operation.value)


class GuardedSchema(strawberry.Schema):
    """Strawberry's schema with the per-operation safeguards on every transport."""

    guard: OperationGuard = OperationGuard()
    documents: PersistedDocuments = PersistedDocuments()  # trusted documents, when only those
    on_client_error: ClientErrorHook | None = None  # metrics count client errors by kind
    fanout: FanOut | None = None  # subscriptions of one document share an execution

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        run = super().execute
        arguments: dict[str, Any] = {
            "variable_values": variable_values, "root_value": root_value,
            "operation_name": operation_name, "allowed_operation_types": allowed_operation_types,
            "operation_extensions": operation_extensions,
        }  # fmt: skip
        if query is not None and not self.documents.allows(query):
            return PreExecutionError(data=None, errors=[_untrusted()])
        if not isinstance(context_value, Context):  # a bare schema in a test or a script
            return await run(query, context_value=context_value, **arguments)
        context = context_value
        timeout = self.guard.timeout_ms / 1000 or None
        reading = context.snapshot  # the HTTP view opens it first when it caches
        try:
            async with asyncio.timeout(timeout):
                if reading is not None:
                    return await run(query, context_value=context, **arguments)
                async with context.pool.snapshot() as reading:
                    context.use_snapshot(reading)
                    try:
                        return await run(query, context_value=context, **arguments)
                    finally:
                        context.use_snapshot(None)
        except TimeoutError:
            return self._timed_out(context, reading)
        except sqlite3.Error as error:  # only opening the snapshot can raise here (Strawberry
            # turns a resolver's errors into results): no snapshot, no answer, a fault of ours
            failure = GraphQLError(str(error), original_error=error)
            return ExecutionResult(data=None, errors=[masked(failure, context.request_id)])

    def _timed_out(self, context: Context, snapshot: Snapshot | None) -> ExecutionResult:
        interrupted = snapshot.cancel() if snapshot is not None else 0
        log.warning(
            "request %s: cancelled after %d ms (%d statement(s) interrupted)",
            context.request_id, self.guard.timeout_ms, interrupted,
        )  # fmt: skip
        context.timed_out = True
        error = GraphQLError(
            f"query ran longer than the limit of {self.guard.timeout_ms:,} ms "
            f"({self.guard.timeout_setting}) and was cancelled; ask for less (smaller pages, "
            "fewer nested lists)",
            extensions={"code": TIMEOUT, "requestId": context.request_id},
        )
        return ExecutionResult(data=None, errors=[error])

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        if isinstance(context_value, Context):
            context_value = context_value.for_operation()
        kind = operation_type(query, operation_name)
        allowed = tuple(allowed_operation_types or OVER_A_SOCKET)
        if query is not None and not self.documents.allows(query):
            return _one(PreExecutionError(data=None, errors=[_untrusted()]))
        fanout = self.fanout
        if fanout and kind is OperationType.SUBSCRIPTION and isinstance(context_value, Context):
            run = super().stream

            async def start(context: Context) -> Any:
                return await run(
                    query, variable_values, context, root_value, operation_name,
                    operation_extensions, allowed,
                )  # fmt: skip

            return fanout.subscribe(
                query or "", variable_values, operation_name, context_value, start,
                extensions=operation_extensions,
            )  # fmt: skip
        if kind is None or kind is OperationType.SUBSCRIPTION:
            return await super().stream(
                query, variable_values, context_value, root_value, operation_name,
                operation_extensions, allowed,
            )  # fmt: skip
        return self._one_result(
            query, variable_values, context_value, root_value, operation_name,
            operation_extensions, allowed,
        )  # fmt: skip

    async def _one_result(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None,
        context_value: Any | None,
        root_value: Any | None,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
        allowed: tuple[OperationType, ...],
    ) -> AsyncGenerator[ExecutionResult, None]:
        """A query over a socket: the HTTP path's `execute`, as a one-result stream."""
        try:
            result = await self.execute(
                query, variable_values, context_value, root_value, operation_name, allowed,
                operation_extensions,
            )  # fmt: skip
        except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError) as error:
            message = getattr(error, "message", None) or str(error)
            result = PreExecutionError(
                data=None, errors=[GraphQLError(message, original_error=error)]
            )
        yield result

    async def subscribe(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> Any:
        """Legacy graphql-ws sends every operation here: queries run as over HTTP."""
        return await self.stream(
            query, variable_values, context_value, root_value, operation_name,
            operation_extensions, OVER_A_SOCKET,
        )  # fmt: skip

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Client mistakes at INFO (counted), without the query; our faults stay ERROR."""
        context = getattr(execution_context, "context", None)
        request_id = getattr(context, "request_id", "-")
        for error in errors:
            if should_mask(error):
                continue  # an internal error: `MaskInternalErrors` logs it at ERROR, once
            kind = _client_error_kind(error)
            if self.on_client_error is not None:
                self.on_client_error(kind)
            log.info("request %s: client error (%s): %.200s", request_id, kind, error.message)


def _untrusted() -> GraphQLError:
    return GraphQLError(
        "this endpoint only runs trusted documents (persisted_only): send a documentId or "
        "persistedQuery hash from its manifest",
        extensions={"code": NOT_IN_LIST},
    )


async def _one(result: ExecutionResult) -> AsyncGenerator[ExecutionResult, None]:
    yield result


def _client_error_kind(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"
