"""Ending an account's sessions and tokens: the rows, the events every service follows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy.engine import Connection

from trainops_identity.adapters import repository as repo
from trainops_shared.events import ApiTokenRevoked, SessionRevoked
from trainops_shared.outbox import record_events

SessionReason = Literal["signed_out", "account_disabled", "password_changed", "role_changed"]
TokenReason = Literal["revoked", "account_disabled", "role_changed"]


def revoke_session_in(
    conn: Connection, session_id: str, account_id: uuid.UUID, reason: SessionReason, now: datetime
) -> bool:
    row = repo.session_by_id(conn, session_id)
    if row is None or not repo.revoke_session(conn, session_id, now):
        return False
    record_events(
        conn,
        [
            SessionRevoked(
                aggregate_id=account_id,
                session_id=session_id,
                expires_at=row.absolute_expires_at,
                reason=reason,
            )
        ],
    )
    return True


def revoke_token_event(
    conn: Connection,
    token_id: str,
    account_id: uuid.UUID,
    expires_at: datetime,
    reason: TokenReason,
) -> None:
    record_events(
        conn,
        [
            ApiTokenRevoked(
                aggregate_id=account_id, token_id=token_id, expires_at=expires_at, reason=reason
            )
        ],
    )


def revoke_everything(
    conn: Connection,
    account_id: uuid.UUID,
    reason: Literal["account_disabled", "role_changed"],
    now: datetime,
) -> int:
    """Revoke every live session and token of the account; how many were revoked."""
    count = 0
    for session in repo.live_sessions(conn, account_id, now):
        count += revoke_session_in(conn, session.session_id, account_id, reason, now)
    for token_id, expires_at in repo.live_tokens(conn, account_id, now):
        if repo.revoke_token(conn, token_id, account_id, now) is not None:
            revoke_token_event(conn, token_id, account_id, expires_at, reason)
            count += 1
    return count


def revoke_sessions(
    conn: Connection,
    account_id: uuid.UUID,
    reason: SessionReason,
    now: datetime,
    keep: str | None = None,
) -> int:
    """Revoke the account's live sessions but ``keep``; how many were revoked."""
    return sum(
        revoke_session_in(conn, session.session_id, account_id, reason, now)
        for session in repo.live_sessions(conn, account_id, now)
        if session.session_id != keep
    )
