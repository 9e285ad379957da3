"""One trace from an HTTP request through the outbox, the relay and NATS to the consumers.

Scheduling, registration and reporting run in-process on a real nats-server, all exporting to
one SDK ``InMemorySpanExporter``. ``POST /sessions`` must be one trace down to registration
applying ``SessionScheduled``; ``POST /registrations`` one trace down to reporting applying
``ParticipantRegistered``: SERVER span → PRODUCER span (the relay, child of the request's span
through the outbox row) → CONSUMER span (child of the relay's span through the NATS header).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from trainops_devtools.testing.attack import Canary, leaks
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import bearer, in_process_settings
from trainops_registration.app import build_spec as registration_spec
from trainops_reporting.app import build_spec as reporting_spec
from trainops_scheduling.app import build_spec as scheduling_spec
from trainops_shared.service import create_app
from trainops_shared.tables import outbox

pytestmark = pytest.mark.integration

STAFF = bearer("programme_staff")
ALMATY = bearer("coordinator", "almaty", subject="tracing-coordinator")
UPSTREAM_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
UPSTREAM = f"00-{UPSTREAM_TRACE}-00f067aa0ba902b7-01"


@dataclass
class System:
    clients: dict[str, AsyncTestClient[Litestar]]
    exporter: InMemorySpanExporter

    def spans(self) -> Sequence[ReadableSpan]:
        return self.exporter.get_finished_spans()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
async def system(
    request: pytest.FixtureRequest, fresh_nats_server: Any, tmp_path: Path
) -> AsyncIterator[System]:
    """On SQLite the transaction functions run in the writer thread, on PostgreSQL in
    SQLAlchemy's greenlet: the trace context must reach the outbox row on both."""
    exporter = InMemorySpanExporter()
    new_database: Callable[[], str] | None = (
        request.getfixturevalue("postgres_database") if request.param == "postgres" else None
    )
    async with AsyncExitStack() as stack:
        clients = {}
        for name, build in (
            ("scheduling", scheduling_spec),
            ("registration", registration_spec),
            ("reporting", reporting_spec),
        ):
            settings = in_process_settings(
                name,
                nats_url=fresh_nats_server.url,
                database_url=(
                    new_database()
                    if new_database is not None
                    else f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"
                ),
                data_dir=tmp_path,
            )
            app = create_app(build(settings), settings, span_exporter=exporter)
            clients[name] = await stack.enter_async_context(AsyncTestClient(app))
        yield System(clients, exporter)


def _service(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


def _one(spans: Sequence[ReadableSpan], what: str) -> ReadableSpan:
    assert len(spans) == 1, f"{len(spans)} {what}: {[s.name for s in spans]}"
    return spans[0]


def _children(
    system: System, parent: ReadableSpan, kind: SpanKind, service: str
) -> list[ReadableSpan]:
    assert parent.context is not None
    return [
        s
        for s in system.spans()
        if s.kind == kind
        and _service(s) == f"trainops-{service}"
        and s.parent is not None
        and s.parent.span_id == parent.context.span_id
    ]


async def _chain(
    system: System, server: ReadableSpan, subject: str, consumer: str
) -> tuple[ReadableSpan, ReadableSpan]:
    """The relay span of ``subject`` under ``server`` and the consumer's span under it."""
    producer_service = _service(server).removeprefix("trainops-")

    async def published() -> list[ReadableSpan]:
        return [
            s
            for s in _children(system, server, SpanKind.PRODUCER, producer_service)
            if s.attributes is not None and s.attributes["messaging.destination.name"] == subject
        ]

    relay = _one(await eventually(published, what=f"the relay span of {subject}"), "relay spans")

    async def consumed() -> list[ReadableSpan]:
        return _children(system, relay, SpanKind.CONSUMER, consumer)

    applied = _one(await eventually(consumed, what=f"{consumer}'s span of {subject}"), "spans")
    assert server.context is not None and relay.context is not None
    assert applied.context is not None
    assert relay.context.trace_id == server.context.trace_id == applied.context.trace_id
    assert relay.name == f"{subject} publish"
    assert applied.name == f"{subject} process"
    assert applied.attributes is not None
    assert applied.attributes["messaging.consumer.group.name"] == consumer
    assert applied.status.is_ok
    return relay, applied


async def test_one_trace_from_the_request_to_every_consumer(system: System) -> None:
    scheduling = system.clients["scheduling"]
    registration = system.clients["registration"]
    training = await scheduling.post(
        "/trainings",
        json={"code": f"trace-{uuid.uuid4().hex[:8]}", "title": {"en": "Traces"}},
        headers=STAFF,
    )
    assert training.status_code == 201, training.text
    session = await scheduling.post(
        "/sessions",
        json={
            "training_id": training.json()["id"],
            "mode": "online",
            "cities": ["almaty"],
            "starts_at": "2021-03-01T10:00",
            "ends_at": "2021-03-01T12:00",
            "capacity": 5,
            "language": "ru",
        },
        headers=STAFF,
    )
    assert session.status_code == 201, session.text

    # scheduling → registration
    scheduled = _one(
        [s for s in system.spans() if s.name == "POST /sessions" and s.kind == SpanKind.SERVER],
        "POST /sessions spans",
    )
    assert _service(scheduled) == "trainops-scheduling"
    assert scheduled.attributes is not None
    assert scheduled.attributes["http.route"] == "/sessions"
    assert scheduled.attributes["http.response.status_code"] == 201
    assert scheduled.parent is None  # a request without trace context starts a trace
    await _chain(system, scheduled, "scheduling.session_scheduled.v1", "registration")

    # registration → reporting, continuing the caller's own trace
    canary = Canary.fresh()
    body = {"session_id": session.json()["id"], "participant": canary.participant("almaty")}
    headers = ALMATY | {"Idempotency-Key": uuid.uuid4().hex, "traceparent": UPSTREAM}
    response = await registration.post("/registrations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    server = _one(
        [
            s
            for s in system.spans()
            if s.name == "POST /registrations"
            and s.attributes is not None
            and s.attributes["http.response.status_code"] == 201
        ],
        "POST /registrations spans",
    )
    assert server.context is not None and server.parent is not None
    assert f"{server.context.trace_id:032x}" == UPSTREAM_TRACE
    relay, applied = await _chain(
        system, server, "registration.participant_registered.v1", "reporting"
    )
    assert applied.attributes is not None
    assert applied.attributes["messaging.message.id"] == relay.attributes["messaging.message.id"]  # type: ignore[index]

    # Spans name route templates and event ids: nothing personal, no id from a path.
    registration_id = response.json()["id"]
    for span in system.spans():
        text = f"{span.name} {dict(span.attributes or {})} {[e.name for e in span.events]}"
        assert leaks(text, {**canary.personal_data(), "registration": registration_id}) == []
        assert "url.full" not in (span.attributes or {})


async def test_tracing_is_off_without_an_exporter_or_endpoint(
    fresh_nats_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    settings = in_process_settings(
        "scheduling",
        nats_url=fresh_nats_server.url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'scheduling.db'}",
        data_dir=tmp_path,
    )
    app = create_app(scheduling_spec(settings), settings)
    assert app.state.runtime.tracing is None
    async with AsyncTestClient(app) as client:
        response = await client.post(
            "/trainings",
            json={"code": f"off-{uuid.uuid4().hex[:8]}", "title": {"en": "No traces"}},
            headers={**STAFF, "traceparent": UPSTREAM},
        )
        assert response.status_code == 201, response.text
        rows = await app.state.runtime.read(
            lambda conn: conn.execute(sa.select(outbox.c.traceparent)).scalars().all()
        )
        assert rows == [None]
