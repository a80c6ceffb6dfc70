"""Replica benchmark: a writer and two Litestream replicas over a `file://` store.

    python -m bench.replicas [--drops 200] [--burst 5000] [--keep]

Folders stand in for machines. The writer is `newsgraph watch --replicate-to file://STORE`,
each replica `newsgraph serve --replica-of file://STORE --db <own folder>`, each with one
subscriber. Measured: (1) single-file drops at the writer (atomic rename), from the rename to
the event on replica A's subscriber: p50/p99; (2) a burst renamed into the content folder: the
time until both replicas' subscribers have every event (none lost, none duplicated, in cursor
order), beside the same burst on one `newsgraph serve` (its own subscriber); (3) q1 (20 newest,
nested) requests/s on replica A beside `newsgraph serve --no-watch` on the writer's database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.ingest import newsgraph_command, run_ingest
from bench.live import articles_in, free_port, percentile, stage, wait_healthy
from bench.query import NESTED, load, post

TARGET_P50_MS = 500.0
TARGET_P99_MS = 1500.0
TARGET_BURST_RATIO = 0.5
TARGET_Q1_RATIO = 0.9
EVENTS = "subscription { articleEvents { path cursor } }"
Q1 = "{ articles(first: 20) { " + NESTED + " } }"


class Subscriber:
    """One subscription's events, in arrival order, with when each path first arrived."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seqs: list[int] = []
        self.arrived: dict[str, float] = {}
        self.changed = asyncio.Event()

    async def run(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message.get("type") != "next":
                continue
            event = message["payload"]["data"]["articleEvents"]
            self.arrived.setdefault(event["path"], time.perf_counter())
            cursor = event["cursor"] + "=" * (-len(event["cursor"]) % 4)
            self.seqs.append(int(base64.urlsafe_b64decode(cursor).decode().split(":")[1]))
            self.changed.set()

    async def until(self, predicate: object, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while not predicate():  # type: ignore[operator]
            self.changed.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError("subscriber did not get every event in time")
            await asyncio.wait_for(self.changed.wait(), remaining)


async def subscribe(port: int) -> tuple[Subscriber, asyncio.Task[None]]:
    ws = await connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")],
        max_size=None,
    )  # fmt: skip
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}))
    subscriber = Subscriber(ws)
    return subscriber, asyncio.create_task(subscriber.run())


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    import httpx

    wait_healthy(port, proc, timeout)
    deadline = time.monotonic() + timeout
    while httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError("replica did not become ready")
        time.sleep(0.05)


def drop(staged: Path, content: Path, rel: str) -> float:
    final = content / rel
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name("." + final.name + ".tmp")
    temp.write_bytes((staged / "drops" / rel).read_bytes())
    os.replace(temp, final)
    return time.perf_counter()


def rename_burst(staged: Path, content: Path, burst: list[str]) -> float:
    for rel in burst:
        (content / rel).parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for rel in burst:
        shutil.copyfile(staged / "burst" / rel, staged / "burst-copy.tmp")
        os.replace(staged / "burst-copy.tmp", content / rel)
    return started


def in_order_once(seqs: list[int]) -> bool:
    return seqs == sorted(set(seqs))


async def measure_cluster(
    ports: tuple[int, int], staged: Path, content: Path, drops: list[str], burst: list[str],
    expected: int, timeout: float,
) -> dict[str, object]:  # fmt: skip
    (a, task_a), (b, task_b) = await subscribe(ports[0]), await subscribe(ports[1])
    await asyncio.sleep(0.3)  # both subscriptions registered before the first drop
    event_ms: list[float] = []
    for rel in drops:
        start = drop(staged, content, rel)
        await a.until(lambda rel=rel: rel in a.arrived, timeout)
        event_ms.append((a.arrived[rel] - start) * 1000)
    base_a, base_b = len(a.seqs), len(b.seqs)
    start = rename_burst(staged, content, burst)
    for sub, base in ((a, base_a), (b, base_b)):
        await sub.until(lambda sub=sub, base=base: len(sub.seqs) - base >= expected, timeout)
    burst_seconds = time.perf_counter() - start
    for sub in (a, b):
        await sub.ws.close()
    await asyncio.gather(task_a, task_b, return_exceptions=True)
    exact = all(
        in_order_once(sub.seqs) and len(sub.seqs) == len(drops) + expected for sub in (a, b)
    )
    return {"event_ms": event_ms, "burst_seconds": burst_seconds, "exact": exact}


async def measure_single(port: int, staged: Path, content: Path, burst: list[str],
                         expected: int, timeout: float) -> float:  # fmt: skip
    sub, task = await subscribe(port)
    await asyncio.sleep(0.3)
    start = rename_burst(staged, content, burst)
    await sub.until(lambda: len(sub.seqs) >= expected, timeout)
    seconds = time.perf_counter() - start
    await sub.ws.close()
    await asyncio.gather(task, return_exceptions=True)
    return seconds


