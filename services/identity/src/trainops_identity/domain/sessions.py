"""Session lifetimes: idle and absolute expiry, and when a browser must sign in again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    cookie_token: timedelta = timedelta(minutes=5)
    """Lifetime of the JWT in the cookie: how long a revoked session may still be used by a
    service that missed the revocation event (all others refuse it at once)."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: str
    account_id: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    idle_expires_at: datetime
    absolute_expires_at: datetime
    revoked_at: datetime | None


def session_ended(row: SessionRow, now: datetime) -> str | None:
    """Why ``row`` can no longer be used at ``now`` (``None``: it still can)."""
    if row.revoked_at is not None:
        return "signed out"
    if now >= row.absolute_expires_at:
        return "the session reached its maximum lifetime"
    if now >= row.idle_expires_at:
        return "the session was idle too long"
    return None


def touched(row: SessionRow, policy: SessionPolicy, now: datetime) -> datetime:
    """The new idle expiry after activity at ``now`` (never past the absolute one)."""
    return min(now + policy.idle, row.absolute_expires_at)


def token_expiry(row: SessionRow, policy: SessionPolicy, now: datetime) -> datetime:
    """When the cookie token issued at ``now`` expires: short, and never after the session."""
    return min(now + policy.cookie_token, row.idle_expires_at, row.absolute_expires_at)
