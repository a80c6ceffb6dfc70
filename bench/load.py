"""Load benchmark: queries and subscribers while files pour in. Nothing may fail or be lost.

    python -m bench.load [--files 5000] [--rate 100] [--clients 50] [--subscribers 20]

Starts `newsgraph serve` on 127.0.0.1 over a folder of `--base` articles, then at once:
`--clients` GraphQL clients query back-to-back (nested listings, search, look-ups, status),
`--subscribers` WebSocket clients (graphql-transport-ws) follow
`articleEvents(since:) { kind cursor articleId path }` from the cursor read before the first
drop, and `--files` new articles are dropped into the folder at `--rate` per second (each
written under a hidden name and renamed into place). When the store holds them all and every
subscriber has caught up, it reports and checks: zero failed requests, zero "database is
locked" in the server's log, and every subscriber received exactly the change rows written
since its cursor, with cursors strictly increasing. Exit 1 when a check fails. Loopback only;
every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.ingest import newsgraph_command
from bench.live import free_port, wait_healthy
from newsgraph.demo import write_demo_content
from newsgraph.gql.live_types import decode_change_cursor

EVENTS = "subscription($s: String) { articleEvents(since: $s) { kind cursor articleId path } }"
QUERIES = (
    "{ articles(first: 20) { edges { node { id title provider { domain } topics { name } "
    "images { url } related { title article { path } } } } } }",
    '{ articles(search: "robot* OR solar", first: 10) { totalCount edges { highlight node '
    "{ title } } } }",
    "{ ingestStatus { articleCount lastChangeCursor } }",
    "{ topics(first: 10) { edges { node { name articleCount articles(first: 5) { edges { "
    "node { title } } } } } } }",
    "{ articleFacets(limit: 5) { totalCount topics { topic { name } count } } }",
)
SETTLE_TIMEOUT = 180.0


@dataclass
class Tally:
    ok: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


@dataclass
class Subscriber:
    cursors: list[int] = field(default_factory=list)
    closed: str | None = None


async def client(http: httpx.AsyncClient, tally: Tally, stop: asyncio.Event, seed: int) -> None:
    chooser = random.Random(seed)
    while not stop.is_set():
        query = chooser.choice(QUERIES)
        started = time.perf_counter()
        try:
            response = await http.post("/graphql", json={"query": query})
            body = response.json()
            problem = None if response.status_code == 200 and "errors" not in body else body
        except (httpx.HTTPError, ValueError) as error:
            problem = repr(error)
        tally.latencies.append(time.perf_counter() - started)
        if problem is None:
            tally.ok += 1
        else:
            tally.failed += 1
            if len(tally.failures) < 10:
                tally.failures.append(str(problem)[:300])


async def subscribe(port: int, since: str) -> ClientConnection:
    ws = await connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        max_size=None,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    payload = {"query": EVENTS, "variables": {"s": since}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def follow(ws: ClientConnection, into: Subscriber) -> None:
    try:
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "next":
                event = message["payload"]["data"]["articleEvents"]
                into.cursors.append(decode_change_cursor(event["cursor"]))
            elif message["type"] in ("error", "complete"):
                into.closed = json.dumps(message)[:300]
                return
    except Exception as error:  # a dropped subscriber is reported, not raised
        into.closed = repr(error)


async def drop(staged: Path, content: Path, paths: list[str], rate: float) -> float:
    """Rename the staged files into the content folder at `rate` per second."""
    started = time.perf_counter()
    for number, rel in enumerate(paths):
        due = started + number / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        final = content / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name("." + final.name + ".tmp")
        temp.write_bytes((staged / rel).read_bytes())
        os.replace(temp, final)
    return time.perf_counter() - started


def change_rows_after(db: Path, seq: int) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        count, top = conn.execute(
            "SELECT count(*), coalesce(max(seq), 0) FROM changes WHERE seq > ?", [seq]
        ).fetchone()
        return int(count), int(top)
    finally:
        conn.close()


async def until(check: Any, timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not await check():
        if time.perf_counter() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.1)


async def measure(
    args: argparse.Namespace, port: int, work: Path, paths: list[str]
) -> dict[str, Any]:
    db, content, staged = work / "newsgraph.db", work / "content", work / "staged"
    limits = httpx.Limits(max_connections=args.clients + 5)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits
    ) as http:
        status = (await http.post("/graphql", json={"query": QUERIES[2]})).json()["data"]
        since, base_count = (
            status["ingestStatus"]["lastChangeCursor"],
            status["ingestStatus"]["articleCount"],
        )
        since_seq = decode_change_cursor(since)
        subscribers = [Subscriber() for _ in range(args.subscribers)]
        sockets = [await subscribe(port, since) for _ in subscribers]
        pairs = zip(sockets, subscribers, strict=True)
        followers = [asyncio.create_task(follow(w, s)) for w, s in pairs]
        tally, stop = Tally(), asyncio.Event()
        clients = [asyncio.create_task(client(http, tally, stop, n)) for n in range(args.clients)]
        started = time.perf_counter()
        drop_seconds = await drop(staged, content, paths, args.rate)

        async def stored() -> bool:
            body = (await http.post("/graphql", json={"query": QUERIES[2]})).json()
            return bool(body["data"]["ingestStatus"]["articleCount"] >= base_count + len(paths))

        await until(stored, SETTLE_TIMEOUT, "the dropped files were not all stored in time")
        settled = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*clients)
        rows, top = change_rows_after(db, since_seq)

        async def caught_up() -> bool:
            return all(len(s.cursors) >= rows or s.closed for s in subscribers)

        await until(caught_up, SETTLE_TIMEOUT, "subscribers did not receive every event in time")
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*followers)
    return {
        "tally": tally, "subscribers": subscribers, "rows": rows, "top": top,
        "drop_seconds": drop_seconds, "settled_seconds": settled,
    }  # fmt: skip


def report(result: dict[str, Any], locked: int, args: argparse.Namespace) -> bool:
    tally: Tally = result["tally"]
    subscribers: list[Subscriber] = result["subscribers"]
    rows = result["rows"]
    in_order = all(
        all(a < b for a, b in zip(s.cursors, s.cursors[1:], strict=False)) for s in subscribers
    )
    exact = all(len(s.cursors) == rows and s.cursors[-1:] == [result["top"]] for s in subscribers)
    latencies = sorted(tally.latencies) or [0.0]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    seconds = result["settled_seconds"]
    print(
        f"dropped {args.files} files in {result['drop_seconds']:.1f} s "
        f"(target {args.files / args.rate:.1f} s); all stored after {seconds:.1f} s"
    )
    print(f"queries: {tally.ok} ok, {tally.failed} failed ({tally.ok / seconds:.0f}/s from "
          f"{args.clients} clients; p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms)")  # fmt: skip
    counts = sorted({len(s.cursors) for s in subscribers})
    print(f"subscribers: {len(subscribers)}, events each {counts}, change rows {rows}, "
          f"cursors strictly increasing: {in_order}")  # fmt: skip
    print(f'"database is locked" in the server log: {locked}')
    for failure in tally.failures:
        print(f"  failed: {failure}")
    for s in subscribers:
        if s.closed:
            print(f"  subscriber closed: {s.closed}")
    checks = {
        "zero failed requests": tally.failed == 0,
        "zero database is locked": locked == 0,
        "every subscriber got every change row": exact,
        "cursors strictly increasing": in_order,
    }
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'} {name}")
    return all(checks.values())


def run(args: argparse.Namespace, work: Path) -> bool:
    everything = work / "all"
    written = write_demo_content(everything, count=args.base + args.files, seed=args.seed)
    paths = sorted(p.relative_to(everything).as_posix() for p in written)
    base, dropped = paths[: args.base], paths[args.base :]
    for rel in base:
        (work / "content" / rel).parent.mkdir(parents=True, exist_ok=True)
        (everything / rel).rename(work / "content" / rel)
    everything.rename(work / "staged")
    port = free_port()
    command = [*newsgraph_command(), "serve", "--content", str(work / "content"), "--db",
               str(work / "newsgraph.db"), "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=log)
        try:
            wait_healthy(port, server, timeout=120)
            result = asyncio.run(measure(args, port, work, dropped))
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    locked = log_path.read_text(errors="replace").count("database is locked")
    return report(result, locked, args)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--files", type=int, default=5000, help="articles dropped (5000)")
    parser.add_argument("--rate", type=float, default=100.0, help="files per second (100)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent query clients (50)")
    parser.add_argument("--subscribers", type=int, default=20, help="WebSocket subscribers (20)")
    parser.add_argument("--base", type=int, default=300, help="articles present at start (300)")
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsgraph-load-") as folder:
        return 0 if run(args, Path(folder)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
