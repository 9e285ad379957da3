"""Organisation sign-in routes: the redirect to the provider, its callback, and the admin's
list of people waiting for access.

The two browser routes answer with pages (a refusal is a 400 page saying which check failed,
an outage of the provider a 503 page with ``Retry-After``); the admin routes are JSON. Without
``OIDC_ISSUER`` the browser routes answer 404: there is nothing to sign in with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, URLEncodedBody

from trainops_identity.api.cookies import redirect
from trainops_identity.api.deps import PrincipalDep, Web, WebDep
from trainops_identity.api.oidc_texts import oidc_texts
from trainops_identity.api.pages import signed_in
from trainops_identity.api.routing import HTML_OPT, form_post, page_get
from trainops_identity.api.views import language_of, render
from trainops_identity.domain.oidc_errors import OidcProviderUnavailable, OidcSignInRefused
from trainops_identity.domain.redirects import safe_next
from trainops_identity.handlers import oidc as oidc_handlers
from trainops_identity.handlers.oidc import OidcContext
from trainops_shared.auth import ROLES, requires
from trainops_shared.errors import AppError
from trainops_shared.logging import get_logger
from trainops_shared.openapi_docs import BODY, INPUT, PROTECTED, PublicOperation, error_responses

log = get_logger(__name__)

STATE_COOKIE = "trainops_oidc_state"
STATE_COOKIE_PATH = "/sign-in/oidc"
PENDING_PAGE = ResponseSpec(
    data_container=str,
    description="The provider vouched for the person, who has no role yet (admin-assigns "
    "mode): a page saying an admin must give them one.",
    media_type=MediaType.HTML,
    generate_examples=False,
)
OidcDep = NamedDependency[OidcContext | None]
"""``None`` when no provider is configured (the browser routes then answer 404)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _configured(oidc: OidcContext | None) -> OidcContext:
    if oidc is None:
        raise NotFoundException("organisation sign-in is not configured")
    return oidc


def _result_page(
    request: Request[Any, Any, Any],
    web: Web,
    oidc: OidcContext,
    *,
    kind: str,
    status: int,
    next_url: str = "",
    reason: str = "",
    headers: dict[str, str] | None = None,
) -> Response[str]:
    o = oidc_texts(language_of(request), oidc.settings.organisation)
    return render(
        request,
        "oidc_result.html",
        title_key="sign_in_title",
        origins=web.origins,
        status=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
        o=o,
        kind=kind,
        heading=o[f"{kind}_title"],
        hint=o[f"{kind}_hint"],
        reason=reason,
        next=next_url,
    )


def _unavailable(
    request: Request[Any, Any, Any],
    web: Web,
    oidc: OidcContext,
    exc: OidcProviderUnavailable,
    next_url: str,
) -> Response[str]:
    log.warning("oidc_provider_unavailable", reason=exc.message)
    return _result_page(
        request,
        web,
        oidc,
        kind="unavailable",
        status=503,
        next_url=next_url,
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


@get(
    "/sign-in/oidc",
    opt=HTML_OPT,
    operation_class=PublicOperation,
    tags=["sign-in"],
    status_code=303,
    responses=error_responses(404, *INPUT),
)
async def oidc_begin(
    request: Request[Any, Any, Any],
    web: WebDep,
    oidc: OidcDep,
    next_url: Annotated[str | None, QueryParameter(name="next", max_length=2000)] = None,
) -> Response[Any]:
    """Send the browser to the organisation's identity provider (authorization code flow with
    PKCE; ``next``: where to go back after signing in, one of our services only)."""
    context = _configured(oidc)
    target = safe_next(next_url, web.own_origin, web.origins)
    try:
        started = await oidc_handlers.begin_oidc_sign_in(context, next_url=target, now=_now())
    except OidcProviderUnavailable as exc:
        return _unavailable(request, web, context, exc, next_url or "")
    cookie = Cookie(
        key=STATE_COOKIE,
        value=started.state,
        path=STATE_COOKIE_PATH,
        max_age=context.settings.attempt_ttl_seconds,
        httponly=True,
        # Lax: the provider sends the browser back with a top-level GET, which carries it.
        samesite="lax",
        secure=web.cookie_secure,
    )
    response = redirect(started.url, [cookie])
    response.headers["Cache-Control"] = "no-store"
    return response


@get(
    "/sign-in/oidc/callback",
    opt=HTML_OPT,
    operation_class=PublicOperation,
    tags=["sign-in"],
    status_code=303,
    responses={
        200: PENDING_PAGE,
        **error_responses(404, 422),
        **error_responses(400, media_type=MediaType.HTML, limited=False),
    },
)
async def oidc_callback(
    request: Request[Any, Any, Any],
    web: WebDep,
    oidc: OidcDep,
    # Lengths are checked by the use case, so an oversized value is a refusal page like any
    # other bad answer from the provider, not a JSON validation error.
    oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,
    code: FromQuery[str | None] = None,
    error: FromQuery[str | None] = None,
    iss: FromQuery[str | None] = None,
) -> Response[Any]:
    """Where the provider sends the browser back: the code is exchanged, the ID token
    verified and mapped, and a session started. Each refusal (unknown, expired or replayed
    state; a provider error; a refused code; an ID token failing a check; claims that map to
    no role) is a 400 page naming the check, and creates no session and no account."""
    context = _configured(oidc)
    client = request.client.host if request.client else None
    response: Response[Any]
    try:
        outcome = await oidc_handlers.finish_oidc_sign_in(
            context,
            state=oauth_state,
            code=code,
            error=error,
            issuer=iss,
            browser_state=request.cookies.get(STATE_COOKIE),
            client=client,
            now=_now(),
        )
    except OidcSignInRefused as exc:
        log.warning("oidc_sign_in_refused", kind=exc.kind, reason=exc.message)
        response = _result_page(
            request, web, context, kind="refused", status=400, reason=exc.message
        )
    except OidcProviderUnavailable as exc:
        response = _unavailable(request, web, context, exc, "")
    else:
        if outcome.session is None:
            response = _result_page(
                request, web, context, kind="pending", status=200, next_url=outcome.next_url or ""
            )
        else:
            response = signed_in(web, outcome.session, outcome.next_url)
    # One callback per started sign-in: whatever happened, the state cookie has served.
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH)
    return response


