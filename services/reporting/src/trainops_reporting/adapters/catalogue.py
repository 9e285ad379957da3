"""Reporting's copies of the other contexts' aggregates: trainings, trainers, surveys, sessions.

Whole-aggregate copies (trainings, trainers, surveys) move only forward through the shared
versioned upsert. A session keeps one version per independently changing attribute (times,
capacity, status), so an older event about one attribute still applies after a newer one about
another; its partial updates go through the shared ``update_if_newer`` on that attribute's
version column. Statements on the hot path are built once at import (see ``adapters.facts``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import sessions, surveys, trainers, trainings
from trainops_shared.upsert import update_if_newer, upsert_if_newer

_B = sa.bindparam


def save_training(
    conn: Connection,
    training_id: uuid.UUID,
    *,
    code: str,
    title: Mapping[str, str],
    target_sectors: Sequence[str],
    version: int,
) -> bool:
    """The training's copy at ``version``, unless the stored one is as new (``False`` then)."""
    return upsert_if_newer(
        conn,
        trainings,
        {
            "training_id": training_id,
            "code": code,
            "title": dict(title),
            "target_sectors": list(target_sectors),
            "version": version,
        },
    )


def save_trainer(conn: Connection, trainer_id: uuid.UUID, *, home_city: str, version: int) -> bool:
    """Only the trainer's home city is kept: names are not report material."""
    return upsert_if_newer(
        conn, trainers, {"trainer_id": trainer_id, "home_city": home_city, "version": version}
    )


def save_survey(
    conn: Connection,
    survey_id: uuid.UUID,
    *,
    code: str,
    items: Sequence[Any],
    session_id: uuid.UUID | None,
    version: int,
) -> bool:
    return upsert_if_newer(
        conn,
        surveys,
        {
            "survey_id": survey_id,
            "code": code,
            "items": list(items),
            "session_id": session_id,
            "version": version,
        },
    )


_SESSION = sa.select(sessions).where(sessions.c.session_id == _B("b_id"))
_SESSION_EXISTS = sa.select(sessions.c.session_id).where(sessions.c.session_id == _B("b_id"))
_SESSION_INSERT = sessions.insert()
_SESSION_UPDATE = sessions.update().where(sessions.c.session_id == _B("b_id"))


def session(conn: Connection, session_id: uuid.UUID) -> sa.Row[Any] | None:
    """The session's copy (every column), if projected."""
    return conn.execute(_SESSION, {"b_id": session_id}).one_or_none()


def session_exists(conn: Connection, session_id: uuid.UUID) -> bool:
    return conn.execute(_SESSION_EXISTS, {"b_id": session_id}).first() is not None


def add_session(
    conn: Connection,
    session_id: uuid.UUID,
    *,
    training_id: uuid.UUID,
    mode: str,
    cities: Sequence[str],
    timezone: str,
    language: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    version: int,
) -> None:
    """A new session copy, every attribute at the creation's version."""
    conn.execute(
        _SESSION_INSERT,
        {
            "session_id": session_id,
            "training_id": training_id,
            "mode": mode,
            "cities": list(cities),
            "timezone": timezone,
            "language": language,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "capacity": capacity,
            "status": "scheduled",
            "created_version": version,
            "times_version": version,
            "capacity_version": version,
            "status_version": version,
        },
    )


def move_session(
    conn: Connection, session_id: uuid.UUID, starts_at: datetime, ends_at: datetime, version: int
) -> bool:
    """New times at ``version`` if newer than the times' version; whether they applied."""
    return update_if_newer(
        conn,
        sessions,
        {"session_id": session_id},
        {"starts_at": starts_at, "ends_at": ends_at},
        version=version,
        version_column="times_version",
    )


def resize_session(conn: Connection, session_id: uuid.UUID, capacity: int, version: int) -> bool:
    """A new capacity at ``version`` if newer than the capacity's version."""
    return update_if_newer(
        conn,
        sessions,
        {"session_id": session_id},
        {"capacity": capacity},
        version=version,
        version_column="capacity_version",
    )


def set_session_status(conn: Connection, session_id: uuid.UUID, status: str, version: int) -> None:
    """The status at ``version``; the caller has compared it with the status' version."""
    conn.execute(_SESSION_UPDATE, {"b_id": session_id, "status": status, "status_version": version})
