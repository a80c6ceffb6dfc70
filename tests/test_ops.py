"""Operations endpoints: /healthz, /readyz and /metrics of a real server over real SQLite."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from prometheus_client.parser import text_string_to_metric_families

from newsgraph.db.migrations import migrations
from tests.conftest import WriteArticle

if TYPE_CHECKING:  # imported by pytest as a plugin, so that its asserts are rewritten
    from tests.live_fixtures import GqlSocket, LiveApp

pytest_plugins = ["tests.live_fixtures"]

Start = Callable[..., "LiveApp"]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
TIMEOUT = 10.0

METRICS = {
    "newsgraph_ingest_files": "counter",
    "newsgraph_ingest_batch_seconds": "histogram",
    "newsgraph_change_lag_seconds": "histogram",
    "newsgraph_watcher_queue_depth": "gauge",
    "newsgraph_graphql_requests": "counter",
    "newsgraph_graphql_request_seconds": "histogram",
    "newsgraph_subscriptions_active": "gauge",
}


def get(live: LiveApp, path: str) -> httpx.Response:
    return httpx.get(f"http://{live.address}{path}", timeout=TIMEOUT)


def samples(live: LiveApp) -> Samples:
    """Every sample of one scrape, keyed by name and sorted labels."""
    values: Samples = {}
    for family in text_string_to_metric_families(get(live, "/metrics").text):
        for sample in family.samples:
            values[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return values


def files(values: Samples, result: str) -> float:
    return values["newsgraph_ingest_files_total", (("result", result),)]


def wait_for_samples(live: LiveApp, done: Callable[[Samples], bool]) -> Samples:
    """Scrape until `done` holds (the watcher commits on its own thread), or fail."""
    deadline = time.monotonic() + TIMEOUT
    while not done(values := samples(live)):
        assert time.monotonic() < deadline, f"metrics never got there: {values}"
        threading.Event().wait(0.02)
    return values


def test_healthz_says_the_process_is_up_without_touching_the_database(
    live_server: Start,
) -> None:
    live = live_server()
    statements: list[str] = []
    live.app.state.pool.set_trace(statements.append)
    response = get(live, "/healthz")
    live.app.state.pool.set_trace(None)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert statements == []


def test_readyz_is_ready_when_watching_is_disabled_on_purpose(live_server: Start) -> None:
    response = get(live_server(watch=False), "/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "watcher": "disabled"},
    }


def test_readyz_is_ready_when_the_watcher_runs(live_server: Start) -> None:
    response = get(live_server(watch=True), "/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["watcher"] == "ok"


def test_readyz_is_not_ready_when_the_watcher_should_run_but_the_root_is_missing(
    live_server: Start, content_dir: Path
) -> None:
    content_dir.rmdir()  # an unmounted volume: the watcher waits for it and deletes nothing
    response = get(live_server(watch=True), "/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["not_ready"] == ["watcher"]
    assert body["checks"]["watcher"] == "content root missing"
    assert body["checks"]["database"] == "ok"


def test_readyz_names_pending_migrations(live_server: Start, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)  # the schema is there, the record of its migration is not
    conn.execute("DELETE FROM _sqlite_migrations")
    conn.commit()
    conn.close()
    response = get(live_server(watch=False), "/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["not_ready"] == ["migrations"]
    every = ", ".join(migration.name for migration in migrations._migrations)
    assert every.startswith("m001_initial_schema")
    assert body["checks"]["migrations"] == f"pending: {every}"


def test_metrics_are_prometheus_text_every_name_prefixed(live_server: Start) -> None:
    live = live_server(watch=True)
    response = get(live, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f.type for f in text_string_to_metric_families(response.text)}
    assert all(name.startswith("newsgraph_") for name in families), sorted(families)
    assert METRICS.items() <= families.items()
    values = samples(live)
    assert values["newsgraph_watcher_queue_depth", ()] == 0
    assert values["newsgraph_subscriptions_active", ()] == 0


def test_graphql_operations_are_counted_by_type_and_outcome(live_server: Start) -> None:
    live = live_server()
    url = f"http://{live.address}/graphql"
    for query in ("{ ingestStatus { articleCount } }", "{ articles { totalCount } }"):
        assert "errors" not in httpx.post(url, json={"query": query}).json()
    assert httpx.post(url, json={"query": "{ noSuchField }"}).json()["errors"]
    assert httpx.post(url, json={"query": "{ broken"}).json()["errors"]
    values = samples(live)

    def operations(kind: str, outcome: str) -> float:
        labels = (("operation_type", kind), ("outcome", outcome))
        return values["newsgraph_graphql_requests_total", labels]

    assert (operations("query", "ok"), operations("query", "error")) == (2, 1)
    assert operations("unknown", "error") == 1  # not even parsed
    assert values["newsgraph_graphql_request_seconds_count", (("operation_type", "query"),)] == 3


def test_watched_changes_move_the_ingest_counters_and_histograms(
    live_server: Start, write_article: WriteArticle, content_dir: Path
) -> None:
    live = live_server(watch=True)
    before = samples(live)
    write_article("_news/2024-05-01-fresh.md", title="Fresh")
    (content_dir / "_news" / "2024-05-02-bad.md").write_text("---\ntitle: [\n---\n")
    after = wait_for_samples(
        live,
        lambda v: (
            files(v, "ingested") > files(before, "ingested")
            and files(v, "failed") > files(before, "failed")
        ),
    )
    lag = "newsgraph_change_lag_seconds_count", ()
    batches = "newsgraph_ingest_batch_seconds_count", ()
    assert after[lag] >= before[lag] + 1
    assert after[batches] > before[batches]
    assert after["newsgraph_change_lag_seconds_bucket", (("le", "+Inf"),)] == after[lag]


def test_open_subscriptions_are_a_gauge(
    live_server: Start, sockets: Callable[..., GqlSocket]
) -> None:
    live = live_server()
    client = sockets(live.address)
    client.subscribe("events")
    live.wait_subscribed(1)
    assert samples(live)["newsgraph_subscriptions_active", ()] == 1
