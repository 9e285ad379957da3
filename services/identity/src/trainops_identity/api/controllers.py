"""The identity JSON API: the caller's own account and tokens, and account administration.

Administration is for the admin role only. Personal tokens are made for the caller, with the
caller's role and region: nobody mints a token for someone else or with more than they have.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import get, post
from litestar.params import JSONBody, PathParameter

from trainops_identity.api.deps import PrincipalDep, WebDep
from trainops_identity.api.schemas import (
    AccountOut,
    CreatedTokenOut,
    Me,
    NewAccount,
    NewPassword,
    NewRole,
    NewToken,
    PasswordChange,
    TokenOut,
)
from trainops_identity.domain.accounts import Account
from trainops_identity.handlers import accounts, tokens
from trainops_shared.auth import requires
from trainops_shared.openapi_docs import BODY, INPUT, error_responses

ADMIN = [requires("admin")]


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        username=account.username,
        role=account.role,
        region=account.region,
        disabled=account.disabled,
        created_at=account.created_at,
        changed_at=account.changed_at,
    )


Name = Annotated[str, PathParameter(max_length=64)]


def _now() -> datetime:
    return datetime.now(UTC)


@get("/me", tags=["account"], responses=error_responses(401))
async def me(principal: PrincipalDep) -> Me:
    """Who the caller is, as every service sees them."""
    return Me(
        username=principal.subject,
        role=principal.role,
        region=principal.region,
        session=principal.session_id is not None,
    )


@post("/me/password", tags=["account"], status_code=204, responses=error_responses(401, 404, *BODY))
async def change_password(
    web: WebDep, principal: PrincipalDep, data: JSONBody[PasswordChange]
) -> None:
    """Change one's own password; the current one is required."""
    await accounts.change_own_password(
        web.identity,
        username=principal.subject,
        current=data.current_password,
        new=data.new_password,
        now=_now(),
        session_id=principal.session_id,
    )


@get("/tokens", tags=["tokens"], responses=error_responses(401, 404))
async def list_tokens(web: WebDep, principal: PrincipalDep) -> list[TokenOut]:
    """The caller's personal API tokens (never the tokens themselves)."""
    rows = await tokens.list_tokens(web.identity, username=principal.subject)
    return [TokenOut(**row) for row in rows]


@post("/tokens", tags=["tokens"], status_code=201, responses=error_responses(401, 404, *BODY))
async def create_token(
    web: WebDep, principal: PrincipalDep, data: JSONBody[NewToken]
) -> CreatedTokenOut:
    """A personal API token with the caller's role and region, valid up to a year; the token
    is in this answer only."""
    created = await tokens.create_token(
        web.identity,
        username=principal.subject,
        name=data.name,
        days=data.expires_in_days,
        now=_now(),
    )
    return CreatedTokenOut(
        token_id=created.token_id,
        name=created.name,
        expires_at=created.expires_at,
        token=created.token,
    )


@post(
    "/tokens/{token_id:str}/revoke",
    tags=["tokens"],
    status_code=204,
    responses=error_responses(401, 404, *INPUT),
)
async def revoke_token(
    web: WebDep, principal: PrincipalDep, token_id: Annotated[str, PathParameter(max_length=64)]
) -> None:
    """Revoke one of the caller's tokens: every service refuses it from now on."""
    await tokens.revoke_token(
        web.identity, username=principal.subject, token_id=token_id, now=_now()
    )


@get("/accounts", tags=["accounts"], guards=ADMIN, responses=error_responses(401, 403))
async def list_accounts(web: WebDep) -> list[AccountOut]:
    """Every account (admin)."""
    return [account_out(a) for a in await accounts.list_accounts(web.identity)]


@post(
    "/accounts",
    tags=["accounts"],
    guards=ADMIN,
    status_code=201,
    responses=error_responses(401, 403, 409, *BODY),
)
async def add_account(
    web: WebDep, principal: PrincipalDep, data: JSONBody[NewAccount]
) -> AccountOut:
    """A new account with a password of at least 12 characters (admin)."""
    account = await accounts.add_account(
        web.identity,
        actor=principal.subject,
        username=data.username,
        role=data.role,
        region=data.region,
        password=data.password,
        now=_now(),
    )
    return account_out(account)


@post(
    "/accounts/{username:str}/disable",
    tags=["accounts"],
    guards=ADMIN,
    status_code=200,
    responses=error_responses(401, 403, 404, *INPUT),
)
async def disable_account(web: WebDep, principal: PrincipalDep, username: Name) -> AccountOut:
    """Disable an account: its sessions and tokens are revoked everywhere at once (admin)."""
    account = await accounts.set_disabled(
        web.identity, actor=principal.subject, username=username, disabled=True, now=_now()
    )
    return account_out(account)


@post(
    "/accounts/{username:str}/enable",
    tags=["accounts"],
    guards=ADMIN,
    status_code=200,
    responses=error_responses(401, 403, 404, *INPUT),
)
async def enable_account(web: WebDep, principal: PrincipalDep, username: Name) -> AccountOut:
    """Enable a disabled account (admin)."""
    account = await accounts.set_disabled(
        web.identity, actor=principal.subject, username=username, disabled=False, now=_now()
    )
    return account_out(account)


@post(
    "/accounts/{username:str}/password",
    tags=["accounts"],
    guards=ADMIN,
    status_code=204,
    responses=error_responses(401, 403, 404, *BODY),
)
async def set_password(
    web: WebDep, principal: PrincipalDep, username: Name, data: JSONBody[NewPassword]
) -> None:
    """Set an account's password (admin)."""
    await accounts.set_password(
        web.identity, actor=principal.subject, username=username, password=data.password, now=_now()
    )


@post(
    "/accounts/{username:str}/role",
    tags=["accounts"],
    guards=ADMIN,
    status_code=200,
    responses=error_responses(401, 403, 404, *BODY),
)
async def set_role(
    web: WebDep, principal: PrincipalDep, username: Name, data: JSONBody[NewRole]
) -> AccountOut:
    """Set an account's role and region; its sessions and tokens are revoked (admin)."""
    account = await accounts.set_role(
        web.identity,
        actor=principal.subject,
        username=username,
        role=data.role,
        region=data.region,
        now=_now(),
    )
    return account_out(account)


ROUTES = [
    me,
    change_password,
    list_tokens,
    create_token,
    revoke_token,
    list_accounts,
    add_account,
    disable_account,
    enable_account,
    set_password,
    set_role,
]
