"""`newsgraph serve --workers 2`: real processes on 127.0.0.1, real files in a real folder.

Which worker answers a connection is the kernel's choice; every response names its worker
(`X-Newsgraph-Worker`), so a test opens connections until it holds one to each worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import WriteArticle
from tests.test_live_processes import free_port

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket

pytest_plugins = ["tests.live_fixtures"]
pytestmark = pytest.mark.slow

TIMEOUT = 60.0  # spawning a worker imports the whole stack: slow on a loaded machine
HEADER = "x-newsgraph-worker"
CURSOR = "{ ingestStatus { lastChangeCursor } }"
ARTICLE = "query ($p: String!) { article(path: $p) { path } }"


class Served:
    """A `newsgraph serve --workers 2` process tree and its address."""

    def __init__(self, process: subprocess.Popen[str], port: int, stack: ExitStack) -> None:
        self.process = process
        self.stack = stack  # closed at teardown: every client opened here
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.address = f"127.0.0.1:{port}"

    def ready(self) -> httpx.Response:
        """/readyz answered 200, by whichever worker the new connection reached."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()[1]
            try:
                response = httpx.get(f"{self.url}/readyz", timeout=5)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # not listening yet: the only way to learn is to ask again
        pytest.fail("no worker became ready")

    def clients(self) -> dict[str, httpx.Client]:
        """One keep-alive client per worker: fresh connections until both workers answered."""
        found: dict[str, httpx.Client] = {}
        deadline = time.monotonic() + TIMEOUT
        while len(found) < 2:
            assert time.monotonic() < deadline, f"only reached workers {sorted(found)}"
            client = self.stack.enter_context(httpx.Client(base_url=self.url, timeout=10))
            response = client.get("/readyz")
            if response.status_code == 200:
                found.setdefault(response.headers[HEADER], client)
        return found

    def sockets(self, open_socket: Callable[..., GqlSocket]) -> dict[str, GqlSocket]:
        """One GraphQL WebSocket per worker."""
        found: dict[str, GqlSocket] = {}
        deadline = time.monotonic() + TIMEOUT
        while len(found) < 2:
            assert time.monotonic() < deadline, f"only reached workers {sorted(found)}"
            client = open_socket(self.address)
            response = client.ws.response
            assert response is not None
            found.setdefault(response.headers[HEADER], client)
        return found


@pytest.fixture
def serve_workers(tmp_path: Path, content_dir: Path) -> Iterator[Callable[..., Served]]:
    """Start `newsgraph serve --workers 2`; killed (the whole tree) at teardown if still up."""
    started: list[subprocess.Popen[str]] = []
    stack = ExitStack()

    def start(*extra: str) -> Served:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "newsgraph", "serve", "--workers", "2", "--parse-workers",
             "1", "--content", str(content_dir), "--db", str(tmp_path / "served.db"),
             "--port", str(port), "--debounce-ms", "20", *extra],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        started.append(process)
        served = Served(process, port, stack)
        served.ready()
        return served

    yield start
    stack.close()
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # a clean stop also removes its metrics folder
            try:
                process.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
        process.communicate(timeout=TIMEOUT)


def cursor(client: httpx.Client) -> str:
    body = client.post("/graphql", json={"query": CURSOR}).json()
    value: str = body["data"]["ingestStatus"]["lastChangeCursor"]
    return value


