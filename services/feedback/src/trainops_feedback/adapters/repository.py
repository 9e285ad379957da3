"""Queries and writes over a Connection: the only module that knows the feedback tables.

Region scoping happens here (:func:`list_session_invitations` filters a coordinator's rows by
the participant's city before the query runs), so no caller can forget it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_feedback.adapters.tables import (
    invitations,
    registrations,
    responses,
    sessions,
    surveys,
    trainings,
)
from trainops_shared.auth import Principal, region_filter


def utc(value: datetime) -> datetime:
    """UTC-aware ``value``: SQLite hands back naive datetimes (stored as UTC by this service)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


# --------------------------------------------------------------------------------------------
# Projections of other contexts


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: str
    training_id: str
    starts_at: datetime
    ends_at: datetime
    status: str
    language: str
    timezone: str
    version: int


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    registration_id: str
    session_id: str
    participant_id: str
    city: str
    language: str
    status: str
    attended: bool | None
    version: int


def get_training_version(conn: Connection, training_id: uuid.UUID) -> int | None:
    return conn.execute(
        sa.select(trainings.c.version).where(trainings.c.training_id == str(training_id))
    ).scalar_one_or_none()


def save_training(
    conn: Connection, training_id: uuid.UUID, code: str, title: dict[str, str], version: int
) -> None:
    """Insert or replace the training (the caller checked the version guard)."""
    values = {"code": code, "title": dict(title), "version": version}
    updated = conn.execute(
        trainings.update().where(trainings.c.training_id == str(training_id)).values(**values)
    )
    if updated.rowcount == 0:
        conn.execute(trainings.insert().values(training_id=str(training_id), **values))


def get_session(conn: Connection, session_id: uuid.UUID | str) -> SessionRow | None:
    row = conn.execute(
        sa.select(sessions).where(sessions.c.session_id == str(session_id))
    ).one_or_none()
    if row is None:
        return None
    return SessionRow(
        session_id=row.session_id,
        training_id=row.training_id,
        starts_at=utc(row.starts_at),
        ends_at=utc(row.ends_at),
        status=row.status,
        language=row.language,
        timezone=row.timezone,
        version=row.version,
    )


def insert_session(conn: Connection, **values: Any) -> None:
    conn.execute(sessions.insert().values(**values))


def update_session(conn: Connection, session_id: str, **values: Any) -> None:
    conn.execute(sessions.update().where(sessions.c.session_id == session_id).values(**values))


def get_registration(conn: Connection, registration_id: uuid.UUID | str) -> RegistrationRow | None:
    row = conn.execute(
        sa.select(registrations).where(registrations.c.registration_id == str(registration_id))
    ).one_or_none()
    if row is None:
        return None
    return RegistrationRow(
        registration_id=row.registration_id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        city=row.city,
        language=row.language,
        status=row.status,
        attended=row.attended,
        version=row.version,
    )


def insert_registration(conn: Connection, **values: Any) -> None:
    conn.execute(registrations.insert().values(**values))


def update_registration(conn: Connection, registration_id: str, **values: Any) -> None:
    conn.execute(
        registrations.update()
        .where(registrations.c.registration_id == registration_id)
        .values(**values)
    )


# --------------------------------------------------------------------------------------------
# Invitations


def eligible_clause() -> sa.ColumnElement[bool]:
    """Who gets an invitation: attended a completed session and was not cancelled."""
    return sa.and_(
        sessions.c.status == "completed",
        registrations.c.attended.is_(True),
        registrations.c.status != "cancelled",
    )


def _registration_scope(
    session_id: str, registration_id: str | None
) -> list[sa.ColumnElement[bool]]:
    where = [registrations.c.session_id == session_id]
    if registration_id is not None:
        where.append(registrations.c.registration_id == registration_id)
    return where


def missing_invitations(
    conn: Connection, session_id: str, registration_id: str | None = None
) -> list[str]:
    """Registration ids that are eligible and have no invitation at all (never had one)."""
    query = (
        sa.select(registrations.c.registration_id)
        .select_from(
            registrations.join(
                sessions, sessions.c.session_id == registrations.c.session_id
            ).outerjoin(
                invitations, invitations.c.registration_id == registrations.c.registration_id
            )
        )
        .where(*_registration_scope(session_id, registration_id))
        .where(eligible_clause())
        .where(invitations.c.invitation_id.is_(None))
        .order_by(registrations.c.registration_id)
    )
    return list(conn.execute(query).scalars())


