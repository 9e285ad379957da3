"""The one way a trainops service is assembled and run: the composition root shared by all four.

A service describes itself with a :class:`ServiceSpec` (its migrations, the streams it produces,
its HTTP routes, its event handlers); :func:`create_app` turns that into a Litestar app whose
lifespan owns the database, the FastStream broker, the event consumer and the outbox relay.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import nats.errors
import structlog
from litestar import Litestar, Request, Response, get
from litestar.config.cors import CORSConfig
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import (
    HTTPException,
    SerializationException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.handlers import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry.sdk.trace.export import SpanExporter
from sqlalchemy.engine import Connection

from trainops_shared.audit import audit_route
from trainops_shared.auth import JwtAuthMiddleware, JwtConfig, Principal
from trainops_shared.broker import NatsUnavailable, declare_all_streams, make_broker, probe_nats
from trainops_shared.errors import AppError, Invalid
from trainops_shared.events import Event
from trainops_shared.events.streams import StreamSpec
from trainops_shared.home import home_route
from trainops_shared.http_security import (
    HttpLimits,
    add_security_headers,
    console_assets_router,
    docs_assets_router,
    docs_render_plugins,
    handle_rate_limited,
    load_http_limits,
    rate_limit_middlewares,
    rate_limit_sweeper,
    uvicorn_proxy_options,
)
from trainops_shared.inbox import BatchHandler, EventConsumer, EventHandler
from trainops_shared.logging import configure_logging, get_logger
from trainops_shared.metrics import ServiceMetrics, metrics_enabled
from trainops_shared.openapi_docs import INPUT, PublicOperation, error_responses
from trainops_shared.outbox import OutboxRelay
from trainops_shared.revocations import RevocationFeed, RevocationSet
from trainops_shared.settings import Settings, SettingsError, load_settings
from trainops_shared.storage import (
    Database,
    DatabaseUnavailable,
    MigrationSet,
    is_transient,
    open_database,
)
from trainops_shared.tables import PLUMBING_MIGRATIONS
from trainops_shared.tracing import carry_trace, tracing_for
from trainops_shared.validation import instant_bounds

T = TypeVar("T")
log = get_logger(__name__)

PUBLIC_PATHS = ["^/health$", "^/ready$", "^/metrics$", "^/schema", "^/assets/"]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    description: str
    migrations: MigrationSet
    route_handlers: Sequence[Any]
    produces: Sequence[StreamSpec] = ()
    event_handlers: Mapping[type[Event], EventHandler] = field(default_factory=dict)
    batch_handler: BatchHandler | None = None
    """Applies a fetched batch set-based (see :data:`~trainops_shared.inbox.BatchHandler`); the
    ``event_handlers`` still say which events the service reads and are its fallback."""
    only_handled_subjects: bool = False
    """Durable consumers get only the handled subjects (``EventConsumer.consumer_config``)."""
    stream_order: Sequence[str] = ()
    """Streams in the order their events depend on each other: the consumer paces them."""
    catch_up_batch_size: int | None = None
    """Messages per fetch while a stream is more than a batch behind (a fresh read model)."""
    public_paths: Sequence[str] = ()
    before_start: Callable[[ServiceRuntime], Awaitable[None]] | None = None
    """Runs first at start-up, before the database opens (e.g. to swap in a rebuilt file)."""
    on_start: Callable[[ServiceRuntime], Awaitable[None]] | None = None
    on_stop: Callable[[ServiceRuntime], Awaitable[None]] | None = None
    """Stops what ``on_start`` started, before the database closes."""
    template_config: TemplateConfig[Any] | None = None
    """The engine of a service's server-rendered pages (``Template`` responses)."""
    home_page: bool = True
    """Serve the shared ``GET /`` (:mod:`trainops_shared.home`); off for a service with its own."""


#: Longest a single shutdown step (consumer, broker drain, relay, database) may take.
SHUTDOWN_STEP_TIMEOUT_S: Final = 15.0


