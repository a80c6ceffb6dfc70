"""Spike benchmark: breaking-news traffic on 20,000 articles (`python -m bench.spike`).

200 keep-alive connections ask for the homepage (q1: 20 newest, nested) and a topic page (20
newest of the biggest topic, nested), half each, for `--seconds` while one new article drops
into the watched folder every second. Cases, in one run:

(a) the response cache off, one process; (b) the cache on, one process; (c) the cache on with
`newsgraph serve --workers 2` (and, for the workers target, off); (d) the raw SQL handlers of
`bench.raw` fetching the same data; (e) a trivial endpoint through the same stack (uvicorn,
Starlette, our middleware): the machine's ceiling.

Load comes from `wrk` (C, two threads, `--timeout 2s`): a Python client on the same two cores
would cost as much CPU per request as a cached answer and measure itself. Freshness comes from a
prober in this process asking q1 back-to-back on one more connection: for each drop, the time
from the file's close (its rename into place) until a q1 answer holds the new article.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.ingest import newsgraph_command
from bench.live import free_port, wait_healthy
from bench.query import NESTED, Connection, biggest_topic, ensure_data
from newsgraph.config import Settings

Q1 = f"query Homepage {{ articles(first: 20) {{ {NESTED} }} }}"
TOPIC = (
    "query TopicPage($topic: String!) { articles(first: 20, filter: {topics: [$topic]}) { "
    + NESTED
    + " } }"
)
TRIVIAL = "/bench/trivial"
TARGETS = "(b)/(a) >= 20; (b)/(d) >= 1.0; (b)/(e) >= 0.5; (b) p99 <= 100 ms, 0 timeouts"


@dataclass
class Case:
    name: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    timeouts: int = 0
    errors: int = 0
    freshness_ms: list[float] = field(default_factory=list)


def graphql_path(query: str, variables: dict[str, str] | None = None) -> str:
    params = {"query": query, **({"variables": json.dumps(variables)} if variables else {})}
    return "/graphql?" + urllib.parse.urlencode(params)


WRK_SCRIPT = """
local paths = {%s}
local n = 0
wrk.headers["Accept"] = "application/json"
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %%d, "micros": %%d, "timeouts": %%d, "status": %%d, ' ..
    '"connect": %%d, "read": %%d, "p50": %%d, "p99": %%d}\\n', summary.requests,
    summary.duration, summary.errors.timeout, summary.errors.status, summary.errors.connect,
    summary.errors.read, latency:percentile(50), latency:percentile(99)))
end
"""


async def run_wrk(port: int, paths: list[str], seconds: float, work: Path, case: Case) -> None:
    script = work / "spike.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t2", "-c200", f"-d{seconds:g}s", "--timeout", "2s", "-s", str(script),
        f"http://127.0.0.1:{port}", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=seconds + 60)
    summary = json.loads(out.decode().strip().splitlines()[-1])
    case.rps = summary["requests"] / (summary["micros"] / 1e6)
    case.p50_ms, case.p99_ms = summary["p50"] / 1000, summary["p99"] / 1000
    case.timeouts = summary["timeouts"]
    case.errors = summary["status"] + summary["connect"] + summary["read"]


def article(number: int, topic: str, tag: str) -> str:
    from newsgraph.demo_yaml import render_article

    published = datetime.now(UTC) + timedelta(days=365, seconds=number)  # the newest of all
    return render_article({
        "category": "news", "title": f"Breaking {tag} {number}", "type": "article",
        "publishedDateTime": published, "webUrl": f"https://spike.example/{tag}/{number}",
        "provider": {"name": "Spike Wire", "domain": "spike.example"}, "topics": [topic],
    }, "Breaking news.")  # fmt: skip


async def drop_files(content: Path, topic: str, tag: str, seconds: float) -> list[float]:
    """One new article per second; the moment each one's file is in place."""
    closed: list[float] = []
    started = time.perf_counter()
    for number in range(int(seconds)):
        await asyncio.sleep(max(0.0, started + number + 0.5 - time.perf_counter()))
        final = content / "spike" / f"{tag}-{number:03}.md"
        final.parent.mkdir(exist_ok=True)
        temp = final.with_name("." + final.name + ".tmp")
        temp.write_text(article(number, topic, tag), encoding="utf-8")
        os.replace(temp, final)
        closed.append(time.perf_counter())
    return closed


