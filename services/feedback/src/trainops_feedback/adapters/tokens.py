"""Invitation tokens derived from the invitation id with a server-side key.

Why derived and not drawn at random: a coordinator must be able to list every invitation link of
a session again (``GET /sessions/{id}/invitations``), days after the invitations were created,
yet the database must never hold a usable token. So the token is

    token = base64url( HMAC-SHA256(key, "feedback-invitation:" + invitation_id) )
    key   = HMAC-SHA256(settings.feedback_link_key, "trainops-feedback-invitation-key")

and only ``sha256(token)`` (:func:`trainops_feedback.domain.tokens.hash_token`) is stored.
Without the key the token is unpredictable (HMAC is a PRF; the invitation id, a UUIDv7, is not
secret and does not need to be); with the key the service can recompute it for the listing.
A stolen database dump alone therefore yields no working link. The link key is its own secret
(``FEEDBACK_LINK_KEY_FILE``; generated per install in development), unrelated to the bearer
token keys: rotating the token key leaves the links already sent working, and nothing that
verifies tokens can forge links. Rotating the link key invalidates the links already sent
(their stored hashes no longer match a recomputed token) — rotate between programmes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from functools import lru_cache

from trainops_feedback.domain.tokens import hash_token

_KEY_LABEL = b"trainops-feedback-invitation-key"
_TOKEN_LABEL = "feedback-invitation:"


@dataclass(frozen=True, slots=True)
class InvitationTokens:
    """Derives the token (for URLs) and its hash (for storage) of an invitation id."""

    secret: str = field(repr=False)
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("an invitation token key needs a non-empty secret")
        key = hmac.new(self.secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()
        object.__setattr__(self, "_key", key)

    def token(self, invitation_id: uuid.UUID | str) -> str:
        """The URL-safe token (43 characters, 256 bits) of ``invitation_id``."""
        message = (_TOKEN_LABEL + str(invitation_id)).encode("ascii")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def token_hash(self, invitation_id: uuid.UUID | str) -> str:
        """What the database stores and looks up: ``sha256(token)`` in hex."""
        return hash_token(self.token(invitation_id))


@lru_cache(maxsize=4)
def tokens_for(secret: str) -> InvitationTokens:
    """The (cached) token deriver of ``secret``: one key derivation per process, not per request."""
    return InvitationTokens(secret)
