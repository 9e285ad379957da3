"""The per-registration rows of the read model: facts, participants' profiles, counted responses.

Throughput: the consumer applies up to 500 events per transaction, one handler call after
another, so per-event Python overhead is the bottleneck, not SQLite. Every statement here is
therefore built once at import (``sa.bindparam`` placeholders, executed with parameter dicts):
SQLAlchemy memoizes a statement object's cache key, whereas building ``select(...).where(...)``
or ``insert().values(...)`` per call regenerates it each time, which cost more than running the
statement. The reads a registration needs are folded into one query
(:func:`registration_context`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import (
    facts,
    feedback_responses,
    participant_merges,
    participants,
    sessions,
)
from trainops_reporting.domain.projection import PROFILE_COLUMNS, ResponseChange, Stamp

_B = sa.bindparam

_REGISTRATION_CONTEXT = (
    sa.select(
        sessions.c.training_id,
        sessions.c.mode,
        sessions.c.starts_at,
        sessions.c.status,
        sa.exists().where(facts.c.registration_id == _B("b_registration_id")).label("fact_exists"),
        participants.c.participant_id.label("known_participant"),
        *(participants.c[name] for name in PROFILE_COLUMNS),
        participants.c.profile_at,
        participants.c.profile_event_id,
        sa.select(participant_merges.c.kept_participant_id)
        .where(participant_merges.c.merged_participant_id == _B("b_participant_id"))
        .scalar_subquery()
        .label("merged_into"),
    )
    .select_from(
        sessions.outerjoin(participants, participants.c.participant_id == _B("b_participant_id"))
    )
    .where(sessions.c.session_id == _B("b_session_id"))
)


def registration_context(
    conn: Connection, registration_id: uuid.UUID, participant_id: uuid.UUID, session_id: uuid.UUID
) -> sa.Row[Any] | None:
    """Everything a registration needs in one read: its session (``None`` iff the session is
    not projected), whether the registration already is (``fact_exists``), its participant's
    current profile (``known_participant`` and the profile columns null if unknown) and the
    participant it was merged into (``merged_into``, null if none)."""
    return conn.execute(
        _REGISTRATION_CONTEXT,
        {
            "b_registration_id": registration_id,
            "b_participant_id": participant_id,
            "b_session_id": session_id,
        },
    ).one_or_none()


_PARTICIPANT_INSERT = participants.insert()
_PARTICIPANT_UPDATE = participants.update().where(participants.c.participant_id == _B("b_id"))
_FACTS_OF_PARTICIPANT_UPDATE = facts.update().where(facts.c.participant_id == _B("b_id"))


def add_participant(
    conn: Connection, participant_id: uuid.UUID, stamp: Stamp, profile: Mapping[str, str]
) -> None:
    conn.execute(
        _PARTICIPANT_INSERT,
        {
            "participant_id": participant_id,
            "profile_at": stamp[0],
            "profile_event_id": stamp[1],
            **profile,
        },
    )


def set_participant_profile(
    conn: Connection, participant_id: uuid.UUID, stamp: Stamp, profile: Mapping[str, str]
) -> None:
    """The participant's latest profile, as of ``stamp``."""
    conn.execute(
        _PARTICIPANT_UPDATE,
        {"b_id": participant_id, "profile_at": stamp[0], "profile_event_id": stamp[1], **profile},
    )


def relabel_facts(conn: Connection, participant_id: uuid.UUID, profile: Mapping[str, str]) -> None:
    """Every fact of the participant takes ``profile`` (a person is in one cell only)."""
    conn.execute(_FACTS_OF_PARTICIPANT_UPDATE, {"b_id": participant_id, **profile})


_FACT = sa.select(facts).where(facts.c.registration_id == _B("b_id"))
_FACT_INSERT = facts.insert()
_FACT_UPDATE = facts.update().where(facts.c.registration_id == _B("b_id"))


def fact(conn: Connection, registration_id: uuid.UUID) -> sa.Row[Any] | None:
    """The registration's fact row (every column), if projected."""
    return conn.execute(_FACT, {"b_id": registration_id}).one_or_none()


def add_fact(conn: Connection, values: Mapping[str, Any]) -> None:
    """A new fact row; ``values`` names every column."""
    conn.execute(_FACT_INSERT, values)


def set_fact_status(
    conn: Connection, registration_id: uuid.UUID, status: str, version: int, registered: bool
) -> None:
    conn.execute(
        _FACT_UPDATE,
        {
            "b_id": registration_id,
            "status": status,
            "status_version": version,
            "registered": registered,
        },
    )


def set_fact_attendance(
    conn: Connection, registration_id: uuid.UUID, attended: bool, version: int
) -> None:
    conn.execute(
        _FACT_UPDATE,
        {"b_id": registration_id, "attended": attended, "attendance_version": version},
    )


_FACT_ADD_FEEDBACK = (
    facts.update()
    .where(facts.c.registration_id == _B("b_id"))
    .values(
        feedback_count=facts.c.feedback_count + _B("b_count", type_=sa.Integer),
        overall_sum=facts.c.overall_sum + _B("b_overall_sum", type_=sa.Integer),
        overall_count=facts.c.overall_count + _B("b_overall_count", type_=sa.Integer),
    )
)


