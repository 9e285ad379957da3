"""Personal API tokens: created by a signed-in person, shown once, stored as a SHA-256 digest.

A token is an EdDSA JWT with the owner's role and region and its own ``jti``, so every service
verifies it offline like any bearer token; revoking it publishes ``ApiTokenRevoked`` and every
service refuses it from then on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from trainops_identity.adapters import repository as repo
from trainops_identity.domain.accounts import Account
from trainops_identity.domain.errors import AccountNotFound, Invalid, NotFound
from trainops_identity.handlers.context import Identity
from trainops_identity.handlers.revocation import revoke_token_event
from trainops_shared.events import uuid7

MAX_TOKEN_DAYS = 365
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token_id: str
    name: str
    token: str
    created_at: datetime
    expires_at: datetime

    def __repr__(self) -> str:
        return f"CreatedToken(token_id={self.token_id!r}, name={self.name!r})"


def check_token_request(name: str, days: int) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise Invalid(f"name: 1 to {MAX_NAME} printable characters", field="name")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise Invalid(
            f"expires_in_days: from 1 to {MAX_TOKEN_DAYS} (a token lives at most a year)",
            field="expires_in_days",
        )
    return name


async def _owner(ctx: Identity, username: str) -> Account:
    account = await ctx.store.read(lambda conn: repo.account_by_username(conn, username))
    if account is None or account.disabled:
        raise AccountNotFound("no such account", field="username")
    return account


async def create_token(
    ctx: Identity, *, username: str, name: str, days: int, now: datetime
) -> CreatedToken:
    name = check_token_request(name, days)
    account = await _owner(ctx, username)
    token_uuid = uuid7()
    token_id = str(token_uuid)
    expires = now + timedelta(days=days)
    token = ctx.token_signer.sign(
        subject=account.username,
        role=account.role,
        region=account.region,
        now=now,
        expires_at=expires,
        token_id=token_id,
    )
    digest = hashlib.sha256(token.encode()).hexdigest()

    def insert(conn: Connection) -> None:
        repo.insert_token(
            conn,
            token_id=token_uuid,
            account_id=account.account_id,
            name=name,
            token_hash=digest,
            now=now,
            expires_at=expires,
        )
        repo.record_audit(
            conn,
            actor=account.username,
            action="api_token_created",
            record_type="api_token",
            record_id=token_id,
            now=now,
            detail={"expires_in_days": days},
        )

    await ctx.store.write(insert)
    return CreatedToken(token_id, name, token, now, expires)


async def list_tokens(ctx: Identity, *, username: str) -> list[dict[str, Any]]:
    """The account's tokens; none for a subject that is no account (a development token)."""

    def listed(conn: Connection) -> list[dict[str, Any]]:
        account = repo.account_by_username(conn, username)
        return [] if account is None else repo.tokens_of(conn, account.account_id)

    return await ctx.store.read(listed)


async def revoke_token(ctx: Identity, *, username: str, token_id: str, now: datetime) -> None:
    account = await _owner(ctx, username)

    def revoke(conn: Connection) -> None:
        expires = repo.revoke_token(conn, token_id, account.account_id, now)
        if expires is None:
            raise NotFound("no live token with this id among yours", field="token_id")
        revoke_token_event(conn, token_id, account.account_id, expires, "revoked")
        repo.record_audit(
            conn,
            actor=account.username,
            action="api_token_revoked",
            record_type="api_token",
            record_id=token_id,
            now=now,
        )

    await ctx.store.write(revoke)