def insert_invitations(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(invitations.insert(), list(rows))


def _eligible_ids(session_id: str, registration_id: str | None) -> sa.Select[Any]:
    return (
        sa.select(registrations.c.registration_id)
        .select_from(
            registrations.join(sessions, sessions.c.session_id == registrations.c.session_id)
        )
        .where(*_registration_scope(session_id, registration_id))
        .where(eligible_clause())
    )


def reinstate_invitations(
    conn: Connection, session_id: str, registration_id: str | None, now: datetime
) -> int:
    """Un-revoke unused invitations whose registration is eligible again (same token/link)."""
    result = conn.execute(
        invitations.update()
        .where(invitations.c.session_id == session_id)
        .where(invitations.c.revoked_at.is_not(None))
        .where(invitations.c.used_at.is_(None))
        .where(invitations.c.registration_id.in_(_eligible_ids(session_id, registration_id)))
        .values(revoked_at=None)
    )
    return int(result.rowcount)


def revoke_invitations(
    conn: Connection, session_id: str, registration_id: str | None, now: datetime
) -> int:
    """Revoke unused, live invitations whose registration is no longer eligible."""
    query = (
        invitations.update()
        .where(invitations.c.session_id == session_id)
        .where(invitations.c.revoked_at.is_(None))
        .where(invitations.c.used_at.is_(None))
        .where(invitations.c.registration_id.not_in(_eligible_ids(session_id, registration_id)))
    )
    if registration_id is not None:
        query = query.where(invitations.c.registration_id == registration_id)
    return int(conn.execute(query.values(revoked_at=now)).rowcount)


def unused_invitations(conn: Connection, session_id: str) -> list[tuple[str, datetime]]:
    """``(invitation_id, created_at)`` of the session's unused invitations."""
    rows = conn.execute(
        sa.select(invitations.c.invitation_id, invitations.c.created_at)
        .where(invitations.c.session_id == session_id)
        .where(invitations.c.used_at.is_(None))
    ).all()
    return [(r.invitation_id, utc(r.created_at)) for r in rows]


def set_invitation_expiry(conn: Connection, changes: Iterable[tuple[str, datetime]]) -> None:
    for invitation_id, expires_at in changes:
        conn.execute(
            invitations.update()
            .where(invitations.c.invitation_id == invitation_id)
            .values(expires_at=expires_at)
        )


@dataclass(frozen=True, slots=True)
class ListedInvitation:
    registration_id: str
    invitation_id: str
    language: str
    expires_at: datetime
    used_at: datetime | None


def session_exists(conn: Connection, session_id: uuid.UUID) -> bool:
    found = conn.execute(
        sa.select(sessions.c.session_id).where(sessions.c.session_id == str(session_id))
    ).first()
    return found is not None


def list_session_invitations(
    conn: Connection, session_id: uuid.UUID, principal: Principal
) -> list[ListedInvitation]:
    """Live (not revoked) invitations of a session, restricted to the principal's region."""
    rows = conn.execute(
        sa.select(
            invitations.c.registration_id,
            invitations.c.invitation_id,
            invitations.c.expires_at,
            invitations.c.used_at,
            registrations.c.language,
        )
        .select_from(
            invitations.join(
                registrations, registrations.c.registration_id == invitations.c.registration_id
            )
        )
        .where(invitations.c.session_id == str(session_id))
        .where(invitations.c.revoked_at.is_(None))
        .where(region_filter(principal, registrations.c.city))
        .order_by(invitations.c.registration_id)
    ).all()
    return [
        ListedInvitation(
            registration_id=r.registration_id,
            invitation_id=r.invitation_id,
            language=r.language,
            expires_at=utc(r.expires_at),
            used_at=utc_or_none(r.used_at),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation with what its page shows and its submission needs."""

    invitation_id: str
    registration_id: str
    session_id: str
    survey_id: str
    participant_id: str
    language: str
    expires_at: datetime
    revoked_at: datetime | None
    used_at: datetime | None
    starts_at: datetime
    timezone: str
    training_title: dict[str, str]


def find_invitation(conn: Connection, token_hash: str) -> InvitationView | None:
    row = conn.execute(
        sa.select(
            invitations.c.invitation_id,
            invitations.c.registration_id,
            invitations.c.session_id,
            invitations.c.survey_id,
            invitations.c.expires_at,
            invitations.c.revoked_at,
            invitations.c.used_at,
            registrations.c.participant_id,
            registrations.c.language,
            sessions.c.starts_at,
            sessions.c.timezone,
            trainings.c.title,
        )
        .select_from(
            invitations.join(
                registrations, registrations.c.registration_id == invitations.c.registration_id
            )
            .join(sessions, sessions.c.session_id == invitations.c.session_id)
            .outerjoin(trainings, trainings.c.training_id == sessions.c.training_id)
        )
        .where(invitations.c.token_hash == token_hash)
    ).one_or_none()
    if row is None:
        return None
    return InvitationView(
        invitation_id=row.invitation_id,
        registration_id=row.registration_id,
        session_id=row.session_id,
        survey_id=row.survey_id,
        participant_id=row.participant_id,
        language=row.language,
        expires_at=utc(row.expires_at),
        revoked_at=utc_or_none(row.revoked_at),
        used_at=utc_or_none(row.used_at),
        starts_at=utc(row.starts_at),
        timezone=row.timezone,
        training_title=dict(row.title or {}),
    )


def claim_invitation(conn: Connection, token_hash: str, now: datetime) -> bool:
    """Mark the invitation used, atomically: only one concurrent submission can win.

    ``UPDATE … WHERE used_at IS NULL`` is decided by the database row lock (PostgreSQL) or the
    single writer (SQLite), so two simultaneous submissions of one link cannot both succeed.
    """
    result = conn.execute(
        invitations.update()
        .where(invitations.c.token_hash == token_hash)
        .where(invitations.c.used_at.is_(None))
        .where(invitations.c.revoked_at.is_(None))
        .where(invitations.c.expires_at > now)
        .values(used_at=now)
    )
    return int(result.rowcount) == 1


def insert_response(conn: Connection, **values: Any) -> None:
    conn.execute(responses.insert().values(**values))


def get_response(conn: Connection, response_id: uuid.UUID | str) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(responses).where(responses.c.response_id == str(response_id))
    ).one_or_none()
    return None if row is None else dict(row._mapping)


# --------------------------------------------------------------------------------------------
# Surveys


def survey_exists(conn: Connection, survey_id: uuid.UUID) -> bool:
    found = conn.execute(
        sa.select(surveys.c.survey_id).where(surveys.c.survey_id == str(survey_id))
    ).first()
    return found is not None


def insert_survey(
    conn: Connection, survey_id: uuid.UUID, code: str, items: list[str], now: datetime
) -> None:
    conn.execute(
        surveys.insert().values(
            survey_id=str(survey_id), code=code, items=list(items), published_at=now
        )
    )
