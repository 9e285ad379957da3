"""The follow-ups of a session: feedback links, who answered, certificates (migration 9).

``feedback_links`` holds the one credential registration keeps in clear: the token of the
participant's feedback link, for the invitation and its reminders (why it lives here, and
only its hash travels: :mod:`trainops_registration.domain.followups`). It is read only when
a mail is composed and is never logged or published. ``feedback_answers`` is what the
feedback service told of who answered (pseudonymous ids only); ``certificates`` the
certificates issued, each with the random code of its public verification URL.

Messages are rows of the message outbox (kinds ``feedback_invite``, ``reminder.<n>``,
``certificate``); its unique ``(registration_id, kind)`` key makes each exactly once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.outbox import insert_message, message_outbox
from trainops_registration.adapters.tables import metadata, registrations, sessions, trainings
from trainops_registration.domain.followups import ALL_TRAININGS, FEEDBACK_INVITE, REMINDER_PREFIX
from trainops_shared.columns import UtcDateTime, UUIDType
from trainops_shared.events import uuid7

feedback_links = sa.Table(
    "feedback_links",
    metadata,
    sa.Column("link_id", UUIDType(), primary_key=True),
    sa.Column("registration_id", UUIDType(), nullable=False, unique=True),
    sa.Column("session_id", UUIDType(), nullable=False),
    sa.Column("participant_id", UUIDType(), nullable=False),
    # The credential itself: read only to compose the invitation and its reminders.
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("reminders_queued", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

feedback_answers = sa.Table(
    "feedback_answers",
    metadata,
    sa.Column("registration_id", UUIDType(), primary_key=True),
    sa.Column("response_id", UUIDType(), nullable=False),
    sa.Column("answered_at", UtcDateTime(), nullable=False),
)

certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("certificate_id", UUIDType(), primary_key=True),
    # The random code of the verification URL (128 bits): unguessable, so only a holder of the
    # certificate can open its page.
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("registration_id", UUIDType(), nullable=False, unique=True),
    sa.Column("session_id", UUIDType(), nullable=False),
    sa.Column("participant_id", UUIDType(), nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
)

FOLLOWUP_TABLES = (feedback_links, feedback_answers, certificates)

_r, _s, _m = registrations.c, sessions.c, message_outbox.c


def hash_link_token(token: str) -> str:
    """``sha256(token)`` in hex: what the feedback service stores and looks a link up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Attendee:
    """A registration of a session as the follow-up rules read it."""

    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    city: str
    language: str
    status: str
    attended: bool | None
    session_status: str
    session_version: int
    training_code: str | None


def _attendees() -> sa.Select[tuple[object, ...]]:
    return sa.select(
        _r.registration_id,
        _r.session_id,
        _r.participant_id,
        _r.city,
        _r.language,
        _r.status,
        _r.attended,
        _s.status.label("session_status"),
        _s.version.label("session_version"),
        trainings.c.code.label("training_code"),
    ).select_from(
        registrations.join(sessions, _s.session_id == _r.session_id).outerjoin(
            trainings, trainings.c.training_id == _s.training_id
        )
    )


def _as_attendee(row: sa.Row[tuple[object, ...]]) -> Attendee:
    return Attendee(**row._asdict())


def attendee(conn: Connection, registration_id: uuid.UUID) -> Attendee | None:
    row = conn.execute(_attendees().where(_r.registration_id == registration_id)).first()
    return None if row is None else _as_attendee(row)


def attendees_of_session(conn: Connection, session_id: uuid.UUID) -> list[Attendee]:
    """The session's registrations that attended (the only ones a follow-up can concern)."""
    query = _attendees().where(_r.session_id == session_id, _r.attended.is_(True))
    return [_as_attendee(row) for row in conn.execute(query.order_by(_r.registration_id))]


def queue_followup(conn: Connection, kind: str, who: Attendee, now: datetime) -> bool:
    """A message row of ``kind`` for ``who``, unless one exists (``False`` then): a cause
    evaluated twice queues it once."""
    exists = conn.execute(
        sa.select(_m.message_id).where(_m.registration_id == who.registration_id, _m.kind == kind)
    ).first()
    if exists is not None:
        return False
    insert_message(
        conn,
        kind,
        registration_id=who.registration_id,
        session_id=who.session_id,
        participant_id=who.participant_id,
        city=who.city,
        language=who.language,
        waitlist_position=None,
        sequence=who.session_version,
        now=now,
    )
    return True


@dataclass(frozen=True, slots=True)
class IssuedLink:
    link_id: uuid.UUID
    token_hash: str