def add_fact_feedback(conn: Connection, registration_id: uuid.UUID, change: ResponseChange) -> None:
    conn.execute(
        _FACT_ADD_FEEDBACK,
        {
            "b_id": registration_id,
            "b_count": change.feedback,
            "b_overall_sum": change.overall_sum,
            "b_overall_count": change.overall_count,
        },
    )


_FACTS_OF_SESSION_UPDATE = facts.update().where(facts.c.session_id == _B("b_session_id"))
_FACTS_OF_SESSION_CANCELLED = (
    facts.update()
    .where(facts.c.session_id == _B("b_session_id"))
    .values(session_cancelled=True, registered=sa.false())
)
_FACTS_OF_SESSION_REINSTATED = (
    facts.update()
    .where(facts.c.session_id == _B("b_session_id"))
    .values(session_cancelled=False, registered=facts.c.status == "confirmed")
)


def move_session_facts(conn: Connection, session_id: uuid.UUID, starts_at: datetime) -> None:
    """The session's facts take its new start (the window reports read it there)."""
    conn.execute(_FACTS_OF_SESSION_UPDATE, {"b_session_id": session_id, "starts_at": starts_at})


def mark_session_facts(conn: Connection, session_id: uuid.UUID, *, cancelled: bool) -> None:
    """Every fact of the session cancelled with it, or reinstated (registered again if
    confirmed)."""
    conn.execute(
        _FACTS_OF_SESSION_CANCELLED if cancelled else _FACTS_OF_SESSION_REINSTATED,
        {"b_session_id": session_id},
    )


_COUNTED_RESPONSE: sa.Select[Any] = sa.select(
    feedback_responses.c.response_id,
    feedback_responses.c.submitted_at,
    feedback_responses.c.overall,
).where(feedback_responses.c.registration_id == _B("b_id"))
_RESPONSE_DELETE = feedback_responses.delete().where(
    feedback_responses.c.response_id == _B("b_response_id")
)
_RESPONSE_INSERT = feedback_responses.insert()


def counted_response(conn: Connection, registration_id: uuid.UUID) -> sa.Row[Any] | None:
    """The registration's counted response (``response_id``, ``submitted_at``, ``overall``)."""
    return conn.execute(_COUNTED_RESPONSE, {"b_id": registration_id}).one_or_none()


def drop_response(conn: Connection, response_id: uuid.UUID) -> None:
    conn.execute(_RESPONSE_DELETE, {"b_response_id": response_id})


def add_response(conn: Connection, values: Mapping[str, Any]) -> None:
    """The registration's counted response; ``values`` names every column."""
    conn.execute(_RESPONSE_INSERT, values)


_PARTICIPANT: sa.Select[Any] = sa.select(
    *(participants.c[name] for name in PROFILE_COLUMNS),
    participants.c.profile_at,
    participants.c.profile_event_id,
).where(participants.c.participant_id == _B("b_id"))
_PARTICIPANT_DELETE = participants.delete().where(participants.c.participant_id == _B("b_id"))
_MERGED_INTO = sa.select(participant_merges.c.kept_participant_id).where(
    participant_merges.c.merged_participant_id == _B("b_id")
)
_MERGE_INSERT = participant_merges.insert()
_MERGES_INTO_UPDATE = participant_merges.update().where(
    participant_merges.c.kept_participant_id == _B("b_old")
)
_FACTS_REKEY = (
    facts.update()
    .where(facts.c.participant_id == _B("b_old"))
    .values(participant_id=_B("b_new", type_=facts.c.participant_id.type))
)


def participant(conn: Connection, participant_id: uuid.UUID) -> sa.Row[Any] | None:
    """The participant's latest profile and its stamp (``profile_at``, ``profile_event_id``)."""
    return conn.execute(_PARTICIPANT, {"b_id": participant_id}).one_or_none()


def drop_participant(conn: Connection, participant_id: uuid.UUID) -> None:
    conn.execute(_PARTICIPANT_DELETE, {"b_id": participant_id})


def merged_into(conn: Connection, participant_id: uuid.UUID) -> uuid.UUID | None:
    """The participant ``participant_id`` was merged into, if any (the end of the chain)."""
    found: uuid.UUID | None = conn.execute(_MERGED_INTO, {"b_id": participant_id}).scalar()
    return found


def record_merge(conn: Connection, merged: uuid.UUID, kept: uuid.UUID, merge_id: uuid.UUID) -> None:
    """``merged`` now means ``kept``, and so does every id that had been merged into ``merged``
    (a chain stays one hop long). Idempotent: a merge recorded already changes nothing."""
    if merged_into(conn, merged) is None:
        conn.execute(
            _MERGE_INSERT,
            {"merged_participant_id": merged, "kept_participant_id": kept, "merge_id": merge_id},
        )
    conn.execute(_MERGES_INTO_UPDATE, {"b_old": merged, "kept_participant_id": kept})


def rekey_facts(conn: Connection, old: uuid.UUID, new: uuid.UUID) -> None:
    """Every fact of participant ``old`` becomes one of ``new`` (one person, one id)."""
    conn.execute(_FACTS_REKEY, {"b_old": old, "b_new": new})
