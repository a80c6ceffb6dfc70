"""Fan-out benchmark: one file drop, N subscribers of the same document on one server process.

    python -m bench.fanout [--sizes 1000,10000] [--drops 20] [--baseline-size 1000]

Starts `newsgraph serve` (one process, watching an empty content folder, WebSocket pings off)
and a separate subscriber process that opens N graphql-transport-ws connections on one event
loop, each subscribed to `articleEvents { kind path }`. The subscriber process speaks the
protocol over raw asyncio sockets: it frames its three client messages by hand and, for each
server frame, only reads the header and finds the `path` in the payload, so 10,000 connections
cost it little CPU on a 2-core machine (a full WebSocket client per connection would compete
with the server and inflate the figure). For each of `--drops` files (written to a hidden
name, then renamed into place: the close), it reports when the *last* of the N subscribers
received that file's event; the figure is that time minus the rename, p50 and p99, and lost
events (a drop not received by every subscriber within the timeout).

Baseline, in the same run: the same measurement at `--baseline-size` subscribers with sharing
turned off (`--no-share-subscriptions`: one execution and one encoding per subscriber, as
before `gql.fanout`). Clocks: both processes read CLOCK_MONOTONIC, which is system-wide.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.ingest import newsgraph_command
from bench.live import free_port, percentile, wait_healthy
from newsgraph.demo import write_demo_content

QUERY = "subscription { articleEvents { kind path } }"
TARGETS_P99_MS = {1_000: 250.0, 10_000: 1_000.0}
PATH = re.compile(rb'"path":"([^"]*)"')


def client_frame(message: dict[str, object]) -> bytes:
    """A masked text frame (mask key 0: the payload goes as is)."""
    payload = json.dumps(message).encode()
    if len(payload) < 126:
        header = bytes([0x81, 0x80 | len(payload)])
    else:
        header = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big")
    return header + bytes(4) + payload


class Subscriber(asyncio.Protocol):
    """One connection: handshake, init, subscribe; then note each event's path."""

    def __init__(self, tally: Tally, port: int) -> None:
        self.tally = tally
        self.port = port
        self.buffer = b""
        self.upgraded = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.upgraded, self.buffer = True, self.buffer[end + 4 :]
            assert self.transport is not None
            self.transport.write(client_frame({"type": "connection_init", "payload": {}}))
            self.transport.write(
                client_frame({"id": "1", "type": "subscribe", "payload": {"query": QUERY}})
            )
        while len(self.buffer) >= 2:
            size, start = self.buffer[1] & 0x7F, 2
            if size == 126:
                size, start = int.from_bytes(self.buffer[2:4], "big"), 4
            elif size == 127:
                size, start = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < start + size:
                return
            opcode, payload = self.buffer[0] & 0x0F, self.buffer[start : start + size]
            self.buffer = self.buffer[start + size :]
            if opcode == 0x8:
                self.tally.closed += 1
            elif opcode == 0x1 and (found := PATH.search(payload)):
                self.tally.received(found.group(1).decode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally.lost_connections += 1


class Tally:
    """Per path: how many subscribers have it and when the last one did."""

    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers
        self.counts: dict[str, int] = {}
        self.closed = 0
        self.lost_connections = 0

    def received(self, path: str) -> None:
        count = self.counts.get(path, 0) + 1
        self.counts[path] = count
        if count == self.subscribers:
            print(json.dumps({"path": path, "last": time.monotonic()}), flush=True)


async def subscribers_main(port: int, count: int) -> None:
    """The subscriber process: open `count` connections, then report until stdin closes."""
    loop = asyncio.get_running_loop()
    tally = Tally(count)
    for start in range(0, count, 200):  # in slices: a listen backlog is not infinite
        await asyncio.gather(*(
            loop.create_connection(lambda: Subscriber(tally, port), "127.0.0.1", port)
            for _ in range(start, min(count, start + 200))
        ))  # fmt: skip
    print(json.dumps({"connected": count}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # the driver closes stdin when done
    print(json.dumps({"closed": tally.closed, "lost": tally.lost_connections}), flush=True)


async def active_subscriptions(port: int) -> float:
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    for line in text.splitlines():
        if line.startswith("newsgraph_subscriptions_active "):
            return float(line.split()[1])
    return 0.0


async def measure(port: int, count: int, content: Path, drops: list[Path], timeout: float
                  ) -> tuple[list[float], int]:  # fmt: skip
    """Milliseconds from each rename to its event at the last subscriber; lost drops."""
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fanout", "--subscribers-of", str(port), str(count),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert client.stdout is not None and client.stdin is not None
    latencies: list[float] = []
    lost = 0
    try:
        ready = await asyncio.wait_for(client.stdout.readline(), timeout)
        assert json.loads(ready) == {"connected": count}, ready
        deadline = time.monotonic() + timeout
        while await active_subscriptions(port) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} subscriptions never registered")
            await asyncio.sleep(0.2)
        for number, source in enumerate(drops):
            final = content / f"{number:03d}-{source.name}"
            temp = content / f".{source.name}.tmp"
            temp.write_bytes(source.read_bytes())
            os.replace(temp, final)
            closed_at = time.monotonic()
            try:
                line = await asyncio.wait_for(client.stdout.readline(), timeout)
            except TimeoutError:
                lost += 1
                continue
            report = json.loads(line)
            assert report["path"] == final.name, report
            latencies.append((report["last"] - closed_at) * 1000)
            await asyncio.sleep(0.2)  # the next drop starts from a quiet server
    finally:
        client.stdin.close()
        with_summary = await asyncio.wait_for(client.communicate(), timeout)
        summary = with_summary[0].decode().strip().splitlines()
        if summary:
            print(f"  subscriber process: {summary[-1]}")
    return latencies, lost


def serve(work: Path, port: int, share: bool) -> subprocess.Popen[bytes]:
    content = work / "content"
    shutil.rmtree(content, ignore_errors=True)
    content.mkdir()
    db = work / "live.db"
    for stale in work.glob("live.db*"):
        stale.unlink()
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSGRAPH_")}
    command = [*newsgraph_command(), "serve", "--content", str(content), "--db", str(db),
               "--port", str(port), "--log-level", "warning", "--keepalive-interval", "0",
               "--share-subscriptions" if share else "--no-share-subscriptions"]  # fmt: skip
    return subprocess.Popen(command, cwd=work, env=env)


def run_case(work: Path, drops: list[Path], count: int, share: bool, timeout: float
             ) -> tuple[list[float], int]:  # fmt: skip
    port = free_port()
    proc = serve(work, port, share)
    try:
        wait_healthy(port, proc, 30)
        return asyncio.run(measure(port, count, work / "content", drops, timeout))
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def line(label: str, values: list[float], lost: int) -> tuple[float, float]:
    p50 = statistics.median(values) if values else float("inf")
    p99 = percentile(values, 0.99) if values else float("inf")
    print(f"{label:34} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {max(values or [0]):7.1f} ms"
          f"  lost {lost}")  # fmt: skip
    return p50, p99


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.subscribers_of:
        port, count = args.subscribers_of
        asyncio.run(subscribers_main(port, count))
        return 0
    work = Path(tempfile.mkdtemp(prefix="newsgraph-bench-fanout-"))
    try:
        staged = work / "staged"
        drops = sorted(write_demo_content(staged, count=args.drops, seed=5))
        ok = True
        baseline: tuple[float, float] | None = None
        if args.baseline_size:
            values, lost = run_case(work, drops, args.baseline_size, False, args.timeout)
            baseline = line(f"{args.baseline_size:,} subscribers, sharing off", values, lost)
        for count in args.sizes:
            values, lost = run_case(work, drops, count, True, args.timeout)
            p50, p99 = line(f"{count:,} subscribers, shared", values, lost)
            target = TARGETS_P99_MS.get(count)
            good = lost == 0 and (target is None or p99 <= target)
            ok = ok and good
            verdict = f"target p99 <= {target:.0f} ms, none lost" if target else "no target"
            print(f"  {verdict}: {'PASS' if good else 'FAIL'}")
            if baseline is not None and count == args.baseline_size:
                print(f"  sharing off / shared: p50 {baseline[0] / p50:.1f}x, "
                      f"p99 {baseline[1] / p99:.1f}x")  # fmt: skip
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--sizes", type=lambda text: [int(part) for part in text.split(",")],
                        default=[1_000, 10_000])  # fmt: skip
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--baseline-size", type=int, default=1_000, help="0 = no baseline")
    parser.add_argument("--timeout", type=float, default=60.0, help="bound on each wait (s)")
    parser.add_argument("--subscribers-of", type=int, nargs=2, metavar=("PORT", "N"),
                        help=argparse.SUPPRESS)  # fmt: skip
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
