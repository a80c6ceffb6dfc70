"""`newsgraph serve --workers N`: one writer process and N API processes on one port.

The shape is the split deployment of the README ("Scaling out": one `newsgraph watch`, several
`serve --no-watch`) run by one command. The supervisor (the process the user started) reserves
the port, then starts, as child processes:

- the **writer**: the watcher and the only write connection (`watching.run_watch`), publishing
  its status to shared memory (`writer_state`) so every worker's `/readyz` and `ingestStatus`
  describe it;
- **N API workers**: the app of `serve --no-watch`, each listening on the port with a socket of
  its own (SO_REUSEPORT: the kernel spreads connections over them). Every worker's
  `ChangeBroker` tails the `changes` table, so a subscriber on any worker sees every commit of
  the writer, as `serve --no-watch` processes already do; the writer's commits wake the brokers
  at once (`writer_state.CommitSignal`).

Workers start once the writer has finished its start-up reconcile (as a single `serve` does).
A child that dies is started again: at once when it had run for `STABLE_AFTER` seconds, else
after a doubling delay (0.5 s up to `MAX_BACKOFF`), so a crash loop does not spin. SIGTERM or
SIGINT (the children run in their own process group, so a terminal's Ctrl-C reaches only the
supervisor) is forwarded as SIGTERM to every child: workers close their subscriptions with 1001
and drain, the writer commits the batch in hand; then the supervisor exits 0. A child whose
supervisor has gone (killed with SIGKILL) notices and stops on its own.

Children are started with `spawn`, not `fork`: the supervisor is small, but a fork of a process
with threads (a writer's observer, a worker's reader pool) is unsafe.

Metrics: every process writes to a fresh directory named by `PROMETHEUS_MULTIPROC_DIR` (set
before any child starts, removed at exit), and each worker's `/metrics` merges them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from prometheus_client.multiprocess import mark_process_dead
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsgraph.app import create_app
from newsgraph.config import ConfigError, Settings
from newsgraph.db.writes import BatchResult
from newsgraph.ingest.watcher import Watcher
from newsgraph.live import LiveServer, server_config
from newsgraph.logs import configure_logging
from newsgraph.metrics import MULTIPROCESS_DIR, Metrics
from newsgraph.watching import STOP_SIGNALS, run_watch
from newsgraph.writer_state import CommitSignal, SharedWriterState, WriterLink, send_wake

log = logging.getLogger("newsgraph")

STABLE_AFTER = 10.0  # a child that ran this long before dying is restarted at once
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
STOP_TIMEOUT = 30.0  # after SIGTERM, how long children get before SIGKILL
REFRESH_INTERVAL = 1.0  # a worker's gauges in the shared metrics files are this fresh
WORKER_HEADER = b"x-newsgraph-worker"
BACKLOG = 2048  # uvicorn's default
LOOK_INTERVAL = 0.2  # the supervisor's longest sleep: signals and due restarts are seen this fast


def reserve_port(settings: Settings) -> socket.socket:
    """The supervisor's hold on the port: bound (a busy port fails at start-up) but never
    listening, so it takes no connections; only sockets that also set SO_REUSEPORT, under the
    same user, can share the port with it (each worker's, see `listening_socket`)."""
    return _bound(settings)


def listening_socket(settings: Settings) -> socket.socket:
    """A worker's own listening socket on the shared port (SO_REUSEPORT).

    The kernel spreads new connections evenly over the workers' sockets, and each worker's
    event loop accepts everything queued on its own socket at once (`newsgraph.event_loop`).
    One socket inherited by every worker (the model of gunicorn and `uvicorn --workers`) lets
    whichever worker wakes first take a whole burst: with 200 connections opened at once, 5
    tries split them 200/0, 100/100, 130/70, 153/47 and 170/30.
    """
    sock = _bound(settings)
    sock.listen(BACKLOG)
    return sock


def _bound(settings: Settings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"port: cannot listen on {settings.host}:{settings.port}: {error.strerror}"
        ) from error
    return sock


def _own_process_group() -> None:
    """Children leave the terminal's process group: Ctrl-C is the supervisor's to forward."""
    os.setpgid(0, 0)


def _supervisor_alive() -> bool:
    parent = multiprocessing.parent_process()
    return parent is None or parent.is_alive()


def writer_main(settings: Settings, state: SharedWriterState, wakes: list[socket.socket]) -> None:
    """The writer process: `newsgraph watch`, publishing its status, commits and metrics."""
    _own_process_group()
    configure_logging(settings.log_level, settings.log_format)
    metrics = Metrics()
    for wake in wakes:
        wake.setblocking(False)

    def on_commit(batch: BatchResult) -> None:
        send_wake(wakes)
        metrics.observe_batch(batch)

    def tick(watcher: Watcher) -> bool:
        status = watcher.status()
        state.publish(status, ready=watcher.wait_ready(0))
        metrics.queue_depth.set(status.queue_depth)
        return _supervisor_alive()

    run_watch(settings, on_commit=on_commit, on_tick=tick)


class WorkerHeader:
    """Names the answering worker in every response (`X-Newsgraph-Worker: 2`), for debugging
    a load balancer and for tests that must reach a given worker; WebSocket handshakes too."""

    def __init__(self, app: ASGIApp, index: int) -> None:
        self.app = app
        self.header = (WORKER_HEADER, str(index).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def named(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", ()), self.header]}
            await send(message)

        await self.app(scope, receive, named if scope["type"] != "lifespan" else send)


def worker_main(settings: Settings, index: int, writer: WriterLink | None) -> None:
    """An API process: the app of `serve --no-watch`, linked to the writer process."""
    _own_process_group()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, writer=writer)
    config = server_config(app, settings)
    config.app = WorkerHeader(app, index)
    server = LiveServer(config, app)
    metrics: Metrics = app.state.metrics

    def look_after() -> None:  # a daemon thread: ends with the process
        while not server.should_exit:
            metrics.refresh()
            if not _supervisor_alive():
                log.warning("worker %d: the supervisor is gone; stopping", os.getpid())
                server.should_exit = True
            time.sleep(REFRESH_INTERVAL)

    threading.Thread(target=look_after, name="newsgraph-worker-refresh", daemon=True).start()
    server.run(sockets=[listening_socket(settings)])


@dataclass
class Child:
    """One supervised process, and when to start it again after it died."""

    name: str
    start: Callable[[], BaseProcess]
    process: BaseProcess | None = None
    started_at: float = 0.0
    backoff: float = 0.0
    restart_at: float | None = field(default=None)

    def launch(self) -> None:
        self.process = self.start()
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.exitcode is None


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with {code}"


class Supervisor:
    """Starts the writer and the workers, replaces any that die, stops them all on a signal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.context = multiprocessing.get_context("spawn")
        self.state = SharedWriterState(self.context)
        self.commits = CommitSignal(settings.api_processes)
        self.stopping = threading.Event()
        self.writer: Child | None = None
        self.workers: list[Child] = []

    def _spawn(self, name: str, target: Callable[..., None], *args: object) -> BaseProcess:
        process = self.context.Process(target=target, args=args, name=f"newsgraph {name}")
        process.start()
        log.info("serve: started %s (pid %s)", name, process.pid)
        return process

    def run(self) -> int:
        if self.settings.watch:
            self.writer = Child("writer", partial(self._spawn, "writer", writer_main,
                                self.settings, self.state, self.commits.senders()))  # fmt: skip
            self.writer.launch()
        for index in range(1, self.settings.api_processes + 1):
            name = f"worker {index}"
            link = WriterLink(self.state, self.commits.receiver(index - 1))
            start = partial(self._spawn, name, worker_main, self.settings, index,
                            link if self.settings.watch else None)  # fmt: skip
            self.workers.append(Child(name, start))
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            self._supervise()
        finally:
            self._stop_all()
            self.commits.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("serve: stopped")
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("serve: %s received; stopping the workers", signal.Signals(signum).name)
        self.stopping.set()

    def _children(self) -> list[Child]:
        return ([self.writer] if self.writer is not None else []) + self.workers

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            writer_ready = self.writer is None or self.state.wait_ready()
            now = time.monotonic()
            for child in self._children():
                if child.alive:
                    continue
                if child.process is not None:
                    self._note_death(child, now)
                if child.restart_at is not None and child.restart_at <= now:
                    child.launch()
                elif not child.started_at and writer_ready:
                    child.launch()  # first start, once the writer has reconciled
            sentinels = [c.process.sentinel for c in self._children() if c.alive and c.process]
            wait(sentinels, timeout=LOOK_INTERVAL)

    def _note_death(self, child: Child, now: float) -> None:
        """Log the death, forget its live metrics, and schedule the replacement (once)."""
        process = child.process
        assert process is not None
        process.join()
        ran = now - child.started_at
        child.backoff = 0.0 if ran >= STABLE_AFTER else (
            min(MAX_BACKOFF, child.backoff * 2) if child.backoff else FIRST_BACKOFF)  # fmt: skip
        child.restart_at = now + child.backoff
        log.error(
            "serve: %s (pid %s) %s after %.1f s; starting it again in %.1f s",
            child.name, process.pid, _describe_exit(process.exitcode), ran, child.backoff,
        )  # fmt: skip
        if process.pid is not None:
            mark_process_dead(process.pid, os.environ[MULTIPROCESS_DIR])  # type: ignore[no-untyped-call]
        if child is self.writer:
            self.state.mark_stopped()
        child.process = None

    def _stop_all(self) -> None:
        """SIGTERM to every child, a bounded wait, SIGKILL for any still running."""
        running = [c.process for c in self._children() if c.alive and c.process is not None]
        for process in running:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                log.error("serve: %s did not stop within %g s; killing it", process.name,
                          STOP_TIMEOUT)  # fmt: skip
                process.kill()
                process.join()
            elif process.exitcode != 0:
                log.warning("serve: %s %s", process.name, _describe_exit(process.exitcode))


def run_workers(settings: Settings) -> int:
    """Serve with `settings.api_processes` API processes and one writer; 0 after a signal."""
    reservation = reserve_port(settings)
    directory = tempfile.mkdtemp(prefix="newsgraph-metrics-")
    previous = os.environ.get(MULTIPROCESS_DIR)
    os.environ[MULTIPROCESS_DIR] = directory  # inherited by every child at spawn
    try:
        log.info("serve: %d API workers on http://%s:%d", settings.api_processes,
                 settings.host, settings.port)  # fmt: skip
        return Supervisor(settings).run()
    finally:
        reservation.close()
        shutil.rmtree(directory, ignore_errors=True)
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR, None)
        else:
            os.environ[MULTIPROCESS_DIR] = previous
