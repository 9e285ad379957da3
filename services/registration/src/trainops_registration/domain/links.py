"""The participant's own links: what each one may do, how long it works, how its token is made.

A link is a credential (participants do not sign in), so its token is 256 bits of HMAC output
and only the token's SHA-256 is stored. The token is *derived* from the message it is sent in,
``base64url(HMAC-SHA256(key, purpose ":" message_id))`` (:mod:`trainops_shared.link_tokens`),
with a key of its own (``REGISTRATION_LINK_KEY``): the mail relay computes it when it renders
the message (so it never travels through a stream, a log or the outbox row), a resend of the
same message carries the same link, and a stolen database dump holds no working link.

Purposes: ``cancel`` (in the confirmation, waiting-list and promotion messages: cancels the
registration) and ``reschedule`` (in the message about a new time: confirm or decline). Each
link is used once (an atomic update), and stops working when the session it is about starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final, Literal, get_args

from trainops_shared.link_tokens import LinkTokens

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

_KEY_LABEL: Final = "trainops-registration-link-key"


def message_link_tokens(secret: str) -> Mapping[LinkPurpose, LinkTokens]:
    """The derivers of each purpose's tokens under the link key: the subject is the message
    id, so a resend of the same message carries the same link."""
    return MappingProxyType(
        {purpose: LinkTokens(secret, _KEY_LABEL, purpose) for purpose in get_args(LinkPurpose)}
    )


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