# ------------------------------------------------------------------ admin: pending people


class PendingPerson(msgspec.Struct, kw_only=True):
    identity_id: str
    label: str
    """What the provider calls the person (preferred username, e-mail or name)."""
    issuer: str
    first_seen_at: datetime
    last_seen_at: datetime


class PendingList(msgspec.Struct, kw_only=True):
    pending: list[PendingPerson]


class AssignRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=2, max_length=63)]
    role: Annotated[str, msgspec.Meta(max_length=32)]
    region: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class AssignedAccount(msgspec.Struct, kw_only=True):
    username: str
    role: str
    region: str | None


@get(
    "/admin/oidc/pending",
    tags=["accounts"],
    guards=[requires("admin")],
    responses=error_responses(401, 403),
)
async def oidc_pending(web: WebDep) -> PendingList:
    """People the organisation's provider vouched for who have no role yet (admin-assigns
    mode): give each one an account with :func:`oidc_assign`."""
    people = await oidc_handlers.list_pending(web.identity)
    return PendingList(
        pending=[
            PendingPerson(
                identity_id=p.identity_id,
                label=p.label,
                issuer=p.issuer,
                first_seen_at=p.first_seen_at,
                last_seen_at=p.last_seen_at,
            )
            for p in people
        ]
    )


@post(
    "/admin/oidc/pending/{identity_id:str}",
    tags=["accounts"],
    guards=[requires("admin")],
    status_code=201,
    responses=error_responses(*PROTECTED, *BODY, 404, 409),
)
async def oidc_assign(
    web: WebDep,
    principal: PrincipalDep,
    identity_id: FromPath[str],
    data: JSONBody[AssignRequest],
) -> AssignedAccount:
    """Give a pending person an account (organisation sign-in only, no password) with a role
    and, for a coordinator, a region; their next sign-in starts a session."""
    account = await oidc_handlers.assign_pending(
        web.identity,
        actor=principal.subject,
        identity_id=identity_id,
        username=data.username,
        role=data.role,
        region=data.region,
        now=_now(),
    )
    return AssignedAccount(username=account.username, role=account.role, region=account.region)


class AssignForm(msgspec.Struct, kw_only=True):
    csrf_token: str = ""
    username: str = ""
    role: str = ""
    region: str = ""


async def _pending_page(
    request: Request[Any, Any, Any],
    web: Web,
    principal: PrincipalDep,
    *,
    status: int = 200,
    notice: str = "",
    error: str = "",
) -> Response[str]:
    o = oidc_texts(language_of(request), web.oidc_organisation or "OpenID Connect")
    return render(
        request,
        "admin_oidc.html",
        title_key="accounts_title",
        origins=web.origins,
        status=status,
        csrf=principal.csrf or "",
        o=o,
        people=await oidc_handlers.list_pending(web.identity),
        roles=ROLES,
        configured=web.oidc_organisation is not None,
        notice=notice,
        error=error,
    )


@page_get("/admin/oidc", tags=["accounts"], guards=[requires("admin")])
async def oidc_admin_page(
    request: Request[Any, Any, Any], web: WebDep, principal: PrincipalDep
) -> Response[str]:
    """The people waiting for access after an organisation sign-in, each with a form to give
    them a username, a role and (for a coordinator) a region."""
    return await _pending_page(request, web, principal)


@form_post(
    "/admin/oidc/pending/{identity_id:str}/assign",
    tags=["accounts"],
    guards=[requires("admin")],
    page_errors=(404, 409, 422),
)
async def oidc_admin_assign(
    request: Request[Any, Any, Any],
    web: WebDep,
    principal: PrincipalDep,
    identity_id: FromPath[str],
    data: URLEncodedBody[AssignForm],
) -> Response[str]:
    """The admin page's form: give one pending person an account (see ``oidc_assign``)."""
    try:
        account = await oidc_handlers.assign_pending(
            web.identity,
            actor=principal.subject,
            identity_id=identity_id,
            username=data.username,
            role=data.role,
            region=data.region or None,
            now=_now(),
        )
    except AppError as exc:
        return await _pending_page(request, web, principal, status=exc.status, error=exc.detail)
    o = oidc_texts(language_of(request), web.oidc_organisation or "")
    notice = o["assigned"].format(username=account.username)
    return await _pending_page(request, web, principal, notice=notice)


OIDC_ROUTES = [
    oidc_begin,
    oidc_callback,
    oidc_pending,
    oidc_assign,
    oidc_admin_page,
    oidc_admin_assign,
]
