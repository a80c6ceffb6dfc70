"""Shared subscriptions: one execution and one encoded message per event, however many readers.

A news page keeps a subscription open for every reader, and most readers send the very same
document with the very same variables. Executing and encoding it once per reader made each event
reach the last of 1,000 readers 630 ms after the file closed. Here subscribers of one document,
operation name and variables form a *group*: the group runs one execution (one broker feed, one
fresh `Loaders` and one reader job per batch, as `gql.subscriptions` describes) and encodes each
event's `data` once with orjson; every member gets the same `orjson.Fragment`, so the transport
only wraps it in its `next`/`data` envelope.

What every member sees, and why it is the same as its own execution would give:
- The group's context is its own (`request=None`, its own request id). Masked errors carry that
  id, and `gql.masking` logs them under it; each member's join is logged at DEBUG with both ids.
  Errors of the shared execution reach every member.
- A member receives the events the group yields after it joined. The group may still be
  executing a batch committed just before the join, so a late joiner can receive a few events
  from just before it subscribed (never fewer than its own execution would have sent), and with
  a filter it can receive an `UPDATED` with `article: null` for an article it never saw
  ("drop it from your list": a no-op for a list that lacks it). Both are harmless by the
  protocol's own rules: events carry ids and cursors, and a client applies them idempotently.
- A subscription with `since` is never shared: its replay is its own (`since < seq <= now`),
  pulled at the client's pace exactly as before; sharing a replay would hand a late joiner
  another client's window. So is anything this module cannot judge cheaply (root fragments,
  operation extensions, a variable `since` with a default): those run alone, as before.
- Each member has a bounded queue of `subscriber_buffer` messages. A member that falls that far
  behind is cut off with close code 1008 and the reason, like a slow subscriber of its own
  execution; the others never wait for it. If the shared execution itself falls behind the feed
  (the broker's buffer), or the server shuts down, every member is closed with the feed's reason.
- A member leaving (complete, stop, disconnect) only leaves; the last one to leave cancels the
  group's execution, which releases its broker feed.

Solo executions (unshared, or sharing turned off with `share_subscriptions = false`) still pass
through here, unbuffered, so that the open-subscriptions gauge and the per-operation metrics
count subscribers the same way in both modes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from functools import lru_cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    NullValueNode,
    OperationDefinitionNode,
    VariableNode,
    get_operation_ast,
    parse,
)
from graphql.error import GraphQLSyntaxError
from strawberry.types import ExecutionResult
from strawberry.utils.aio import aclosing

from newsgraph.gql.context import Context
from newsgraph.gql.feed_errors import SubscriberTooSlow
from newsgraph.gql.subscriptions import close_for

log = logging.getLogger("newsgraph.gql")

Start = Callable[[Context], Awaitable[AsyncIterator[Any]]]  # the schema's stream, for a context
GroupKey = tuple[str, str | None, bytes]
MemberEnd = Callable[[bool], None]  # metrics: one subscription ended, with errors or not
RESUME = "since"  # the argument whose replay belongs to one subscriber


class FanOut:
    """The process's subscription groups; `subscribe` is how every subscription starts."""

    def __init__(self, buffer_size: int = 1000, *, share: bool = True) -> None:
        self.buffer_size = max(1, buffer_size)
        self.share = share
        self.slow_disconnects = 0  # members cut off by their own queue (the broker counts feeds)
        self.executions_started = 0  # shared and solo: how many times the schema was executed
        self.on_member_end: MemberEnd | None = None
        self._joinable: dict[GroupKey, Group] = {}
        self._groups: set[Group] = set()

    @property
    def subscriber_count(self) -> int:
        """Open subscriptions whose feed is registered (a subscriber sees changes after that)."""
        return sum(len(group.members) for group in self._groups if group.opened)

    @property
    def group_count(self) -> int:
        return len(self._groups)

    def subscribe(
        self,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
        start: Start,
        *,
        extensions: dict[str, Any] | None = None,
    ) -> AsyncGenerator[Any, None]:
        """The member's stream of results; nothing starts until the transport iterates it."""
        key = None if extensions or not self.share else share_key(query, variables, operation_name)
        if key is None:
            return self._solo(context, start)
        return self._shared(key, context, start)

    async def _solo(self, context: Context, start: Start) -> AsyncGenerator[Any, None]:
        group = Group(self, None, context)
        context.feed_hooks = group  # its own context: the feed closes its own socket
        member = group.join(context)
        try:
            upstream = await start(context)
            self.executions_started += 1
            async with aclosing(upstream):
                async for result in upstream:
                    member.note(result)
                    yield result
        finally:
            group.leave(member)

    async def _shared(
        self, key: GroupKey, context: Context, start: Start
    ) -> AsyncGenerator[Any, None]:
        group = self._joinable.get(key)
        founding = group is None
        if group is None:
            group = self._joinable[key] = Group(self, key, context)
        member = group.join(context)
        log.debug("request %s: joined shared subscription %s", context.request_id, group.name)
        try:
            if founding:
                try:
                    group.run(await start(group.context))
                except BaseException:
                    group.end_all()  # anyone who joined meanwhile must not wait for a pump
                    raise
                self.executions_started += 1
            async with aclosing(member.results()) as results:
                async for message in results:
                    yield message
        finally:
            group.leave(member)

    def forget(self, group: Group) -> None:
        """No one may join `group` any more (it ended, failed or emptied)."""
        if group.key is not None and self._joinable.get(group.key) is group:
            del self._joinable[group.key]


