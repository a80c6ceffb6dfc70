"""The watcher with a real observer on a real folder: every kind of change reaches the store."""

from __future__ import annotations

import errno
import os
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from watchdog.observers.inotify import InotifyObserver
from watchdog.observers.inotify_c import InotifyConstants, InotifyEvent, WatchDescriptor

from newsgraph.demo_yaml import render_article
from newsgraph.ingest import observers
from newsgraph.ingest.handler import DirtyPaths, Mark
from tests.conftest import WriteArticle, article_fields

if TYPE_CHECKING:
    from tests.watcher_fixtures import Commits, Query, StartWatcher, WaitFor

pytest_plugins = ["tests.watcher_fixtures"]

# watchdog 7.1 races with itself when nested folders appear at once (`mkdir -p a/b`): its
# reader thread warns that it re-adds a watch it already has. Harmless, but under
# `filterwarnings = error` the warning is raised inside that thread and kills it.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")

NEWS = "_news/2024-03-01-robots.md"


def titles(query: Query) -> dict[str, str]:
    return dict(query("SELECT path, title FROM articles"))


def changes(query: Query, path: str | None = None) -> list[str]:
    if path is None:
        return [op for (op,) in query("SELECT op FROM changes ORDER BY seq")]
    return [op for (op,) in query("SELECT op FROM changes WHERE path = ? ORDER BY seq", path)]


def article_text(**fields: Any) -> str:
    return render_article(article_fields(**fields))


