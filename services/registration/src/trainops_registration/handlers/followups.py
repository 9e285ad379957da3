"""Deciding the follow-ups of a session: invitations with the cause, reminders and
certificates in a recurring pass.

The invitation is decided in the transaction of its cause — the attendance recorded for a
completed session, or the completion of a session whose attendance was taken on the day —
together with the ``FeedbackLinkIssued`` event that carries the link's hash to feedback.
Reminders are caused by time passing, and a certificate by a policy setting
(``CERTIFICATE_REQUIRES_FEEDBACK``) as well as by events, so both are decided by
:func:`followup_pass`, run every few seconds: it reads what is owed from the tables, so a
crash between passes loses nothing, and the unique keys of the outbox and the certificates
make a second pass (or a second replica's) queue nothing twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from trainops_registration.adapters import followups
from trainops_registration.domain.followups import (
    certificate_due,
    feedback_due,
    needs_feedback,
    reminder_due,
    reminder_kind,
)
from trainops_shared.events import FeedbackLinkIssued, FeedbackSubmitted
from trainops_shared.outbox import record_events
from trainops_shared.settings import MailSettings


def _invite(
    conn: Connection,
    who: followups.Attendee,
    now: datetime,
    correlation_id: uuid.UUID | None,
    causation_id: uuid.UUID | None,
) -> None:
    if not feedback_due(who.session_status, who.status, who.attended):
        return
    issued = followups.issue_link(conn, who, now)
    if issued is None:
        return
    record_events(
        conn,
        [
            FeedbackLinkIssued(
                aggregate_id=issued.link_id,
                aggregate_version=1,
                occurred_at=now,
                correlation_id=correlation_id,
                causation_id=causation_id,
                link_id=issued.link_id,
                registration_id=who.registration_id,
                session_id=who.session_id,
                participant_id=who.participant_id,
                token_hash=issued.token_hash,
            )
        ],
    )


def after_attendance(
    conn: Connection, registration_id: uuid.UUID, now: datetime, correlation_id: uuid.UUID
) -> None:
    """Attendance recorded: an attendee of a completed session is invited (once)."""
    who = followups.attendee(conn, registration_id)
    if who is not None:
        _invite(conn, who, now, correlation_id, None)


def after_session_completed(
    conn: Connection,
    session_id: uuid.UUID,
    now: datetime,
    correlation_id: uuid.UUID | None,
    causation_id: uuid.UUID | None,
) -> None:
    """The session is completed: everyone whose attendance was already taken is invited."""
    for who in followups.attendees_of_session(conn, session_id):
        _invite(conn, who, now, correlation_id, causation_id)


def on_feedback_submitted(conn: Connection, event: FeedbackSubmitted) -> None:
    """Who answered (pseudonymous ids only): no more reminders, and a certificate waiting
    for the answer can be issued by the next pass."""
    followups.record_answer(conn, event.registration_id, event.response_id, event.occurred_at)


@dataclass(frozen=True, slots=True)
class FollowupPolicy:
    reminder_delay: timedelta
    reminder_limit: int
    needs_feedback: frozenset[str]

    @classmethod
    def of(cls, mail: MailSettings | None) -> FollowupPolicy:
        mail = mail or MailSettings(server=None, sender="")
        return cls(
            reminder_delay=timedelta(seconds=mail.reminder_delay),
            reminder_limit=mail.reminder_limit,
            needs_feedback=mail.certificate_needs_feedback,
        )


PASS_BATCH = 500
"""Rows a pass looks at per kind: a pass stays one short transaction; the next takes the rest."""


def followup_interval(policy: FollowupPolicy) -> float:
    """Seconds between passes: often enough that a reminder is at most a tenth of its delay
    late (and a certificate a few seconds), never more than every half second."""
    return min(5.0, max(0.5, policy.reminder_delay.total_seconds() / 10))


def followup_pass(conn: Connection, now: datetime, *, policy: FollowupPolicy) -> int:
    """Issue the certificates now owed and queue the reminders now due; how many messages."""
    queued = 0
    for who, answered in followups.uncertified_attendees(conn, policy.needs_feedback, PASS_BATCH):
        owed = certificate_due(
            who.session_status,
            who.status,
            who.attended,
            answered=answered,
            feedback_required=needs_feedback(who.training_code, policy.needs_feedback),
        )
        if owed and followups.issue_certificate(conn, who, now):
            queued += 1
    for link in followups.open_links(conn, policy.reminder_limit, PASS_BATCH):
        due = reminder_due(
            invited_at=link.invited_at,
            reminders_sent=link.reminders_queued,
            last_sent_at=link.last_sent_at,
            answered=False,
            limit=policy.reminder_limit,
            delay=policy.reminder_delay,
            now=now,
        )
        if not due:
            continue
        number = link.reminders_queued + 1
        if followups.queue_followup(conn, reminder_kind(number), link.who, now):
            followups.count_reminder(conn, link.who.registration_id, number)
            queued += 1
    return queued
