"""Logs: JSON lines with `--log-format json`, from our code and from uvicorn alike."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from newsgraph.db.connection import open_writer
from tests.conftest import WriteArticle

TIMEOUT = 15.0


def newsgraph(*args: str) -> list[str]:
    return [sys.executable, "-m", "newsgraph", *args]


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line as a JSON object; fails on the first line that is not one."""
    records = []
    for line in text.splitlines():
        record = json.loads(line)
        assert isinstance(record, dict), line
        records.append(record)
    return records


def test_ingest_errors_are_json_records_carrying_the_path(
    write_article: WriteArticle, content_dir: Path, db_path: Path
) -> None:
    write_article("_news/2024-03-01-good.md")
    (content_dir / "_news" / "bad.md").write_text("---\ntitle: Bad\npublishedDateTime: [\n---\n")
    done = subprocess.run(
        newsgraph("ingest", "--content", str(content_dir), "--db", str(db_path),
                  "--log-format", "json", "--parse-workers", "1"),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = json_lines(done.stderr)
    errors = [r for r in records if r["level"] == "error"]
    assert [r["path"] for r in errors] == ["_news/bad.md"], records
    assert isinstance(errors[0]["line"], int) and isinstance(errors[0]["column"], int)
    assert errors[0]["message"].startswith(f"_news/bad.md:{errors[0]['line']}:")
    assert "1 new" in done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_sends_uvicorn_logs_through_the_json_formatter(
    content_dir: Path, db_path: Path
) -> None:
    open_writer(db_path).close()
    port = _free_port()
    args = ["serve", "--content", str(content_dir), "--db", str(db_path), "--port", str(port)]
    server = subprocess.Popen(
        newsgraph(*args, "--no-watch", "--log-format", "json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "the server did not come up"
            threading.Event().wait(0.05)
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=TIMEOUT)
    records = json_lines(err)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert any(r["url"] == "/healthz" and r["status"] == 200 for r in access), records
    assert any(r["logger"] == "uvicorn.error" for r in records), records
