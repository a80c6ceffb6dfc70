"""The change broker's replay against a real database that the writer prunes meanwhile."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from newsgraph.db.connection import open_writer
from newsgraph.db.live import prune_changes
from newsgraph.db.statements import INSERT_CHANGE
from newsgraph.gql.broker import PAGE, ChangeBroker
from newsgraph.gql.feed_errors import CursorExpired


def _append_changes(db_path: Path, count: int) -> None:
    conn = open_writer(db_path)
    try:
        with conn:
            conn.execute("BEGIN")
            conn.executemany(
                INSERT_CHANGE,
                [
                    ("created", n, f"a{n}.md", "2024-01-01T00:00:00Z", "article")
                    for n in range(count)
                ],
            )
    finally:
        conn.close()


def _prune(db_path: Path, keep_after: int) -> None:
    conn = open_writer(db_path)
    try:
        prune_changes(conn, keep_after=keep_after)
    finally:
        conn.close()


def test_rows_pruned_mid_replay_end_the_replay_with_cursor_expired(tmp_path: Path) -> None:
    db_path = tmp_path / "store.db"
    _append_changes(db_path, PAGE * 2 + 10)

    async def replay() -> tuple[list[int], BaseException | None]:
        broker = ChangeBroker(db_path)
        await broker.start()
        batches = (await broker.open(since=0)).batches()
        try:
            first = [row.seq for row in await anext(batches)]
            _prune(db_path, keep_after=PAGE + 100)  # the writer prunes between two pages
            try:
                await anext(batches)
            except CursorExpired as error:
                return first, error
            return first, None
        finally:
            await batches.aclose()
            await broker.stop()

    first, error = asyncio.run(replay())
    assert first == list(range(1, PAGE + 1))
    assert error is not None and "has expired" in str(error)


def test_rows_pruned_between_the_check_and_the_first_page_are_detected(tmp_path: Path) -> None:
    db_path = tmp_path / "store.db"
    _append_changes(db_path, 20)

    async def replay() -> None:
        broker = ChangeBroker(db_path)
        await broker.start()
        batches = (await broker.open(since=5)).batches()  # bounds checked: 5 is still kept
        _prune(db_path, keep_after=10)
        try:
            with pytest.raises(CursorExpired):
                await anext(batches)
        finally:
            await batches.aclose()
            await broker.stop()

    asyncio.run(replay())


@pytest.mark.parametrize("turns", range(8))
def test_stop_returns_when_a_commit_signal_lands_at_the_same_moment(
    tmp_path: Path, turns: int
) -> None:
    """A commit's wake-up and the shutdown's cancel, a few loop turns apart (every spacing in
    `turns`): on Python 3.11 `asyncio.wait_for` swallowed the cancel in some of them and the
    server hung at SIGTERM after a burst."""
    db_path = tmp_path / "store.db"
    _append_changes(db_path, 1)

    async def notify_then_stop() -> bool:
        broker = ChangeBroker(db_path, poll_interval=30.0)  # only the wake-up can end a wait
        await broker.start()
        for _ in range(3):
            await asyncio.sleep(0)  # the tailer is waiting for a wake-up
        broker.notify()
        for _ in range(turns):
            await asyncio.sleep(0)
        stopping = asyncio.ensure_future(broker.stop())
        done, _ = await asyncio.wait({stopping}, timeout=5.0)
        return bool(done)

    assert asyncio.run(notify_then_stop()), "ChangeBroker.stop() never returned"
