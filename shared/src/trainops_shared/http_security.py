"""Rate limits, safe response headers and the local API docs UI every trainops service serves.

Limits are Litestar's own :class:`~litestar.middleware.rate_limit.RateLimitMiddleware`, three
instances with separate stores so their counts never mix:

* **principal** — every authenticated request, keyed on the token's subject, role and region
  (two coordinators behind one address each have their own budget);
* **anonymous** — the routes a service lists as public (the feedback page ``/f/{token}`` and
  ``POST /responses``, where the token in the request is the credential), keyed on the client
  address;
* **refused credentials** — requests answered 401 (a bad bearer token) or 404 on a public
  route (a feedback link that names no invitation), keyed on the client address: once an
  address has been refused too often it gets 429 everywhere but health, readiness and the
  docs until the window ends, so neither bearer tokens nor links can be guessed at speed.
  Only refusals count (a valid token or link costs one store lookup), so this one can be
  strict while the anonymous limit stays wide enough for a training room behind one NAT
  address.

The client address is the socket's peer. ``X-Forwarded-For`` is honoured only from the proxies
named in ``TRAINOPS_TRUSTED_PROXIES`` (uvicorn trusts 127.0.0.1 by default, which would let any
local client pick a fresh address per request). Health, readiness and the docs are never limited.

Every response gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
``X-Frame-Options: DENY``; every response but the versioned docs assets gets
``Cache-Control: no-store`` (JSON, CSV and iCal answers carry personal data or links that are
credentials; a shared cache must keep none of them) and a Content-Security-Policy unless the
handler set its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import anyio
from litestar import Request, Response
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import (
    RateLimitConfig,
    RateLimitMiddleware,
    get_remote_address,
)
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from trainops_shared.auth import Principal
from trainops_shared.logging import get_logger
from trainops_shared.settings import SettingsError

if TYPE_CHECKING:
    from litestar import Litestar

RateUnit = Literal["second", "minute", "hour"]
RateLimit = tuple[int, RateUnit]
"""At most ``count`` requests per fixed window of one ``unit``."""

RATE_UNITS: Final[tuple[RateUnit, ...]] = ("second", "minute", "hour")

SWAGGER_UI_VERSION: Final = "5.35.0"
STATIC_DIR: Final = Path(__file__).parent / "static"
ASSETS_PATH: Final = "/schema/assets"
CONSOLE_ASSETS: Final = "/assets/console"
"""The consoles' stylesheet (:mod:`trainops_shared.console.pages`); versioned like the docs'."""
_CACHED_PREFIXES: Final = (ASSETS_PATH + "/", CONSOLE_ASSETS + "/")
"""Where the vendored docs UI files are served (under ``/schema``: public, never limited)."""

_SWAGGER = f"{ASSETS_PATH}/swagger-ui/{SWAGGER_UI_VERSION}"

API_CSP: Final = "default-src 'none'; frame-ancestors 'none'"
"""For answers that are data, not pages: a browser opening one runs and embeds nothing."""

DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
"""The docs pages: Swagger UI's inline start-up script, everything else from this service only."""

log = get_logger(__name__)

_STORES: Final = ("rate_limit_principal", "rate_limit_anonymous", "rate_limit_failed_auth")


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """The rate limits of a service (``None``: that limit is off)."""

    principal: RateLimit | None = (1200, "minute")
    anonymous: RateLimit | None = (1200, "minute")
    failed_auth: RateLimit | None = (60, "minute")
    trusted_proxies: tuple[str, ...] = field(default=())


def _rate(env: Mapping[str, str], name: str, default: RateLimit | None) -> RateLimit | None:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw == "off":
        return None
    count, _, unit = raw.partition("/")
    if not count.isdigit() or not 1 <= int(count) <= 10_000_000 or unit not in RATE_UNITS:
        raise SettingsError(
            f"{name}={raw!r} is not a rate: use N/second, N/minute or N/hour "
            "(1 <= N <= 10000000), or off"
        )
    return int(count), unit


def load_http_limits(env: Mapping[str, str] | None = None) -> HttpLimits:
    """Read ``RATE_LIMIT_PRINCIPAL``, ``RATE_LIMIT_ANONYMOUS``, ``RATE_LIMIT_FAILED_AUTH``
    (``N/second|minute|hour`` or ``off``) and ``TRAINOPS_TRUSTED_PROXIES`` (comma-separated
    addresses whose ``X-Forwarded-For`` is believed); raises :class:`SettingsError`."""
    env = os.environ if env is None else env
    defaults = HttpLimits()
    proxies = tuple(
        p.strip() for p in (env.get("TRAINOPS_TRUSTED_PROXIES") or "").split(",") if p.strip()
    )
    return HttpLimits(
        principal=_rate(env, "RATE_LIMIT_PRINCIPAL", defaults.principal),
        anonymous=_rate(env, "RATE_LIMIT_ANONYMOUS", defaults.anonymous),
        failed_auth=_rate(env, "RATE_LIMIT_FAILED_AUTH", defaults.failed_auth),
        trusted_proxies=proxies,
    )


