"""Composing the follow-up mails (feedback invitation, reminders, certificate) for the relay.

The feedback link is put together here, from the feedback service's public address and the
token read from ``feedback_links``, only to be written into the message handed to the mail
server; it is never logged (the relay logs the row id and kind only).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Connection

from trainops_registration.adapters.certificate_pdf import certificate_pdf
from trainops_registration.adapters.followups import answered, followup_extras
from trainops_registration.domain.followup_messages import (
    FollowupFacts,
    RenderedFollowup,
    render_followup,
)
from trainops_registration.domain.followups import REMINDER_PREFIX, followup_kind
from trainops_registration.domain.messages import MessageFacts, local_span
from trainops_shared.mail import Attachment
from trainops_shared.settings import Settings


@dataclass(frozen=True, slots=True)
class FollowupLinks:
    """Where participants open their links: the feedback form and the verification page."""

    feedback_url: str
    verify_url: str

    @classmethod
    def of(cls, settings: Settings) -> FollowupLinks:
        feedback = settings.service_urls.get("feedback", "").rstrip("/")
        return cls(feedback_url=feedback, verify_url=settings.public_url.rstrip("/"))


def certificate_url(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/certificates/{code}"


def is_followup(kind: str) -> bool:
    return followup_kind(kind) is not None


@dataclass(frozen=True, slots=True)
class Followup:
    facts: FollowupFacts
    issued_at: datetime | None
    """When the certificate was issued (certificates only)."""
    owed: bool
    """``False`` for a reminder to someone who answered after it was queued: not sent."""


def followup_facts(
    conn: Connection, message_id: uuid.UUID, facts: MessageFacts, links: FollowupLinks
) -> Followup | None:
    """The facts of a follow-up row; ``None`` when the row's link or certificate is missing
    (it then cannot be sent)."""
    kind = followup_kind(facts.kind)
    extras = followup_extras(conn, message_id)
    if kind is None or extras is None:
        return None
    feedback_url = verify_url = None
    number = 0
    if kind == "certificate":
        if extras.certificate_code is None:
            return None
        verify_url = certificate_url(links.verify_url, extras.certificate_code)
    else:
        if extras.token is None:
            return None
        feedback_url = f"{links.feedback_url}/f/{extras.token}"
        if kind == "reminder":
            number = int(facts.kind[len(REMINDER_PREFIX) :])
    followup = FollowupFacts(
        kind=kind,
        language=facts.language,
        full_name=facts.full_name,
        training_title=extras.training_title,
        starts_at=facts.starts_at,
        ends_at=facts.ends_at,
        timezone=facts.timezone,
        mode=facts.mode,
        city=facts.city,
        feedback_url=feedback_url,
        reminder_number=number,
        certificate_id=extras.certificate_id,
        verify_url=verify_url,
    )
    owed = kind != "reminder" or not answered(conn, facts.registration_id)
    return Followup(followup, extras.issued_at, owed)


class Rendered(Protocol):
    """What a relay needs of a rendered message (a registration message or a follow-up)."""

    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def html(self) -> str: ...


def render_followup_mail(
    found: Followup, now: datetime
) -> tuple[RenderedFollowup, list[Attachment]]:
    """The mail of ``found`` and its attachments: the certificate's PDF for a certificate."""
    followup, issued_at = found.facts, found.issued_at
    attachments = []
    if followup.kind == "certificate":
        day, _ = local_span(issued_at or now, issued_at or now, followup.timezone)
        attachments.append(
            Attachment("certificate.pdf", "application/pdf", certificate_pdf(followup, day))
        )
    return render_followup(followup), attachments
