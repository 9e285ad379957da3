"""The participant's own links: what each one may do, how long it works, how its token is made.

A link is a credential (participants do not sign in), so its token is 256 bits of HMAC output
and only the token's SHA-256 is stored. The token is *derived* from the message it is sent in,
``base64url(HMAC-SHA256(key, purpose ":" message_id))``, with a key of its own
(``REGISTRATION_LINK_KEY``): the mail relay computes it when it renders the message (so it never
travels through a stream, a log or the outbox row), a resend of the same message carries the
same link, and a stolen database dump holds no working link.

Purposes: ``cancel`` (in the confirmation, waiting-list and promotion messages: cancels the
registration) and ``reschedule`` (in the message about a new time: confirm or decline). Each
link is used once (an atomic update), and stops working when the session it is about starts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

LinkPurpose = Literal["cancel", "reschedule"]
LinkAnswer = Literal["cancelled", "confirmed", "declined"]

LINK_PURPOSE_OF_KIND: Final[dict[str, LinkPurpose]] = {
    "confirmed": "cancel",
    "waitlisted": "cancel",
    "promoted": "cancel",
    "rescheduled": "reschedule",
}
"""Which message kinds carry a link, and for what; other kinds carry none."""

ANSWERS_OF_PURPOSE: Final[dict[LinkPurpose, tuple[LinkAnswer, ...]]] = {
    "cancel": ("cancelled",),
    "reschedule": ("confirmed", "declined"),
}

_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_KEY_LABEL: Final = b"trainops-registration-link-key"


def hash_token(token: str) -> str:
    """SHA-256 hex of ``token``: what the database stores and looks links up by (the token has
    256 bits of entropy, so an unsalted hash is enough and keeps the lookup deterministic)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Shape check of a path segment, so junk answers 404 without a query."""
    return bool(_TOKEN_RE.fullmatch(token))


@dataclass(frozen=True, slots=True)
class LinkTokens:
    """Derives a message's link token; holds the key, which never appears in its ``repr``."""

    secret: str = field(repr=False)
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("a registration link key needs a non-empty secret")
        key = hmac.new(self.secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()
        object.__setattr__(self, "_key", key)

    def token(self, purpose: LinkPurpose, message_id: uuid.UUID) -> str:
        message = f"{purpose}:{message_id}".encode("ascii")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class LinkState:
    """What a link may still do when opened."""

    purpose: LinkPurpose
    registration_status: str
    used_answer: str | None
    expires_at: datetime
    session_status: str


LinkVerdict = Literal["open", "used", "expired", "closed"]


def link_verdict(state: LinkState, now: datetime) -> LinkVerdict:
    """``used`` once answered; ``expired`` from the session's start on; ``closed`` when the
    registration is no longer live or the session no longer scheduled (nothing left to do)."""
    if state.used_answer is not None:
        return "used"
    if now >= state.expires_at:
        return "expired"
    if state.registration_status == "cancelled" or state.session_status != "scheduled":
        return "closed"
    if state.purpose == "reschedule" and state.registration_status != "confirmed":
        return "closed"
    return "open"
