"""Account use cases: add, list, disable/enable, set password, set role, change own password.

Used by the admin API and pages and by ``trainops users`` alike. Hashing (Argon2, tens of
milliseconds of CPU) runs in a worker thread and outside the write transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Connection

from trainops_identity.adapters import repository as repo
from trainops_identity.domain.accounts import (
    Account,
    check_password,
    check_role,
    check_username,
)
from trainops_identity.domain.errors import AccountExists, AccountNotFound, Invalid
from trainops_identity.handlers.context import Identity
from trainops_identity.handlers.revocation import revoke_everything, revoke_sessions
from trainops_shared.events import uuid7


async def find_account(ctx: Identity, username: str) -> Account | None:
    name = username.strip().lower()
    return await ctx.store.read(lambda conn: repo.account_by_username(conn, name))


async def list_accounts(ctx: Identity) -> list[Account]:
    return await ctx.store.read(repo.list_accounts)


async def count_accounts(ctx: Identity) -> int:
    return await ctx.store.read(repo.count_accounts)


async def add_account(
    ctx: Identity,
    *,
    actor: str,
    username: str,
    role: str,
    region: str | None,
    password: str | None,
    now: datetime,
) -> Account:
    """A new account; ``password=None`` makes one that signs in only through the organisation's
    identity provider."""
    name = check_username(username)
    role, region = check_role(role, region)
    hashed = None
    if password is not None:
        check_password(password, name)
        hashed = await asyncio.to_thread(ctx.passwords.hash, password)
    account = Account.new(
        uuid7(), username=name, role=role, region=region, now=now, password_hash=hashed
    )

    def insert(conn: Connection) -> None:
        if repo.account_by_username(conn, name) is not None:
            raise AccountExists(f"an account {name!r} exists already", field="username")
        repo.insert_account(conn, account)
        repo.record_audit(
            conn,
            actor=actor,
            action="account_added",
            record_type="account",
            record_id=name,
            now=now,
            detail={"role": role, "region": region},
        )

    await ctx.store.write(insert)
    return replace(account, password_hash=None)


def _existing(conn: Connection, username: str) -> Account:
    account = repo.account_by_username(conn, username.strip().lower())
    if account is None:
        raise AccountNotFound(f"no account {username!r}", field="username")
    return account


async def set_disabled(
    ctx: Identity, *, actor: str, username: str, disabled: bool, now: datetime
) -> Account:
    """Disable (every session and token revoked at once) or enable an account."""

    def change(conn: Connection) -> Account:
        account = _existing(conn, username)
        revoked = 0
        if disabled:
            revoked = revoke_everything(conn, account.account_id, "account_disabled", now)
        if account.disabled != disabled:
            repo.update_account(conn, account.account_id, now, disabled=disabled)
        repo.record_audit(
            conn,
            actor=actor,
            action="account_disabled" if disabled else "account_enabled",
            record_type="account",
            record_id=account.username,
            now=now,
            detail={"revoked": revoked},
        )
        return replace(account, disabled=disabled, changed_at=now, password_hash=None)

    return await ctx.store.write(change)


async def set_role(
    ctx: Identity, *, actor: str, username: str, role: str, region: str | None, now: datetime
) -> Account:
    """A new role/region; sessions and tokens carrying the old one are revoked."""
    role, region = check_role(role, region)

    def change(conn: Connection) -> Account:
        account = _existing(conn, username)
        revoked = revoke_everything(conn, account.account_id, "role_changed", now)
        repo.update_account(conn, account.account_id, now, role=role, region=region)
        repo.record_audit(
            conn,
            actor=actor,
            action="account_role_set",
            record_type="account",
            record_id=account.username,
            now=now,
            detail={"role": role, "region": region, "revoked": revoked},
        )
        return replace(account, role=role, region=region, changed_at=now, password_hash=None)

    return await ctx.store.write(change)


async def set_password(
    ctx: Identity, *, actor: str, username: str, password: str, now: datetime
) -> None:
    """An administrator sets someone's password (a forgotten one); every session of the
    account ends."""
    account = await ctx.store.read(lambda conn: _existing(conn, username))
    check_password(password, account.username)
    hashed = await asyncio.to_thread(ctx.passwords.hash, password)
    await _store_password(ctx, account.account_id, account.username, hashed, actor, now)


async def change_own_password(
    ctx: Identity,
    *,
    username: str,
    current: str,
    new: str,
    now: datetime,
    session_id: str | None = None,
) -> None:
    """The owner changes their password; the current one is required. Their other sessions
    end (whoever else knew the old password is signed out); ``session_id``, the one they
    changed it from, stays."""
    account = await ctx.store.read(lambda conn: _existing(conn, username))
    if not await asyncio.to_thread(ctx.passwords.verify, account.password_hash, current):
        raise Invalid("current_password: wrong password", field="current_password")
    check_password(new, account.username)
    if new == current:
        raise Invalid("new_password: the new password equals the current one", field="new_password")
    hashed = await asyncio.to_thread(ctx.passwords.hash, new)
    await _store_password(
        ctx, account.account_id, account.username, hashed, account.username, now, session_id
    )


async def _store_password(
    ctx: Identity,
    account_id: uuid.UUID,
    username: str,
    hashed: str,
    actor: str,
    now: datetime,
    keep_session: str | None = None,
) -> None:
    def store(conn: Connection) -> None:
        repo.update_account(conn, account_id, now, password_hash=hashed)
        revoked = revoke_sessions(conn, account_id, "password_changed", now, keep=keep_session)
        repo.record_audit(
            conn,
            actor=actor,
            action="password_set" if actor != username else "password_changed",
            record_type="account",
            record_id=username,
            now=now,
            detail={"revoked": revoked},
        )

    await ctx.store.write(store)
