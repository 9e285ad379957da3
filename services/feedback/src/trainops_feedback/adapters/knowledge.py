"""Knowledge-test invitations and responses, and the per-link drafts of a page.

Who is due a pre-test or a post-test is decided in SQL over the local copies (the rule is
spelled out in :func:`due_clause`), so a test published after people registered reaches them
as well as those who register later.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_feedback.adapters.tables import (
    definition_versions,
    definitions,
    drafts,
    registrations,
    sessions,
    test_invitations,
    test_responses,
    trainings,
)
from trainops_feedback.domain.definitions import Phase
from trainops_shared.auth import Principal, region_filter


def due_clause(phase: Phase) -> sa.ColumnElement[bool]:
    """Pre-test: a confirmed seat in a session still to come. Post-test: attended a completed
    session (the same people who get the feedback form)."""
    if phase == "pre":
        return sa.and_(sessions.c.status == "scheduled", registrations.c.status == "confirmed")
    return sa.and_(
        sessions.c.status == "completed",
        registrations.c.attended.is_(True),
        registrations.c.status != "cancelled",
    )


@dataclass(frozen=True, slots=True)
class DueTest:
    registration_id: uuid.UUID
    session_id: uuid.UUID
    survey_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime


def missing_test_invitations(
    conn: Connection, phase: Phase, session_id: uuid.UUID | None, registration_id: uuid.UUID | None
) -> list[DueTest]:
    """Registrations due a ``phase`` test of their training that have no such invitation."""
    mine = sa.and_(
        test_invitations.c.registration_id == registrations.c.registration_id,
        test_invitations.c.phase == phase,
    )
    query = (
        sa.select(
            registrations.c.registration_id,
            sessions.c.session_id,
            definitions.c.survey_id,
            sessions.c.starts_at,
            sessions.c.ends_at,
        )
        .select_from(
            registrations.join(sessions, sessions.c.session_id == registrations.c.session_id)
            .join(
                definitions,
                sa.and_(
                    definitions.c.training_id == sessions.c.training_id,
                    definitions.c.purpose == "knowledge_test",
                ),
            )
            .outerjoin(test_invitations, mine)
        )
        .where(due_clause(phase), test_invitations.c.invitation_id.is_(None))
        .where(
            sa.exists().where(
                definition_versions.c.survey_id == definitions.c.survey_id,
                definition_versions.c.status == "published",
            )
        )
        .order_by(registrations.c.registration_id)
    )
    if session_id is not None:
        query = query.where(sessions.c.session_id == session_id)
    if registration_id is not None:
        query = query.where(registrations.c.registration_id == registration_id)
    return [
        DueTest(r.registration_id, r.session_id, r.survey_id, r.starts_at, r.ends_at)
        for r in conn.execute(query)
    ]


def lock_test_definitions(
    conn: Connection, session_id: uuid.UUID | None, registration_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """Lock the knowledge-test rows in scope (``FOR UPDATE``; SQLite's single writer needs
    none) before deciding who is due a link, and return their survey ids. Publishing locks its
    row too, so a registration projected while a test is being published is seen by one of the
    two transactions: without the lock each could miss the other's uncommitted row and the
    person get no link."""
    query = sa.select(definitions.c.survey_id).where(definitions.c.purpose == "knowledge_test")
    if session_id is not None:
        training = sa.select(sessions.c.training_id).where(sessions.c.session_id == session_id)
        query = query.where(definitions.c.training_id.in_(training))
    elif registration_id is not None:
        training = (
            sa.select(sessions.c.training_id)
            .join(registrations, registrations.c.session_id == sessions.c.session_id)
            .where(registrations.c.registration_id == registration_id)
        )
        query = query.where(definitions.c.training_id.in_(training))
    return list(conn.execute(query.order_by(definitions.c.survey_id).with_for_update()).scalars())


def insert_test_invitations(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(test_invitations.insert(), list(rows))


@dataclass(frozen=True, slots=True)
class TestLinkView:
    """A test invitation as its page and its submission see it."""

    __test__ = False

    invitation_id: uuid.UUID
    registration_id: uuid.UUID
    session_id: uuid.UUID
    survey_id: uuid.UUID
    participant_id: uuid.UUID
    phase: Phase
    language: str
    expires_at: datetime
    used_at: datetime | None
    cancelled: bool
    training_title: dict[str, str]


def find_test_invitation(conn: Connection, token_hash: str) -> TestLinkView | None:
    row = conn.execute(
        sa.select(
            test_invitations.c.invitation_id,
            test_invitations.c.registration_id,
            test_invitations.c.session_id,
            test_invitations.c.survey_id,
            test_invitations.c.phase,
            test_invitations.c.expires_at,
            test_invitations.c.used_at,
            registrations.c.participant_id,
            registrations.c.language,
            registrations.c.status,
            sessions.c.status.label("session_status"),
            trainings.c.title,
        )
        .select_from(
            test_invitations.join(
                registrations,
                registrations.c.registration_id == test_invitations.c.registration_id,
            )
            .join(sessions, sessions.c.session_id == test_invitations.c.session_id)
            .outerjoin(trainings, trainings.c.training_id == sessions.c.training_id)
        )
        .where(test_invitations.c.token_hash == token_hash)
    ).one_or_none()
    if row is None:
        return None
    return TestLinkView(
        invitation_id=row.invitation_id,
        registration_id=row.registration_id,
        session_id=row.session_id,
        survey_id=row.survey_id,
        participant_id=row.participant_id,
        phase=row.phase,
        language=row.language,
        expires_at=row.expires_at,
        used_at=row.used_at,
        cancelled=row.status == "cancelled" or row.session_status == "cancelled",
        training_title=dict(row.title or {}),
    )


def claim_test_invitation(conn: Connection, token_hash: str, now: datetime) -> bool:
    """Mark the link used, atomically (``UPDATE … WHERE used_at IS NULL``): one response."""
    result = conn.execute(
        test_invitations.update()
        .where(
            test_invitations.c.token_hash == token_hash,
            test_invitations.c.used_at.is_(None),
            test_invitations.c.expires_at > now,
        )
        .values(used_at=now)
    )
    return int(result.rowcount) == 1


def insert_test_response(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(test_responses.insert().values(**values))


@dataclass(frozen=True, slots=True)
class TestLinkRow:
    __test__ = False

    invitation_id: uuid.UUID
    registration_id: uuid.UUID
    participant_id: uuid.UUID
    phase: str
    language: str
    expires_at: datetime
    used: bool


def session_test_links(
    conn: Connection, session_id: uuid.UUID, principal: Principal
) -> list[TestLinkRow]:
    """The test links of a session; a coordinator's rows are cut to their region here."""
    query = (
        sa.select(
            test_invitations.c.invitation_id,
            test_invitations.c.registration_id,
            registrations.c.participant_id,
            test_invitations.c.phase,
            registrations.c.language,
            test_invitations.c.expires_at,
            test_invitations.c.used_at,
        )
        .select_from(
            test_invitations.join(
                registrations,
                registrations.c.registration_id == test_invitations.c.registration_id,
            )
        )
        .where(test_invitations.c.session_id == session_id)
        .order_by(test_invitations.c.registration_id, test_invitations.c.phase.desc())
    )
    query = query.where(region_filter(principal, registrations.c.city))
    return [
        TestLinkRow(
            r.invitation_id,
            r.registration_id,
            r.participant_id,
            r.phase,
            r.language,
            r.expires_at,
            r.used_at is not None,
        )
        for r in conn.execute(query)
    ]


# --------------------------------------------------------------------------------------------
# Drafts


def save_draft(conn: Connection, token_hash: str, answers: dict[str, Any], now: datetime) -> None:
    """Upsert by delete-then-insert: portable across SQLite and PostgreSQL, one transaction."""
    conn.execute(drafts.delete().where(drafts.c.token_hash == token_hash))
    conn.execute(drafts.insert().values(token_hash=token_hash, answers=answers, saved_at=now))


def load_draft(conn: Connection, token_hash: str) -> dict[str, Any]:
    found = conn.execute(
        sa.select(drafts.c.answers).where(drafts.c.token_hash == token_hash)
    ).scalar()
    return dict(found) if isinstance(found, dict) else {}


def drop_draft(conn: Connection, token_hash: str) -> None:
    conn.execute(drafts.delete().where(drafts.c.token_hash == token_hash))
