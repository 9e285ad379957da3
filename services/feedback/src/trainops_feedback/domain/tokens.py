"""Invitation tokens: creation, hashing and the expiry rule.

The token is the only credential of a feedback link (participants do not log in), so it is
random enough to be unguessable (256 bits) and only its SHA-256 is stored: a leaked database
dump or log of invitation rows cannot be turned back into working links.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Final

TOKEN_BYTES: Final = 32
DEFAULT_TOKEN_TTL: Final = timedelta(days=60)
"""Default lifetime of a link: long enough for a participant to answer after a busy month,
short enough that old links in forwarded messages stop working."""

_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{16,128}")


def new_token() -> str:
    """A fresh URL-safe token (43 characters for 32 random bytes)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of ``token``; the database looks invitations up by this value.

    A plain (unsalted) hash is right here: the token already has 256 bits of entropy, and the
    lookup must be deterministic to find the row.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check of a URL path segment, so junk answers 404 without a database query."""
    return bool(_TOKEN_RE.fullmatch(token))


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")


def expiry_for(invited_at: datetime, ttl: timedelta = DEFAULT_TOKEN_TTL) -> datetime:
    """When an invitation sent at ``invited_at`` stops working (``ttl`` from settings)."""
    _require_aware(invited_at, "invited_at")
    if ttl <= timedelta(0):
        raise ValueError(f"token ttl must be positive, got {ttl}")
    return invited_at + ttl


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """True from ``expires_at`` on (the expiry instant itself is already expired).

    Both datetimes must be timezone-aware: mixing naive and aware values is the classic way a
    link expires five hours early in Almaty, so it is refused rather than guessed.
    """
    _require_aware(expires_at, "expires_at")
    _require_aware(now, "now")
    return now >= expires_at
