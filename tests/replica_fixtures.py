"""A writer and its replicas as real processes on one machine, folders standing in for machines.

The writer is `newsgraph watch --replicate-to URL`; each replica is `newsgraph serve
--replica-of URL --db <its own folder>/replica.db` on its own port. Every process is killed at
teardown if a test left it running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

TIMEOUT = 30.0
STATUS = "{ ingestStatus { lastChangeCursor articleCount } }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def until(predicate: Any, what: str, timeout: float = TIMEOUT) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class Replica:
    """One `serve --replica-of` process."""

    port: int
    db: Path
    child: subprocess.Popen[str]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(f"http://{self.address}{path}", timeout=5)
        except httpx.TransportError:
            return None  # not listening yet

    def readyz(self) -> dict[str, Any]:
        response = self.get("/readyz")
        assert response is not None, "the replica does not answer"
        body: dict[str, Any] = response.json()
        return body

    def wait_ready(self, timeout: float = TIMEOUT) -> None:
        def ready() -> bool:
            assert self.child.poll() is None, log_of(self.child)
            response = self.get("/readyz")
            return response is not None and response.status_code == 200

        until(ready, f"replica on {self.port} to become ready", timeout)

    def query(self, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(
            f"http://{self.address}/graphql",
            json={"query": query, "variables": variables},
            timeout=10,
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def article_count(self) -> int:
        count: int = self.query(STATUS)["ingestStatus"]["articleCount"]
        return count

    def follower_pid(self) -> int:
        """The pid of this replica's `litestream restore -f` child."""
        out = subprocess.run(
            ["pgrep", "-P", str(self.child.pid), "-f", "litestream restore"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        pids = [int(pid) for pid in out.stdout.split()]
        assert len(pids) == 1, out
        return pids[0]


@dataclass
class Cluster:
    """One store URL, one writer and any number of replicas under `root`."""

    root: Path
    url: str
    content: Path
    env: dict[str, str] | None = None
    children: list[subprocess.Popen[str]] = field(default_factory=list)
    writer: subprocess.Popen[str] | None = None

    def _start(self, *args: str) -> subprocess.Popen[str]:
        """A child whose output goes to a file: a pipe nobody reads while the test runs fills
        up (Litestream's retries during a store outage are enough) and then blocks the child's
        next log line, event loop and all."""
        log = self.root / f"child-{len(self.children)}-{args[0]}.log"
        with log.open("w") as output:
            child = subprocess.Popen(
                [sys.executable, "-m", "newsgraph", *args, "--log-level", "info"],
                cwd=self.root, stdout=output, stderr=subprocess.STDOUT, text=True, env=self.env,
            )  # fmt: skip
        _LOGS[child.pid] = log
        self.children.append(child)
        return child

    def start_writer(self, *extra: str) -> subprocess.Popen[str]:
        self.writer = self._start(
            "watch", "--content", str(self.content), "--db", str(self.root / "writer.db"),
            "--replicate-to", self.url, "--parse-workers", "1", "--debounce-ms", "20", *extra,
        )  # fmt: skip
        return self.writer

    def start_shipper(self, db: Path) -> subprocess.Popen[str]:
        """Ship an existing database without watching: `serve --no-watch --replicate-to`."""
        return self._start(
            "serve", "--no-watch", "--db", str(db), "--port", str(free_port()),
            "--replicate-to", self.url,
        )  # fmt: skip

    def stop_writer(self) -> None:
        assert self.writer is not None
        self.writer.send_signal(signal.SIGTERM)
        self.writer.wait(timeout=TIMEOUT)
        assert self.writer.returncode == 0, log_of(self.writer)

    def start_replica(self, name: str, *extra: str) -> Replica:
        """Start a replica and wait until it listens (another port if a free one was taken).

        A port found free can be taken before the child binds it (by an outgoing connection's
        ephemeral port, or another suite on the machine): then the child exits and we retry.
        """
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        db = folder / "replica.db"
        for _attempt in range(5):
            port = free_port()
            child = self._start(
                "serve", "--replica-of", self.url, "--db", str(db), "--port", str(port), *extra
            )
            replica = Replica(port, db, child)
            until(lambda r=replica: r.child.poll() is not None or r.get("/healthz"), "listening")
            if child.poll() is None:
                return replica
            child.wait()
            assert "address already in use" in log_of(child), log_of(child)
        pytest.fail("no free port for a replica after 5 attempts")

    until = staticmethod(until)

    def stop(self) -> None:
        """Stop every child; their logs go to the captured output a failed test shows."""
        for child in self.children:
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            command = child.args if isinstance(child.args, list) else [child.args]
            print(f"--- {' '.join(map(str, command[2:4]))} (exit {child.returncode}) ---")
            print(log_of(child)[-4000:])


_LOGS: dict[int, Path] = {}  # each child's log file, by pid


def log_of(child: subprocess.Popen[str]) -> str:
    log = _LOGS.get(child.pid)
    return log.read_text(errors="replace") if log is not None and log.exists() else ""


class Partition:
    """A TCP forwarder in front of a server that can cut the network and heal it.

    Stopping moto's threaded server would not do: connections already kept alive are still
    served. Cutting here closes every open connection and refuses new ones.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def heal(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            doomed = [*self._sockets, *([self._listener] if self._listener else [])]
            self._sockets.clear()
            self._listener = None
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                if self._listener is not listener:  # cut while this one was being connected
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


class LocalS3:
    """moto's S3 server on loopback, reached through a `Partition` that tests can cut."""

    BUCKET = "news"

    def __init__(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        self.network = Partition(self.server._port)
        self.env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
        }

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.network.port}"

    @property
    def url(self) -> str:
        return f"s3://{self.BUCKET}/db?endpoint={self.endpoint}&region=us-east-1"

    def start(self) -> None:
        self.server.start()
        self.network.heal()

    def stop(self) -> None:
        self.network.cut()
        self.server.stop()

    def create_bucket(self) -> None:
        client = boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
        )  # fmt: skip
        client.create_bucket(Bucket=self.BUCKET)


@pytest.fixture
def s3_cluster(tmp_path: Path, content_dir: Path) -> Iterator[tuple[Cluster, LocalS3]]:
    store = LocalS3()
    store.start()
    store.create_bucket()
    running = Cluster(tmp_path, store.url, content_dir, env=store.env)
    try:
        yield running, store
    finally:
        running.stop()
        store.stop()


@pytest.fixture
def cluster(tmp_path: Path, content_dir: Path) -> Iterator[Cluster]:
    store = tmp_path / "store"
    store.mkdir()
    running = Cluster(tmp_path, store.as_uri(), content_dir)
    try:
        yield running
    finally:
        running.stop()