def samples(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_subscriber_on_each_worker_sees_every_event_and_sigterm_drains_all(
    serve_workers: Callable[..., Served],
    sockets: Callable[..., GqlSocket],
    write_article: WriteArticle,
) -> None:
    served = serve_workers()
    subscribers = served.sockets(sockets)
    since = cursor(next(iter(served.clients().values())))
    for op_id, client in enumerate(subscribers.values()):
        client.subscribe(str(op_id), since=since)  # replay from `since`: nothing can slip by
    names = [f"_news/drop-{n}.md" for n in range(5)]
    for n, name in enumerate(names):
        write_article(name, webUrl=f"https://example.com/drop-{n}")
    for worker, client in subscribers.items():
        seen = [event["path"] for event in client.events(len(names), timeout=TIMEOUT)]
        assert sorted(seen) == names, f"worker {worker} saw {seen}"

    served.process.send_signal(signal.SIGTERM)
    for client in subscribers.values():
        code, reason = client.closed_with(timeout=TIMEOUT)
        assert code == 1001 and "shutting down" in reason
    assert served.process.wait(timeout=TIMEOUT) == 0, served.process.communicate()[1]
    _out, err = served.process.communicate()
    assert "serve: stopped" in err and "killing it" not in err


def test_metrics_add_up_requests_on_every_worker_and_the_writers_ingest(
    serve_workers: Callable[..., Served],
    sockets: Callable[..., GqlSocket],
    write_article: WriteArticle,
) -> None:
    write_article("_news/before-start.md")
    served = serve_workers()
    clients = served.clients()
    first, second = clients.values()

    def query(client: httpx.Client, number: int) -> None:  # distinct documents: each executes
        body = {"query": f"query Q{number} {{ ingestStatus {{ lastChangeCursor }} }}"}
        assert client.post("/graphql", json=body).status_code == 200

    for number in (0, 1, 2, 0):  # the repeat is answered by worker 1's response cache
        query(first, number)
    for number in (3, 4, 5, 6, 3):
        query(second, number)
    executed = (
        "newsgraph_graphql_requests_total",
        (("operation_type", "query"), ("outcome", "ok")),
    )
    latency = ("newsgraph_graphql_request_seconds_count", (("operation_type", "query"),))
    ingested = ("newsgraph_ingest_files_total", (("result", "ingested"),))
    for client in clients.values():  # each worker reports the sum over all processes
        seen = samples(client)
        assert (seen[executed], seen[latency]) == (7, 7)
        assert seen[ingested] == 1  # counted by the writer process, which serves nothing
    # Gauges and the response cache's counters are copied into the shared files every second.
    cache = {"newsgraph_response_cache_hits_total": 2, "newsgraph_response_cache_misses_total": 7}
    deadline = time.monotonic() + TIMEOUT
    while {name: samples(second).get((name, ())) for name in cache} != cache:
        assert time.monotonic() < deadline, samples(second)
        time.sleep(0.1)

    for op_id, subscriber in enumerate(served.sockets(sockets).values()):
        subscriber.subscribe(str(op_id))
    active = ("newsgraph_subscriptions_active", ())
    deadline = time.monotonic() + TIMEOUT
    while samples(first).get(active) != 2:  # each worker refreshes its gauge every second
        assert time.monotonic() < deadline, samples(first).get(active)
        time.sleep(0.1)


def test_a_killed_worker_is_replaced_and_serves_again(
    serve_workers: Callable[..., Served], write_article: WriteArticle
) -> None:
    served = serve_workers()
    clients = served.clients()
    victim, survivor = clients["1"], clients["2"]
    pid = victim.get("/readyz").json()["pid"]
    os.kill(pid, signal.SIGKILL)

    write_article("_news/while-down.md")  # the writer and the other worker carry on
    path = "_news/while-down.md"
    query = {
        "query": "query ($p: String!) { article(path: $p) { path } }",
        "variables": {"p": path},
    }
    deadline = time.monotonic() + TIMEOUT
    while survivor.post("/graphql", json=query).json()["data"]["article"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    replaced: dict[str, Any] = {}
    deadline = time.monotonic() + TIMEOUT
    while not replaced:
        assert time.monotonic() < deadline, "worker 1 was not replaced"
        with httpx.Client(base_url=served.url, timeout=10) as client:
            response = client.get("/readyz")
            if response.headers[HEADER] == "1" and response.json()["pid"] != pid:
                assert response.status_code == 200, response.text
                replaced = client.post("/graphql", json=query).json()
    assert replaced == {"data": {"article": {"path": path}}}
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=TIMEOUT) == 0
    _out, err = served.process.communicate()
    assert f"worker 1 (pid {pid}) was killed by SIGKILL" in err


def children(pid: int) -> set[int]:
    """The child processes of `pid` (Linux /proc)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(child) for child in text.split()}


def test_a_killed_writer_is_replaced_and_ingests_again(
    serve_workers: Callable[..., Served], write_article: WriteArticle
) -> None:
    served = serve_workers()
    clients = served.clients()
    workers = {client.get("/readyz").json()["pid"] for client in clients.values()}
    spawned = {
        pid for pid in children(served.process.pid) - workers
        if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    }  # fmt: skip
    [writer] = spawned  # besides the workers, only multiprocessing's resource tracker
    os.kill(writer, signal.SIGKILL)

    write_article("_news/after-restart.md")
    query = {"query": ARTICLE, "variables": {"p": "_news/after-restart.md"}}
    first = next(iter(clients.values()))
    deadline = time.monotonic() + TIMEOUT
    while first.post("/graphql", json=query).json()["data"]["article"] is None:
        assert time.monotonic() < deadline, "the writer was not replaced"
        time.sleep(0.05)
    while first.get("/readyz").json()["checks"]["watcher"] != "ok":  # published every 0.1 s
        assert time.monotonic() < deadline, first.get("/readyz").json()
        time.sleep(0.05)
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=TIMEOUT) == 0
    _out, err = served.process.communicate()
    assert f"writer (pid {writer}) was killed by SIGKILL" in err


def test_a_busy_port_stops_start_up_with_exit_2(tmp_path: Path, content_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "newsgraph", "serve", "--workers", "2", "--content",
             str(content_dir), "--db", str(tmp_path / "n.db"), "--port", str(port)],
            cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
