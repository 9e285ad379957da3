"""The message outbox: what participants are to be told, decided with the change that causes it.

A row is written in the transaction of its cause (a registration, a promotion from the waiting
list), so a message exists exactly when its cause committed, and at most one per registration
and kind (a unique index: a redelivered event cannot queue a second one). The row holds ids,
the language and the calendar ``SEQUENCE`` only; the address and name are read from
``participants`` (and opened with the person's key) when the message is sent, so they never
leave this database and an erased person's are simply gone.

Rows move ``pending`` → ``sent`` | ``failed`` | ``no_address`` | ``withdrawn`` (a follow-up
no longer owed: :mod:`trainops_registration.adapters.followups`) | ``no_consent`` (the person
has not agreed to, or has withdrawn, the purpose the message serves). A sender *claims* a due row by
setting ``claimed_until`` (a lease, so two replicas never send the same row at once, and a row
whose sender died is taken again once the lease ends) and counting the attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.tables import consents, metadata, participants, sessions
from trainops_registration.domain.consent import purpose_of_message
from trainops_registration.domain.messages import AlternativeSession, MessageFacts, MessageKind
from trainops_registration.domain.records import Registration, SessionCopy
from trainops_shared.columns import UtcDateTime, UUIDType
from trainops_shared.events import uuid7
from trainops_shared.timeutil import as_utc

message_outbox = sa.Table(
    "message_outbox",
    metadata,
    sa.Column("message_id", UUIDType(), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("registration_id", UUIDType(), nullable=False),
    sa.Column("session_id", UUIDType(), nullable=False),
    sa.Column("participant_id", UUIDType(), nullable=False),
    # The registration's region, so a coordinator's view of failures stays in their region.
    sa.Column("city", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("waitlist_position", sa.Integer, nullable=True),
    # The calendar SEQUENCE: the session copy's version when the cause committed.
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("claimed_until", UtcDateTime(), nullable=True),
    # Why the last attempt failed: the SMTP code and kind of failure, never an address.
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    # The session a cancelled session's people are offered instead (``session_cancelled``).
    sa.Column("alternative_session_id", UUIDType(), nullable=True),
    sa.Index("ix_message_outbox_due", "status", "next_attempt_at"),
    # One message per registration, kind and session version: a redelivered event cannot queue
    # a second one, while each later change of the session (a higher version) is told anew.
    sa.Index("ux_message_outbox_cause_seq", "registration_id", "kind", "sequence", unique=True),
)

_m = message_outbox.c


def queue_message(
    conn: Connection,
    kind: MessageKind,
    registration: Registration,
    session: SessionCopy,
    now: datetime,
    *,
    sequence: int | None = None,
    alternative_session_id: uuid.UUID | None = None,
) -> None:
    """Queue the message ``kind`` about ``registration``; call in the transaction of its cause.

    ``sequence`` is the session version the message tells of (default: the copy's version)."""
    insert_message(
        conn,
        kind,
        registration_id=registration.registration_id,
        session_id=registration.session_id,
        participant_id=registration.participant_id,
        city=registration.city,
        language=registration.language,
        waitlist_position=registration.waitlist_position if kind == "waitlisted" else None,
        sequence=session.version if sequence is None else sequence,
        alternative_session_id=alternative_session_id,
        now=now,
    )


def insert_message(
    conn: Connection,
    kind: str,
    *,
    registration_id: uuid.UUID,
    session_id: uuid.UUID,
    participant_id: uuid.UUID,
    city: str,
    language: str,
    waitlist_position: int | None,
    sequence: int,
    now: datetime,
    alternative_session_id: uuid.UUID | None = None,
) -> None:
    """One pending row of ``kind``, due now (the unique key refuses a second per cause)."""
    conn.execute(
        message_outbox.insert().values(
            message_id=uuid7(),
            kind=kind,
            registration_id=registration_id,
            session_id=session_id,
            participant_id=participant_id,
            city=city,
            language=language,
            waitlist_position=waitlist_position,
            sequence=sequence,
            alternative_session_id=alternative_session_id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def queue_promotions(
    conn: Connection, promoted: Sequence[Registration], session: SessionCopy, now: datetime
) -> None:
    """A ``promoted`` message for each registration just confirmed from the waiting list."""
    for registration in promoted:
        queue_message(conn, "promoted", registration, session, now)


def queue_session_change(
    conn: Connection,
    kind: MessageKind,
    told: Sequence[Registration],
    session: SessionCopy,
    version: int,
    now: datetime,
    alternative_session_id: uuid.UUID | None = None,
) -> None:
    """One ``kind`` message per registration in ``told`` about the session as of ``version``
    (the scheduling event's): the calendar update's SEQUENCE is that version."""
    for registration in told:
        queue_message(
            conn,
            kind,
            registration,
            session,
            now,
            sequence=version,
            alternative_session_id=alternative_session_id,
        )


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    message_id: uuid.UUID
    attempts: int
    """Attempts including this one."""


def claim_due(
    conn: Connection, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` due rows for ``lease``; each claim is a conditional update, so a
    row another sender claimed in between is skipped rather than sent twice."""
    free = sa.or_(_m.claimed_until.is_(None), _m.claimed_until < now)
    due = conn.execute(
        sa.select(_m.message_id, _m.attempts)
        .where(_m.status == "pending", _m.next_attempt_at <= now, free)
        .order_by(_m.next_attempt_at, _m.message_id)
        .limit(limit)
    ).all()
    claimed = []
    for message_id, attempts in due:
        taken = conn.execute(
            message_outbox.update()
            .where(_m.message_id == message_id, _m.status == "pending", free)
            .values(claimed_until=now + lease, attempts=_m.attempts + 1)
        )
        if taken.rowcount == 1:
            claimed.append(ClaimedMessage(message_id, int(attempts) + 1))
    return claimed


def message_facts(conn: Connection, message_id: uuid.UUID, organizer: str) -> MessageFacts | None:
    """The facts of a claimed row, with the person's address and name and the session as it is
    now; ``None`` when the person has no e-mail address (or was erased)."""
    p, s = participants.c, sessions.c
    row = conn.execute(
        sa.select(
            _m.kind,
            _m.language,
            _m.registration_id,
            _m.session_id,
            _m.city,
            _m.waitlist_position,
            _m.sequence,
            _m.participant_id,
            _m.alternative_session_id,
            p.full_name,
            p.email,
            s.starts_at,
            s.ends_at,
            s.timezone,
            s.mode,
        )
        .select_from(
            message_outbox.join(participants, p.participant_id == _m.participant_id).join(
                sessions, s.session_id == _m.session_id
            )
        )
        .where(_m.message_id == message_id)
    ).first()
    if row is None:
        return None
    fields = personal_data.open_fields(
        personal_data.cipher_for(conn, row.participant_id), row._mapping
    )
    email = fields.get("email")
    if not email:
        return None
    return MessageFacts(
        kind=row.kind,
        language=row.language,
        full_name=fields.get("full_name") or "",
        email=email,
        registration_id=row.registration_id,
        session_id=row.session_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        timezone=row.timezone,
        mode=row.mode,
        city=row.city,
        waitlist_position=row.waitlist_position,
        sequence=row.sequence,
        organizer=organizer,
        alternative=_alternative(conn, row.alternative_session_id, row.city),
    )


def _alternative(
    conn: Connection, session_id: uuid.UUID | None, city: str
) -> AlternativeSession | None:
    """The offered session as this service knows it (not yet received: not mentioned)."""
    if session_id is None:
        return None
    s = sessions.c
    row = conn.execute(
        sa.select(s.starts_at, s.ends_at, s.timezone, s.mode, s.cities).where(
            s.session_id == session_id
        )
    ).first()
    if row is None:
        return None
    cities = [str(c).lower() for c in row.cities]
    return AlternativeSession(
        starts_at=as_utc(row.starts_at),
        ends_at=as_utc(row.ends_at),
        timezone=row.timezone,
        mode=row.mode,
        city=city if city in cities or not cities else cities[0],
    )


def purpose_withheld(conn: Connection, message_id: uuid.UUID) -> str | None:
    """The purpose the row's message serves when the person has not agreed to it (or has
    withdrawn it); ``None`` when it may be sent."""
    row = conn.execute(
        sa.select(_m.kind, _m.participant_id).where(_m.message_id == message_id)
    ).first()
    if row is None:
        return None
    purpose = purpose_of_message(row.kind)
    c = consents.c
    agreed = conn.execute(
        sa.select(c.purpose).where(
            c.participant_id == row.participant_id,
            c.purpose == purpose,
            c.withdrawn_at.is_(None),
        )
    ).first()
    return None if agreed is not None else purpose


def _finish(conn: Connection, message_id: uuid.UUID, **values: object) -> None:
    conn.execute(
        message_outbox.update()
        .where(_m.message_id == message_id, _m.status == "pending")
        .values(claimed_until=None, **values)
    )


def mark_sent(conn: Connection, message_id: uuid.UUID, now: datetime) -> None:
    _finish(conn, message_id, status="sent", sent_at=now, last_error=None)


def mark_failed(conn: Connection, message_id: uuid.UUID, reason: str) -> None:
    """Given up: never tried again; the reason (no address in it) stays on the row."""
    _finish(conn, message_id, status="failed", last_error=reason[:200])


def mark_no_address(conn: Connection, message_id: uuid.UUID) -> None:
    _finish(conn, message_id, status="no_address", last_error="the participant has no e-mail")


def mark_no_consent(conn: Connection, message_id: uuid.UUID, purpose: str) -> None:
    _finish(conn, message_id, status="no_consent", last_error=f"no consent to {purpose}"[:200])


def retry_later(conn: Connection, message_id: uuid.UUID, at: datetime, reason: str) -> None:
    _finish(conn, message_id, next_attempt_at=at, last_error=reason[:200])


def message_counts(conn: Connection) -> dict[str, int]:
    """Rows per status, for the service's metrics and the tests."""
    rows = conn.execute(sa.select(_m.status, sa.func.count()).group_by(_m.status)).all()
    return {str(status): int(n) for status, n in rows}