def uvicorn_proxy_options(limits: HttpLimits) -> dict[str, Any]:
    """uvicorn's proxy settings: ``X-Forwarded-For`` rewrites the client address only when it
    comes from a configured proxy (uvicorn's own default trusts 127.0.0.1)."""
    if not limits.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(limits.trusted_proxies)}


def principal_key(request: Request[Any, Any, Any]) -> str:
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        return "anonymous"
    return f"{principal.subject}\x1f{principal.role}\x1f{principal.region or ''}"


async def _is_authenticated(request: Request[Any, Any, Any]) -> bool:
    # An async predicate: Litestar runs a sync one in a worker thread, a hop per request.
    return isinstance(request.scope.get("user"), Principal)


class _UncontendedStore(MemoryStore):
    """Litestar's memory store whose lock does not yield to the event loop when it is free.

    The stock lock yields on every acquisition; the limiters take one two or three times per
    request, and each yield re-enters the whole middleware stack: that was most of their cost
    (~150 µs a request on this machine). The store's behaviour is otherwise the same.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = anyio.Lock(fast_acquire=True)


class _Limiter(RateLimitMiddleware):
    """Litestar's rate limiter with the same uncontended lock as :class:`_UncontendedStore`."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        super().__init__(app, config)
        self._lock = anyio.Lock(fast_acquire=True)


class RateLimited(TooManyRequestsException):
    """A 429 whose detail says which limit was reached."""


