"""Litestream read replicas end to end: a writer and two replicas as processes, a file:// store.

Directories stand in for machines: the writer's database, the store and each replica's copy
live in separate folders and the processes share nothing but the store URL.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from newsgraph.cli import main
from newsgraph.db.connection import open_writer
from newsgraph.db.records import FileOutcome, FileStamp
from newsgraph.db.writes import Writer
from newsgraph.demo_yaml import render_article
from newsgraph.gql.live_types import decode_change_cursor, encode_change_cursor
from newsgraph.ingest.parse import parse_article
from newsgraph.replication import replicate_config
from newsgraph.supervise import helper_environment
from tests.conftest import article_fields

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket
    from tests.replica_fixtures import Cluster, Replica

pytest_plugins = ["tests.replica_fixtures", "tests.live_fixtures"]

Write = Callable[..., Path]
Sockets = Callable[..., "GqlSocket"]
TIMEOUT = 30.0


def paths(events: list[dict[str, Any]]) -> list[str]:
    return [event["path"] for event in events]


def wait_count(cluster: Cluster, replica: Replica, count: int) -> None:
    cluster.until(lambda: replica.article_count() == count, f"{count} articles on {replica.port}")


def test_articles_reach_queries_and_subscriptions_on_two_replicas(
    cluster: Cluster, write_article: Write, sockets: Sockets
) -> None:
    write_article("first.md")
    cluster.start_writer()
    a, b = cluster.start_replica("a"), cluster.start_replica("b")
    a.wait_ready()
    b.wait_ready()
    wait_count(cluster, a, 1)
    wait_count(cluster, b, 1)
    on_a, on_b = sockets(a.address), sockets(b.address)
    on_a.subscribe("1")
    on_b.subscribe("1")
    cursor = a.query("{ ingestStatus { lastChangeCursor } }")["ingestStatus"]["lastChangeCursor"]
    write_article("second.md", title="Second")
    for client in (on_a, on_b):
        [event] = client.events(1, timeout=TIMEOUT)
        assert (event["kind"], event["path"]) == ("CREATED", "second.md")
        assert event["article"]["title"] == "Second"  # read fresh from the follower's copy
    for replica in (a, b):
        wait_count(cluster, replica, 2)
        found = replica.query('{ article(path: "second.md") { title } }')
        assert found["article"] == {"title": "Second"}
    resumed = sockets(b.address)
    resumed.subscribe("r", since=cursor)
    assert paths(resumed.events(1, timeout=TIMEOUT)) == ["second.md"]
    assert a.readyz()["replication"]["role"] == "replica"
    metrics = a.get("/metrics")
    assert metrics is not None and "newsgraph_replication_up 1.0" in metrics.text


def test_a_subscriber_moves_between_replicas_with_its_cursor_and_gets_every_event_once(
    cluster: Cluster, write_article: Write, sockets: Sockets
) -> None:
    cluster.start_writer()
    a, b = cluster.start_replica("a"), cluster.start_replica("b")
    a.wait_ready()
    b.wait_ready()
    on_a = sockets(a.address)
    on_a.subscribe("1")
    names = [f"n{number:02}.md" for number in range(12)]
    for name in names[:6]:
        write_article(name)
    first = on_a.events(6, timeout=TIMEOUT)
    on_a.close()  # the subscriber's connection to A drops ...
    for name in names[6:]:
        write_article(name)
    on_b = sockets(b.address)  # ... and it resumes on B with the last cursor it got
    on_b.subscribe("1", since=first[-1]["cursor"])
    rest = on_b.events(6, timeout=TIMEOUT)
    assert sorted(paths(first + rest)) == names
    assert len({event["cursor"] for event in first + rest}) == 12


def test_a_replica_behind_a_cursor_waits_for_it_instead_of_refusing_it(
    cluster: Cluster, write_article: Write, sockets: Sockets
) -> None:
    write_article("a.md")
    cluster.start_writer()
    a = cluster.start_replica("a")
    a.wait_ready()
    wait_count(cluster, a, 1)
    cursor = a.query("{ ingestStatus { lastChangeCursor } }")["ingestStatus"]["lastChangeCursor"]
    ahead = encode_change_cursor(decode_change_cursor(cursor) + 1)  # the next change to come
    client = sockets(a.address)
    client.subscribe("1", since=ahead)
    write_article("b.md")
    write_article("c.md")
    events = client.events(1, timeout=TIMEOUT)
    # b.md is change `ahead` itself (the client has it): only what comes after is sent
    assert paths(events) == ["c.md"]


def test_a_follower_killed_with_sigkill_is_rebuilt_and_catches_up(
    cluster: Cluster, write_article: Write, sockets: Sockets
) -> None:
    write_article("before.md")
    cluster.start_writer()
    a = cluster.start_replica("a")
    a.wait_ready()
    wait_count(cluster, a, 1)
    client = sockets(a.address)
    client.subscribe("1")
    os.kill(a.follower_pid(), signal.SIGKILL)
    write_article("after.md")
    assert paths(client.events(1, timeout=TIMEOUT)) == ["after.md"]
    wait_count(cluster, a, 2)
    state = a.readyz()
    assert state["status"] == "ready"
    assert state["replication"]["restarts"] >= 1


def test_the_writer_restarted_mid_burst_loses_nothing(
    cluster: Cluster, write_article: Write, sockets: Sockets
) -> None:
    cluster.start_writer()
    a = cluster.start_replica("a")
    a.wait_ready()
    client = sockets(a.address)
    client.subscribe("1")
    names = [f"burst-{number:03}.md" for number in range(60)]
    for name in names[:30]:
        write_article(name)
    cluster.stop_writer()  # SIGTERM mid-burst: the batch in hand is committed first
    for name in names[30:]:
        write_article(name)  # written while no writer runs: the restart's reconcile finds them
    cluster.start_writer()
    events = client.events(60, timeout=TIMEOUT)
    assert sorted(paths(events)) == names
    wait_count(cluster, a, 60)


def test_readyz_says_restoring_until_the_first_restore(
    cluster: Cluster, write_article: Write
) -> None:
    a = cluster.start_replica("a")  # nothing replicated yet: the store is empty
    body = cluster.until(lambda: a.get("/readyz"), "the replica to answer")
    assert body.status_code == 503
    assert body.json()["checks"]["replication"] == "restoring"
    write_article("a.md")
    cluster.start_writer()
    a.wait_ready()
    wait_count(cluster, a, 1)


def _store_of(db: Path, count: int) -> None:
    """A store of `count` articles written by our writer (one article parsed, many paths)."""
    template = parse_article(render_article(article_fields(), ""), path="template.md")
    conn = open_writer(db)
    try:
        writer = Writer(conn)
        for start in range(0, count, 2_000):
            outcomes = []
            for number in range(start, min(count, start + 2_000)):
                path = f"_news/{number:05}.md"
                article = replace(template, path=path, web_url=f"https://example.com/{number}")
                outcomes.append(FileOutcome(FileStamp(path, 1, number, f"{number:064}"), article))
            writer.apply_batch(outcomes)
    finally:
        conn.close()


def test_a_replica_of_a_20000_article_store_becomes_ready(cluster: Cluster, tmp_path: Path) -> None:
    writer_db = tmp_path / "big.db"
    _store_of(writer_db, 20_000)
    cluster.start_shipper(writer_db)
    replica = cluster.start_replica("a")
    replica.wait_ready(timeout=120)
    assert replica.article_count() == 20_000


def test_litestream_gets_no_aws_ca_bundle_but_the_same_cas_as_ssl_cert_file(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "cas.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    env = helper_environment({"AWS_CA_BUNDLE": str(bundle), "PATH": "/bin"})
    assert "AWS_CA_BUNDLE" not in env  # Litestream 0.5 refuses to start with it set
    assert env["SSL_CERT_FILE"] == str(bundle)
    assert "SSL_CERT_FILE" not in helper_environment({"AWS_CA_BUNDLE": str(tmp_path / "gone")})


def test_the_generated_litestream_config_names_the_database_url_and_intervals(
    tmp_path: Path,
) -> None:
    config = yaml.safe_load(replicate_config(tmp_path / "news.db", "file:///store", 250))
    [entry] = config["dbs"]
    assert entry["path"] == str((tmp_path / "news.db").resolve())
    assert entry["replica"] == {"url": "file:///store", "sync-interval": "250ms"}
    assert entry["monitor-interval"] == "250ms"


def test_a_replica_never_replaces_a_database_that_is_not_a_replica_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "newsgraph.db"
    _store_of(precious, 3)
    before = precious.read_bytes()
    code = main(["serve", "--replica-of", (tmp_path / "store").as_uri(), "--db", str(precious)])
    assert code == 2
    assert "not a replica's copy" in capsys.readouterr().err
    assert precious.read_bytes() == before
