"""The browser pages: sign-in, refresh, sign-out, the account page and the admin page.

They work without JavaScript (plain forms, 303 redirects after a change), in kk/ru/en, at phone
width. Every form carries a CSRF value: the sign-in form a double-submit cookie (there is no
session yet), the others the session's own value, which the shared auth middleware checks.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter, URLEncodedBody

from trainops_identity.api.cookies import (
    SIGN_IN_CSRF_COOKIE,
    cleared_session_cookie,
    form_csrf_cookie,
    new_form_csrf,
    redirect,
    session_claims,
    session_cookie,
)
from trainops_identity.api.deps import PrincipalDep, WebDep
from trainops_identity.api.oidc_texts import oidc_texts
from trainops_identity.api.routing import HTML_OPT, form_post, page_get
from trainops_identity.api.views import language_of, render, text
from trainops_identity.domain.accounts import Account
from trainops_identity.domain.errors import SessionEnded, SignInFailed, TooManyAttempts
from trainops_identity.domain.redirects import safe_next
from trainops_identity.handlers import accounts, tokens
from trainops_identity.handlers.sessions import (
    StartedSession,
    refresh_session,
    sign_in_with_password,
    sign_out,
)
from trainops_shared.auth import SESSION_COOKIE, csrf_matches
from trainops_shared.errors import AppError
from trainops_shared.openapi_docs import BODY, INPUT, PublicOperation, error_responses

HTML_429 = ResponseSpec(
    data_container=str,
    description="Too many failed sign-ins for this account or address: the page says how "
    "long to wait, `Retry-After` in seconds.",
    media_type=MediaType.HTML,
    generate_examples=False,
)


class SignInForm(msgspec.Struct, kw_only=True):
    username: str = ""
    password: str = ""
    next: str = ""
    csrf_token: str = ""


class CsrfForm(msgspec.Struct, kw_only=True):
    csrf_token: str = ""


class PasswordForm(msgspec.Struct, kw_only=True):
    csrf_token: str = ""
    username: str = ""
    current_password: str = ""
    new_password: str = ""


class TokenForm(msgspec.Struct, kw_only=True):
    csrf_token: str = ""
    name: str = ""
    expires_in_days: str = "90"


class AccountForm(msgspec.Struct, kw_only=True):
    csrf_token: str = ""
    action: str = ""
    username: str = ""
    role: str = ""
    region: str = ""
    password: str = ""


def now_utc() -> datetime:
    return datetime.now(UTC)


def signed_in(web: WebDep, started: StartedSession, next_url: str | None) -> Response[None]:
    """The answer to any successful sign-in (password or organisation): the session cookie,
    and the browser sent back where it came from (one of our services only)."""
    target = safe_next(next_url, web.own_origin, web.origins)
    return redirect(target, [session_cookie(started, secure=web.cookie_secure, now=now_utc())])


def _sign_in_page(
    request: Request[Any, Any, Any],
    web: WebDep,
    *,
    next_url: str,
    status: int = 200,
    error: str = "",
    notice: str = "",
    username: str = "",
    headers: dict[str, str] | None = None,
) -> Response[str]:
    csrf = request.cookies.get(SIGN_IN_CSRF_COOKIE) or new_form_csrf()
    org = web.oidc_organisation
    return render(
        request,
        "sign_in_oidc.html" if org else "sign_in.html",
        o=oidc_texts(language_of(request), org) if org else {},
        title_key="sign_in_title",
        origins=web.origins,
        status=status,
        cookies=[form_csrf_cookie(csrf, secure=web.cookie_secure)],
        headers=headers,
        form_csrf=csrf,
        next=next_url,
        error=error,
        notice=notice,
        username=username,
    )


@get(
    "/sign-in",
    opt=HTML_OPT,
    operation_class=PublicOperation,
    tags=["sign-in"],
    sync_to_thread=False,
    media_type=MediaType.HTML,
    responses=error_responses(*INPUT),
)
def sign_in_page(
    request: Request[Any, Any, Any],
    web: WebDep,
    next_url: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
    ended: Annotated[bool, QueryParameter()] = False,
    signed_out: Annotated[bool, QueryParameter()] = False,
) -> Response[str]:
    """The one sign-in page of every service (``next``: where to go back afterwards)."""
    notice = text(request, "signed_out") if signed_out else text(request, "ended") if ended else ""
    return _sign_in_page(request, web, next_url=next_url or "", notice=notice)


@post(
    "/sign-in",
    opt=HTML_OPT,
    operation_class=PublicOperation,
    tags=["sign-in"],
    status_code=303,
    responses={
        **error_responses(413, 422),
        **error_responses(400, 401, media_type=MediaType.HTML, limited=False),
        429: HTML_429,
    },
)
async def sign_in_submit(
    request: Request[Any, Any, Any], web: WebDep, data: URLEncodedBody[SignInForm]
) -> Response[Any]:
    """Check the password; on success set the session cookie and go back to ``next``."""
    expected = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    if not csrf_matches(expected, data.csrf_token):
        # 400, not 403: a stale or missing form value is what a person with an old tab sends.
        return _sign_in_page(
            request,
            web,
            next_url=data.next,
            status=400,
            error=text(request, "bad_form"),
            username=data.username[:64],
        )
    client = request.client.host if request.client else None
    try:
        started = await sign_in_with_password(
            web.identity,
            username=data.username,
            password=data.password,
            client=client,
            now=now_utc(),
        )
    except TooManyAttempts as exc:
        minutes = max(1, (exc.retry_after + 59) // 60)
        return _sign_in_page(
            request,
            web,
            next_url=data.next,
            status=429,
            error=text(request, "too_many", minutes=minutes),
            username=data.username[:64],
            headers={"Retry-After": str(exc.retry_after)},
        )
    except SignInFailed:
        return _sign_in_page(
            request,
            web,
            next_url=data.next,
            status=401,
            error=text(request, "failed"),
            username=data.username[:64],
        )
    return signed_in(web, started, data.next)


def _sign_in_again(web: WebDep, next_url: str | None, *, ended: bool) -> Response[None]:
    target = safe_next(next_url, web.own_origin, web.origins)
    query = f"next={quote(target, safe='')}" + ("&ended=true" if ended else "")
    return redirect(f"/sign-in?{query}", [cleared_session_cookie(secure=web.cookie_secure)])


@get(
    "/refresh",
    opt=HTML_OPT,
    operation_class=PublicOperation,
    tags=["sign-in"],
    status_code=303,
    responses=error_responses(*INPUT),
)
async def refresh(
    request: Request[Any, Any, Any],
    web: WebDep,
    next_url: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
) -> Response[None]:
    """A new short-lived cookie token while the session lives (idle and absolute expiry,
    not signed out, account enabled); else back to the sign-in page."""
    claims = session_claims(request.cookies.get(SESSION_COOKIE, ""), web.jwt)
    if claims is None:
        return _sign_in_again(web, next_url, ended=False)
    try:
        started = await refresh_session(web.identity, session_id=claims["sid"], now=now_utc())
    except SessionEnded:
        return _sign_in_again(web, next_url, ended=True)
    return signed_in(web, started, next_url)


@post(
    "/sign-out",
    opt=HTML_OPT,
    operation_class=PublicOperation,
    tags=["sign-in"],
    status_code=303,
    responses=error_responses(403, *BODY),
)
async def sign_out_submit(
    request: Request[Any, Any, Any], web: WebDep, data: URLEncodedBody[CsrfForm]
) -> Response[Any]:
    """End the session on every service (its expired cookie still names it: signing out
    after a pause works). The CSRF value is the session's own."""
    claims = session_claims(request.cookies.get(SESSION_COOKIE, ""), web.jwt)
    given = request.headers.get("x-csrf-token") or data.csrf_token
    if claims is None:
        return redirect(
            "/sign-in?signed_out=true", [cleared_session_cookie(secure=web.cookie_secure)]
        )
    if not csrf_matches(str(claims["csrf"]), given):
        raise CsrfRefused()
    await sign_out(web.identity, session_id=claims["sid"], actor=str(claims["sub"]), now=now_utc())
    return redirect("/sign-in?signed_out=true", [cleared_session_cookie(secure=web.cookie_secure)])


