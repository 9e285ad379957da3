"""The invitations of a session: who gets one, the links, the atomic claim of a link.

Region scoping happens here (:func:`list_session_invitations` filters a coordinator's rows by
the participant's city before the query runs), so no caller can forget it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_feedback.adapters.tables import (
    invitations,
    mailed_links,
    registrations,
    sessions,
    trainings,
)
from trainops_feedback.domain.invitation import InvitationView
from trainops_shared.auth import Principal, region_filter


def eligible_clause() -> sa.ColumnElement[bool]:
    """Who gets an invitation: attended a completed session and was not cancelled."""
    return sa.and_(
        sessions.c.status == "completed",
        registrations.c.attended.is_(True),
        registrations.c.status != "cancelled",
    )


def _registration_scope(
    session_id: uuid.UUID, registration_id: uuid.UUID | None
) -> list[sa.ColumnElement[bool]]:
    where = [registrations.c.session_id == session_id]
    if registration_id is not None:
        where.append(registrations.c.registration_id == registration_id)
    return where


def missing_invitations(
    conn: Connection, session_id: uuid.UUID, registration_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
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


def _eligible_ids(session_id: uuid.UUID, registration_id: uuid.UUID | None) -> sa.Select[Any]:
    return (
        sa.select(registrations.c.registration_id)
        .select_from(
            registrations.join(sessions, sessions.c.session_id == registrations.c.session_id)
        )
        .where(*_registration_scope(session_id, registration_id))
        .where(eligible_clause())
    )


def reinstate_invitations(
    conn: Connection, session_id: uuid.UUID, registration_id: uuid.UUID | None, now: datetime
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
    conn: Connection, session_id: uuid.UUID, registration_id: uuid.UUID | None, now: datetime
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


def unused_invitations(conn: Connection, session_id: uuid.UUID) -> list[tuple[uuid.UUID, datetime]]:
    """``(invitation_id, created_at)`` of the session's unused invitations."""
    rows = conn.execute(
        sa.select(invitations.c.invitation_id, invitations.c.created_at)
        .where(invitations.c.session_id == session_id)
        .where(invitations.c.used_at.is_(None))
    ).all()
    return [(r.invitation_id, r.created_at) for r in rows]


def set_invitation_expiry(conn: Connection, changes: Iterable[tuple[uuid.UUID, datetime]]) -> None:
    for invitation_id, expires_at in changes:
        conn.execute(
            invitations.update()
            .where(invitations.c.invitation_id == invitation_id)
            .values(expires_at=expires_at)
        )


@dataclass(frozen=True, slots=True)
class ListedInvitation:
    registration_id: uuid.UUID
    invitation_id: uuid.UUID
    participant_id: uuid.UUID
    language: str
    expires_at: datetime
    used_at: datetime | None


