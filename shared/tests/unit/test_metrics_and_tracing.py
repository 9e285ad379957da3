"""Metrics and tracing pieces without servers: labels, switches, trace context hand-over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client.parser import text_string_to_metric_families

from trainops_shared.metrics import ServiceMetrics, metrics_enabled
from trainops_shared.settings import SettingsError
from trainops_shared.storage import Migration, MigrationSet, apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS, outbox
from trainops_shared.tracing import (
    Tracing,
    carry_trace,
    outbox_traceparent,
    traceparent_of,
    tracing_for,
)

pytestmark = pytest.mark.unit

SECRET = "sEcReT-invitation-token-0123456789"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def probe_app(metrics: ServiceMetrics | None = None, tracing: Tracing | None = None) -> Litestar:
    @get("/f/{token:str}", sync_to_thread=False)
    def form(token: FromPath[str]) -> dict[str, int]:
        return {"length": len(token)}

    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("internal detail")

    middleware: list[Callable[..., Any]] = []
    if metrics is not None:
        middleware.append(metrics.middleware)
    if tracing is not None:
        middleware.append(tracing.middleware)
    handlers: list[Any] = [form, boom] + ([metrics.route()] if metrics else [])
    return Litestar(route_handlers=handlers, middleware=middleware, debug=False)


@pytest.mark.parametrize(
    ("value", "enabled"), [(None, True), ("on", True), ("OFF", False), ("false", False)]
)
def test_metrics_switch(value: str | None, enabled: bool) -> None:
    env = {} if value is None else {"TRAINOPS_METRICS": value}
    assert metrics_enabled(env) is enabled


def test_metrics_switch_refuses_anything_else() -> None:
    with pytest.raises(SettingsError, match="TRAINOPS_METRICS must be on or off"):
        metrics_enabled({"TRAINOPS_METRICS": "sometimes"})


async def test_requests_are_labelled_by_route_template_never_by_path() -> None:
    metrics = ServiceMetrics("feedback")
    async with AsyncTestClient(probe_app(metrics)) as client:
        assert (await client.get(f"/f/{SECRET}")).status_code == 200
        assert (await client.get("/f/another-token")).status_code == 200
        assert (await client.get("/boom")).status_code == 500
        assert (await client.get(f"/nowhere/{SECRET}")).status_code == 404
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert SECRET not in response.text and "another-token" not in response.text
    assert "/nowhere" not in response.text  # unroutable paths are not labels
    found = samples(response.text)
    form = frozenset({("service", "feedback"), ("method", "GET"), ("route", "/f/{token}")})
    assert found[("trainops_http_requests_total", form | {("status", "200")})] == 2
    assert found[("trainops_http_request_duration_seconds_count", form)] == 2
    assert 0 < found[("trainops_http_request_duration_seconds_sum", form)] < 5
    boom = frozenset({("service", "feedback"), ("method", "GET"), ("route", "/boom")})
    assert found[("trainops_http_requests_total", boom | {("status", "500")})] == 1
    # No *_created series: they double the output and nothing reads them.
    assert "_created" not in response.text


class CountingDatabase:
    """Stands in for the service database: counts the backlog queries."""

    def __init__(self, unsent: int) -> None:
        self.unsent = unsent
        self.reads = 0

    async def read(self, fn: Callable[[Any], int]) -> int:
        self.reads += 1
        return self.unsent


class FailingDatabase:
    async def read(self, fn: Callable[[Any], int]) -> int:
        raise ConnectionError("database down")


class Relay:
    published = 7


async def test_backlog_is_read_at_most_once_a_second_and_dropped_when_unreadable() -> None:
    metrics = ServiceMetrics("scheduling")
    db = CountingDatabase(unsent=3)
    metrics.watch(db=db, relay=Relay(), consumer=None, connection=lambda: None)  # type: ignore[arg-type]
    first = samples((await metrics.render()).decode())
    await metrics.render()
    await metrics.render()
    assert db.reads == 1
    assert first[("trainops_outbox_unsent", frozenset({("service", "scheduling")}))] == 3
    assert first[("trainops_outbox_published_total", frozenset({("service", "scheduling")}))] == 7
    up = frozenset({("service", "scheduling"), ("source", "database")})
    assert first[("trainops_metrics_source_up", up)] == 1

    failing = ServiceMetrics("scheduling")
    failing.watch(db=FailingDatabase(), relay=Relay(), consumer=None, connection=lambda: None)  # type: ignore[arg-type]
    text = (await failing.render()).decode()
    assert "trainops_outbox_unsent" not in text  # a stale figure would read as current
    assert samples(text)[("trainops_metrics_source_up", up)] == 0


def test_batch_and_relay_histograms() -> None:
    metrics = ServiceMetrics("reporting")
    metrics.observe_batch("REGISTRATION", 500)
    metrics.observe_batch("REGISTRATION", 3)
    metrics.observe_relay(10, 0.004)
    import asyncio

    found = samples(asyncio.run(metrics.render()).decode())
    stream = frozenset({("service", "reporting"), ("stream", "REGISTRATION")})
    assert found[("trainops_consumer_batch_size_count", stream)] == 2
    assert found[("trainops_consumer_batch_size_sum", stream)] == 503
    assert found[("trainops_consumer_batch_size_bucket", stream | {("le", "5.0")})] == 1
    relay = frozenset({("service", "reporting")})
    assert found[("trainops_outbox_relay_publish_seconds_count", relay)] == 1
    assert found[("trainops_outbox_relay_batch_size_sum", relay)] == 10


def test_tracing_is_off_unless_an_endpoint_or_exporter_is_given() -> None:
    assert tracing_for("registration", env={}) is None
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    assert tracing_for("registration", env={**endpoint, "OTEL_SDK_DISABLED": "true"}) is None
    assert tracing_for("registration", env={**endpoint, "OTEL_TRACES_EXPORTER": "none"}) is None
    on = tracing_for("registration", env=endpoint)
    assert on is not None
    processors = on.provider._active_span_processor._span_processors
    assert [type(p) for p in processors] == [BatchSpanProcessor]
    assert on.provider.resource.attributes["service.name"] == "trainops-registration"
    on.shutdown()
    assert tracing_for("registration", InMemorySpanExporter(), env={}) is not None


def test_the_transaction_function_sees_the_span_that_queued_it() -> None:
    def writes(conn: Any) -> str | None:
        return outbox_traceparent()

    assert carry_trace(writes) is writes  # nothing traced: the function itself, no wrapper
    tracing = tracing_for("registration", InMemorySpanExporter())
    assert tracing is not None
    with tracing.tracer.start_as_current_span("POST /registrations") as span:
        carried = carry_trace(writes)
    expected = traceparent_of(span)
    assert expected is not None and expected.startswith("00-") and int(expected[-2:], 16) & 1
    assert carried(None) == expected
    assert outbox_traceparent() is None  # reset after the function


def test_consumer_spans_continue_the_header_and_mark_failures_by_type() -> None:
    exporter = InMemorySpanExporter()
    tracing = tracing_for("reporting", exporter)
    assert tracing is not None
    parent = tracing.relay_span(
        "registration.x.v1", "e-1", "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    )
    header = traceparent_of(parent)
    assert header is not None
    parent.end()
    seen: list[str | None] = []

    def handler(conn: Any, event: Any) -> None:
        seen.append(outbox_traceparent())

    def failing(conn: Any, event: Any) -> None:
        raise ValueError("Aigerim's e-mail is wrong")

    batch = tracing.batch("reporting")
    ok = batch.wrap(
        subject="registration.x.v1",
        event_id="e-1",
        stream_seq=5,
        headers={"traceparent": header},
        handler=handler,
    )
    bad = batch.wrap(
        subject="registration.y.v1", event_id="e-2", stream_seq=6, headers=None, handler=failing
    )
    ok(None, None)
    with pytest.raises(ValueError):
        bad(None, None)
    batch.end()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    applied = spans["registration.x.v1 process"]
    assert applied.kind == SpanKind.CONSUMER
    assert (
        applied.parent is not None and applied.parent.span_id == parent.get_span_context().span_id
    )
    assert applied.context is not None
    assert seen == [traceparent_of(applied)]  # events its handler records continue the trace
    refused = spans["registration.y.v1 process"]
    assert refused.parent is None
    assert refused.status.status_code == StatusCode.ERROR
    assert refused.status.description == "ValueError"  # the message may quote data
    assert "Aigerim" not in str(refused.attributes) + str(refused.events)


async def test_http_spans_name_the_route_and_continue_an_incoming_trace() -> None:
    exporter = InMemorySpanExporter()
    tracing = tracing_for("feedback", exporter)
    assert tracing is not None
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with AsyncTestClient(probe_app(tracing=tracing)) as client:
        await client.get(
            f"/f/{SECRET}", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
        )
        await client.get("/boom")
    spans = {s.name: s for s in exporter.get_finished_spans()}
    form = spans["GET /f/{token}"]
    assert form.kind == SpanKind.SERVER
    assert form.context is not None and f"{form.context.trace_id:032x}" == trace_id
    assert form.attributes is not None
    assert form.attributes["http.route"] == "/f/{token}"
    assert form.attributes["http.response.status_code"] == 200
    assert SECRET not in str(dict(form.attributes))
    boom = spans["GET /boom"]
    assert boom.parent is None
    assert boom.status.status_code == StatusCode.ERROR


def test_an_existing_outbox_gets_the_trace_column(tmp_path: Any) -> None:
    """A database made before plumbing version 2 keeps its rows and gains ``traceparent``."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    old = sa.MetaData()
    sa.Table(
        "outbox",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    version_1 = MigrationSet("plumbing", (Migration(1, "outbox", old.create_all),))
    with engine.begin() as conn:
        apply_migrations(conn, [version_1])
        conn.execute(
            sa.text(
                "INSERT INTO outbox (event_id, subject, payload, created_at) "
                "VALUES ('e-1', 'registration.x.v1', x'00', '2026-01-01 00:00:00')"
            )
        )
    with engine.begin() as conn:
        assert ("plumbing", 2) in apply_migrations(conn, [PLUMBING_MIGRATIONS])
        rows = conn.execute(sa.select(outbox.c.event_id, outbox.c.traceparent)).all()
    assert [tuple(r) for r in rows] == [("e-1", None)]
    fresh = sa.create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with fresh.begin() as conn:
        assert apply_migrations(conn, [PLUMBING_MIGRATIONS])[:2] == [
            ("plumbing", 1),
            ("plumbing", 2),
        ]
        assert "traceparent" in {c["name"] for c in sa.inspect(conn).get_columns("outbox")}
