"""Bearer JWT authentication, role guards and region scoping.

Tokens are EdDSA (Ed25519) JWTs. The issuer (``trainops token``, the launcher, later an identity
component) holds the private key; services hold only the public key, so a leaked service
configuration or host compromise of a service cannot mint tokens, and an HMAC secret shared by
four services (any one of which could forge admin tokens for all) does not exist. The verifier
accepts exactly one algorithm, so ``alg: none``, HS256 signed with the public key's text
(RS/HS confusion) or a token of another key all fail; ``exp``, ``iss``, ``aud`` and ``sub`` are
required.

Browsers carry the same kind of token in the ``trainops_session`` cookie, set by the identity
service: short-lived (minutes), bound to a session row there through ``sid``, with a ``csrf``
claim. A request authenticated by the cookie that changes state must repeat that value (form
field ``csrf_token`` or header ``X-CSRF-Token``): another site can make a browser send the cookie,
never read it. Bearer calls are exempt (a browser never adds an ``Authorization`` header by
itself). An anonymous or expired page request is redirected to the identity service (sign-in or
``/refresh``) instead of answered 401, and a token whose ``sid`` or ``jti`` was revoked is refused
at once (:mod:`trainops_shared.revocations`).

Region scoping lives in the data-access layer (:func:`region_filter`), not only in route guards:
a coordinator's queries are filtered by region before they run, so another region's rows are
simply not found (404), and their existence is never revealed.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args
from urllib.parse import quote

import jwt
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware._utils import should_bypass_middleware
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Method,
    Receive,
    Scope,
    Scopes,
    Send,
)

from trainops_shared.credentials import parse_public_key

Role = Literal["admin", "programme_staff", "coordinator", "reporting"]
ROLES: tuple[str, ...] = get_args(Role)
"""The same roles as a tuple, for argument parsers and membership checks."""


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: str
    region: str | None = None
    session_id: str | None = None
    """``sid`` of a browser session's token (the identity service's session row)."""
    token_id: str | None = None
    """``jti`` of a personal API token."""
    csrf: str | None = field(default=None, repr=False)
    """The session's CSRF value, which unsafe cookie-authenticated requests must repeat."""

    @property
    def region_scope(self) -> str | None:
        """The one region this principal may see, or ``None`` for every region."""
        return self.region if self.role == "coordinator" else None


ALGORITHM = "EdDSA"
"""The only signature algorithm issued and accepted."""


@dataclass(frozen=True, slots=True)
class JwtConfig:
    public_key: str | Ed25519PublicKey
    """The issuer's Ed25519 public key (PEM text or a loaded key)."""
    issuer: str = "trainops"
    audience: str = "trainops"
    leeway_seconds: int = 30
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = self.public_key
        if not isinstance(key, Ed25519PublicKey):
            key = parse_public_key(key)
        object.__setattr__(self, "_key", key)

    @property
    def verifying_key(self) -> Ed25519PublicKey:
        return self._key