def issue_link(conn: Connection, who: Attendee, now: datetime) -> IssuedLink | None:
    """Draw the feedback link of ``who`` and queue its invitation; ``None`` if it has one."""
    known = conn.execute(
        sa.select(feedback_links.c.link_id).where(
            feedback_links.c.registration_id == who.registration_id
        )
    ).first()
    if known is not None:
        return None
    token = secrets.token_urlsafe(32)
    link_id = uuid7()
    conn.execute(
        feedback_links.insert().values(
            link_id=link_id,
            registration_id=who.registration_id,
            session_id=who.session_id,
            participant_id=who.participant_id,
            token=token,
            reminders_queued=0,
            created_at=now,
        )
    )
    queue_followup(conn, FEEDBACK_INVITE, who, now)
    return IssuedLink(link_id, hash_link_token(token))


def record_answer(
    conn: Connection, registration_id: uuid.UUID, response_id: uuid.UUID, at: datetime
) -> None:
    """The participant answered (the first answer counts; one per invitation anyway)."""
    known = conn.execute(
        sa.select(feedback_answers.c.registration_id).where(
            feedback_answers.c.registration_id == registration_id
        )
    ).first()
    if known is None:
        conn.execute(
            feedback_answers.insert().values(
                registration_id=registration_id, response_id=response_id, answered_at=at
            )
        )


def answered(conn: Connection, registration_id: uuid.UUID) -> bool:
    found = conn.execute(
        sa.select(feedback_answers.c.registration_id).where(
            feedback_answers.c.registration_id == registration_id
        )
    ).first()
    return found is not None


def withdraw(conn: Connection, message_id: uuid.UUID) -> None:
    """A queued follow-up no longer owed (a reminder to someone who has answered since): never
    sent, and the row says so."""
    conn.execute(
        message_outbox.update()
        .where(_m.message_id == message_id, _m.status == "pending")
        .values(status="withdrawn", claimed_until=None, last_error="no longer owed")
    )


# --------------------------------------------------------------------------------------------
# Reminders


@dataclass(frozen=True, slots=True)
class OpenLink:
    """A link whose holder has not answered, with the times its mails went out."""

    who: Attendee
    reminders_queued: int
    invited_at: datetime | None
    last_sent_at: datetime | None


def open_links(conn: Connection, limit: int, batch: int) -> list[OpenLink]:
    """Links whose invitation went out to a registration still owed feedback, not answered,
    with fewer than ``limit`` reminders, oldest first (links that can never be reminded —
    no address, attendance withdrawn — are left out, so they never crowd a batch)."""
    answered_ids = sa.select(feedback_answers.c.registration_id)
    invited_ids = sa.select(_m.registration_id).where(
        _m.kind == FEEDBACK_INVITE, _m.status == "sent"
    )
    rows = conn.execute(
        _attendees()
        .add_columns(feedback_links.c.reminders_queued)
        .join(feedback_links, feedback_links.c.registration_id == _r.registration_id)
        .where(feedback_links.c.reminders_queued < limit)
        .where(_s.status == "completed", _r.status == "confirmed", _r.attended.is_(True))
        .where(_r.registration_id.in_(invited_ids))
        .where(_r.registration_id.not_in(answered_ids))
        .order_by(feedback_links.c.created_at, feedback_links.c.link_id)
        .limit(batch)
    ).all()
    found = []
    for row in rows:
        values = row._asdict()
        queued = int(values.pop("reminders_queued"))
        who = Attendee(**values)
        sent = _sent_times(conn, who.registration_id)
        last_kind = f"{REMINDER_PREFIX}{queued}" if queued else FEEDBACK_INVITE
        found.append(OpenLink(who, queued, sent.get(FEEDBACK_INVITE), sent.get(last_kind)))
    return found


def _sent_times(conn: Connection, registration_id: uuid.UUID) -> dict[str, datetime]:
    rows = conn.execute(
        sa.select(_m.kind, _m.sent_at).where(
            _m.registration_id == registration_id,
            _m.status == "sent",
            sa.or_(_m.kind == FEEDBACK_INVITE, _m.kind.startswith(REMINDER_PREFIX)),
        )
    ).all()
    return {str(kind): sent_at for kind, sent_at in rows}


def count_reminder(conn: Connection, registration_id: uuid.UUID, number: int) -> None:
    """Reminder ``number`` is queued: the counter moves only forward (a second pass that
    raced this one finds the counter already there and queues nothing)."""
    conn.execute(
        feedback_links.update()
        .where(feedback_links.c.registration_id == registration_id)
        .where(feedback_links.c.reminders_queued == number - 1)
        .values(reminders_queued=number)
    )


