"""Prometheus metrics of one service, served at ``/metrics`` in the text exposition format.

What is measured, all labelled ``service``:

* HTTP: ``trainops_http_requests_total`` by method, route template and status, and
  ``trainops_http_request_duration_seconds`` (histogram) by method and route template. The
  label is the template Litestar routed by (``/f/{token}``), never the raw path: ids and
  credentials in paths would otherwise land in the time series (and make them unbounded).
* Consumers: ``trainops_consumer_batch_size`` (histogram per stream), events applied, retries
  and dead letters (counters), and the lag of each durable consumer read from JetStream at
  scrape time: ``trainops_consumer_pending`` (not yet delivered) and
  ``trainops_consumer_ack_pending`` (delivered, not yet acknowledged).
* Outbox: ``trainops_outbox_unsent`` (backlog, counted at scrape time), rows published, and
  ``trainops_outbox_relay_publish_seconds`` (histogram: a relay batch's first publish to its
  last PubAck).

The route is public like ``/health``: it carries counts, durations and route templates only, no
personal data and no credential, and its scrape-time queries run at most once a second however
often it is called. ``TRAINOPS_METRICS=off`` removes the route and the request middleware.

Litestar's own ``PrometheusMiddleware`` is not used: it keeps its metrics in class-level globals
on the process-wide default registry, so two apps in one process (the integration tests run
several services in-process) share and mix their series; and it builds a ``Request`` and moves
an in-progress gauge on every call. FastStream's Prometheus middleware does not apply either:
the consumers pull with nats-py's ``fetch`` and the relay publishes with nats-py (see
:mod:`trainops_shared.inbox`), not through FastStream subscribers and publishers.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from litestar import Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from nats.aio.client import Client as NatsClient
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from trainops_shared.logging import get_logger
from trainops_shared.openapi_docs import INPUT, PublicOperation, error_responses
from trainops_shared.outbox import count_unsent
from trainops_shared.settings import SettingsError

if TYPE_CHECKING:
    from trainops_shared.inbox import EventConsumer
    from trainops_shared.outbox import OutboxRelay
    from trainops_shared.storage import Database

log = get_logger(__name__)

METRICS_PATH: Final = "/metrics"
CONTENT_TYPE: Final = "text/plain; version=0.0.4"
"""Prometheus' text format 0.0.4; Litestar appends ``; charset=utf-8`` to text media types."""