def start(work: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSGRAPH_")}
    return subprocess.Popen([*newsgraph_command(), *args, "--log-level", "warning"], cwd=work,
                            env=env)  # fmt: skip


def stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def q1_rps(port: int, seconds: float) -> float:
    return asyncio.run(load(port, post(port, Q1), seconds, 8)).rps


def run(work: Path, drops: int, burst: int, seed: int, timeout: float) -> bool:
    staged = work / "staged"
    dropped, burst_paths = stage(staged, drops, burst, seed)
    cold = run_ingest(staged / "burst", work / "cold.db", cwd=work, timeout=timeout)
    expected = articles_in(work / "cold.db")  # events a burst makes (a few files are no articles)
    if cold.returncode != 0 or not expected:
        raise RuntimeError(f"cold ingest failed:\n{cold.output}")
    # One node: the same burst into `newsgraph serve`.
    single_content = work / "single-content"
    single_content.mkdir()
    port = free_port()
    single = start(work, "serve", "--content", str(single_content), "--db",
                   str(work / "single.db"), "--port", str(port))  # fmt: skip
    try:
        wait_ready(port, single, 60)
        single_seconds = asyncio.run(
            measure_single(port, staged, single_content, burst_paths, expected, timeout)
        )
    finally:
        stop(single)
    # The cluster: writer + two replicas.
    content, store = work / "content", work / "store"
    content.mkdir()
    store.mkdir()
    writer = start(work, "watch", "--content", str(content), "--db", str(work / "writer.db"),
                   "--replicate-to", store.as_uri())  # fmt: skip
    ports = (free_port(), free_port())
    replicas = [
        start(
            work,
            "serve",
            "--replica-of",
            store.as_uri(),
            "--db",
            str(work / f"replica-{n}" / "replica.db"),
            "--port",
            str(p),
        )
        for n, p in enumerate(ports)
    ]
    try:
        for p, proc in zip(ports, replicas, strict=True):
            wait_ready(p, proc, 60)
        result = asyncio.run(
            measure_cluster(ports, staged, content, dropped, burst_paths, expected, timeout)
        )
        reference_port = free_port()
        reference = start(work, "serve", "--no-watch", "--db", str(work / "writer.db"),
                          "--port", str(reference_port))  # fmt: skip
        try:
            wait_ready(reference_port, reference, 60)
            single_q1 = q1_rps(reference_port, 5)
            replica_q1 = q1_rps(ports[0], 5)
        finally:
            stop(reference)
    finally:
        stop(writer, *replicas)
    return report(result, single_seconds, single_q1, replica_q1, burst)


def report(result: dict[str, object], single_seconds: float, single_q1: float,
           replica_q1: float, burst: int) -> bool:  # fmt: skip
    event_ms: list[float] = result["event_ms"]  # type: ignore[assignment]
    p50, p99 = statistics.median(event_ms), percentile(event_ms, 0.99)
    latency_ok = p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS
    print(f"drop at writer -> event on replica: p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
          f"max {max(event_ms):6.1f} ms (n={len(event_ms)}; target p50 <= {TARGET_P50_MS:.0f}, "
          f"p99 <= {TARGET_P99_MS:.0f})  {'PASS' if latency_ok else 'FAIL'}")  # fmt: skip
    cluster_seconds: float = result["burst_seconds"]  # type: ignore[assignment]
    ratio = single_seconds / cluster_seconds
    burst_ok = ratio >= TARGET_BURST_RATIO and bool(result["exact"])
    print(f"burst {burst} files: every event on both replicas in {cluster_seconds:.2f} s; "
          f"one node {single_seconds:.2f} s; ratio {ratio:.2f} (target >= "
          f"{TARGET_BURST_RATIO}); in order, none lost or repeated: {result['exact']}  "
          f"{'PASS' if burst_ok else 'FAIL'}")  # fmt: skip
    q1_ratio = replica_q1 / single_q1
    q1_ok = q1_ratio >= TARGET_Q1_RATIO
    print(
        f"q1 on a replica {replica_q1:,.0f} req/s; one node {single_q1:,.0f} req/s; ratio "
        f"{q1_ratio:.2f} (target >= {TARGET_Q1_RATIO})  {'PASS' if q1_ok else 'FAIL'}"
    )
    return latency_ok and burst_ok and q1_ok


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__)
    parser.add_argument("--drops", type=int, default=200)
    parser.add_argument("--burst", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--timeout", type=float, default=300.0, help="bound on each phase (s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsgraph-bench-replicas-"))
    try:
        ok = run(work, args.drops, args.burst, args.seed, args.timeout)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
