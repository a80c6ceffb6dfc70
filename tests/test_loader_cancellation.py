"""A field cancelled by graphql-core (a sibling failed) must not cancel another field's load.

graphql-core cancels the sibling fields of a field that fails; a cancelled awaiter cancels
the future it awaits. Two fields asking for the same key once shared one future, so the
cancellation of one field took the value away from the other and ended the whole operation
with `CancelledError` (found by the fast-executor property test).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable
from pathlib import Path

from newsgraph.db.connection import open_writer
from newsgraph.db.pool import ReaderPool
from newsgraph.gql.batching import Batcher, Loader


def _square(conn: sqlite3.Connection, keys: list[int]) -> dict[int, int]:
    return {key: conn.execute("SELECT ? * ?", [key, key]).fetchone()[0] for key in keys}


async def _wait(value: Awaitable[int] | int) -> int:
    return await value if isinstance(value, Awaitable) else value


def test_cancelling_one_waiter_leaves_the_others_their_value(tmp_path: Path) -> None:
    open_writer(tmp_path / "n.db").close()
    pool = ReaderPool(tmp_path / "n.db", threads=1)
    pool.open()

    async def scenario() -> tuple[int, bool]:
        loader = Loader(Batcher(pool), _square, 0)
        doomed = asyncio.ensure_future(_wait(loader.load(7)))
        survivor = asyncio.ensure_future(_wait(loader.load(7)))
        await asyncio.sleep(0)  # both are waiting on the batch now
        doomed.cancel()
        value = await survivor
        return value, doomed.cancelled()

    try:
        assert asyncio.run(scenario()) == (49, True)
    finally:
        pool.close()