LATENCY_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Seconds: from a cached read (~1 ms) to the 3 s database write bound and beyond."""

BATCH_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
"""Events per fetched batch (consumers fetch at most 500) or rows per relay batch (at most 1000)."""

REFRESH_INTERVAL_S: Final = 1.0
"""Scrape-time figures (backlog, consumer lag) are read at most this often; a scraper or a
caller hammering ``/metrics`` gets the cached figures in between."""
SOURCE_TIMEOUT_S: Final = 2.0


def metrics_enabled(env: Mapping[str, str] | None = None) -> bool:
    """``TRAINOPS_METRICS``: ``on`` (default) or ``off``."""
    value = (os.environ if env is None else env).get("TRAINOPS_METRICS", "on").strip().lower()
    if value in ("on", "true", "1", ""):
        return True
    if value in ("off", "false", "0"):
        return False
    raise SettingsError(f"TRAINOPS_METRICS must be on or off, not {value[:20]!r}")


class ServiceMetrics:
    """The registry of one service and the hooks the runtime feeds it from."""

    def __init__(self, service: str) -> None:
        self.service = service
        # ``*_created`` series (a timestamp per label set) double the output and no dashboard
        # reads them; the switch is process-wide, and a process serves one service.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "trainops_http_requests",
            "HTTP requests answered, by route template and status.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "trainops_http_request_duration_seconds",
            "Time from a request's arrival to its response's last byte, by route template.",
            ["service", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._batch = Histogram(
            "trainops_consumer_batch_size",
            "Events in each batch a durable consumer fetched, by stream.",
            ["service", "stream"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self._relay_seconds = Histogram(
            "trainops_outbox_relay_publish_seconds",
            "Time from a relay batch's first publish to its last PubAck.",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._relay_batch = Histogram(
            "trainops_outbox_relay_batch_size",
            "Outbox rows JetStream acknowledged per relay batch.",
            ["service"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str], Any] = {}
        self._status_children: dict[tuple[str, str, int], Any] = {}
        self._batch_children: dict[str, Any] = {}
        self._runtime = _RuntimeCollector(service)
        self.registry.register(self._runtime)

    # --- hooks -------------------------------------------------------------------------------

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route)
        histogram = self._request_children.get(key)
        if histogram is None:
            histogram = self._duration.labels(self.service, method, route)
            self._request_children[key] = histogram
        histogram.observe(seconds)
        status_key = (method, route, status)
        counter = self._status_children.get(status_key)
        if counter is None:
            counter = self._requests.labels(self.service, method, route, str(status))
            self._status_children[status_key] = counter
        counter.inc()

    def observe_batch(self, stream: str, size: int) -> None:
        child = self._batch_children.get(stream)
        if child is None:
            child = self._batch.labels(self.service, stream)
            self._batch_children[stream] = child
        child.observe(size)

    def observe_relay(self, rows: int, seconds: float) -> None:
        self._relay_seconds.labels(self.service).observe(seconds)
        self._relay_batch.labels(self.service).observe(rows)

    def watch(
        self,
        *,
        db: Database,
        relay: OutboxRelay,
        consumer: EventConsumer | None,
        connection: Callable[[], NatsClient | None],
    ) -> None:
        """Where the scrape-time figures come from (the runtime's own parts)."""
        self._runtime.db = db
        self._runtime.relay = relay
        self._runtime.consumer = consumer
        self._runtime.connection = connection

    # --- exposition --------------------------------------------------------------------------

    async def render(self) -> bytes:
        await self._runtime.refresh()
        return generate_latest(self.registry)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        return MetricsMiddleware(app, self)

    def route(self) -> HTTPRouteHandler:
        """``GET /metrics`` of this service."""
        metrics = self

        @get(
            METRICS_PATH,
            tags=["operations"],
            media_type=CONTENT_TYPE,
            operation_class=PublicOperation,
            responses=error_responses(*INPUT, limited=False),
        )
        async def prometheus_metrics() -> Response[bytes]:
            """Prometheus metrics of this service (text format 0.0.4): request rates and latency
            per route template, consumer lag and batch sizes, outbox backlog and relay latency,
            dead letters. Aggregates only: no personal data, no credentials."""
            body = await metrics.render()
            return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

        return prometheus_metrics


class MetricsMiddleware:
    """Counts and times every routed HTTP request under its route template.

    Requests Litestar cannot route (404, 405) never reach route middleware and are not counted:
    their paths are whatever a scanner sent, which is exactly what must not become a label.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            self.metrics.observe_request(
                scope["method"],
                scope.get("path_template") or "unmatched",
                status,
                time.perf_counter() - started,
            )


class _RuntimeCollector(Collector):
    """The figures read from the runtime's parts: counters they keep, and at scrape time the
    outbox backlog (database) and each durable consumer's lag (JetStream)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.db: Database | None = None
        self.relay: OutboxRelay | None = None
        self.consumer: EventConsumer | None = None
        self.connection: Callable[[], NatsClient | None] = lambda: None
        self._unsent: int | None = None
        self._lag: dict[str, tuple[int, int]] = {}
        self._sources: dict[str, bool] = {}
        self._refreshed_at = -REFRESH_INTERVAL_S
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        if time.monotonic() - self._refreshed_at < REFRESH_INTERVAL_S:
            return
        async with self._lock:
            if time.monotonic() - self._refreshed_at < REFRESH_INTERVAL_S:
                return  # another scrape refreshed while this one waited
            await asyncio.gather(self._refresh_backlog(), self._refresh_lag())
            self._refreshed_at = time.monotonic()

    async def _refresh_backlog(self) -> None:
        if self.db is None:
            return
        try:
            self._unsent = await asyncio.wait_for(self.db.read(count_unsent), SOURCE_TIMEOUT_S)
            self._sources["database"] = True
        except Exception as exc:
            # A figure from before the outage would read as current: drop it.
            self._unsent = None
            self._sources["database"] = False
            log.info("metrics_source_unavailable", source="database", error=type(exc).__name__)

    async def _refresh_lag(self) -> None:
        consumer = self.consumer
        if consumer is None:
            return
        lag: dict[str, tuple[int, int]] = {}
        try:
            nc = self.connection()
            if nc is None or not nc.is_connected:
                raise ConnectionError("NATS is not connected")
            js = nc.jetstream()
            for spec in consumer.streams:
                info = await js.consumer_info(spec.name, consumer.service, timeout=SOURCE_TIMEOUT_S)
                lag[spec.name] = (info.num_pending or 0, info.num_ack_pending or 0)
            self._sources["nats"] = True
        except Exception as exc:
            lag = {}
            self._sources["nats"] = False
            log.info("metrics_source_unavailable", source="nats", error=type(exc).__name__)
        self._lag = lag

    def collect(self) -> Iterator[Metric]:
        service = self.service
        if self.relay is not None:
            published = CounterMetricFamily(
                "trainops_outbox_published",
                "Outbox rows published and acknowledged by JetStream since start.",
                labels=["service"],
            )
            published.add_metric([service], self.relay.published)
            yield published
        if self._unsent is not None:
            unsent = GaugeMetricFamily(
                "trainops_outbox_unsent",
                "Outbox rows committed and not yet acknowledged by JetStream (the backlog).",
                labels=["service"],
            )
            unsent.add_metric([service], self._unsent)
            yield unsent
        consumer = self.consumer
        if consumer is not None:
            for name, documentation, value in (
                (
                    "trainops_consumer_events_applied",
                    "Events applied (committed with their inbox rows) since start.",
                    consumer.applied,
                ),
                (
                    "trainops_consumer_retries",
                    "Events whose handler failed and that were handed back for redelivery.",
                    consumer.retried,
                ),
                (
                    "trainops_consumer_dead_letters",
                    "Events moved to the dead-letter stream since start.",
                    consumer.dead_lettered,
                ),
            ):
                family = CounterMetricFamily(name, documentation, labels=["service"])
                family.add_metric([service], value)
                yield family
            pending = GaugeMetricFamily(
                "trainops_consumer_pending",
                "Messages of the stream not yet delivered to this durable consumer (its lag).",
                labels=["service", "stream", "consumer"],
            )
            ack_pending = GaugeMetricFamily(
                "trainops_consumer_ack_pending",
                "Messages delivered to this durable consumer and not yet acknowledged.",
                labels=["service", "stream", "consumer"],
            )
            for stream, (waiting, unacked) in sorted(self._lag.items()):
                pending.add_metric([service, stream, consumer.service], waiting)
                ack_pending.add_metric([service, stream, consumer.service], unacked)
            yield pending
            yield ack_pending
        if self._sources:
            up = GaugeMetricFamily(
                "trainops_metrics_source_up",
                "Whether the last scrape-time read of a source (database, nats) succeeded.",
                labels=["service", "source"],
            )
            for source, ok in sorted(self._sources.items()):
                up.add_metric([service, source], 1.0 if ok else 0.0)
            yield up