def session_exists(conn: Connection, session_id: uuid.UUID) -> bool:
    found = conn.execute(
        sa.select(sessions.c.session_id).where(sessions.c.session_id == session_id)
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
            registrations.c.participant_id,
            registrations.c.language,
        )
        .select_from(
            invitations.join(
                registrations, registrations.c.registration_id == invitations.c.registration_id
            )
        )
        .where(invitations.c.session_id == session_id)
        .where(invitations.c.revoked_at.is_(None))
        .where(region_filter(principal, registrations.c.city))
        .order_by(invitations.c.registration_id)
    ).all()
    return [
        ListedInvitation(
            registration_id=r.registration_id,
            invitation_id=r.invitation_id,
            participant_id=r.participant_id,
            language=r.language,
            expires_at=r.expires_at,
            used_at=r.used_at,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class SessionCounts:
    """A session as the staff overview lists it, with its live invitations in one region."""

    session_id: uuid.UUID
    starts_at: datetime
    timezone: str
    status: str
    training_title: dict[str, str]
    invited: int
    answered: int


def _live_counts(principal: Principal) -> sa.Subquery:
    """Per session: live invitations and answered ones among the principal's region's people."""
    return (
        sa.select(
            invitations.c.session_id,
            sa.func.count().label("invited"),
            sa.func.count(invitations.c.used_at).label("answered"),
        )
        .select_from(
            invitations.join(
                registrations, registrations.c.registration_id == invitations.c.registration_id
            )
        )
        .where(invitations.c.revoked_at.is_(None))
        .where(region_filter(principal, registrations.c.city))
        .group_by(invitations.c.session_id)
        .subquery()
    )


def _session_counts(principal: Principal) -> sa.Select[Any]:
    # Counted in a subquery and joined after: PostgreSQL cannot GROUP BY a ``json`` title.
    counts = _live_counts(principal)
    query = sa.select(
        sessions.c.session_id,
        sessions.c.starts_at,
        sessions.c.timezone,
        sessions.c.status,
        trainings.c.title,
        sa.func.coalesce(counts.c.invited, 0).label("invited"),
        sa.func.coalesce(counts.c.answered, 0).label("answered"),
    ).select_from(
        sessions.outerjoin(counts, counts.c.session_id == sessions.c.session_id).outerjoin(
            trainings, trainings.c.training_id == sessions.c.training_id
        )
    )
    if principal.region_scope is not None:
        # A coordinator's sessions are those with people of their region invited.
        query = query.where(counts.c.session_id.is_not(None))
    return query


def _as_counts(row: Any) -> SessionCounts:
    return SessionCounts(
        session_id=row.session_id,
        starts_at=row.starts_at,
        timezone=row.timezone,
        status=row.status,
        training_title=dict(row.title or {}),
        invited=int(row.invited),
        answered=int(row.answered),
    )


def completed_session_counts(conn: Connection, principal: Principal) -> list[SessionCounts]:
    """The completed sessions ``principal`` may see, latest first, with their invitation counts."""
    query = (
        _session_counts(principal)
        .where(sessions.c.status == "completed")
        .order_by(sessions.c.starts_at.desc(), sessions.c.session_id)
    )
    return [_as_counts(row) for row in conn.execute(query).all()]


def session_counts(
    conn: Connection, session_id: uuid.UUID, principal: Principal
) -> SessionCounts | None:
    """One session with its counts, or ``None`` when ``principal`` may not see it."""
    query = _session_counts(principal).where(sessions.c.session_id == session_id)
    row = conn.execute(query).one_or_none()
    return None if row is None else _as_counts(row)


def _link_is(token_hash: str) -> sa.ColumnElement[bool]:
    """The invitation opened by a link of this hash: the link derived here (listed to the
    coordinators) or the one registration mailed the participant — two keys, one invitation."""
    mailed = sa.select(mailed_links.c.registration_id).where(
        mailed_links.c.token_hash == token_hash
    )
    return sa.or_(invitations.c.token_hash == token_hash, invitations.c.registration_id.in_(mailed))


def save_mailed_link(
    conn: Connection,
    link_id: uuid.UUID,
    registration_id: uuid.UUID,
    token_hash: str,
    issued_at: datetime,
) -> None:
    """Keep the hash of a mailed link (once: a link is issued once per registration)."""
    known = conn.execute(
        sa.select(mailed_links.c.link_id).where(
            sa.or_(
                mailed_links.c.link_id == link_id,
                mailed_links.c.registration_id == registration_id,
            )
        )
    ).first()
    if known is None:
        conn.execute(
            mailed_links.insert().values(
                link_id=link_id,
                registration_id=registration_id,
                token_hash=token_hash,
                issued_at=issued_at,
            )
        )


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
        .where(_link_is(token_hash))
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
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        used_at=row.used_at,
        starts_at=row.starts_at,
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
        .where(_link_is(token_hash))
        .where(invitations.c.used_at.is_(None))
        .where(invitations.c.revoked_at.is_(None))
        .where(invitations.c.expires_at > now)
        .values(used_at=now)
    )
    return int(result.rowcount) == 1
