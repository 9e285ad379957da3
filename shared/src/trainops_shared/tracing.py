"""OpenTelemetry traces that follow one request from HTTP through the outbox and NATS to consumers.

The path of a change is asynchronous: the request commits state and outbox rows and answers; the
relay publishes the rows later; every consumer applies the event later still. One trace spans it
all because the trace context travels with the data, never with the task:

* the HTTP span (:class:`TracingMiddleware`) is current while the request's transaction function
  is queued; :func:`carry_trace` captures its W3C ``traceparent`` in the event loop and sets it
  around the function in the writer thread (SQLite) or greenlet (PostgreSQL), where
  ``record_events`` reads it (:func:`outbox_traceparent`) into the outbox row;
* the relay opens a PRODUCER span as the row's child and sends that span's ``traceparent`` as a
  NATS header next to ``Nats-Msg-Id``;
* a consumer opens a CONSUMER span per event it applies, parented from that header; events its
  handler records in turn carry the consumer span's context, so the trace continues.

Each service has its own :class:`Tracing` (its own ``TracerProvider`` and ``service.name``), not
OpenTelemetry's process-global provider: tests run several services in one process, each naming
itself. Tracing is on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-only variant) is set,
exporting by OTLP/HTTP in batches, or when a test hands :func:`tracing_for` an exporter; otherwise
:func:`tracing_for` returns ``None`` and no span, header or wrapper exists anywhere.

No span carries personal data or credentials: HTTP spans name the route template
(``/f/{token}``, never the token), never the raw path, query, client address or headers; event
spans name the subject, the event id and the stream sequence only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, Final, TypeVar

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.engine import Connection

T = TypeVar("T")

TRACEPARENT: Final = "traceparent"
_PROPAGATOR: Final = TraceContextTextMapPropagator()

_outbox_trace: ContextVar[str | None] = ContextVar("trainops_outbox_traceparent", default=None)
"""The ``traceparent`` that outbox rows written by the running transaction function carry."""

ENDPOINT_VARIABLES: Final = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


class Tracing:
    """One service's tracer, with the span shapes the service runtime opens."""

    def __init__(self, service: str, processor: SimpleSpanProcessor | BatchSpanProcessor) -> None:
        self.service = service
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": f"trainops-{service}"})
        )
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("trainops_shared")

    def middleware(self, app: ASGIApp) -> ASGIApp:
        return TracingMiddleware(app, self)

    def shutdown(self) -> None:
        """Flush what is still queued (blocking: the OTLP exporter posts synchronously)."""
        self.provider.shutdown()

    def relay_span(self, subject: str, event_id: str, traceparent: str) -> Span:
        """The PRODUCER span of one outbox row being published, child of the span that wrote
        it; the caller sends :func:`traceparent_of` this span as the message's header."""
        return self.tracer.start_span(
            f"{subject} publish",
            context=_extract(traceparent),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": subject,
                "messaging.message.id": event_id,
            },
        )

    def batch(self, consumer: str) -> ConsumedBatch:
        return ConsumedBatch(self, consumer)


class ConsumedBatch:
    """The CONSUMER spans of one fetched batch, one per event handed to a handler.

    Each span starts when its event is taken from the batch and ends with the batch (after the
    commit and the acks): that is the time the event spent being applied.
    """

    def __init__(self, tracing: Tracing, consumer: str) -> None:
        self._tracing = tracing
        self._consumer = consumer
        self._spans: list[Span] = []

    def wrap(
        self,
        *,
        subject: str,
        event_id: str,
        stream_seq: int,
        headers: Mapping[str, str] | None,
        handler: Callable[[Connection, Any], None],
    ) -> Callable[[Connection, Any], None]:
        """``handler`` applying the event under its span: events it records continue the trace,
        and a failure marks the span (type only: an error text may quote data)."""
        parent = (headers or {}).get(TRACEPARENT)
        span = self._tracing.tracer.start_span(
            f"{subject} process",
            context=_extract(parent) if parent else None,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": subject,
                "messaging.message.id": event_id,
                "messaging.consumer.group.name": self._consumer,
                "messaging.nats.stream_sequence": stream_seq,
            },
        )
        self._spans.append(span)
        own = traceparent_of(span)

        def traced(conn: Connection, event: Any) -> None:
            token = _outbox_trace.set(own)
            try:
                handler(conn, event)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                span.set_attribute("error.type", type(exc).__name__)
                raise
            finally:
                _outbox_trace.reset(token)

        return traced

    def end(self) -> None:
        end_ns = time.time_ns()
        for span in self._spans:
            span.end(end_time=end_ns)
        self._spans.clear()


def _extract(traceparent: str | None) -> Context | None:
    if not traceparent:
        return None
    return _PROPAGATOR.extract({TRACEPARENT: traceparent})


def traceparent_of(span: Span) -> str | None:
    """The W3C ``traceparent`` naming ``span`` as parent, or None for a non-recording span."""
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def current_traceparent() -> str | None:
    return traceparent_of(trace.get_current_span())


def carry_trace(fn: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """``fn`` run with the current span's context visible to :func:`outbox_traceparent`.

    Called in the event loop where the request's span is current; the returned function runs
    in the database's writer thread, where the event loop's context is not.
    """
    traceparent = current_traceparent()
    if traceparent is None:
        return fn

    def traced(conn: Connection) -> T:
        token = _outbox_trace.set(traceparent)
        try:
            return fn(conn)
        finally:
            _outbox_trace.reset(token)

    return traced


def outbox_traceparent() -> str | None:
    """The trace context outbox rows written now carry (None when nothing is traced)."""
    return _outbox_trace.get()


class TracingMiddleware:
    """A SERVER span per HTTP request, named by method and route template.

    An incoming ``traceparent`` (a gateway or a client that traces) becomes the parent. Only the
    route template is recorded: the raw path of ``/f/{token}`` holds a credential.
    """

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracer = tracing.tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        route = scope.get("path_template") or "unmatched"
        parent = None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                parent = _extract(value.decode("latin-1")[:128])
                break
        with self.tracer.start_as_current_span(
            f"{method} {route}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                span.set_attribute("error.type", type(exc).__name__)
                raise


def tracing_for(
    service: str,
    exporter: SpanExporter | None = None,
    env: Mapping[str, str] | None = None,
) -> Tracing | None:
    """The service's tracing, or None when it is off.

    ``exporter`` (tests: the SDK's ``InMemorySpanExporter``) exports every span as it ends.
    Otherwise an OTLP endpoint in the environment turns tracing on with batched OTLP/HTTP
    export (the exporter reads the standard ``OTEL_EXPORTER_OTLP_*`` variables itself);
    ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` turn it off again.
    """
    if exporter is not None:
        return Tracing(service, SimpleSpanProcessor(exporter))
    variables = os.environ if env is None else env
    if variables.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if variables.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return None
    if not any(variables.get(name, "").strip() for name in ENDPOINT_VARIABLES):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return Tracing(service, BatchSpanProcessor(OTLPSpanExporter()))