class Group:
    """One execution and its members; the execution's `FeedHooks`."""

    def __init__(self, fanout: FanOut, key: GroupKey | None, first: Context) -> None:
        self.fanout = fanout
        self.key = key
        self.members: set[Member] = set()
        self.opened = False
        self.task: asyncio.Task[None] | None = None
        self.context = first if key is None else _group_context(first, self)
        self.name = self.context.request_id

    def join(self, context: Context) -> Member:
        member = Member(self, context)
        self.members.add(member)
        self.fanout._groups.add(self)
        return member

    def leave(self, member: Member) -> None:
        if member not in self.members:
            return
        self.members.discard(member)
        if self.fanout.on_member_end is not None:
            self.fanout.on_member_end(member.had_errors)
        if not self.members:
            self.fanout.forget(self)
            self.fanout._groups.discard(self)
            if self.task is not None:
                self.task.cancel()  # ends the execution, which releases its broker feed

    def feed_opened(self) -> None:
        self.opened = True

    def feed_failed(self, error: Exception) -> None:
        self.fanout.forget(self)
        for member in list(self.members):
            member.fail(error)

    def run(self, upstream: AsyncIterator[Any]) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self._pump(upstream), name=f"newsgraph-shared-subscription-{self.name}"
        )

    async def _pump(self, upstream: AsyncIterator[Any]) -> None:
        try:
            async with aclosing(upstream):
                async for result in upstream:
                    if getattr(result, "data", None) is None:
                        self.fanout.forget(self)  # terminal: a later joiner must start afresh
                    message = encoded_once(result)
                    for member in list(self.members):
                        member.offer(message)
                    # Let every woken member send before the next event: a batch's events are
                    # produced without a pause, and only a member that cannot send (its client
                    # does not read) may fill its queue.
                    await asyncio.sleep(0)
        except Exception:  # Strawberry turns resolver errors into results: this is ours
            log.exception("request %s: shared subscription failed", self.name)
        finally:
            self.end_all()

    def end_all(self) -> None:
        """The execution is over: members finish what they hold, then complete."""
        self.fanout.forget(self)
        for member in list(self.members):
            member.end()


class Member:
    """One subscriber of a group: its own context (request id, socket) and bounded queue."""

    def __init__(self, group: Group, context: Context) -> None:
        self.group = group
        self.context = context
        self.had_errors = False
        self._queue: deque[Any] = deque()
        self._ready = asyncio.Event()
        self._failed = False
        self._ended = False

    def offer(self, message: Any) -> None:
        if self._failed or self._ended:
            return
        size = self.group.fanout.buffer_size
        if len(self._queue) >= size:
            self.group.fanout.slow_disconnects += 1
            self.fail(
                SubscriberTooSlow(
                    f"subscriber fell {size} events behind and was disconnected; "
                    "resume with `since` set to the last cursor received"
                )
            )
            return
        self._queue.append(message)
        self._ready.set()

    def fail(self, error: Exception) -> None:
        """Cut off: the queue goes now; the close frame carries the reason."""
        if self._failed:
            return
        self._failed = True
        self._queue.clear()
        self._ready.set()
        close_for(self.context.request, error)

    def end(self) -> None:
        self._ended = True
        self._ready.set()

    def note(self, result: Any) -> None:
        self.had_errors = bool(getattr(result, "errors", None))

    async def results(self) -> AsyncGenerator[Any, None]:
        while True:
            while not self._queue:
                if self._failed:
                    await asyncio.Event().wait()  # the close ends the operation
                if self._ended:
                    return
                self._ready.clear()
                await self._ready.wait()
            message = self._queue.popleft()
            self.note(message)
            yield message


def _group_context(first: Context, group: Group) -> Context:
    """The shared execution's own context: no member's socket, its own request id."""
    return Context(
        pool=first.pool, limits=first.limits, request=None, live=first.live, feed_hooks=group
    )


def encoded_once(result: Any) -> Any:
    """`result` with its `data` encoded now, once for every member (errors stay objects: each
    transport formats them its own way, and they are rare)."""
    if not isinstance(result, ExecutionResult) or result.data is None:
        return result
    data: Any = orjson.Fragment(orjson.dumps(result.data))
    return ExecutionResult(data=data, errors=result.errors, extensions=result.extensions)


def share_key(
    query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> GroupKey | None:
    """What makes two subscriptions the same, or None when this one must run alone."""
    operation = _operation(query, operation_name)
    if operation is None or not _shareable(operation, variables or {}):
        return None
    try:
        canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return query, operation_name, canonical


def _operation(query: str, operation_name: str | None) -> OperationDefinitionNode | None:
    with contextlib.suppress(GraphQLSyntaxError):
        document: DocumentNode = _parsed(query)
        return get_operation_ast(document, operation_name)
    return None


@lru_cache(maxsize=512)
def _parsed(query: str) -> DocumentNode:
    return parse(query)


def _shareable(operation: OperationDefinitionNode, variables: dict[str, Any]) -> bool:
    """Only plain root fields whose `since` is absent or null (a replay is one client's)."""
    defaults = {
        definition.variable.name.value: definition.default_value
        for definition in operation.variable_definitions or ()
    }
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return False
        for argument in selection.arguments or ():
            if argument.name.value != RESUME or isinstance(argument.value, NullValueNode):
                continue
            if not isinstance(argument.value, VariableNode):
                return False
            name = argument.value.name.value
            if name in variables:
                if variables[name] is not None:
                    return False
            elif defaults.get(name) is not None and not isinstance(defaults[name], NullValueNode):
                return False
    return True