class ServiceRuntime:
    """What handlers reach through dependency injection: storage, settings and the relay."""

    def __init__(
        self, spec: ServiceSpec, settings: Settings, span_exporter: SpanExporter | None = None
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.tracing = tracing_for(spec.name, span_exporter)
        self.metrics = ServiceMetrics(spec.name) if metrics_enabled() else None
        self.db: Database = open_database(
            settings.database_url, write_timeout=settings.db_write_timeout
        )
        self.broker = make_broker(
            settings.nats_url, service=spec.name, timeout=settings.nats_connect_timeout
        )
        self.relay = OutboxRelay(
            self.db,
            settings.nats_url,
            name=spec.name,
            tracing=self.tracing,
            on_published=self.metrics.observe_relay if self.metrics else None,
        )
        self.revocations = RevocationSet()
        self.revocation_feed = RevocationFeed(settings.nats_url, self.revocations, name=spec.name)
        self.consumer: EventConsumer | None = None
        if spec.event_handlers:
            self.consumer = EventConsumer(
                service=spec.name,
                db=self.db,
                handlers=spec.event_handlers,
                on_commit=self.relay.notify,
                tracing=self.tracing,
                on_batch=self.metrics.observe_batch if self.metrics else None,
                batch_handler=spec.batch_handler,
                only_handled_subjects=spec.only_handled_subjects,
                stream_order=spec.stream_order,
                catch_up_batch_size=spec.catch_up_batch_size,
            )
        if self.metrics is not None:
            self.metrics.watch(
                db=self.db,
                relay=self.relay,
                consumer=self.consumer,
                connection=lambda: self.broker.config.connection_state.connection,
            )
        self.started = False

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction (state change + outbox rows), then wake the relay."""
        result = await self.db.write(carry_trace(fn) if self.tracing else fn)
        self.relay.notify()
        return result

    async def read(self, fn: Callable[[Connection], T]) -> T:
        return await self.db.read(fn)

    async def start(self) -> None:
        if self.spec.before_start is not None:
            await self.spec.before_start(self)
        await self.db.start([PLUMBING_MIGRATIONS, self.spec.migrations])
        streams = {s.name: s for s in self.spec.produces}
        if self.consumer is not None:
            streams.update({s.name: s for s in self.consumer.streams})
        await declare_all_streams(
            self.settings.nats_url, streams.values(), self.settings.stream_replicas
        )
        await self.broker.start()
        await self.revocation_feed.start()
        if self.consumer is not None:
            await self.consumer.start(self.broker.config.connection_state.connection)
        await self.relay.start()
        if self.spec.on_start is not None:
            await self.spec.on_start(self)
        self.started = True
        log.info("service_started", port=self.settings.port, database=self.db.dialect)

    async def stop(self) -> None:
        """Stop in dependency order; no step may hold the process (or a test) forever.

        Each step is bounded: a step that overruns is logged and abandoned, and the next one
        still runs, so the database is always closed. Abandoning loses nothing acknowledged:
        a batch that did not commit was never acked and JetStream redelivers it.
        """
        if self.consumer is not None:
            await self._bounded("consumer", self.consumer.stop())
        await self._bounded("revocations", self.revocation_feed.stop())
        await self._bounded("broker", self._stop_broker())
        await self._bounded("relay", self.relay.stop())
        if self.spec.on_stop is not None:
            await self._bounded("on_stop", self.spec.on_stop(self))
        await self._bounded("database", self.db.close())
        if self.tracing is not None:
            await self._bounded("tracing", asyncio.to_thread(self.tracing.shutdown))
        log.info("service_stopped")

    async def _stop_broker(self) -> None:
        try:
            await self.broker.stop()
        except nats.errors.Error as exc:
            # Draining is impossible while the client is reconnecting; what it held is unacked
            # and comes back to the durable consumer, so stopping anyway loses nothing, and the
            # relay and the database must still be closed in order.
            log.warning("broker_stop_without_drain", error=type(exc).__name__)

    async def _bounded(self, step: str, work: Awaitable[None]) -> None:
        try:
            await asyncio.wait_for(work, timeout=SHUTDOWN_STEP_TIMEOUT_S)
        except TimeoutError:
            log.error("shutdown_step_timed_out", step=step, timeout_s=SHUTDOWN_STEP_TIMEOUT_S)

    async def readiness(self) -> dict[str, bool]:
        db_ok, nats_ok = await asyncio.gather(self.db.ping(), self.broker.ping(timeout=1.0))
        return {"database": db_ok, "nats": bool(nats_ok) and self.started}


class RequestIdMiddleware:
    """Binds ``request_id`` (from ``X-Request-ID`` or new) to every log line of the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = incoming or uuid.uuid4().hex

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)


