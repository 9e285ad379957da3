"""The admin's account page: every account, with forms to add, disable/enable, set the role
and set the password (the same use cases as the JSON admin API and ``trainops users``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath, URLEncodedBody

from trainops_identity.api.deps import PrincipalDep, WebDep
from trainops_identity.api.oidc_texts import oidc_texts
from trainops_identity.api.pages import AccountForm, now_utc
from trainops_identity.api.routing import form_post, page_get
from trainops_identity.api.views import language_of, render, text
from trainops_identity.handlers import accounts
from trainops_shared.auth import ROLES, requires
from trainops_shared.errors import AppError


async def _admin_page(
    request: Request[Any, Any, Any],
    web: WebDep,
    principal: PrincipalDep,
    *,
    status: int = 200,
    notice: str = "",
    error: str = "",
) -> Response[str]:
    return render(
        request,
        "admin.html",
        title_key="accounts_title",
        origins=web.origins,
        status=status,
        csrf=principal.csrf or "",
        accounts=await accounts.list_accounts(web.identity),
        roles=ROLES,
        notice=notice,
        error=error,
        o=oidc_texts(language_of(request), web.oidc_organisation) if web.oidc_organisation else {},
    )


@page_get("/admin/accounts", tags=["accounts"], guards=[requires("admin")])
async def admin_page(
    request: Request[Any, Any, Any], web: WebDep, principal: PrincipalDep
) -> Response[str]:
    """Every account, with forms to add, disable/enable, set role and set password."""
    return await _admin_page(request, web, principal)


@form_post(
    "/admin/accounts",
    tags=["accounts"],
    guards=[requires("admin")],
    status_code=201,
    page_errors=(409, 422),
)
async def admin_add(
    request: Request[Any, Any, Any],
    web: WebDep,
    principal: PrincipalDep,
    data: URLEncodedBody[AccountForm],
) -> Response[str]:
    """Add an account from the admin page."""
    try:
        await accounts.add_account(
            web.identity,
            actor=principal.subject,
            username=data.username,
            role=data.role,
            region=data.region or None,
            password=data.password,
            now=now_utc(),
        )
    except AppError as exc:
        return await _admin_page(request, web, principal, status=exc.status, error=exc.detail)
    return await _admin_page(request, web, principal, status=201, notice=text(request, "done"))


@form_post("/admin/accounts/{username:str}", tags=["accounts"], guards=[requires("admin")])
async def admin_change(
    request: Request[Any, Any, Any],
    web: WebDep,
    principal: PrincipalDep,
    username: FromPath[str],
    data: URLEncodedBody[AccountForm],
) -> Response[str]:
    """Disable, enable, set the role of or set the password of one account."""
    now = now_utc()
    try:
        if data.action in ("disable", "enable"):
            await accounts.set_disabled(
                web.identity,
                actor=principal.subject,
                username=username,
                disabled=data.action == "disable",
                now=now,
            )
        elif data.action == "set_role":
            await accounts.set_role(
                web.identity,
                actor=principal.subject,
                username=username,
                role=data.role,
                region=data.region or None,
                now=now,
            )
        elif data.action == "set_password":
            await accounts.set_password(
                web.identity,
                actor=principal.subject,
                username=username,
                password=data.password,
                now=now,
            )
        else:
            return await _admin_page(
                request,
                web,
                principal,
                status=422,
                error="action: one of disable, enable, set_role, set_password",
            )
    except AppError as exc:
        return await _admin_page(request, web, principal, status=exc.status, error=exc.detail)
    return await _admin_page(request, web, principal, notice=text(request, "done"))


ADMIN_PAGES = [admin_page, admin_add, admin_change]
