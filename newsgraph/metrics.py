"""Prometheus metrics of one app, every name prefixed `newsgraph_`.

Each app owns its own `CollectorRegistry` (not prometheus-client's global one), so a process or a
test can build several apps without "duplicated timeseries" errors. Counters and histograms are
updated where things happen (a committed batch, a finished GraphQL operation); the gauges that
describe a current state (watcher queue depth, open subscriptions) are read at scrape time, so
keeping them up to date costs nothing between scrapes.

The GraphQL instrumentation is a `SchemaExtension` with one hook, `on_operation`: two
`perf_counter` calls, one dict lookup per label set (the labelled children are resolved once,
here, not per request) and an increment and an observation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from newsgraph.db.writes import BatchResult
from newsgraph.gql.response_cache import CacheStats

# The `_created` timestamp series double every counter and histogram in the text format and no
# dashboard of ours reads them. (This is a process-wide switch of prometheus-client.)
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

FILE_RESULTS = ("ingested", "unchanged", "deleted", "skipped", "failed")
OPERATION_TYPES = ("query", "mutation", "subscription", "unknown")
OUTCOMES = ("ok", "error")

# A single dropped file commits in about a millisecond; a 2,000-file batch in about a second.
BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Watched changes land in the debounce period plus a commit (tens of ms); a restart's reconcile
# reports the time the change waited for the process, hence the long tail.
LAG_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

Reading = Callable[[], float]


class Metrics:
    """The metrics of one app and the registry they are exposed from."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.files = Counter(
            "newsgraph_ingest_files", "Files the ingest looked at, by result: ingested "
            "(created or updated), unchanged, deleted, skipped (not an article), failed",
            ["result"], registry=reg,
        )  # fmt: skip
        self.batch_seconds = Histogram(
            "newsgraph_ingest_batch_seconds",
            "Time to write and commit one ingest batch (a reconcile counts as one)",
            buckets=BATCH_BUCKETS, registry=reg,
        )  # fmt: skip
        self.change_lag = Histogram(
            "newsgraph_change_lag_seconds",
            "From a file's modification time to the commit that made its article visible",
            buckets=LAG_BUCKETS, registry=reg,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "newsgraph_watcher_queue_depth",
            "Changed paths waiting for (or in) the watcher's next batch; 0 when not watching",
            registry=reg,
        )
        self.requests = Counter(
            "newsgraph_graphql_requests", "GraphQL operations by type and outcome "
            "(error: the response carries errors)", ["operation_type", "outcome"], registry=reg,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "newsgraph_graphql_request_seconds",
            "Time to parse, validate and execute a GraphQL query or mutation",
            ["operation_type"], buckets=REQUEST_BUCKETS, registry=reg,
        )  # fmt: skip
        self.subscriptions = Gauge(
            "newsgraph_subscriptions_active", "Open GraphQL subscriptions", registry=reg
        )
        self.client_errors = Counter(
            "newsgraph_graphql_client_errors", "Errors a client caused (syntax, validation, "
            "bad arguments), by code; logged at INFO, not ERROR", ["code"], registry=reg,
        )  # fmt: skip
        # Resolved once: labels() costs a lock and a dict lookup per call.
        self._files = {result: self.files.labels(result) for result in FILE_RESULTS}
        self._requests = {
            (kind, outcome): self.requests.labels(kind, outcome)
            for kind in OPERATION_TYPES
            for outcome in OUTCOMES
        }
        self._latency = {kind: self.request_seconds.labels(kind) for kind in OPERATION_TYPES}

    def read_at_scrape(self, *, queue_depth: Reading, subscriptions: Reading) -> None:
        """Set the callables the state gauges read when /metrics is scraped."""
        self.queue_depth.set_function(queue_depth)
        self.subscriptions.set_function(subscriptions)

    def observe_batch(self, batch: BatchResult) -> None:
        """Count a committed batch; the watcher calls this on its thread (`on_commit`)."""
        files = self._files
        files["ingested"].inc(batch.created + batch.updated)
        files["unchanged"].inc(batch.unchanged)
        files["deleted"].inc(batch.deleted)
        files["skipped"].inc(batch.skipped)
        files["failed"].inc(batch.errors)
        if batch.changed or batch.errors or batch.skipped:
            self.batch_seconds.observe(batch.seconds)
        for lag in batch.change_lags:
            self.change_lag.observe(lag)

    def observe_operation(self, kind: str, failed: bool, seconds: float | None) -> None:
        """Count one GraphQL operation; `seconds` is None for subscriptions (they last)."""
        if kind not in self._latency:
            kind = "unknown"
        self._requests[kind, "error" if failed else "ok"].inc()
        if seconds is not None:
            self._latency[kind].observe(seconds)

    def observe_subscription_end(self, failed: bool) -> None:
        """One subscriber's subscription ended (`gql.fanout` counts them: many may share one
        execution, which `GraphQLMetrics` therefore leaves out)."""
        self.observe_operation("subscription", failed, None)

    def read_cache(self, stats: Callable[[], CacheStats]) -> None:
        """Expose the response cache's counters, read at scrape time (no cost per hit)."""
        self.registry.register(_CacheCollector(stats))

    def observe_client_error(self, code: str) -> None:
        self.client_errors.labels(code).inc()

    def extension(self) -> Callable[[], SchemaExtension]:
        """A factory Strawberry calls once per operation (extensions hold per-request state)."""
        return partial(GraphQLMetrics, metrics=self)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _CacheCollector(Collector):
    """`newsgraph_response_cache_*` from the cache's own counters."""

    def __init__(self, stats: Callable[[], CacheStats]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        now = self.stats()
        for name, value, text in (
            ("hits", now.hits, "Responses served from the cache (or shared with a request "
             "executing the same operation at the same data version)"),
            ("misses", now.misses, "Cacheable queries that had to execute"),
            ("evictions", now.evictions, "Entries dropped to stay within response_cache_bytes"),
        ):  # fmt: skip
            yield CounterMetricFamily(f"newsgraph_response_cache_{name}", text, value=value)
        yield GaugeMetricFamily(
            "newsgraph_response_cache_bytes", "Bytes held by cached responses", value=now.bytes
        )
        yield GaugeMetricFamily(
            "newsgraph_response_cache_entries", "Responses held", value=now.entries
        )


class GraphQLMetrics(SchemaExtension):
    """Counts and times every GraphQL operation for `/metrics`."""

    def __init__(
        self, *, metrics: Metrics, execution_context: ExecutionContext | None = None
    ) -> None:
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        if getattr(self.execution_context.context, "feed_hooks", None) is not None:
            yield  # a subscription's execution: its subscribers are counted as they leave
            return
        started = time.perf_counter()
        failed = True
        try:
            yield  # Strawberry throws parse and validation errors in here
            result = self.execution_context.result
            failed = result is None or bool(result.errors)
        finally:
            try:
                kind = self.execution_context.operation_type.value
            except Exception:  # no document (a syntax error) or no such operation
                kind = "unknown"
            elapsed = None if kind == "subscription" else time.perf_counter() - started
            self.metrics.observe_operation(kind, failed, elapsed)
