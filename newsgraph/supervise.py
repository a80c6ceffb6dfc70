"""Running a helper program (Litestream) for as long as we run, restarting it when it dies.

A thread owns the child: it starts it, forwards each line it prints to our log (its errors as
warnings), and when it exits unasked waits with a growing delay (`BACKOFF_START` doubling to
`BACKOFF_MAX`, reset after a run of `STABLE_RUN` seconds) and starts it again. `stop()` sends
SIGTERM, then SIGKILL after `STOP_TIMEOUT`. The state is readable at any time for `/readyz`,
`/metrics` and the logs.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("newsgraph.replication")

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
STABLE_RUN = 30.0
STOP_TIMEOUT = 5.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class HelperMissing(Exception):
    """The helper program is not installed."""


def find_litestream() -> str:
    """The Litestream binary `newsgraph[replication]` installs next to our interpreter."""
    beside = Path(sys.executable).parent / "litestream"
    found = str(beside) if beside.is_file() else shutil.which("litestream")
    if found is None:
        raise HelperMissing(
            "replication needs the Litestream binary: pip install 'newsgraph[replication]'"
        )
    return found


def helper_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our environment for the child, minus what would stop it from starting.

    Litestream 0.5's AWS SDK refuses to start whenever `AWS_CA_BUNDLE` is set ("unable to add
    custom RootCAs"), even for a `file://` replica. It is dropped; a readable bundle is passed
    as `SSL_CERT_FILE` instead (unless that is set), which Go's TLS reads, so the same CAs apply.
    """
    env = dict(os.environ if environ is None else environ)
    bundle = env.pop("AWS_CA_BUNDLE", None)
    if bundle is not None:
        readable = Path(bundle).is_file() and os.access(bundle, os.R_OK)
        if readable and "SSL_CERT_FILE" not in env:
            env["SSL_CERT_FILE"] = bundle
        log.info(
            "replication: AWS_CA_BUNDLE=%r is passed to Litestream as %s", bundle,
            "SSL_CERT_FILE" if readable else "nothing (not a readable file)",
        )  # fmt: skip
    return env


def _die_with_parent() -> None:
    """In the child: SIGTERM when our thread that started it dies (even by SIGKILL).

    Without it a killed newsgraph would leave Litestream writing into the replica on its own.
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class HelperState:
    """What `/readyz` and `/metrics` say about the helper."""

    running: bool = False
    restarts: int = 0
    last_exit: int | None = None
    last_error: str = ""


class Supervisor:
    """Keeps `command()` running in a child process until `stop()`."""

    def __init__(
        self,
        name: str,
        command: Callable[[], list[str]],
        *,
        before_start: Callable[[], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.command = command
        self.before_start = before_start
        self.env = helper_environment(env)
        self.state = HelperState()
        self._stopping = threading.Event()
        self._child: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"newsgraph-{self.name}")
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        log.info("replication: %s stopped", self.name)  # each shutdown step shows in the log

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._child.pid if self._child is not None else None

    def _run(self) -> None:
        delay = BACKOFF_START
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self._run_once()
            self.state.running = False
            self.state.last_exit = code
            if self._stopping.is_set():
                break
            if time.monotonic() - started >= STABLE_RUN:
                delay = BACKOFF_START
            self.state.restarts += 1
            log.warning(
                "replication: %s exited with %s; restarting in %.1f s", self.name, code, delay
            )
            if self._stopping.wait(delay):
                break
            delay = min(delay * 2, BACKOFF_MAX)

    def _run_once(self) -> int | None:
        try:
            if self.before_start is not None:
                self.before_start()
            command = self.command()
            child = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, env=self.env, preexec_fn=_die_with_parent,
            )  # fmt: skip
        except Exception as error:  # a missing binary or folder: retried like an exit
            self.state.last_error = str(error)
            log.error("replication: cannot start %s: %s", self.name, error)
            return None
        with self._lock:
            self._child = child
        if self._stopping.is_set():  # stop() ran between the check and the registration
            child.terminate()
        self.state.running = True
        log.info("replication: %s started (pid %d)", self.name, child.pid)
        assert child.stdout is not None
        for line in child.stdout:
            self._forward(line.rstrip())
        code = child.wait()
        with self._lock:
            self._child = None
        return code

    def _forward(self, line: str) -> None:
        if "level=ERROR" in line or "level=WARN" in line or line.lower().startswith("error"):
            self.state.last_error = line
            log.warning("replication: %s: %s", self.name, line)
        else:
            log.debug("replication: %s: %s", self.name, line)
