"""Invitation tokens: derivation, hashing and the expiry rule.

The token is the only credential of a feedback link (participants do not log in), so it is
unguessable (256 bits of HMAC output) and only its SHA-256 is stored: a leaked database dump or
log of invitation rows cannot be turned back into working links.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

from trainops_shared.link_tokens import LinkTokens, hash_token, looks_like_token

__all__ = [
    "DEFAULT_TOKEN_TTL",
    "InvitationTokens",
    "expiry_for",
    "hash_token",
    "is_expired",
    "looks_like_token",
    "tokens_for",
]

DEFAULT_TOKEN_TTL: Final = timedelta(days=60)
"""Default lifetime of a link: long enough for a participant to answer after a busy month,
short enough that old links in forwarded messages stop working."""


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


_KEY_LABEL: Final = "trainops-feedback-invitation-key"
_TOKEN_LABEL: Final = "feedback-invitation"


@dataclass(frozen=True, slots=True)
class InvitationTokens:
    """Derives the token (for URLs) and its hash (for storage) of an invitation id.

    Derived, not drawn at random: a coordinator must be able to list a session's links again
    days later, yet the database must never hold a usable token. So
    ``token = base64url(HMAC-SHA256(key, "feedback-invitation:" + invitation_id))`` with
    ``key = HMAC-SHA256(FEEDBACK_LINK_KEY, "trainops-feedback-invitation-key")``, and only
    ``sha256(token)`` is stored: a stolen dump alone yields no working link. The link key is its
    own secret, unrelated to the bearer-token keys, so rotating those leaves sent links working;
    rotating the link key invalidates them (rotate between programmes).
    """

    secret: str = field(repr=False)
    _tokens: LinkTokens = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("an invitation token key needs a non-empty secret")
        object.__setattr__(self, "_tokens", LinkTokens(self.secret, _KEY_LABEL, _TOKEN_LABEL))

    def token(self, invitation_id: uuid.UUID | str) -> str:
        """The URL-safe token (43 characters, 256 bits) of ``invitation_id``."""
        return self._tokens.token(str(invitation_id))

    def token_hash(self, invitation_id: uuid.UUID | str) -> str:
        """What the database stores and looks up: ``sha256(token)`` in hex."""
        return hash_token(self.token(invitation_id))


@lru_cache(maxsize=4)
def tokens_for(secret: str) -> InvitationTokens:
    """The (cached) token deriver of ``secret``: one key derivation per process, not per request."""
    return InvitationTokens(secret)