def test_created_file_is_ingested(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    watcher = start_watcher()
    write_article(title="Fresh")
    wait_for(lambda: titles(query) == {NEWS: "Fresh"})
    status = watcher.status()
    assert (status.watching, status.observer_kind, status.root_present) == (True, "inotify", True)
    assert status.last_event_at is not None
    # The status is updated just after the commit that the query above already sees.
    newest = query("SELECT max(seq) FROM changes")[0][0]
    wait_for(lambda: watcher.status().last_change_seq == newest)
    wait_for(lambda: watcher.status().queue_depth == 0)


def test_edit_updates_the_article(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    start_watcher()
    write_article(title="First")
    wait_for(lambda: titles(query) == {NEWS: "First"})
    write_article(title="Second")
    wait_for(lambda: titles(query) == {NEWS: "Second"})
    assert changes(query) == ["created", "updated"]


def test_atomic_save_updates_the_target_and_temp_files_are_ignored(
    start_watcher: StartWatcher,
    write_article: WriteArticle,
    content_dir: Path,
    query: Query,
    wait_for: WaitFor,
) -> None:
    start_watcher()
    target = write_article(title="Before")
    wait_for(lambda: titles(query) == {NEWS: "Before"})
    for temp_name in (".2024-03-01-robots.md.swp", "2024-03-01-robots.md.tmp"):
        temp = target.with_name(temp_name)
        temp.write_text(article_text(title=f"Saved via {temp_name}"), encoding="utf-8")
        os.replace(temp, target)  # how editors and `git checkout` save
        expected = {NEWS: f"Saved via {temp_name}"}
        wait_for(lambda: titles(query) == expected)  # noqa: B023 (waited for right here)
    (content_dir / "_news" / "notes.txt").write_text("not markdown", encoding="utf-8")
    (content_dir / "_news" / "draft.md~").write_text(article_text(), encoding="utf-8")
    write_article("_news/2024-03-02-marker.md", webUrl="https://example.com/marker")
    wait_for(lambda: len(titles(query)) == 2)  # the marker arrived; the ignored files did not
    assert changes(query, NEWS) == ["created", "updated", "updated"]
    assert query("SELECT count(*) FROM files")[0][0] == 2


def test_rename_deletes_the_old_path_and_creates_the_new(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    start_watcher()
    old = write_article(title="Moving")
    wait_for(lambda: NEWS in titles(query))
    old.rename(old.with_name("2024-03-01-renamed.md"))
    wait_for(lambda: titles(query) == {"_news/2024-03-01-renamed.md": "Moving"})
    assert changes(query, NEWS) == ["created", "deleted"]


def test_delete_removes_the_article(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    start_watcher()
    path = write_article()
    wait_for(lambda: NEWS in titles(query))
    path.unlink()
    wait_for(lambda: titles(query) == {})
    assert query("SELECT count(*) FROM files")[0][0] == 0


def test_folder_moved_in_then_out(
    start_watcher: StartWatcher, content_dir: Path, tmp_path: Path, query: Query, wait_for: WaitFor
) -> None:
    start_watcher()
    outside = tmp_path / "outside" / "batch"
    (outside / "deep").mkdir(parents=True)
    for i in range(5):
        where = outside / "deep" if i % 2 else outside
        (where / f"2024-03-0{i + 1}-item.md").write_text(
            article_text(webUrl=f"https://example.com/{i}"), encoding="utf-8"
        )
    (content_dir / "batch").parent.mkdir(exist_ok=True)
    outside.rename(content_dir / "batch")
    wait_for(lambda: len(titles(query)) == 5, what="5 articles moved in")
    assert all(path.startswith("batch/") for path in titles(query))
    (content_dir / "batch").rename(tmp_path / "outside" / "back")
    wait_for(lambda: titles(query) == {}, what="articles moved out to be deleted")
    assert changes(query).count("deleted") == 5


def test_folder_deleted_deletes_everything_under_it(
    start_watcher: StartWatcher,
    write_article: WriteArticle,
    content_dir: Path,
    query: Query,
    wait_for: WaitFor,
) -> None:
    start_watcher()
    for i in range(3):
        write_article(f"_old/sub/2024-01-0{i + 1}-a.md", webUrl=f"https://example.com/o{i}")
    write_article()
    wait_for(lambda: len(titles(query)) == 4)
    shutil.rmtree(content_dir / "_old")
    wait_for(lambda: list(titles(query)) == [NEWS])


def test_burst_of_2000_files_is_committed_in_batches(
    start_watcher: StartWatcher,
    content_dir: Path,
    commits: Commits,
    query: Query,
    wait_for: WaitFor,
) -> None:
    start_watcher()
    commits.clear()
    folder = content_dir / "_burst"
    folder.mkdir()
    for i in range(2000):
        text = article_text(title=f"Burst {i}", webUrl=f"https://example.com/b/{i}")
        (folder / f"2024-02-01-burst-{i}.md").write_text(text, encoding="utf-8")
    wait_for(
        lambda: query("SELECT count(*) FROM articles") == [(2000,)], timeout=30, what="2,000 rows"
    )
    assert changes(query) == ["created"] * 2000
    # on_commit runs just after each commit, so the last call may trail the rows a little.
    wait_for(lambda: sum(batch.created for batch in commits.batches) == 2000)
    assert len(commits.batches) < 100, "a burst must be committed in batches, not file by file"


def test_a_file_lands_while_a_stream_of_events_goes_on(
    start_watcher: StartWatcher, content_dir: Path, write_article: WriteArticle, query: Query
) -> None:
    """The quiet period never comes while another file is rewritten every 10 ms; the article
    must not wait for the stream to end (the watcher takes what is dirty after a bound)."""
    start_watcher(debounce_ms=50)
    noise = content_dir / "2024-03-01-ticker.md"
    text = article_text(title="Ticker", webUrl="https://example.com/ticker")
    stop = threading.Event()
    landed = False

    def stream() -> None:
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            noise.write_text(text, encoding="utf-8")
            stop.wait(0.01)

    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    try:
        time.sleep(0.2)  # the stream is under way before the article arrives (the scenario)
        write_article(title="Amid the stream")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and streamer.is_alive():
            if titles(query).get(NEWS) == "Amid the stream":
                landed = True
                break
            time.sleep(0.01)
        assert streamer.is_alive(), "the stream ended before the check was done"
    finally:
        stop.set()
        streamer.join()
    assert landed, "the article waited for the stream of events to end"


def test_half_written_file_is_never_ingested_half(
    start_watcher: StartWatcher,
    content_dir: Path,
    commits: Commits,
    query: Query,
    wait_for: WaitFor,
) -> None:
    start_watcher()
    text = article_text(title="Complete")
    half = len(text) // 2  # cut inside the front matter: ingesting this would be an error
    path = content_dir / "2024-03-01-slow.md"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text[:half])
        handle.flush()
        # The writer pauses for several quiet periods (this is the scenario, not a wait).
        time.sleep(0.3)
        handle.write(text[half:])
    wait_for(lambda: titles(query) == {"2024-03-01-slow.md": "Complete"})
    assert changes(query) == ["created"]
    assert commits.errors == 0
    assert query("SELECT count(*) FROM ingest_errors")[0][0] == 0


def test_bad_file_keeps_the_last_good_version_until_fixed(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    start_watcher()
    write_article(title="Good")
    wait_for(lambda: titles(query) == {NEWS: "Good"})
    write_article(title="Broken", quality="high")
    wait_for(lambda: query("SELECT path, field FROM ingest_errors") == [(NEWS, "quality")])
    assert titles(query) == {NEWS: "Good"}
    write_article(title="Fixed")
    wait_for(lambda: titles(query) == {NEWS: "Fixed"})
    assert query("SELECT count(*) FROM ingest_errors")[0][0] == 0


def test_root_deleted_deletes_nothing_and_is_reconciled_on_return(
    start_watcher: StartWatcher,
    write_article: WriteArticle,
    content_dir: Path,
    query: Query,
    wait_for: WaitFor,
) -> None:
    watcher = start_watcher()
    write_article()
    write_article("_news/2024-03-02-second.md", webUrl="https://example.com/2")
    wait_for(lambda: len(titles(query)) == 2)
    saved = content_dir.parent / "saved"
    shutil.copytree(content_dir, saved)
    shutil.rmtree(content_dir)
    wait_for(lambda: not watcher.status().root_present, what="root reported missing")
    assert not watcher.status().watching
    assert len(titles(query)) == 2
    saved.rename(content_dir)  # back, with one file changed while it was away
    write_article("_news/2024-03-02-second.md", title="Changed", webUrl="https://example.com/2")
    wait_for(lambda: watcher.status().watching, what="watching again")
    wait_for(lambda: titles(query).get("_news/2024-03-02-second.md") == "Changed")
    assert "deleted" not in changes(query)
    write_article("_news/2024-03-03-third.md", webUrl="https://example.com/3")
    wait_for(lambda: len(titles(query)) == 3, what="events after the return")


def test_polling_observer_sees_create_edit_delete(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    watcher = start_watcher(poll=True, poll_interval=0.1)
    assert watcher.status().observer_kind == "polling"
    path = write_article(title="Polled")
    wait_for(lambda: titles(query) == {NEWS: "Polled"})
    write_article(title="Polled again")
    wait_for(lambda: titles(query) == {NEWS: "Polled again"})
    path.unlink()
    wait_for(lambda: titles(query) == {})


def test_inotify_refused_falls_back_to_polling(
    monkeypatch: pytest.MonkeyPatch,
    start_watcher: StartWatcher,
    write_article: WriteArticle,
    query: Query,
    wait_for: WaitFor,
) -> None:
    class WatchLimitReached(InotifyObserver):  # what a full fs.inotify.max_user_watches does
        def on_thread_start(self) -> None:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(observers, "InotifyObserver", WatchLimitReached)
    watcher = start_watcher(poll_interval=0.1)
    assert watcher.status().observer_kind == "polling"
    write_article()
    wait_for(lambda: NEWS in titles(query))


def test_inotify_overflow_triggers_a_full_rescan(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    watcher = start_watcher()
    before = watcher.status().rescans
    # The kernel's IN_Q_OVERFLOW (wd -1), delivered to the observer's real inotify reader.
    inotify_fd = watcher._observer._inotify_fd  # type: ignore[union-attr]
    inotify_fd.handle_event(
        InotifyEvent(WatchDescriptor(-1), InotifyConstants.IN_Q_OVERFLOW, 0, b"")
    )
    wait_for(lambda: watcher.status().rescans == before + 1, what="a rescan")
    write_article()  # watching goes on with the rebuilt watches
    wait_for(lambda: NEWS in titles(query))


def test_files_created_during_start_up_are_not_lost(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    for i in range(20):
        write_article(f"_before/2024-01-01-{i}.md", webUrl=f"https://example.com/before/{i}")
    start_watcher(ready=False)
    for i in range(20):
        write_article(f"_after/2024-01-01-{i}.md", webUrl=f"https://example.com/after/{i}")
    wait_for(lambda: len(titles(query)) == 40, what="every file from before and after start")


def test_a_failing_on_commit_hook_does_not_stop_the_watcher(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    def explode(_batch: object) -> None:
        raise RuntimeError("subscriber bug")

    start_watcher(on_commit=explode)
    write_article()
    wait_for(lambda: NEWS in titles(query))
    write_article("_news/2024-03-02-second.md", webUrl="https://example.com/2")
    wait_for(lambda: len(titles(query)) == 2)


def test_stop_is_clean_and_prompt(
    start_watcher: StartWatcher, write_article: WriteArticle, query: Query, wait_for: WaitFor
) -> None:
    # The worker idles in waits of `root_check_interval`: stop must wake it, not sit them out.
    interval = 60.0
    watcher = start_watcher(root_check_interval=interval)
    write_article()
    wait_for(lambda: NEWS in titles(query))
    started = time.monotonic()
    watcher.stop()
    # A ratio to the interval it must not wait for, not a bound a loaded machine could miss.
    assert time.monotonic() - started < interval / 4
    assert not watcher.status().watching
    assert not [t for t in threading.enumerate() if t.name == "newsgraph-watcher"]


def test_an_event_between_the_check_and_the_wait_wakes_the_worker_at_once() -> None:
    """The worker notes the generation, finds nothing to do, then waits: an event landing in
    between must end the wait at once (no lost wake-up), not after the timeout."""
    dirty = DirtyPaths()
    seen = dirty.generation()
    assert not dirty.pending()
    dirty.mark("a.md", Mark(is_dir=False))  # arrives after the check, before the wait
    woke: list[bool] = []
    worker = threading.Thread(target=lambda: woke.append(dirty.wait(600, seen)))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the wait missed the event and slept on"
    assert woke == [True]
    seen = dirty.generation()
    assert dirty.wait(0, seen) is False  # nothing new: the wait times out
