"""The process shapes: a separate `newsgraph watch` writer, and `newsgraph serve` shutting down."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket, LiveApp

pytest_plugins = ["tests.live_fixtures"]
TIMEOUT = 10.0

Server = Callable[..., "LiveApp"]
Sockets = Callable[..., "GqlSocket"]
Write = Callable[..., Path]
Start = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def newsgraph(tmp_path: Path) -> Iterator[Start]:
    """Start `newsgraph <args>` as a child process; any still running is killed at teardown."""
    children: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-m", "newsgraph", *args, "--workers", "1", "--log-level", "warning"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=TIMEOUT)


def stop(child: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
    child.send_signal(sig)
    _out, err = child.communicate(timeout=TIMEOUT)
    return child.returncode, err


def test_a_writer_in_another_process_feeds_serve_no_watch(
    live_server: Server,
    sockets: Sockets,
    newsgraph: Start,
    write_article: Write,
    content_dir: Path,
    db_path: Path,
) -> None:
    server = live_server(watch=False)  # `serve --no-watch`: no writer, tails the table
    client = sockets(server.address)
    client.subscribe("1")
    server.wait_subscribed()
    watcher = newsgraph("watch", "--content", str(content_dir), "--db", str(db_path))
    write_article("from-reconcile.md")
    assert client.events(1, timeout=20)[0]["path"] == "from-reconcile.md"
    write_article("from-watch.md")
    [event] = client.events(1)
    assert (event["kind"], event["path"]) == ("CREATED", "from-watch.md")
    assert event["article"]["path"] == "from-watch.md"
    code, err = stop(watcher)
    assert code == 0, err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_healthy(url: str, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()[1]
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # not listening yet: the only way to learn is to ask again
    pytest.fail("newsgraph serve did not become healthy")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_closes_subscriptions_and_exits_0_on_a_signal(
    sockets: Sockets,
    newsgraph: Start,
    write_article: Write,
    content_dir: Path,
    tmp_path: Path,
    sig: signal.Signals,
) -> None:
    port = free_port()
    child = newsgraph(
        "serve", "--content", str(content_dir), "--db", str(tmp_path / "served.db"),
        "--port", str(port), "--debounce-ms", "20",
    )  # fmt: skip
    wait_healthy(f"http://127.0.0.1:{port}", child)
    client = sockets(f"127.0.0.1:{port}")
    sharing = sockets(f"127.0.0.1:{port}", "graphql-ws")  # same document: one shared execution
    client.subscribe("1")
    sharing.subscribe("1")
    write_article("a.md")
    assert client.events(1)[0]["path"] == "a.md"
    assert sharing.events(1)[0]["path"] == "a.md"
    child.send_signal(sig)
    for each in (client, sharing):
        code, reason = each.closed_with()
        assert code == 1001 and "shutting down" in reason
    assert child.wait(timeout=TIMEOUT) == 0, child.communicate()[1]
    # Not waiting on the open WebSocket: uvicorn never had to cancel it at its graceful timeout
    # (what the log says, not a wall-clock bound a loaded machine could miss).
    _out, err = child.communicate(timeout=TIMEOUT)
    assert "timeout graceful shutdown exceeded" not in err, err
