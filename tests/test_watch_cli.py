"""`newsgraph watch` as a real process: it ingests a dropped file and exits 0 on SIGTERM."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from newsgraph.demo_yaml import render_article
from tests.conftest import article_fields

if TYPE_CHECKING:
    from tests.watcher_fixtures import WaitFor

pytest_plugins = ["tests.watcher_fixtures"]


def article_count(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.OperationalError:  # not migrated yet
        return 0
    finally:
        conn.close()


def test_watch_command_ingests_a_drop_and_exits_cleanly_on_sigterm(
    content_dir: Path, db_path: Path, wait_for: WaitFor
) -> None:
    command = [sys.executable, "-m", "newsgraph", "watch"]
    process = subprocess.Popen(
        [*command, "--content", str(content_dir), "--db", str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        wait_for(lambda: db_path.exists() or process.poll() is not None, timeout=20)
        assert process.poll() is None, process.communicate()[1]
        text = render_article(article_fields(title="Dropped"))
        (content_dir / "2024-03-01-dropped.md").write_text(text, encoding="utf-8")
        wait_for(lambda: article_count(db_path) == 1 or process.poll() is not None, timeout=20)
        assert article_count(db_path) == 1, process.communicate()[1]
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
