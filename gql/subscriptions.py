"""The root `Subscription` type: article changes and ingest errors, live over WebSocket.

`articleEvents(filter, since)` is fed by the process's `ChangeBroker` in batches. For each batch
one reader job reads the changed articles as they are now and (with a filter) which of them
match it: a single SQL check per batch, not per event. A subscription that selects no `article`
and has no filter reads nothing: its events come from the change feed alone. Every event then
gets a fresh `Loaders` (a subscription's context outlives its events, and cached nested rows
would go stale).

Filter semantics, chosen for a frontend that keeps a filtered list up to date:
- CREATED/UPDATED are sent when the article matches the filter *now* (events replayed with
  `since` are judged by the article's current state, so the list converges on the truth).
- DELETED is always sent, filter or not: the article is gone and cannot be matched, deletes are
  rare, and dropping an id the client does not hold is a no-op. This stays correct across a
  `since` resume, when the server cannot know what the client holds.
- An UPDATED article that this subscription sent before and that no longer matches is sent
  once with `article: null`, meaning "drop it from your list". (After a resume the server has
  not sent it yet on this subscription, so a client that must be exact refetches its list.)

A subscriber that falls `subscriber_buffer` events behind is disconnected (close code 1008 with
the reason), and at shutdown every subscription closes with 1001; both resume with `since`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from starlette.websockets import WebSocket, WebSocketState
from strawberry.types.nodes import SelectedField, Selection

from newsgraph.db.changes import ChangeRow
from newsgraph.db.filters import ArticleFilterSpec
from newsgraph.db.live import matching_article_ids
from newsgraph.gql.broker import ChangeBroker
from newsgraph.gql.broker import Subscription as FeedSubscription
from newsgraph.gql.content_events import (
    ContentEvent,
    content_event,
    read_nodes,
    wanted_rows,
)
from newsgraph.gql.context import Info
from newsgraph.gql.entry_inputs import ContentCollection
from newsgraph.gql.errors import ApiError, BadArgument
from newsgraph.gql.feed_errors import BrokerClosed, CursorError, SubscriberTooSlow
from newsgraph.gql.feed_errors import CursorExpired as FeedCursorExpired
from newsgraph.gql.ids import encode_id
from newsgraph.gql.inputs import ArticleFilter, filter_spec
from newsgraph.gql.live_types import (
    ArticleEvent,
    ArticleEventKind,
    CursorExpired,
    IngestErrorEvent,
    IngestErrorEventKind,
    decode_change_cursor,
    encode_change_cursor,
)
from newsgraph.gql.loaders import Loaders
from newsgraph.gql.nodes import ArticleNode, adopt

SLOW_CODE = 1008  # policy violation: the client did not read its events
SHUTDOWN_CODE = 1001  # going away
_closing: set[asyncio.Task[None]] = set()  # strong references until each close is done


def _broker(info: Info) -> ChangeBroker:
    if info.context.live is None:
        raise ApiError("subscriptions are not available on this endpoint")
    if info.context.feed_hooks is not None:
        info.context.feed_hooks.feed_opened()  # registers before the loop runs anything else
    return info.context.live.broker


def _close_connection(info: Info, error: Exception) -> None:
    """The `on_fail` hook: close this subscription's WebSocket with the reason.

    A shared execution (`gql.fanout`) has no socket of its own: its hooks close its members'.
    """
    if info.context.feed_hooks is not None:
        info.context.feed_hooks.feed_failed(error)
    else:
        close_for(info.context.request, error)


def close_for(websocket: object, error: Exception) -> None:
    """Close `websocket` with the code and reason that `error` calls for.

    Called synchronously by the broker, maybe while the operation is blocked sending to a
    client that does not read, so the close runs as its own task.
    """
    if not isinstance(websocket, WebSocket):
        return
    if isinstance(error, SubscriberTooSlow):
        code, reason = SLOW_CODE, "subscriber too slow; resume with since=<last cursor>"
    else:
        code, reason = SHUTDOWN_CODE, "server shutting down; resume with since=<last cursor>"
    task = asyncio.get_running_loop().create_task(_close_quietly(websocket, code, reason))
    _closing.add(task)
    task.add_done_callback(_closing.discard)


async def _close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state != WebSocketState.CONNECTED:
        return
    with contextlib.suppress(Exception):  # already closing or gone: nothing left to tell
        await websocket.close(code=code, reason=reason)


async def _until_cancelled() -> None:
    """After a disconnect the operation ends when Strawberry sees the socket close."""
    await asyncio.Event().wait()


def selects_field(info: Info, name: str) -> bool:
    """Whether the events' selection includes `name`, directly or through any fragment.

    A reader of `articleEvents { kind path }` (a live list that refetches, a counter) needs no
    article rows: during a 10,000-file burst, reading them anyway was a fifth of the serving
    process's CPU. Directives are not evaluated: a conditional selection counts as selected.
    """
    pending: list[Selection] = [s for field in info.selected_fields for s in field.selections]
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField):
            if selection.name == name:
                return True
        else:
            pending.extend(selection.selections)
    return False


def _read_batch(
    loaders: Loaders,
    spec: ArticleFilterSpec | None,
    paths: list[str],
    conn: sqlite3.Connection,
) -> tuple[dict[str, ArticleNode], set[int] | None]:
    found = loaders.fetch_articles_by_path(conn, paths) if paths else {}
    if spec is None:
        return found, None
    return found, matching_article_ids(conn, [node.id for node in found.values()], spec)


def _event(row: ChangeRow, article: ArticleNode | None, kind: str | None = None) -> ArticleEvent:
    return ArticleEvent(
        kind=ArticleEventKind(kind or row.op),
        cursor=encode_change_cursor(row.seq),
        article_id=strawberry.ID(encode_id("Article", row.path)),
        path=row.path,
        article=article,  # type: ignore[arg-type]  # nodes are what Article fields read
        at=row.at,  # type: ignore[arg-type]
    )


async def _article_events(
    info: Info, filter: ArticleFilter | None = None, since: str | None = None
) -> AsyncGenerator[ArticleEvent, None]:
    spec = filter_spec(filter)
    subscription = await _open(info, since)
    return _deliver(info, subscription.batches(), spec)


async def _open(info: Info, since: str | None) -> FeedSubscription:
    """This subscription's place in the change feed, from `since` or from now."""
    broker = _broker(info)
    after = None if since is None else decode_change_cursor(since)
    try:
        return await broker.open(after, on_fail=partial(_close_connection, info))
    except CursorError as error:
        kind = CursorExpired if isinstance(error, FeedCursorExpired) else BadArgument
        raise kind(f"`since`: {error}") from None
    except BrokerClosed:
        raise ApiError("the server is shutting down; reconnect shortly") from None


