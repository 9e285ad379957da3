"""SQL of organisation sign-in: identities linked to accounts, and single-use sign-in attempts."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from trainops_identity.adapters.oidc_tables import oidc_attempts, oidc_identities
from trainops_shared.timeutil import as_utc


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in in progress, as stored for its callback."""

    nonce: str
    code_verifier: str
    next_url: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    identity_id: str
    issuer: str
    subject: str
    account_id: str | None
    label: str
    first_seen_at: datetime
    last_seen_at: datetime


def state_digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", errors="replace")).hexdigest()


def insert_attempt(
    conn: Connection,
    *,
    state: str,
    nonce: str,
    code_verifier: str,
    next_url: str | None,
    now: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        oidc_attempts.insert().values(
            state_hash=state_digest(state),
            nonce=nonce,
            code_verifier=code_verifier,
            next_url=next_url,
            created_at=now,
            expires_at=expires_at,
        )
    )


def take_attempt(conn: Connection, state: str) -> Attempt | None:
    """Remove and return the attempt of ``state``: of two callbacks racing with the same state,
    only the one whose DELETE removed the row gets it."""
    key = state_digest(state)
    row = conn.execute(sa.select(oidc_attempts).where(oidc_attempts.c.state_hash == key))
    found = row.mappings().first()
    if found is None:
        return None
    deleted = conn.execute(oidc_attempts.delete().where(oidc_attempts.c.state_hash == key))
    if deleted.rowcount != 1:
        return None
    return Attempt(
        nonce=found["nonce"],
        code_verifier=found["code_verifier"],
        next_url=found["next_url"],
        expires_at=as_utc(found["expires_at"]),
    )


def forget_attempts_before(conn: Connection, before: datetime) -> int:
    result = conn.execute(oidc_attempts.delete().where(oidc_attempts.c.expires_at < before))
    return int(result.rowcount or 0)


def count_attempts(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(oidc_attempts)).scalar_one())


def _identity(row: RowMapping) -> ExternalIdentity:
    return ExternalIdentity(
        identity_id=row["identity_id"],
        issuer=row["issuer"],
        subject=row["subject"],
        account_id=row["account_id"],
        label=row["label"],
        first_seen_at=as_utc(row["first_seen_at"]),
        last_seen_at=as_utc(row["last_seen_at"]),
    )


def identity_by_subject(conn: Connection, issuer: str, subject: str) -> ExternalIdentity | None:
    row = (
        conn.execute(
            sa.select(oidc_identities).where(
                oidc_identities.c.issuer == issuer, oidc_identities.c.subject == subject
            )
        )
        .mappings()
        .first()
    )
    return _identity(row) if row else None


def identity_by_id(conn: Connection, identity_id: str) -> ExternalIdentity | None:
    row = (
        conn.execute(sa.select(oidc_identities).where(oidc_identities.c.identity_id == identity_id))
        .mappings()
        .first()
    )
    return _identity(row) if row else None


def insert_identity(
    conn: Connection,
    *,
    issuer: str,
    subject: str,
    account_id: str | None,
    label: str,
    now: datetime,
) -> ExternalIdentity:
    identity = ExternalIdentity(
        identity_id=str(uuid.uuid4()),
        issuer=issuer,
        subject=subject,
        account_id=account_id,
        label=label,
        first_seen_at=now,
        last_seen_at=now,
    )
    conn.execute(
        oidc_identities.insert().values(
            identity_id=identity.identity_id,
            issuer=issuer,
            subject=subject,
            account_id=account_id,
            label=label,
            first_seen_at=now,
            last_seen_at=now,
        )
    )
    return identity


def seen_identity(conn: Connection, identity_id: str, *, label: str, now: datetime) -> None:
    conn.execute(
        oidc_identities.update()
        .where(oidc_identities.c.identity_id == identity_id)
        .values(label=label, last_seen_at=now)
    )


def link_identity(conn: Connection, identity_id: str, account_id: str) -> bool:
    """Link a pending identity to an account; ``False`` when it was linked meanwhile."""
    result = conn.execute(
        oidc_identities.update()
        .where(
            oidc_identities.c.identity_id == identity_id,
            oidc_identities.c.account_id.is_(None),
        )
        .values(account_id=account_id)
    )
    return result.rowcount == 1


def pending_identities(conn: Connection) -> list[ExternalIdentity]:
    rows = conn.execute(
        sa.select(oidc_identities)
        .where(oidc_identities.c.account_id.is_(None))
        .order_by(oidc_identities.c.first_seen_at)
    ).mappings()
    return [_identity(r) for r in rows]


def identity_of_account(conn: Connection, account_id: str) -> ExternalIdentity | None:
    row = (
        conn.execute(sa.select(oidc_identities).where(oidc_identities.c.account_id == account_id))
        .mappings()
        .first()
    )
    return _identity(row) if row else None