class FailedCredentialRateLimitMiddleware(_Limiter):
    """Litestar's rate limiter counting only refused credentials, per client address.

    A refused credential is a 401 on any route (a bad bearer token) or a 404 on a public route
    (a feedback link that names no live invitation: the token is the credential there). Sits in
    front of the authentication middleware: a request from an address that has been refused
    ``max_requests`` times in the window gets 429 before anything looks at it; a request that
    is then refused adds one to its address's history. Answers that succeed cost one lookup.
    """

    def __init__(self, app: ASGIApp, config: RateLimitConfig, public: re.Pattern[str]) -> None:
        super().__init__(app, config)
        self.public = public

    def _refused(self, status: int | None, path: str) -> bool:
        return status == 401 or (status == 404 and self.public.search(path) is not None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope)
        store = self.config.get_store_from_app(app)
        key = self.cache_key_from_request(request)
        seen = await self.retrieve_cached_history(key, store)
        if len(seen.history) >= self.max_requests:
            raise RateLimited(
                detail="too many refused credentials (bearer tokens or links) from this address",
                headers=self.create_response_headers(cache_object=seen),
            )
        answered: list[int] = []

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered.append(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        except Exception as exc:
            status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
            if isinstance(exc, NotAuthorizedException) or self._refused(status, scope["path"]):
                await self._count(key, store)
            raise
        if answered and self._refused(answered[0], scope["path"]):
            await self._count(key, store)

    async def _count(self, key: str, store: Store) -> None:
        async with self._lock:
            cache_object = await self.retrieve_cached_history(key, store)
            await self.set_cached_history(key=key, cache_object=cache_object, store=store)


@dataclass(frozen=True, slots=True)
class RateLimitMiddlewares:
    """The limiters in the order they must wrap the authentication middleware."""

    before_auth: list[DefineMiddleware]
    after_auth: list[DefineMiddleware]
    stores: dict[str, Store]
    """The limiters' stores, for ``Litestar(stores=...)``."""


def rate_limit_middlewares(
    limits: HttpLimits, *, public_paths: Sequence[str], unlimited_paths: Sequence[str]
) -> RateLimitMiddlewares:
    """Build the three limiters; ``public_paths`` (regexes) are the anonymous routes,
    ``unlimited_paths`` (health, readiness, docs) are never counted."""
    before: list[DefineMiddleware] = []
    after: list[DefineMiddleware] = []
    exempt = list(unlimited_paths)
    # No public routes: a pattern that matches no path.
    public = re.compile("|".join(f"(?:{p})" for p in public_paths) or r"(?!)")
    if limits.failed_auth is not None:
        count, unit = limits.failed_auth
        config = RateLimitConfig(
            rate_limit=(unit, count),
            exclude=exempt or None,
            middleware_class=FailedCredentialRateLimitMiddleware,
            store=_STORES[2],
        )
        before.append(DefineMiddleware(config.middleware_class, config=config, public=public))
    if limits.principal is not None:
        count, unit = limits.principal
        after.append(
            RateLimitConfig(
                rate_limit=(unit, count),
                exclude=exempt or None,
                identifier_for_request=principal_key,
                check_throttle_handler=_is_authenticated,
                middleware_class=_Limiter,
                store=_STORES[0],
            ).middleware
        )
    if limits.anonymous is not None and public_paths:
        count, unit = limits.anonymous

        async def is_public(request: Request[Any, Any, Any]) -> bool:
            return public.search(request.scope["path"]) is not None

        after.append(
            RateLimitConfig(
                rate_limit=(unit, count),
                exclude=exempt or None,
                identifier_for_request=get_remote_address,
                check_throttle_handler=is_public,
                middleware_class=_Limiter,
                store=_STORES[1],
            ).middleware
        )
    stores: dict[str, Store] = {name: _UncontendedStore() for name in _STORES}
    return RateLimitMiddlewares(before_auth=before, after_auth=after, stores=stores)


def handle_rate_limited(
    request: Request[Any, Any, Any], exc: TooManyRequestsException
) -> Response[dict[str, Any]]:
    """429 in the services' error shape, with ``Retry-After`` and the ``RateLimit-*`` headers."""
    headers = dict(exc.headers or {})
    handler = request.scope.get("route_handler")
    # The route's template, never the path: a feedback path holds the link's token.
    route = sorted(getattr(handler, "paths", None) or ["?"])[0]
    log.warning(
        "rate_limited",
        route=route,
        policy=headers.get("RateLimit-Policy"),
        refused_credentials=isinstance(exc, RateLimited),
    )
    try:
        retry_after = max(1, int(headers.get("RateLimit-Reset", "1")))
    except ValueError:
        retry_after = 1
    limit, _sep, window = headers.get("RateLimit-Policy", "").partition("; w=")
    what = exc.detail if isinstance(exc, RateLimited) else "too many requests"
    within = f" (at most {limit} per {window} s)" if limit and window else ""
    headers["Retry-After"] = str(retry_after)
    body = {
        "status": 429,
        "error": "rate_limited",
        "detail": f"{what}{within}; retry in {retry_after} s",
        "retry_after": retry_after,
    }
    return Response(body, status_code=429, headers=headers)


@contextlib.asynccontextmanager
async def rate_limit_sweeper(app: Litestar, every: float = 60.0) -> AsyncIterator[None]:
    """Drop expired windows from the limiters' memory stores now and then.

    Litestar's ``MemoryStore`` forgets an expired key only when that key is read again, so
    addresses seen once would otherwise stay in memory for the life of the process.
    """

    async def sweep() -> None:
        while True:
            await asyncio.sleep(every)
            for name in _STORES:
                store = app.stores.get(name)
                if isinstance(store, MemoryStore):
                    await store.delete_expired()

    task = asyncio.create_task(sweep(), name="rate-limit-sweeper")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


_ALWAYS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: the safe-by-default headers on every HTTP response, error answers
    and unknown routes included (a handler's own value of a header wins)."""
    if message["type"] != "http.response.start":
        return
    path: str = scope.get("path", "")
    headers = list(message.get("headers") or [])
    present = {name.lower() for name, _ in headers}
    wanted = list(_ALWAYS)
    if not path.startswith(_CACHED_PREFIXES):
        docs = path == "/schema" or path.startswith("/schema/")
        wanted.append((b"cache-control", b"no-store"))
        wanted.append((b"content-security-policy", (DOCS_CSP if docs else API_CSP).encode()))
    headers.extend(item for item in wanted if item[0] not in present)
    message["headers"] = headers


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI from the vendored files, at ``/schema`` and ``/schema/swagger``."""
    favicon = f"<link rel='icon' type='image/png' href='{_SWAGGER}/favicon-32x32.png'>"
    return [
        SwaggerRenderPlugin(
            version=SWAGGER_UI_VERSION,
            js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
            css_url=f"{_SWAGGER}/swagger-ui.css",
            standalone_preset_js_url=f"{_SWAGGER}/swagger-ui-standalone-preset.js",
            path=["/", "/swagger"],
            favicon=favicon,
        )
    ]


def docs_assets_router() -> Router:
    """The vendored files; their path names the version, so browsers may keep them a year."""
    return create_static_files_router(
        path=f"{ASSETS_PATH}/swagger-ui",
        directories=[STATIC_DIR / "swagger-ui"],
        name="docs-assets",
        cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True),
        include_in_schema=False,
    )


def console_assets_router() -> Router:
    """The consoles' stylesheet; the version is in the path, so browsers keep it a year."""
    return create_static_files_router(
        path=CONSOLE_ASSETS,
        directories=[STATIC_DIR / "console"],
        name="console-assets",
        cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True),
        include_in_schema=False,
    )