SENT_PATHS_KEPT = 10_000


class SentPaths:
    """The paths a filtered subscription delivered, bounded: the newest `capacity` are kept.

    Once one is forgotten, an update that no longer matches is sent as a drop whenever its
    path is not remembered: dropping an article the client does not hold is a no-op (as for
    DELETED), so memory stays bounded and no needed drop is ever missed.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.forgot = False
        self._paths: OrderedDict[str, None] = OrderedDict()

    def add(self, path: str) -> None:
        self._paths[path] = None
        self._paths.move_to_end(path)
        if len(self._paths) > self.capacity:
            self._paths.popitem(last=False)
            self.forgot = True

    def discard(self, path: str) -> None:
        self._paths.pop(path, None)

    def may_hold(self, path: str) -> bool:
        """Whether the client may hold `path` from this subscription."""
        return self.forgot or path in self._paths

    def __len__(self) -> int:
        return len(self._paths)


async def _deliver(
    info: Info, batches: AsyncGenerator[list[ChangeRow], None], spec: ArticleFilterSpec | None
) -> AsyncGenerator[ArticleEvent, None]:
    sent = SentPaths(SENT_PATHS_KEPT)  # delivered under the filter: for "no longer matches"
    needs_articles = spec is not None or selects_field(info, "article")
    try:
        async for every_row in batches:
            batch = [row for row in every_row if row.collection == "article"]  # not entries
            if not batch:
                continue
            if not needs_articles:
                for row in batch:
                    yield _event(row, None)
                continue
            paths = sorted({row.path for row in batch if row.op != "deleted"})
            loaders = info.context.fresh_loaders()
            found, matching = await info.context.reader.submit(
                partial(_read_batch, loaders, spec, paths)
            )
            for row in batch:
                article = found.get(row.path) if row.op != "deleted" else None
                if row.op == "deleted":
                    sent.discard(row.path)
                    event = _event(row, None)
                elif matching is None:
                    event = _event(row, article)
                elif article is not None and article.id in matching:
                    sent.add(row.path)
                    event = _event(row, article)
                elif row.op == "updated" and sent.may_hold(row.path):
                    sent.discard(row.path)
                    event = _event(row, None)
                else:
                    continue
                if article is not None:
                    adopt([article], info.context.fresh_loaders())  # fresh caches per event
                yield event
    except (SubscriberTooSlow, BrokerClosed):
        await _until_cancelled()  # the hook is closing the socket with the reason
    except FeedCursorExpired as error:  # pruned while replaying: end with the documented error
        raise CursorExpired(f"`since`: {error}") from None
    finally:
        await batches.aclose()


async def _content_events(
    info: Info, collections: list[ContentCollection] | None = None, since: str | None = None
) -> AsyncGenerator[ContentEvent, None]:
    wanted = frozenset(c.value for c in collections or ContentCollection)
    subscription = await _open(info, since)
    return _deliver_content(info, subscription.batches(), wanted)


async def _deliver_content(
    info: Info, batches: AsyncGenerator[list[ChangeRow], None], wanted: frozenset[str]
) -> AsyncGenerator[ContentEvent, None]:
    try:
        async for batch in batches:
            rows = wanted_rows(batch, wanted)
            if not rows:
                continue
            loaders = info.context.fresh_loaders()
            found = await info.context.reader.submit(partial(read_nodes, loaders, rows))
            for row in rows:
                node = found.get((row.collection, row.path)) if row.op != "deleted" else None
                yield content_event(row, node, info.context.fresh_loaders())
    except (SubscriberTooSlow, BrokerClosed):
        await _until_cancelled()
    except FeedCursorExpired as error:  # pruned while replaying: end with the documented error
        raise CursorExpired(f"`since`: {error}") from None
    finally:
        await batches.aclose()


async def _ingest_error_events(info: Info) -> AsyncGenerator[IngestErrorEvent, None]:
    broker = _broker(info)
    listener = await broker.errors.listen(on_fail=partial(_close_connection, info))
    try:
        while True:
            change = await listener.next()
            yield IngestErrorEvent(
                kind=IngestErrorEventKind(change.kind),
                path=change.path,
                error=change.error,  # type: ignore[arg-type]  # rows are what IngestError reads
                at=change.at,  # type: ignore[arg-type]
            )
    except (SubscriberTooSlow, BrokerClosed):
        await _until_cancelled()
    finally:
        listener.close()


@strawberry.type
class Subscription:
    article_events: AsyncGenerator[ArticleEvent, None] = strawberry.subscription(
        resolver=_article_events,
        description="Every created, updated and deleted article, in order, as it lands. "
        "`since` (a cursor from an earlier event) first replays every change after it, then "
        "continues live: no gap, no duplicate. With a filter, CREATED/UPDATED arrive when the "
        "article matches; DELETED always arrives; an UPDATED article that stopped matching "
        "arrives once with `article: null`.",
    )
    content_events: AsyncGenerator[ContentEvent, None] = strawberry.subscription(
        resolver=_content_events,
        description="Every created, updated and deleted node of the listed collections (all "
        "by default), in order, as it lands; `since` takes any cursor of this or articleEvents "
        "and replays every change after it first.",
    )
    ingest_error_events: AsyncGenerator[IngestErrorEvent, None] = strawberry.subscription(
        resolver=_ingest_error_events,
        description="Files that start failing to ingest (RAISED) and that are fixed or removed "
        "(CLEARED), live. No resume: read `ingestErrors` first for the current set.",
    )


def pending_closes() -> frozenset[asyncio.Task[None]]:
    """Close frames still being sent (shutdown waits for them, briefly)."""
    return frozenset(_closing)
