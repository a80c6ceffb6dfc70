"""Replicas over S3 (moto's S3 server on loopback): the same flow, and the store going away."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket
    from tests.replica_fixtures import Cluster, LocalS3

pytest_plugins = ["tests.replica_fixtures", "tests.live_fixtures"]

Write = Callable[..., Path]
Sockets = Callable[..., "GqlSocket"]
TIMEOUT = 30.0
OUTAGE = 10.0
# After an outage Litestream's S3 client is still waiting out its retry backoff (the AWS SDK's
# standard retryer, 10 attempts, up to 20 s apart): first the writer's upload, then the
# replica's next poll. Catching up took 14 to 18 s after the heal here, and can take ~40 s;
# a 30 s wait made this test fail now and then with the replica catching up just after it.
CATCH_UP = 2 * 20.0 + 20.0


def test_articles_reach_two_replicas_through_s3(
    s3_cluster: tuple[Cluster, LocalS3], write_article: Write, sockets: Sockets
) -> None:
    cluster, _store = s3_cluster
    write_article("first.md")
    cluster.start_writer()
    a, b = cluster.start_replica("a"), cluster.start_replica("b")
    a.wait_ready()
    b.wait_ready()
    on_a, on_b = sockets(a.address), sockets(b.address)
    on_a.subscribe("1")
    on_b.subscribe("1")
    cluster.until(lambda: a.article_count() == 1 and b.article_count() == 1, "the first article")
    write_article("second.md", title="Second")
    for client in (on_a, on_b):
        [event] = client.events(1, timeout=CATCH_UP)
        assert (event["path"], event["article"]["title"]) == ("second.md", "Second")


def test_replicas_serve_their_last_state_while_the_store_is_down_then_catch_up(
    s3_cluster: tuple[Cluster, LocalS3], write_article: Write, sockets: Sockets
) -> None:
    cluster, store = s3_cluster
    write_article("before.md")
    cluster.start_writer()
    a = cluster.start_replica("a")
    a.wait_ready()
    cluster.until(lambda: a.article_count() == 1, "the first article")
    client = sockets(a.address)
    client.subscribe("1")
    store.network.cut()
    down_since = time.monotonic()
    write_article("during.md")  # committed by the writer, not shippable yet

    def lagging() -> bool:
        body = a.readyz()
        return bool(body["status"] == "ready" and body["replication"]["lag_seconds"] > 0)

    cluster.until(lagging, "readyz to report lag while the store is down")
    assert a.article_count() == 1  # still serving the last state it has
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - down_since)))  # the outage lasts 10 s
    store.network.heal()
    [event] = client.events(1, timeout=CATCH_UP)
    assert event["path"] == "during.md"
    cluster.until(lambda: a.readyz()["replication"]["lag_seconds"] == 0, "the lag to clear")