class CsrfRefused(AppError):
    status = 403
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__(
            "missing or wrong CSRF token: the sign-out form's csrf_token (or X-CSRF-Token)"
        )


# ----------------------------------------------------------------------------------------------
# Signed-in pages
# ----------------------------------------------------------------------------------------------


async def _account_page(
    request: Request[Any, Any, Any],
    web: WebDep,
    principal: PrincipalDep,
    *,
    status: int = 200,
    notice: str = "",
    error: str = "",
    new_token: str = "",
) -> Response[str]:
    found = await accounts.find_account(web.identity, principal.subject)
    # A development token (``trainops token``) names a subject that is no account: the page
    # shows who the token says, and there are no personal tokens or password to manage.
    account = found or Account.new(
        uuid.UUID(int=0),
        username=principal.subject,
        role=principal.role,
        region=principal.region,
        now=now_utc(),
    )
    listed = await tokens.list_tokens(web.identity, username=account.username)
    return render(
        request,
        "account.html",
        title_key="account_title",
        origins=web.origins,
        status=status,
        csrf=principal.csrf or "",
        account=account,
        tokens=listed,
        notice=notice,
        error=error,
        new_token=new_token,
    )


@page_get("/", tags=["account"])
async def account_page(
    request: Request[Any, Any, Any], web: WebDep, principal: PrincipalDep
) -> Response[str]:
    """The signed-in person's page: who they are, their API tokens, their password."""
    return await _account_page(request, web, principal)