def _error_response(body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(content=body, status_code=int(body["status"]))


def _handle_app_error(_: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, Any]]:
    """The one way a domain error becomes an answer: every service's errors derive from
    :class:`~trainops_shared.errors.AppError` (or ``DomainError``) and carry their status."""
    return _error_response(exc.body())


_PATH = re.compile(r"at `\$\.?([^`]*)`")
_FIELD = re.compile(r"field `([^`]+)`")


def body_field(message: str) -> str | None:
    """The dotted field a msgspec error names: ``Object missing required field `city` - at
    `$.participant``` → ``participant.city``; ``Expected `int` - at `$.capacity``` → ``capacity``.
    """
    path = _PATH.search(message)
    named = _FIELD.search(message)
    parts = [p for p in (path.group(1) if path else "").replace("[", ".[").split(".") if p]
    if named:
        parts.append(named.group(1))
    return ".".join(parts).replace(".[", "[") or None


def _handle_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = str(first.get("message") or exc.detail)
    key = first.get("key")
    if first.get("source") == "body" or key in (None, "data"):
        key = body_field(message) or (None if key == "data" else key)
    detail = f"{message} (field {key})" if key else message
    body: dict[str, Any] = {"status": 422, "error": "invalid", "detail": detail, "errors": errors}
    if key:
        body["field"] = key
    if "malformed" in message.lower() or "malformed" in str(exc.detail).lower():
        body["status"] = 400
        body["error"] = "malformed_json"
    return _error_response(body)


def _handle_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
    }.get(exc.status_code, "http_error")
    if exc.status_code >= 500:
        # Litestar's own 5xx (ImproperlyConfiguredException, ...) name internals in their detail.
        log.error("http_server_error", status=exc.status_code, error=type(exc).__name__)
        return _error_response(
            {"status": exc.status_code, "error": "internal", "detail": "internal error"}
        )
    return _error_response({"status": exc.status_code, "error": code, "detail": exc.detail})


RETRY_AFTER_SECONDS = 2
"""What a 503 tells the client to wait: about how long a PostgreSQL restart or a SQLite writer
lock takes here; a client that retries sooner only adds load."""