# --------------------------------------------------------------------------------------------
# Certificates


def uncertified_attendees(
    conn: Connection, needs_feedback: frozenset[str], batch: int
) -> list[tuple[Attendee, bool]]:
    """Attendances of completed sessions without a certificate yet that may qualify (those
    still waiting for an answer the training asks for are left out, so they never crowd a
    batch), each with whether the participant answered the feedback."""
    has_answer = (
        sa.select(feedback_answers.c.registration_id)
        .where(feedback_answers.c.registration_id == _r.registration_id)
        .exists()
    )
    code = trainings.c.code
    if ALL_TRAININGS in needs_feedback:
        may_qualify: sa.ColumnElement[bool] = has_answer
    else:
        free = sa.or_(code.is_(None), code.not_in(sorted(needs_feedback)))
        may_qualify = sa.or_(has_answer, free) if needs_feedback else sa.true()
    rows = conn.execute(
        _attendees()
        .add_columns(has_answer.label("has_answer"))
        .where(_s.status == "completed", _r.status == "confirmed", _r.attended.is_(True))
        .where(_r.registration_id.not_in(sa.select(certificates.c.registration_id)))
        .where(may_qualify)
        .order_by(_r.registration_id)
        .limit(batch)
    ).all()
    found = []
    for row in rows:
        values = row._asdict()
        has = bool(values.pop("has_answer"))
        found.append((Attendee(**values), has))
    return found


def issue_certificate(conn: Connection, who: Attendee, now: datetime) -> bool:
    """The certificate of ``who`` and its mail; ``False`` if one was issued already."""
    known = conn.execute(
        sa.select(certificates.c.certificate_id).where(
            certificates.c.registration_id == who.registration_id
        )
    ).first()
    if known is not None:
        return False
    conn.execute(
        certificates.insert().values(
            certificate_id=uuid7(),
            code=secrets.token_urlsafe(16),
            registration_id=who.registration_id,
            session_id=who.session_id,
            participant_id=who.participant_id,
            issued_at=now,
        )
    )
    return queue_followup(conn, "certificate", who, now)


# --------------------------------------------------------------------------------------------
# What a follow-up mail says beyond the registration and the session


@dataclass(frozen=True, slots=True)
class FollowupExtras:
    token: str | None
    """The feedback link's token (invitation and reminders only)."""
    certificate_code: str | None
    certificate_id: uuid.UUID | None
    issued_at: datetime | None
    training_code: str | None
    training_title: dict[str, str]


def followup_extras(conn: Connection, message_id: uuid.UUID) -> FollowupExtras | None:
    """The link, the certificate and the training of a follow-up row (``None``: no row)."""
    c, links = certificates.c, feedback_links.c
    row = conn.execute(
        sa.select(
            links.token,
            c.code,
            c.certificate_id,
            c.issued_at,
            trainings.c.code.label("training_code"),
            trainings.c.title,
        )
        .select_from(
            message_outbox.join(sessions, _s.session_id == _m.session_id)
            .outerjoin(trainings, trainings.c.training_id == _s.training_id)
            .outerjoin(feedback_links, links.registration_id == _m.registration_id)
            .outerjoin(certificates, c.registration_id == _m.registration_id)
        )
        .where(_m.message_id == message_id)
    ).first()
    if row is None:
        return None
    return FollowupExtras(
        token=row.token,
        certificate_code=row.code,
        certificate_id=row.certificate_id,
        issued_at=row.issued_at,
        training_code=row.training_code,
        training_title=dict(row.title or {}),
    )


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """What the public verification page may show: no name, no contact."""

    certificate_id: uuid.UUID
    issued_at: datetime
    session_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    timezone: str
    mode: str
    city: str
    training_title: dict[str, str]


def find_certificate(conn: Connection, code: str) -> CertificateRecord | None:
    c = certificates.c
    row = conn.execute(
        sa.select(
            c.certificate_id,
            c.issued_at,
            c.session_id,
            _s.starts_at,
            _s.ends_at,
            _s.timezone,
            _s.mode,
            _r.city,
            trainings.c.title,
        )
        .select_from(
            certificates.join(sessions, _s.session_id == c.session_id)
            .join(registrations, _r.registration_id == c.registration_id)
            .outerjoin(trainings, trainings.c.training_id == _s.training_id)
        )
        .where(c.code == code)
    ).first()
    if row is None:
        return None
    values = row._asdict()
    values["training_title"] = dict(values.pop("title") or {})
    return CertificateRecord(**values)