def issue_token(
    *,
    key: Ed25519PrivateKey,
    role: str,
    region: str | None = None,
    subject: str = "dev",
    issuer: str = "trainops",
    audience: str = "trainops",
    ttl_seconds: int = 8 * 3600,
    session_id: str | None = None,
    token_id: str | None = None,
    csrf: str | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "coordinator" and not region:
        raise ValueError("a coordinator token needs a region (the coordinator's city)")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if region:
        claims["region"] = region
    if session_id:
        claims["sid"] = session_id
    if token_id:
        claims["jti"] = token_id
    if csrf:
        claims["csrf"] = csrf
    return jwt.encode(claims, key, algorithm=ALGORITHM)


class TokenCache:
    """Verified tokens by their exact text, until they expire.

    A coordinator's client sends the same token with every request; verifying the HMAC and the
    claims once instead of per request takes ~25 µs off each call. A token's claims cannot change
    without its text changing, so the cache only has to respect ``exp``.
    """

    def __init__(self, config: JwtConfig, size: int = 4096) -> None:
        self.config = config
        self.size = size
        self._entries: dict[str, tuple[Principal, float]] = {}

    def principal(self, token: str) -> Principal:
        hit = self._entries.get(token)
        now = time.time()
        if hit is not None and now < hit[1] + self.config.leeway_seconds:
            return hit[0]
        principal, expires_at = _decode(token, self.config)
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[token] = (principal, expires_at)
        return principal


def decode_token(token: str, config: JwtConfig) -> Principal:
    return _decode(token, config)[0]


def _decode(token: str, config: JwtConfig) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token,
            config.verifying_key,
            algorithms=[ALGORITHM],
            issuer=config.issuer,
            audience=config.audience,
            leeway=config.leeway_seconds,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthorizedException("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise NotAuthorizedException(f"invalid token: {exc}") from None
    role = claims.get("role")
    if role not in ROLES:
        raise NotAuthorizedException(f"token has no valid role (got {role!r})")
    region = claims.get("region")
    if role == "coordinator" and not isinstance(region, str):
        raise NotAuthorizedException("coordinator token has no region claim")
    optional = {name: claims.get(name) for name in ("sid", "jti", "csrf")}
    for name, value in optional.items():
        if value is not None and not isinstance(value, str):
            raise NotAuthorizedException(f"token claim {name} is not a string")
    principal = Principal(
        subject=str(claims["sub"]),
        role=role,
        region=region,
        session_id=optional["sid"],
        token_id=optional["jti"],
        csrf=optional["csrf"],
    )
    return principal, float(claims["exp"])


SESSION_COOKIE = "trainops_session"
"""The browser cookie holding a session's short-lived token (set by the identity service)."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Revocations(Protocol):
    """What the middleware asks of the revocation set (:mod:`trainops_shared.revocations`)."""

    def is_revoked(self, principal: Principal) -> bool: ...


class SignInRequired(NotAuthorizedException):
    """A browser page request without a usable session: answered with a redirect, not 401."""

    def __init__(self, location: str) -> None:
        super().__init__("sign-in required")
        self.location = location


def is_page_request(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """A browser navigating (GET/HEAD asking for HTML), as opposed to a script calling the API."""
    method = connection.scope.get("method", "GET")
    accept = connection.headers.get("accept", "")
    return method in ("GET", "HEAD") and "text/html" in accept


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a session without a CSRF value matches nothing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class JwtAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(
        self,
        app: ASGIApp,
        config: JwtConfig,
        exclude: str | list[str] | None = None,
        exclude_from_auth_key: str = "exclude_from_auth",
        exclude_http_methods: Sequence[Method] | None = None,
        scopes: Scopes | None = None,
        revocations: Revocations | None = None,
        identity_url: str | None = None,
        public_url: str | None = None,
    ) -> None:
        super().__init__(
            app,
            exclude=exclude,
            exclude_from_auth_key=exclude_from_auth_key,
            exclude_http_methods=exclude_http_methods,
            scopes=scopes,
        )
        self.config = config
        self.tokens = TokenCache(config)
        self.revocations = revocations
        self.identity_url = (identity_url or "").rstrip("/")
        self.public_url = (public_url or "").rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The base class's __call__, with the connection given ``receive``: the CSRF check may
        # read a form body (parsed once, cached on the scope for the handler).
        try:
            if not should_bypass_middleware(
                exclude_http_methods=self.exclude_http_methods,
                exclude_opt_key=self.exclude_opt_key,
                exclude_path_pattern=self.exclude,
                scope=scope,
                scopes=self.scopes,
            ):
                result = await self.authenticate_request(ASGIConnection(scope, receive))
                scope["user"] = result.user
                scope["auth"] = result.auth
        except SignInRequired as exc:
            headers = [(b"location", exc.location.encode("latin-1")), (b"content-length", b"0")]
            start: HTTPResponseStartEvent = {
                "type": "http.response.start",
                "status": 303,
                "headers": headers,
            }
            await send(start)
            body: HTTPResponseBodyEvent = {
                "type": "http.response.body",
                "body": b"",
                "more_body": False,
            }
            await send(body)
            return
        await self.app(scope, receive, send)

    def _back_url(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        query = connection.scope.get("query_string", b"").decode("latin-1")
        path = connection.scope.get("path", "/")
        return f"{self.public_url}{path}" + (f"?{query}" if query else "")

    def _redirect(self, connection: ASGIConnection[Any, Any, Any, Any], route: str) -> None:
        """Send a browser to identity's ``route`` (sign-in or refresh) with ``next`` back here."""
        if self.identity_url and is_page_request(connection):
            target = quote(self._back_url(connection), safe="")
            raise SignInRequired(f"{self.identity_url}{route}?next={target}")

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if header:
            if scheme.lower() != "bearer" or not token:
                raise NotAuthorizedException("missing bearer token (Authorization: Bearer <JWT>)")
            principal = self.tokens.principal(token.strip())
            self._refuse_revoked(principal)
            return AuthenticationResult(user=principal, auth=token)
        cookie = connection.cookies.get(SESSION_COOKIE, "")
        if not cookie:
            self._redirect(connection, "/sign-in")
            raise NotAuthorizedException(
                "missing bearer token (Authorization: Bearer <JWT>) or session cookie"
            )
        try:
            principal = self.tokens.principal(cookie)
        except NotAuthorizedException as exc:
            self._redirect(connection, "/refresh" if exc.detail == "token expired" else "/sign-in")
            raise
        if principal.session_id is None:
            raise NotAuthorizedException("the session cookie holds no session token")
        if self.revocations is not None and self.revocations.is_revoked(principal):
            self._redirect(connection, "/sign-in")
            raise NotAuthorizedException("the session was signed out")
        if connection.scope.get("method", "GET") not in _SAFE_METHODS:
            await self._check_csrf(connection, principal)
        return AuthenticationResult(user=principal, auth=cookie)

    def _refuse_revoked(self, principal: Principal) -> None:
        if self.revocations is not None and self.revocations.is_revoked(principal):
            raise NotAuthorizedException("token revoked")

    async def _check_csrf(
        self, connection: ASGIConnection[Any, Any, Any, Any], principal: Principal
    ) -> None:
        given = connection.headers.get(CSRF_HEADER)
        content_type = connection.headers.get("content-type", "")
        if given is None and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            # The parsed form is cached on the ASGI scope: the handler reads the same body.
            form = await Request[Any, Any, Any](connection.scope, connection.receive).form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        if not csrf_matches(principal.csrf, given):
            raise PermissionDeniedException(
                "missing or wrong CSRF token: a signed-in browser's change must carry the "
                f"session's {CSRF_FIELD} form field or {CSRF_HEADER} header"
            )


def requires(*roles: str) -> Any:
    """A Litestar guard allowing only ``roles``."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal) or principal.role not in allowed:
            raise PermissionDeniedException(
                f"this action needs one of the roles: {', '.join(sorted(allowed))}"
            )

    return guard


def region_filter(principal: Principal, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """A WHERE clause restricting ``column`` (a city/region column) to what ``principal`` sees."""
    scope = principal.region_scope
    return sa.true() if scope is None else column == scope


def scoped(
    query: sa.Select[Any], principal: Principal, column: sa.ColumnElement[Any]
) -> sa.Select[Any]:
    return query.where(region_filter(principal, column))