async def probe(port: int, tag: str, count: int, stop: asyncio.Event) -> dict[int, float]:
    """Ask q1 back-to-back; when each drop's article first appears in an answer."""
    connection = Connection(*await asyncio.open_connection("127.0.0.1", port))
    request = (f"GET {graphql_path(Q1)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Accept: application/json\r\n\r\n").encode()  # fmt: skip
    seen: dict[int, float] = {}
    while not stop.is_set():
        body = await connection.send(request)
        now = time.perf_counter()
        for number in range(count):
            if number not in seen and f'Breaking {tag} {number}"'.encode() in body:
                seen[number] = now
    connection.writer.close()
    return seen


async def measure(port: int, paths: list[str], content: Path, topic: str, case: Case,
                  seconds: float, work: Path, *, fresh: bool) -> None:  # fmt: skip
    tag = case.name.split()[0].strip("()")
    stop = asyncio.Event()
    prober = asyncio.create_task(probe(port, tag, int(seconds), stop)) if fresh else None
    dropper = asyncio.create_task(drop_files(content, topic, tag, seconds))
    await run_wrk(port, paths, seconds, work, case)
    closed = await dropper
    if prober is not None:
        await asyncio.sleep(1.0)  # the last drop's article may still be on its way
        stop.set()
        seen = await prober
        case.freshness_ms = [(seen[n] - closed[n]) * 1000 for n in seen]
        case.errors += len(closed) - len(seen)  # a drop never seen in q1 is a failure