@form_post("/account/password", tags=["account"])
async def account_password(
    request: Request[Any, Any, Any],
    web: WebDep,
    principal: PrincipalDep,
    data: URLEncodedBody[PasswordForm],
) -> Response[str]:
    """Change one's own password (the current one is required)."""
    try:
        await accounts.change_own_password(
            web.identity,
            username=principal.subject,
            current=data.current_password,
            new=data.new_password,
            now=now_utc(),
            session_id=principal.session_id,
        )
    except AppError as exc:
        return await _account_page(request, web, principal, status=exc.status, error=exc.detail)
    return await _account_page(request, web, principal, notice=text(request, "password_changed"))


@form_post("/account/tokens", tags=["account"], status_code=201)
async def account_create_token(
    request: Request[Any, Any, Any],
    web: WebDep,
    principal: PrincipalDep,
    data: URLEncodedBody[TokenForm],
) -> Response[str]:
    """Create a personal API token; the page shows it once."""
    try:
        days = int(data.expires_in_days)
    except ValueError:
        days = 0
    try:
        created = await tokens.create_token(
            web.identity, username=principal.subject, name=data.name, days=days, now=now_utc()
        )
    except AppError as exc:
        return await _account_page(request, web, principal, status=exc.status, error=exc.detail)
    return await _account_page(request, web, principal, status=201, new_token=created.token)


@form_post(
    "/account/tokens/{token_id:str}/revoke",
    tags=["account"],
    page_errors=(404,),
    json_errors=(422,),
)
async def account_revoke_token(
    request: Request[Any, Any, Any],
    web: WebDep,
    principal: PrincipalDep,
    token_id: FromPath[str],
    data: URLEncodedBody[CsrfForm],
) -> Response[str]:
    """Revoke one of one's personal API tokens (every service refuses it at once)."""
    try:
        await tokens.revoke_token(
            web.identity, username=principal.subject, token_id=token_id, now=now_utc()
        )
    except AppError as exc:
        return await _account_page(request, web, principal, status=exc.status, error=exc.detail)
    return await _account_page(request, web, principal, notice=text(request, "done"))


PAGES = [
    sign_in_page,
    sign_in_submit,
    refresh,
    sign_out_submit,
    account_page,
    account_password,
    account_create_token,
    account_revoke_token,
]
