"""Link tokens: the secret part of a URL that works without signing in (a check-in code, a
calendar feed), derived from an installation key and stored only as a hash.

Derived, not drawn at random, so a page can show the same link again later (a printable
attendance list, a feed URL) while the database never holds a usable token:
``token = base64url(HMAC-SHA256(HMAC-SHA256(secret, purpose), purpose + ":" + subject))`` and
only ``sha256(token)`` is stored and looked up. ``purpose`` keeps the kinds of link apart (a
check-in code is never a feed URL), and ``subject`` may carry a revocation counter so a
revoked link is replaced by a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Final

_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{16,128}")


def hash_token(token: str) -> str:
    """SHA-256 hex digest of ``token``: what the database stores and looks up (a plain hash is
    right: the token already has 256 bits of entropy, and the lookup must be deterministic)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check of a URL path segment, so junk answers 404 without a database query."""
    return bool(_TOKEN_RE.fullmatch(token))


@dataclass(frozen=True, slots=True)
class LinkTokens:
    """The tokens of one purpose under one installation key."""

    secret: str = field(repr=False)
    purpose: str
    label: str | None = None
    """What the token's message starts with (default: ``purpose``)."""
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("a link token key needs a non-empty secret")
        key = hmac.new(self.secret.encode("utf-8"), self.purpose.encode(), hashlib.sha256)
        object.__setattr__(self, "_key", key.digest())

    def token(self, subject: str) -> str:
        """The URL-safe token (43 characters, 256 bits) of ``subject``."""
        message = f"{self.label or self.purpose}:{subject}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def token_hash(self, subject: str) -> str:
        return hash_token(self.token(subject))
