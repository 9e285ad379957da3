"""The local copies of scheduling's trainings and sessions and of registration's registrations.

Each copy row keeps the ``aggregate_version`` it last applied and changes only through
:func:`~trainops_shared.upsert.upsert_if_newer` / :func:`~trainops_shared.upsert.update_if_newer`,
so a late or redelivered older event can never roll it back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_feedback.adapters.tables import registrations, sessions, trainings
from trainops_shared.upsert import update_if_newer, upsert_if_newer


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: uuid.UUID
    training_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: str
    language: str
    timezone: str
    version: int


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    city: str
    language: str
    status: str
    attended: bool | None
    version: int


@dataclass(frozen=True, slots=True)
class TrainingChoice:
    training_id: uuid.UUID
    code: str
    title: dict[str, str]


_Row = TypeVar("_Row", SessionRow, RegistrationRow)


def _copy(
    conn: Connection, key: sa.Column[Any], value: uuid.UUID, row_type: type[_Row]
) -> _Row | None:
    """The copy whose ``key`` is ``value``, as ``row_type``: the columns named by its fields."""
    table = key.table
    wanted = [table.c[f.name] for f in fields(row_type)]
    row = conn.execute(sa.select(*wanted).where(key == value)).one_or_none()
    return None if row is None else row_type(**row._mapping)


def save_training(
    conn: Connection, training_id: uuid.UUID, code: str, title: dict[str, str], version: int
) -> bool:
    """The training as of ``version``; ``False`` when the copy is as new already."""
    values = {"training_id": training_id, "code": code, "title": dict(title)}
    return upsert_if_newer(conn, trainings, {**values, "version": version})


def list_trainings(conn: Connection) -> list[TrainingChoice]:
    """Every training copied, by code."""
    query = sa.select(trainings.c.training_id, trainings.c.code, trainings.c.title)
    rows = conn.execute(query.order_by(trainings.c.code)).all()
    return [TrainingChoice(row.training_id, row.code, dict(row.title)) for row in rows]


def get_session(conn: Connection, session_id: uuid.UUID) -> SessionRow | None:
    return _copy(conn, sessions.c.session_id, session_id, SessionRow)


def save_session(conn: Connection, session_id: uuid.UUID, values: dict[str, Any]) -> bool:
    """The scheduled session as of ``values["version"]``; a new copy starts ``scheduled``.

    An existing copy keeps its status: only the cancellation or completion events change it.
    """
    row = {"session_id": session_id, "status": "scheduled", **values}
    return upsert_if_newer(conn, sessions, row, update=values)


def change_session(conn: Connection, session_id: uuid.UUID, version: int, **changes: Any) -> bool:
    """Apply ``changes`` if ``version`` is newer than the copy's; ``False`` if it is not."""
    return update_if_newer(conn, sessions, {"session_id": session_id}, changes, version=version)


def get_registration(conn: Connection, registration_id: uuid.UUID) -> RegistrationRow | None:
    return _copy(conn, registrations.c.registration_id, registration_id, RegistrationRow)


def save_registration(conn: Connection, registration_id: uuid.UUID, values: dict[str, Any]) -> bool:
    """The registration as of ``values["version"]``; a new copy has no attendance yet.

    An existing copy keeps its attendance: only ``AttendanceRecorded`` changes it.
    """
    row = {"registration_id": registration_id, "attended": None, **values}
    return upsert_if_newer(conn, registrations, row, update=values)


def change_registration(
    conn: Connection, registration_id: uuid.UUID, version: int, **changes: Any
) -> bool:
    """Apply ``changes`` if ``version`` is newer than the copy's; ``False`` if it is not."""
    return update_if_newer(
        conn, registrations, {"registration_id": registration_id}, changes, version=version
    )
