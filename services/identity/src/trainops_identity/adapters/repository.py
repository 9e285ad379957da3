"""SQL of the identity service: accounts, sessions, personal tokens, failures, audit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from trainops_identity.adapters.tables import (
    accounts,
    api_tokens,
    sessions,
    sign_in_failures,
)
from trainops_identity.domain.accounts import Account
from trainops_identity.domain.sessions import SessionRow
from trainops_shared.audit import record_audit as shared_record_audit
from trainops_shared.timeutil import as_utc


def _account(row: RowMapping) -> Account:
    return Account(
        account_id=uuid.UUID(row["account_id"]),
        username=row["username"],
        role=row["role"],
        region=row["region"],
        disabled=bool(row["disabled"]),
        created_at=as_utc(row["created_at"]),
        changed_at=as_utc(row["changed_at"]),
        password_hash=row["password_hash"],
    )


def account_by_username(conn: Connection, username: str) -> Account | None:
    row = (
        conn.execute(sa.select(accounts).where(accounts.c.username == username)).mappings().first()
    )
    return _account(row) if row else None


def account_by_id(conn: Connection, account_id: str) -> Account | None:
    row = (
        conn.execute(sa.select(accounts).where(accounts.c.account_id == account_id))
        .mappings()
        .first()
    )
    return _account(row) if row else None


def list_accounts(conn: Connection) -> list[Account]:
    rows = conn.execute(sa.select(accounts).order_by(accounts.c.username)).mappings()
    return [_account(r) for r in rows]


def count_accounts(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one())


def insert_account(conn: Connection, account: Account) -> None:
    conn.execute(
        accounts.insert().values(
            account_id=str(account.account_id),
            username=account.username,
            role=account.role,
            region=account.region,
            password_hash=account.password_hash,
            disabled=account.disabled,
            created_at=account.created_at,
            changed_at=account.changed_at,
        )
    )


def update_account(conn: Connection, account_id: uuid.UUID, now: datetime, **values: Any) -> None:
    conn.execute(
        accounts.update()
        .where(accounts.c.account_id == str(account_id))
        .values(changed_at=now, **values)
    )


def _session(row: RowMapping) -> SessionRow:
    revoked = row["revoked_at"]
    return SessionRow(
        session_id=row["session_id"],
        account_id=row["account_id"],
        csrf=row["csrf"],
        created_at=as_utc(row["created_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
        idle_expires_at=as_utc(row["idle_expires_at"]),
        absolute_expires_at=as_utc(row["absolute_expires_at"]),
        revoked_at=as_utc(revoked) if revoked is not None else None,
    )


def insert_session(conn: Connection, row: SessionRow, method: str) -> None:
    conn.execute(
        sessions.insert().values(
            session_id=row.session_id,
            account_id=row.account_id,
            csrf=row.csrf,
            method=method,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            idle_expires_at=row.idle_expires_at,
            absolute_expires_at=row.absolute_expires_at,
            revoked_at=None,
        )
    )


def session_by_id(conn: Connection, session_id: str) -> SessionRow | None:
    row = (
        conn.execute(sa.select(sessions).where(sessions.c.session_id == session_id))
        .mappings()
        .first()
    )
    return _session(row) if row else None


def touch_session(conn: Connection, session_id: str, now: datetime, idle_expires: datetime) -> None:
    conn.execute(
        sessions.update()
        .where(sessions.c.session_id == session_id)
        .values(last_seen_at=now, idle_expires_at=idle_expires)
    )


def revoke_session(conn: Connection, session_id: str, now: datetime) -> bool:
    result = conn.execute(
        sessions.update()
        .where(sessions.c.session_id == session_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


def live_sessions(conn: Connection, account_id: uuid.UUID, now: datetime) -> list[SessionRow]:
    rows = conn.execute(
        sa.select(sessions).where(
            sessions.c.account_id == str(account_id),
            sessions.c.revoked_at.is_(None),
            sessions.c.absolute_expires_at > now,
        )
    ).mappings()
    return [_session(r) for r in rows]


def insert_token(
    conn: Connection,
    *,
    token_id: uuid.UUID,
    account_id: uuid.UUID,
    name: str,
    token_hash: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        api_tokens.insert().values(
            token_id=str(token_id),
            account_id=str(account_id),
            name=name,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
    )


def tokens_of(conn: Connection, account_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            api_tokens.c.token_id,
            api_tokens.c.name,
            api_tokens.c.created_at,
            api_tokens.c.expires_at,
            api_tokens.c.revoked_at,
        )
        .where(api_tokens.c.account_id == str(account_id))
        .order_by(api_tokens.c.created_at.desc())
    ).mappings()
    return [
        {
            "token_id": r["token_id"],
            "name": r["name"],
            "created_at": as_utc(r["created_at"]),
            "expires_at": as_utc(r["expires_at"]),
            "revoked_at": as_utc(r["revoked_at"]) if r["revoked_at"] is not None else None,
        }
        for r in rows
    ]


def live_tokens(
    conn: Connection, account_id: uuid.UUID, now: datetime
) -> list[tuple[str, datetime]]:
    rows = conn.execute(
        sa.select(api_tokens.c.token_id, api_tokens.c.expires_at).where(
            api_tokens.c.account_id == str(account_id),
            api_tokens.c.revoked_at.is_(None),
            api_tokens.c.expires_at > now,
        )
    )
    return [(r.token_id, as_utc(r.expires_at)) for r in rows]


def revoke_token(
    conn: Connection, token_id: str, account_id: uuid.UUID, now: datetime
) -> datetime | None:
    """Revoke the account's token; its expiry if it was live, ``None`` if there is no such
    live token of this account."""
    row = conn.execute(
        sa.select(api_tokens.c.expires_at).where(
            api_tokens.c.token_id == token_id,
            api_tokens.c.account_id == str(account_id),
            api_tokens.c.revoked_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    conn.execute(
        api_tokens.update().where(api_tokens.c.token_id == token_id).values(revoked_at=now)
    )
    return as_utc(row.expires_at)


def count_failures(conn: Connection, key: str, since: datetime) -> tuple[int, datetime | None]:
    """How many failures ``key`` has since ``since``, and the oldest of them."""
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.min(sign_in_failures.c.at)).where(
            sign_in_failures.c.key == key, sign_in_failures.c.at >= since
        )
    ).one()
    return int(row[0]), (as_utc(row[1]) if row[1] is not None else None)


def record_failure(conn: Connection, keys: list[str], now: datetime) -> None:
    conn.execute(sign_in_failures.insert(), [{"key": k, "at": now} for k in keys])


def forget_failures_before(conn: Connection, before: datetime) -> None:
    conn.execute(sign_in_failures.delete().where(sign_in_failures.c.at < before))


def record_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    record_type: str,
    record_id: str | None,
    now: datetime,
    detail: Mapping[str, str | int | bool | None] | None = None,
) -> None:
    """One entry of the service's audit log (``GET /audit``), in the caller's transaction."""
    shared_record_audit(
        conn, actor, f"identity.{action}", record_type, record_id or "unknown", detail, at=now
    )
