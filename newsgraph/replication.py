"""Litestream read replicas: the writer ships its database, replicas follow it.

Writer (`--replicate-to URL`): a supervised `litestream replicate` with a generated
configuration ships every commit to the replica URL (`file://`, `s3://`, ...).

Replica (`--replica-of URL`): a supervised `litestream restore -f` keeps a local copy that
follows the URL. Three things about that copy shape this module:

- The follower writes pages straight into the file. An open SQLite connection keeps its page
  cache until page 1 changes, so every time the follower's `-txid` file moves (`poll()`) the
  readers are told to reopen (`ReaderPool.refresh`), and that is also how new data is noticed.
- The copy is restored in WAL mode, where every open connection holds a lock that blocks the
  follower indefinitely. Once restored it is switched to rollback mode (what the follower itself
  writes into page 1 whenever it applies it), so readers lock only while they read.
- A restarted follower cannot resume (its saved position is "ahead of the latest snapshot"
  until the next snapshot). So every start rebuilds: the local copy is unlinked (connections
  still open keep reading the last good state from the unlinked file) and restored afresh.

The follower says nothing while the store is unreachable, so the lag `/readyz` reports comes
from asking the store itself for its newest transaction every `PROBE_INTERVAL`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from newsgraph.config import ConfigError, Settings
from newsgraph.supervise import Supervisor, find_litestream

log = logging.getLogger("newsgraph.replication")

TXID_SUFFIX = "-txid"
PROBE_INTERVAL = 2.0  # how often a replica asks the store for its newest transaction
PROBE_TIMEOUT = 5.0  # a store that does not answer within this counts as unreachable
_LOCAL_FILES = ("", TXID_SUFFIX, "-journal", "-wal", "-shm", ".tmp")


def replicate_config(db: Path, url: str, interval_ms: int) -> str:
    """Litestream's configuration for shipping `db` to `url` every `interval_ms`."""
    interval = f"{interval_ms}ms"
    entry = {
        "path": str(db.resolve()),
        "monitor-interval": interval,
        "replica": {"url": url, "sync-interval": interval},
    }
    return yaml.safe_dump({"dbs": [entry]}, sort_keys=False)


class Replicator:
    """The writer side: `litestream replicate` for our database, supervised."""

    def __init__(self, db: Path, url: str, interval_ms: int) -> None:
        self.url = url
        self._folder = tempfile.TemporaryDirectory(prefix="newsgraph-litestream-")
        config = Path(self._folder.name) / "litestream.yml"
        config.write_text(replicate_config(db, url, interval_ms), encoding="utf-8")
        binary = find_litestream()
        self.supervisor = Supervisor(
            "litestream replicate", lambda: [binary, "replicate", "-config", str(config)]
        )

    def start(self) -> None:
        log.info("replication: shipping the database to %s", self.url)
        self.supervisor.start()

    def stop(self) -> None:
        self.supervisor.stop()
        self._folder.cleanup()

    def check(self) -> str:
        """One word for `/readyz`: a restarting replicator does not stop the writer serving."""
        return "ok"

    def details(self) -> dict[str, Any]:
        state = self.supervisor.state
        return {
            "role": "writer", "url": self.url, "running": state.running,
            "restarts": state.restarts, "last_error": state.last_error,
        }  # fmt: skip


@contextlib.contextmanager
def replicating_sync(settings: Settings) -> Iterator[Replicator | None]:
    """`litestream replicate` while the block runs, when `--replicate-to` is set."""
    if not settings.replicate_to:
        yield None
        return
    replicator = Replicator(settings.db, settings.replicate_to, settings.replication_interval_ms)
    replicator.start()
    try:
        yield replicator
    finally:
        replicator.stop()


def check_replica_path(db: Path) -> None:
    """Refuse to follow into a database that is not a replica's copy: it would be deleted.

    A follower's copy has Litestream's `-txid` file beside it; any other file at `--db` (the
    writer's own database, by a slip of the default path) is left alone.
    """
    if db.exists() and not (db.parent / (db.name + TXID_SUFFIX)).exists():
        raise ConfigError(
            f"--replica-of would replace {db}, which is not a replica's copy (no "
            f"{db.name}{TXID_SUFFIX} beside it); give the replica its own --db path"
        )


