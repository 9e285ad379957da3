"""Browser sessions: password sign-in, the shared start of every session, refresh, sign-out.

:func:`start_session` is the one way a session begins, whatever proved who the person is: the
password sign-in below calls it after the password checked out, and organisation sign-in
(OpenID Connect) calls it with the account it mapped the verified external identity to. It
writes the session row and the audit entry and returns the cookie token; the API sets the
cookie (``trainops_identity.api.cookies.signed_in``).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from trainops_identity.adapters import repository as repo
from trainops_identity.domain.accounts import MAX_PASSWORD_LENGTH, Account
from trainops_identity.domain.errors import SessionEnded, SignInFailed, TooManyAttempts
from trainops_identity.domain.sessions import SessionRow, session_ended, token_expiry, touched
from trainops_identity.handlers.context import Identity
from trainops_identity.handlers.revocation import revoke_session_in


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A live session and the short-lived token for its cookie (never logged, never stored)."""

    session_id: str
    csrf: str
    token: str
    token_expires_at: datetime
    session_expires_at: datetime
    account: Account

    def __repr__(self) -> str:
        return f"StartedSession(session_id={self.session_id!r}, account={self.account.username!r})"


def _started(ctx: Identity, account: Account, row: SessionRow, now: datetime) -> StartedSession:
    """The session as its cookie carries it, with a fresh short-lived token."""
    expires = token_expiry(row, ctx.policy, now)
    token = ctx.token_signer.sign(
        subject=account.username,
        role=account.role,
        region=account.region,
        now=now,
        expires_at=expires,
        session_id=row.session_id,
        csrf=row.csrf,
    )
    return StartedSession(
        session_id=row.session_id,
        csrf=row.csrf,
        token=token,
        token_expires_at=expires,
        session_expires_at=row.absolute_expires_at,
        account=account,
    )


async def start_session(
    ctx: Identity,
    account: Account,
    *,
    method: str,
    now: datetime,
    client: str | None = None,
    detail: dict[str, str | int | bool | None] | None = None,
) -> StartedSession:
    """Begin a session for ``account``, already proven to be the person signing in.

    ``method`` names the proof (``password``, ``oidc``); ``detail`` adds non-secret facts to
    the audit entry (e.g. the identity provider's issuer). A disabled account gets no session.
    """
    if account.disabled:
        raise SignInFailed()
    row = SessionRow(
        session_id=secrets.token_urlsafe(24),
        account_id=str(account.account_id),
        csrf=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
        idle_expires_at=min(now + ctx.policy.idle, now + ctx.policy.absolute),
        absolute_expires_at=now + ctx.policy.absolute,
        revoked_at=None,
    )

    def insert(conn: Connection) -> None:
        current = repo.account_by_id(conn, row.account_id)
        if current is None or current.disabled:
            raise SignInFailed()
        repo.insert_session(conn, row, method)
        repo.record_audit(
            conn,
            actor=account.username,
            action="signed_in",
            record_type="session",
            record_id=_audit_id(row.session_id),
            now=now,
            detail={"method": method, "client_ip": client, **(detail or {})},
        )

    await ctx.store.write(insert)
    return _started(ctx, account, row, now)


def _audit_id(session_id: str) -> str:
    """The session as the audit log names it: a digest, so the log holds nothing that could
    be replayed (the sid alone is not a credential, but it need not be there in clear)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def _failure_keys(username: str, client: str | None) -> list[str]:
    typed = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    keys = [f"account:{typed}"]
    if client:
        keys.append(f"address:{client[:80]}")
    return keys


async def sign_in_with_password(
    ctx: Identity, *, username: str, password: str, client: str | None, now: datetime
) -> StartedSession:
    """Check the password and start a session, or refuse with one message for every failure.

    Failed attempts are counted per typed username and per client address in the database
    (they survive a restart and count across replicas). Over the limit, the answer is 429 with
    the time to wait, checked before any password is verified. An unknown username costs the
    same Argon2 verification as a known one.
    """
    keys = _failure_keys(username, client)
    limits = ctx.limits
    since = now - limits.window

    def attempts(conn: Connection) -> tuple[list[tuple[int, datetime | None]], Account | None]:
        counts = [repo.count_failures(conn, key, since) for key in keys]
        name = username.strip().lower()
        return counts, repo.account_by_username(conn, name) if len(name) <= 64 else None

    counts, account = await ctx.store.read(attempts)
    for key, (count, oldest) in zip(keys, counts, strict=True):
        limit = limits.per_account if key.startswith("account:") else limits.per_address
        if count >= limit and oldest is not None:
            retry = int((oldest + limits.window - now).total_seconds()) + 1
            raise TooManyAttempts(max(1, retry))
    stored = account.password_hash if account is not None else None
    candidate = password if len(password) <= MAX_PASSWORD_LENGTH else ""
    ok = await asyncio.to_thread(ctx.passwords.verify, stored, candidate)
    if not ok or account is None or account.disabled or not candidate:

        def fail(conn: Connection) -> None:
            repo.record_failure(conn, keys, now)
            repo.forget_failures_before(conn, now - timedelta(days=1))
            repo.record_audit(
                conn,
                actor=account.username if account is not None else "anonymous",
                action="sign_in_failed",
                record_type="account",
                record_id=account.username if account is not None else None,
                now=now,
                detail={
                    "client_ip": client,
                    "reason": "disabled" if account is not None and ok else "credentials",
                },
            )

        await ctx.store.write(fail)
        raise SignInFailed()
    if stored is not None and ctx.passwords.needs_rehash(stored):
        rehashed = await asyncio.to_thread(ctx.passwords.hash, password)
        await ctx.store.write(
            lambda conn: repo.update_account(conn, account.account_id, now, password_hash=rehashed)
        )
    return await start_session(ctx, account, method="password", now=now, client=client)


async def refresh_session(ctx: Identity, *, session_id: str, now: datetime) -> StartedSession:
    """A new cookie token for a session that is still live (and its idle expiry moved on)."""

    def refresh(conn: Connection) -> tuple[SessionRow, Account]:
        row = repo.session_by_id(conn, session_id)
        if row is None:
            raise SessionEnded("no such session; sign in again")
        reason = session_ended(row, now)
        if reason is not None:
            raise SessionEnded(f"{reason}; sign in again")
        account = repo.account_by_id(conn, row.account_id)
        if account is None or account.disabled:
            raise SessionEnded("the account is disabled")
        idle = touched(row, ctx.policy, now)
        repo.touch_session(conn, session_id, now, idle)
        return SessionRow(
            session_id=row.session_id,
            account_id=row.account_id,
            csrf=row.csrf,
            created_at=row.created_at,
            last_seen_at=now,
            idle_expires_at=idle,
            absolute_expires_at=row.absolute_expires_at,
            revoked_at=None,
        ), account

    row, account = await ctx.store.write(refresh)
    return _started(ctx, account, row, now)


async def sign_out(ctx: Identity, *, session_id: str, actor: str, now: datetime) -> bool:
    """Revoke the session everywhere (the event reaches every service); ``False`` if it was
    already ended."""

    def revoke(conn: Connection) -> bool:
        row = repo.session_by_id(conn, session_id)
        if row is None:
            return False
        account = repo.account_by_id(conn, row.account_id)
        if account is None:
            return False
        done = revoke_session_in(conn, session_id, account.account_id, "signed_out", now)
        if done:
            repo.record_audit(
                conn,
                actor=actor,
                action="signed_out",
                record_type="session",
                record_id=_audit_id(session_id),
                now=now,
            )
        return done

    return await ctx.store.write(revoke)
