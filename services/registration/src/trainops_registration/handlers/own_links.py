"""The participant's own link: see what it is about, cancel, or confirm/decline a new time.

The token is the credential, checked here and nowhere else; the page never learns more than
the session's times, the place and what the link may still do (no name, no address). Using a
link is one transaction: the link marked used (a conditional update: two clicks, one answer),
and for a cancellation or a declined new time the registration cancelled and the freed seat
given to the next person waiting, who is told like any other promotion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from trainops_registration.adapters import links
from trainops_registration.domain.links import (
    ANSWERS_OF_PURPOSE,
    LinkAnswer,
    LinkPurpose,
    LinkVerdict,
    link_verdict,
)
from trainops_registration.handlers.registrations import cancel_and_promote
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Invalid, NotFound
from trainops_shared.link_tokens import hash_token, looks_like_token

OWN_LINK_SUBJECT = "participant:own-link"
"""Who the audit log says acted when a participant used their link (never their name)."""


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the page shows: the session as it is now, and what the link may do."""

    purpose: LinkPurpose
    verdict: LinkVerdict
    answer: str | None
    language: str
    city: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    mode: str


def _found(conn: Connection, token: str) -> links.FoundLink | None:
    if not looks_like_token(token):
        return None
    return links.find_link(conn, hash_token(token))


def _view(found: links.FoundLink, now: datetime, answer: str | None = None) -> LinkView:
    return LinkView(
        purpose=found.state.purpose,
        verdict="used" if answer is not None else link_verdict(found.state, now),
        answer=answer if answer is not None else found.state.used_answer,
        language=found.language,
        city=found.city,
        starts_at=found.starts_at,
        ends_at=found.ends_at,
        timezone=found.timezone,
        mode=found.mode,
    )


def read_own_link(conn: Connection, token: str, now: datetime) -> LinkView | None:
    """The link's page, or ``None`` for a token that is no link (the page says "not found")."""
    found = _found(conn, token)
    return None if found is None else _view(found, now)


def answer_own_link(
    conn: Connection, token: str, answer: str, now: datetime, correlation_id: uuid.UUID
) -> LinkView:
    """Record ``answer`` (``cancelled`` for a cancel link; ``confirmed`` or ``declined`` for a
    new time). 404 for no link; 409 for one used, expired or with nothing left to do; 422 for
    an answer the link does not offer."""
    found = _found(conn, token)
    if found is None:
        raise NotFound("link not found or expired", field="token")
    verdict = link_verdict(found.state, now)
    if verdict != "open":
        raise Conflict(f"this link can no longer be used ({verdict})")
    offered: tuple[LinkAnswer, ...] = ANSWERS_OF_PURPOSE[found.state.purpose]
    if answer not in offered:
        raise Invalid(f"answer must be one of {', '.join(offered)}", field="answer")
    if not links.use_link(conn, hash_token(token), answer, now):
        raise Conflict("this link can no longer be used (used)")
    if answer in ("cancelled", "declined"):
        principal = Principal(OWN_LINK_SUBJECT, "coordinator", region=found.city)
        cancel_and_promote(conn, found.registration_id, principal, correlation_id)
    return _view(found, now, answer)