def serve_child(content: Path, db: Path, port: int, cache_bytes: int) -> None:
    """Child process: `newsgraph serve` (watching) plus the raw and trivial routes."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from bench.raw import raw_routes
    from newsgraph.app import create_app
    from newsgraph.db.connection import open_writer
    from newsgraph.live import LiveServer, server_config

    async def trivial(request: Request) -> Response:
        return Response(b'{"data":{"ok":true}}', media_type="application/json")

    settings = Settings(content=content, db=db, port=port, log_level="warning",
                        response_cache_bytes=cache_bytes)  # fmt: skip
    open_writer(settings.db).close()
    app = create_app(settings)
    app.router.routes.extend([*raw_routes(app.state.pool), Route(TRIVIAL, trivial)])
    LiveServer(server_config(app, settings), app).run()


class Server:
    """A server process for some cases; stopped with SIGINT (bounded)."""

    def __init__(self, command: list[str], port: int, work: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSGRAPH_")}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # `bench` for the child
        self.log = (work / f"server-{port}.log").open("wb")
        self.process = subprocess.Popen(command, cwd=work, env=env, stdout=self.log,
                                        stderr=self.log)  # fmt: skip
        self.port = port

    def __enter__(self) -> Server:
        try:
            wait_healthy(self.port, self.process, timeout=180)
        except BaseException:
            self.__exit__()
            print(Path(self.log.name).read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def workers_exist() -> bool:
    """`serve --workers` means API processes once the setting for parse processes moved."""
    return "parse_workers" in {f.name for f in fields(Settings)}


def prepare(count: int, seed: int, work: Path) -> tuple[Path, Path, str]:
    """A private copy of the benchmark data (mtimes kept: reconciling it reads nothing)."""
    source = ensure_data(count, seed)
    content, db = work / "content", work / "newsgraph.db"
    shutil.copytree(source.parent / "content", content)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy2(f"{source}{suffix}", f"{db}{suffix}")
    key, _ = biggest_topic(db)  # a topic key names the topic in filters and files
    return content, db, key


async def run_cases(args: argparse.Namespace, work: Path) -> dict[str, Case]:
    content, db, topic = prepare(args.count, args.seed, work)
    graphql = [graphql_path(Q1), graphql_path(TOPIC, {"topic": topic})]
    raw = ["/raw/q1", "/raw/t20?" + urllib.parse.urlencode({"topic": topic})]
    cases: dict[str, Case] = {}
    child = [sys.executable, "-m", "bench.spike", "--content", str(content), "--db", str(db)]
    plan = [("(a) cache off, 1 process", 0, [("", graphql, True)]),
            ("(b) cache on, 1 process", 64 << 20, [("", graphql, True), ("(d) raw SQL handler", raw,
             False), ("(e) trivial endpoint", [TRIVIAL], False)])]  # fmt: skip
    for label, cache_bytes, runs in plan:
        port = free_port()
        command = [*child, "--serve-port", str(port), "--cache-bytes", str(cache_bytes)]
        with Server(command, port, work):
            for run_label, paths, fresh in runs:
                case = cases.setdefault(run_label or label, Case(run_label or label))
                await measure(port, paths, content, topic, case, args.seconds, work, fresh=fresh)
                print_case(case)
    if not workers_exist():
        print("(c) --workers 2: SKIPPED: `newsgraph serve --workers` (API processes) is not in "
              "this version")  # fmt: skip
        return cases
    for label, cache_bytes in (("(c) cache on, --workers 2", 64 << 20),
                               ("(c0) cache off, --workers 2", 0)):  # fmt: skip
        port = free_port()
        command = [*newsgraph_command(), "serve", "--content", str(content), "--db", str(db),
                   "--port", str(port), "--workers", "2", "--log-level", "warning",
                   "--response-cache-bytes", str(cache_bytes)]  # fmt: skip
        with Server(command, port, work):
            case = cases[label] = Case(label)
            await measure(port, graphql, content, topic, case, args.seconds, work, fresh=True)
            print_case(case)
    return cases


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def print_case(case: Case) -> None:
    fresh = ""
    if case.freshness_ms:
        fresh = (f"; freshness p50 {percentile(case.freshness_ms, 0.5):.0f} ms, "
                 f"p99 {percentile(case.freshness_ms, 0.99):.0f} ms "
                 f"({len(case.freshness_ms)} drops)")  # fmt: skip
    print(f"{case.name:30} {case.rps:8.0f} req/s  p50 {case.p50_ms:7.1f} ms  p99 "
          f"{case.p99_ms:7.1f} ms  timeouts {case.timeouts}  errors {case.errors}{fresh}",
          flush=True)  # fmt: skip


def report(cases: dict[str, Case]) -> None:
    a, b = cases["(a) cache off, 1 process"], cases["(b) cache on, 1 process"]
    d, e = cases["(d) raw SQL handler"], cases["(e) trivial endpoint"]
    checks = [
        (f"(b)/(a) = {b.rps / a.rps:.1f} ({b.rps:.0f} vs {a.rps:.0f} req/s)", b.rps / a.rps >= 20),
        (f"(b)/(d) = {b.rps / d.rps:.2f} (raw SQL {d.rps:.0f} req/s)", b.rps >= d.rps),
        (f"(b)/(e) = {b.rps / e.rps:.2f} (trivial {e.rps:.0f} req/s)", b.rps / e.rps >= 0.5),
        (f"(b) p99 {b.p99_ms:.1f} ms, {b.timeouts} timeouts, {b.errors} errors",
         b.p99_ms <= 100 and b.timeouts == 0 and b.errors == 0),
        (f"(b) freshness p99 {percentile(b.freshness_ms, 0.99):.0f} ms (target <= 250)",
         percentile(b.freshness_ms, 0.99) <= 250),
    ]  # fmt: skip
    if "(c0) cache off, --workers 2" in cases:
        c0 = cases["(c0) cache off, --workers 2"]
        checks.append((f"(c0)/(a) cache off = {c0.rps / a.rps:.2f} (target >= 1.5)",
                       c0.rps / a.rps >= 1.5))  # fmt: skip
    print(f"targets: {TARGETS}; freshness p99 <= 250 ms; (c)/(a) >= 1.5 with the cache off")
    for text, met in checks:
        print(f"{'MET   ' if met else 'MISSED'} {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spike", description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=12.0, help="per case (12, >= 10)")
    parser.add_argument("--serve-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--content", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache-bytes", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_port is not None:
        serve_child(args.content, args.db, args.serve_port, args.cache_bytes)
        return 0
    if shutil.which("wrk") is None:
        print("bench.spike needs wrk (Debian package `wrk`; `make bench` installs it)")
        return 2
    with tempfile.TemporaryDirectory(prefix="newsgraph-spike-") as folder:
        report(asyncio.run(run_cases(args, Path(folder))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
