"""The `newsgraph` command line, run in-process with real folders and databases."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from newsgraph.cli import main
from tests.conftest import CORPUS, WriteArticle

SUMMARY = re.compile(
    r"^ingest: (\d+) new, (\d+) updated, (\d+) unchanged, (\d+) deleted, (\d+) skipped, "
    r"(\d+) errors in [\d.]+ s \([\d,]+ files/s\)$",
    re.MULTILINE,
)


def counts(output: str) -> tuple[int, ...]:
    match = SUMMARY.search(output)
    assert match, output
    return tuple(int(group) for group in match.groups())


def test_ingest_prints_one_summary_line_and_exits_zero(
    write_article: WriteArticle,
    content_dir: Path,
    db_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_article()
    (content_dir / "bad.md").write_text(
        "---\ntitle: x\npublishedDateTime: soon\nwebUrl: https://x.example/\n---\n"
    )
    code = main(["ingest", "--content", str(content_dir), "--db", str(db_path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert counts(out) == (1, 0, 0, 0, 0, 1)
    assert re.search(r"^bad\.md:3:\d+: publishedDateTime: ", err, re.MULTILINE), err


def test_strict_ingest_exits_one_when_a_file_has_an_error(
    content_dir: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (content_dir / "bad.md").write_text("---\ntitle: x\n")
    args = ["ingest", "--content", str(content_dir), "--db", str(db_path), "--strict"]
    assert main(args) == 1
    assert main(args) == 1  # still in error when nothing changed
    assert main(args[:-1]) == 0
    capsys.readouterr()


def test_ingest_flags_beat_environment_variables(
    write_article: WriteArticle, content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    write_article()
    monkeypatch.setenv("NEWSGRAPH_CONTENT", str(content_dir))
    monkeypatch.setenv("NEWSGRAPH_DB", str(tmp_path / "env.db"))
    assert main(["ingest"]) == 0
    assert (tmp_path / "env.db").exists()
    assert main(["ingest", "--db", str(tmp_path / "flag.db")]) == 0
    assert (tmp_path / "flag.db").exists()
    capsys.readouterr()


def test_unusable_database_path_is_a_clear_error_with_exit_two(
    content_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    assert main(["ingest", "--content", str(content_dir), "--db", str(notes)]) == 2
    assert "not a SQLite database" in capsys.readouterr().err
    assert notes.read_text() == "keep me"


def test_missing_content_root_is_an_error_that_deletes_nothing(
    tmp_path: Path, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "--content", str(tmp_path / "absent"), "--db", str(db_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_check_prints_errors_as_path_line_col_field_message(
    write_article: WriteArticle, content_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_article("good.md")
    write_article("bad.md", related=[{"title": "no url"}])
    assert main(["check", str(content_dir)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^bad\.md:\d+:\d+: related\[0\]\.webUrl: ", out, re.MULTILINE), out
    assert "check: 1 articles, 0 skipped, 1 errors" in out


def test_check_of_a_clean_folder_exits_zero(
    write_article: WriteArticle, content_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_article()
    assert main(["check", str(content_dir)]) == 0
    assert "check: 1 articles, 0 skipped, 0 errors" in capsys.readouterr().out


def test_demo_content_writes_deterministic_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b"):
        assert main(["demo-content", str(tmp_path / name), "--count", "25", "--seed", "7"]) == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.md"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.md"))
    assert files_a == files_b and len(files_a) == 25
    assert all(
        (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a
    )
    capsys.readouterr()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_the_real_corpus_ingests_with_the_expected_counts(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["ingest", "--content", str(CORPUS), "--db", str(db_path)]
    assert main(args) == 0
    out, err = capsys.readouterr()
    new, _updated, _unchanged, _deleted, skipped, errors = counts(out)
    # 164 articles and 35 collection entries; the one error is a file whose front matter never
    # closes (genuinely malformed).
    assert (new, skipped, errors) == (199, 0, 1)
    assert err.count("_learning/") == 0 and err.count("_archive/") == 1
    conn = sqlite3.connect(db_path)
    by_collection = dict(conn.execute("SELECT collection, count(*) FROM entries GROUP BY 1"))
    assert by_collection == {"event": 12, "person": 6, "organization": 7, "learning": 10}
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 164
    row = conn.execute(
        "SELECT a.title, a.published_at, p.domain, a.quality FROM articles a "
        "JOIN providers p ON p.id = a.provider_id WHERE a.path = ?",
        [
            "_archive/_news/2021-01-18-machine-learning-finds-more-gravitational-lenses-than-all-astronomers-combined.md"
        ],
    ).fetchone()
    assert row == (
        "Machine Learning Finds More Gravitational Lenses Than All Astronomers Combined",
        "2021-01-18T07:00:00.000000Z", "forbes.com", 85,
    )  # fmt: skip
    assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] == 199
    conn.close()
    # The second run reads nothing and writes nothing.
    assert main(args) == 0
    assert counts(capsys.readouterr().out)[:4] == (0, 0, 200, 0)


def test_ingest_draws_a_progress_bar_on_a_terminal_and_not_in_a_pipe(
    tmp_path: Path, db_path: Path
) -> None:
    import os
    import pty
    import subprocess
    import sys

    from newsgraph.demo import write_demo_content

    content = tmp_path / "many"
    write_demo_content(content, count=120, seed=2)
    argv = [sys.executable, "-m", "newsgraph", "ingest", "--content", str(content)]
    controller, terminal = pty.openpty()
    try:
        with subprocess.Popen(
            [*argv, "--db", str(db_path)], stdout=subprocess.PIPE, stderr=terminal
        ) as proc:
            os.close(terminal)
            drawn = b""
            while True:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # the terminal closed: the process is done with it
                    break
                if not chunk:
                    break
                drawn += chunk
            out = proc.stdout.read().decode() if proc.stdout else ""
            assert proc.wait(timeout=60) == 0
    finally:
        os.close(controller)
    assert b"ingest [" in drawn and b"120/120" in drawn, drawn
    assert "ingest [" not in out and counts(out)[0] == 120
    piped = subprocess.run(
        [*argv, "--db", str(tmp_path / "piped.db")], capture_output=True, timeout=60, check=True
    )
    assert b"[" not in piped.stderr
