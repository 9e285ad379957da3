"""The session cookie and the sign-in form's CSRF cookie.

``trainops_session`` is host-only (no ``Domain``) with ``Path=/``: browsers send it to every
port of the host, so every service of one host receives it. ``HttpOnly`` (no script reads it),
``SameSite=Lax`` (no cross-site POST carries it), ``Secure`` behind TLS. It lives as long as the
session may; the token inside expires within minutes and ``/refresh`` replaces it.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Final

import jwt
from litestar import Response
from litestar.datastructures import Cookie

from trainops_identity.handlers.sessions import StartedSession
from trainops_shared.auth import ALGORITHM, SESSION_COOKIE, JwtConfig

SIGN_IN_CSRF_COOKIE: Final = "trainops_sign_in_csrf"


def session_cookie(started: StartedSession, *, secure: bool, now: datetime) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=started.token,
        path="/",
        max_age=max(1, int((started.session_expires_at - now).total_seconds())),
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def cleared_session_cookie(*, secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path="/",
        max_age=0,
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def new_form_csrf() -> str:
    return secrets.token_urlsafe(24)


def form_csrf_cookie(value: str, *, secure: bool) -> Cookie:
    """The sign-in form's double-submit value: the page repeats it in a hidden field, and a
    cross-site form can set neither."""
    return Cookie(
        key=SIGN_IN_CSRF_COOKIE,
        value=value,
        path="/sign-in",
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def session_claims(cookie: str, config: JwtConfig) -> dict[str, Any] | None:
    """The claims of a session cookie signed by us, expired or not (refresh and sign-out need
    the ``sid`` of an expired one); ``None`` for anything else."""
    try:
        claims: dict[str, Any] = jwt.decode(
            cookie,
            config.verifying_key,
            algorithms=[ALGORITHM],
            issuer=config.issuer,
            audience=config.audience,
            options={"verify_exp": False, "require": ["sid", "sub", "exp"]},
        )
    except jwt.InvalidTokenError:
        return None
    if not isinstance(claims.get("sid"), str) or not isinstance(claims.get("csrf"), str):
        return None
    return claims


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response[None]:
    return Response(
        content=None, status_code=303, headers={"Location": location}, cookies=cookies or []
    )