class Follower:
    """The replica side: a local copy of `url` at `db`, kept current by `litestream restore -f`.

    `poll()` (called every few milliseconds by the change broker) notices the follower's
    progress from its `-txid` file and returns True when the copy moved on.
    """

    def __init__(self, db: Path, url: str, interval_ms: int) -> None:
        self.db = db
        self.url = url
        binary = find_litestream()
        self._probe_command = [binary, "ltx", "-json", "-level", "all", url]
        command = [
            binary, "restore", "-f", "-follow-interval", f"{interval_ms}ms", "-o", str(db), url,
        ]  # fmt: skip
        self.supervisor = Supervisor(
            "litestream restore", lambda: command, before_start=self._rebuild,
        )  # fmt: skip
        self.txid = ""
        self.restored = threading.Event()  # a first copy exists: readers may open it
        self._copy_ready = False  # this copy (since the last rebuild) is in rollback mode
        self._lock = threading.Lock()
        self._current_at = time.monotonic()  # when the copy was last known to match the store
        self._current = True  # what the last probe of the store found
        self._stopping = threading.Event()
        self._prober = threading.Thread(target=self._probe, name="newsgraph-store-probe")

    def start(self) -> None:
        log.info("replication: following %s into %s", self.url, self.db)
        self._rebuild()  # before anything polls: a copy left by an earlier run is not ours
        self.supervisor.start()
        self._prober.start()

    def stop(self) -> None:
        self._stopping.set()
        self.supervisor.stop()
        if self._prober.is_alive():
            self._prober.join()

    def poll(self) -> bool:
        """True when the local copy advanced since the last call (readers must reopen)."""
        with self._lock:  # never while `_rebuild` unlinks the copy
            return self._poll()

    def _poll(self) -> bool:
        try:
            txid = (self.db.parent / (self.db.name + TXID_SUFFIX)).read_text().strip()
        except OSError:
            return False
        if not txid or txid == self.txid:
            return False
        if not self._copy_ready:
            if not _to_rollback_mode(self.db):
                return False  # the follower holds the lock; next poll
            self._copy_ready = True
            if self.restored.is_set():
                log.info("replication: local copy rebuilt at txid %s", txid)
        self.txid = txid
        if not self.restored.is_set():
            log.info("replication: first restore done at txid %s; serving", txid)
            self.restored.set()
        return True

    def lag_seconds(self) -> float:
        """0 while the copy matches the store; else seconds since it last did.

        Litestream's follower says nothing while the store is unreachable (its requests just
        wait), so a probe asks the store for its newest transaction every `PROBE_INTERVAL`.
        """
        if self._current:
            return 0.0
        return round(time.monotonic() - self._current_at, 3)

    def _probe(self) -> None:
        while not self._stopping.wait(PROBE_INTERVAL):
            head = self._store_head()
            local = int(self.txid, 16) if self.txid else 0
            self._current = head is not None and local >= head
            if self._current:
                self._current_at = time.monotonic()

    def _store_head(self) -> int | None:
        """The store's newest transaction id; None when it cannot be read in time."""
        try:
            done = subprocess.run(
                self._probe_command, capture_output=True, text=True, timeout=PROBE_TIMEOUT,
                env=self.supervisor.env, check=True,
            )  # fmt: skip
            files = json.loads(done.stdout or "[]") or []
            return max((int(item["max_txid"], 16) for item in files), default=0)
        except (subprocess.SubprocessError, OSError, ValueError, KeyError, TypeError) as error:
            log.debug("replication: probing %s: %s", self.url, error)
            return None

    def check(self) -> str:
        """One word for `/readyz`: not ready until the first restore."""
        if not self.restored.is_set():
            return "restoring"
        return "ok"

    def details(self) -> dict[str, Any]:
        state = self.supervisor.state
        return {
            "role": "replica", "url": self.url, "txid": self.txid,
            "lag_seconds": self.lag_seconds(), "running": state.running,
            "restarts": state.restarts, "last_error": state.last_error,
        }  # fmt: skip

    def _rebuild(self) -> None:
        """Every start restores afresh (a follower cannot resume; see the module docstring)."""
        with self._lock:
            for suffix in _LOCAL_FILES:
                with contextlib.suppress(FileNotFoundError):
                    (self.db.parent / (self.db.name + suffix)).unlink()
            self._copy_ready = False
            self.txid = ""


def _to_rollback_mode(db: Path) -> bool:
    """Switch the restored copy from WAL to rollback journaling; False if it was busy.

    SQLite takes the same byte-range locks the follower takes before it writes pages, so the
    switch never overlaps a page write.
    """
    try:  # mode=rw: never create the file (the follower would take it for a stale copy)
        uri = db.resolve().as_uri() + "?mode=rw"
        conn = sqlite3.connect(uri, uri=True, timeout=0.5, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        return True
    except sqlite3.OperationalError as error:
        log.debug("replication: switching %s to rollback mode: %s", db, error)
        return False
    finally:
        conn.close()