def _handle_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # An outage of our own storage is not the caller's fault and not a bug: 503 with Retry-After,
    # one warning line without a traceback (an outage otherwise floods the log). Whether the
    # write committed may be unknown (a connection lost during COMMIT); a retry with the same
    # Idempotency-Key answers that truthfully.
    if isinstance(exc, DatabaseUnavailable) or is_transient(exc):
        log.warning("storage_unavailable", error_type=type(exc).__name__)
        return Response(
            content={
                "status": 503,
                "error": "unavailable",
                "detail": "the database is unavailable; retry later with the same Idempotency-Key",
            },
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log.exception("unhandled_error", error=repr(exc))
    return _error_response(
        {"status": HTTP_500_INTERNAL_SERVER_ERROR, "error": "internal", "detail": "internal error"}
    )


MAX_JSON_DEPTH = 32
"""Deeper than any request body of the four APIs (they nest three levels at most); a deeper
body is refused before it reaches msgspec's conversion or any handler."""


class MalformedBody(AppError):
    """A body that cannot be decoded at all; the message never quotes its bytes."""

    status = 400
    code = "malformed_json"


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether decoded JSON nests more than ``limit`` containers deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class CheckedRequest(Request[Any, Any, Any]):
    """Litestar's request, with JSON bodies that are not UTF-8 or nest too deep refused as 400.

    msgspec raises ``UnicodeDecodeError`` and ``RecursionError`` for those, which would reach the
    catch-all handler as a 500 whose log line quotes the offending bytes.
    """

    async def json(self) -> Any:
        try:
            value = await super().json()
        except UnicodeDecodeError:
            raise MalformedBody("the JSON body is not valid UTF-8") from None
        except RecursionError:
            raise MalformedBody(
                f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
            ) from None
        except SerializationException as exc:
            # msgspec's message names a position only ("truncated (byte 9)"), never content.
            raise MalformedBody(f"the body is not valid JSON: {exc.detail}") from None
        if _depth_exceeds(value, MAX_JSON_DEPTH):
            raise MalformedBody(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
        return value


def _declared_query_names(app: Litestar, handler: BaseRouteHandler) -> frozenset[str] | None:
    """The query parameters ``handler`` declares, read from the kwargs models Litestar built for
    every route at start-up (dependencies' parameters included), so new routes need nothing."""
    names: dict[int, frozenset[str]] | None = app.state.get("declared_query_names")
    if names is None:
        names = {}
        for route in app.routes:
            if isinstance(route, HTTPRoute):
                for route_handler, model in route.route_handler_map.values():
                    names[id(route_handler.fn)] = frozenset(
                        p.field_alias for p in model.expected_query_params
                    )
        app.state["declared_query_names"] = names
    # Guards receive a copy of the handler; the function it wraps is the same object.
    return names.get(id(handler.fn))


ANY_QUERY_OPT = "any_query"
"""Route ``opt`` key: this route ignores query parameters it does not declare. Only for pages
reached from links that apps rewrite (messengers and social sites append ``fbclid``,
``utm_*``): refusing those would break a participant's link, and nothing there filters."""


def reject_unknown_query(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """422 naming every query parameter the route does not declare.

    A misspelt filter (``?cty=almaty``) silently ignored answers with everything, which reads as
    if the filter had matched; refusing it shows the mistake.
    """
    given = connection.query_params.keys()
    if not given or handler.opt.get(ANY_QUERY_OPT):
        return
    declared = _declared_query_names(connection.app, handler)
    if declared is None:
        return
    unknown = sorted(name[:40] for name in set(given) - declared)[:10]
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        raise Invalid(
            f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} (this route accepts: {accepted})",
            field=unknown[0],
            errors=[{"field": name, "code": "unknown_parameter"} for name in unknown],
        )


def create_app(
    spec: ServiceSpec,
    settings: Settings,
    limits: HttpLimits | None = None,
    *,
    span_exporter: SpanExporter | None = None,
) -> Litestar:
    """``span_exporter`` turns tracing on with that exporter (tests hand in the SDK's in-memory
    one); otherwise ``OTEL_EXPORTER_OTLP_ENDPOINT`` decides (see :mod:`trainops_shared.tracing`)."""
    runtime = ServiceRuntime(spec, settings, span_exporter)
    limiters = rate_limit_middlewares(
        limits if limits is not None else load_http_limits(),
        public_paths=spec.public_paths,
        unlimited_paths=PUBLIC_PATHS,
    )

    @get(
        "/health",
        include_in_schema=True,
        tags=["operations"],
        sync_to_thread=False,
        operation_class=PublicOperation,
        responses=error_responses(*INPUT, limited=False),
    )
    def health() -> dict[str, str]:
        """The process is alive (it does not check its dependencies: see /ready)."""
        return {"status": "ok", "service": spec.name}

    @get(
        "/ready",
        tags=["operations"],
        operation_class=PublicOperation,
        responses={
            **error_responses(*INPUT, limited=False),
            503: ResponseSpec(
                data_container=dict[str, Any],
                description="Not ready: `checks` says whether the database and NATS answer.",
                generate_examples=False,
            ),
        },
    )
    async def ready() -> Response[dict[str, Any]]:
        """Database and NATS reachable: safe to route traffic here."""
        checks = await runtime.readiness()
        ok = all(checks.values())
        return Response(
            {"status": "ready" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    def provide_principal(request: Request[Any, Any, Any]) -> Principal:
        user = request.user
        assert isinstance(user, Principal)
        return user

    dependencies: dict[str, Provide] = {
        "runtime": Provide(lambda: runtime, sync_to_thread=False, use_cache=True),
        "principal": Provide(provide_principal, sync_to_thread=False),
    }

    exception_handlers: dict[Any, Any] = {
        AppError: _handle_app_error,
        ValidationException: _handle_validation,
        HTTPException: _handle_http,
        TooManyRequestsException: handle_rate_limited,
        Exception: _handle_unexpected,
    }

    app = Litestar(
        route_handlers=[
            health,
            ready,
            *([runtime.metrics.route()] if runtime.metrics else []),
            docs_assets_router(),
            console_assets_router(),
            audit_route(runtime.read),
            *spec.route_handlers,
            *([home_route(spec.title, settings.identity_url)] if spec.home_page else []),
        ],
        request_class=CheckedRequest,
        guards=[reject_unknown_query],
        lifespan=[lifespan, rate_limit_sweeper],
        before_send=[add_security_headers],
        stores=limiters.stores,
        dependencies=dependencies,
        exception_handlers=exception_handlers,
        template_config=spec.template_config,
        middleware=[
            *([runtime.metrics.middleware] if runtime.metrics else []),
            *([runtime.tracing.middleware] if runtime.tracing else []),
            RequestIdMiddleware,
            *limiters.before_auth,
            DefineMiddleware(
                JwtAuthMiddleware,
                config=JwtConfig(
                    settings.jwt_public_key, settings.jwt_issuer, settings.jwt_audience
                ),
                exclude=[*PUBLIC_PATHS, *spec.public_paths],
                revocations=runtime.revocations,
                identity_url=settings.identity_url,
                public_url=settings.public_url,
                # OPTIONS too: route guards read the principal, and an unauthenticated OPTIONS
                # would reach them without one (a 500). CORS preflights never get this far.
                exclude_http_methods=(),
            ),
            *limiters.after_auth,
        ],
        openapi_config=OpenAPIConfig(
            title=spec.title,
            version="1.0.0",
            description=spec.description,
            path="/schema",
            render_plugins=docs_render_plugins(),
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
        cors_config=CORSConfig(allow_origins=[]),
        request_max_body_size=settings.max_body_bytes,
        # Litestar's default logging config installs its own handler and format on the root
        # path, and lines stop being JSON; structlog (configure_logging) owns logging instead.
        logging_config=None,
        debug=False,
    )
    app.state.runtime = runtime
    return app


async def _preflight(settings: Settings) -> None:
    await probe_nats(settings.nats_url, settings.nats_connect_timeout)
    if settings.database_url.startswith("postgresql"):
        import sqlalchemy as sa
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(settings.database_url, connect_args={"timeout": 5})
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            raise DatabaseUnavailable(
                f"cannot reach PostgreSQL at DATABASE_URL ({type(exc).__name__}: {exc})"
            ) from None
        finally:
            await engine.dispose()


WORKER_SPEC_ENV: Final = "TRAINOPS_WORKER_SPEC"
"""Where each worker process finds the service it serves (``service=module:build_spec``):
uvicorn starts its workers as fresh interpreters that import the app by name."""


def run_service(service: str, build_spec: Callable[[Settings], ServiceSpec]) -> None:
    """Entry point of ``python -m trainops_<service>``: validate, check reachability, serve.

    With ``TRAINOPS_WORKERS`` > 1 (PostgreSQL only) uvicorn runs that many worker processes on
    one socket; each builds its own app (:func:`worker_app`), and the database decides what
    runs once: the outbox relay behind a leader lock, mail and follow-ups by row claims.
    """
    try:
        settings = load_settings(service)
        limits = load_http_limits()
        instant_bounds()  # TRAINOPS_DATE_MIN/MAX: read once, now, not inside a first request
        metrics_enabled()
    except SettingsError as exc:
        print(f"trainops-{service}: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(service, settings.log_level, settings.log_format)
    try:
        asyncio.run(_preflight(settings))
    except (NatsUnavailable, DatabaseUnavailable) as exc:
        print(f"trainops-{service}: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(3) from None
    import uvicorn

    app: Any
    if settings.workers > 1:
        os.environ[WORKER_SPEC_ENV] = f"{service}={build_spec.__module__}:{build_spec.__qualname__}"
        app = f"{__name__}:worker_app"
    else:
        app = create_app(build_spec(settings), settings, limits)
    uvicorn.run(
        app,
        **uvicorn_proxy_options(limits),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        factory=settings.workers > 1,
        workers=settings.workers,
    )


def worker_app() -> Litestar:
    """The app of one worker process (uvicorn's factory), built as :func:`run_service` would."""
    service, _, target = os.environ[WORKER_SPEC_ENV].partition("=")
    module, _, name = target.partition(":")
    build_spec = getattr(importlib.import_module(module), name)
    settings = load_settings(service)
    configure_logging(service, settings.log_level, settings.log_format)
    instant_bounds()
    spec: ServiceSpec = build_spec(settings)
    return create_app(spec, settings, load_http_limits())
