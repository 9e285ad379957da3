"""Queries and writes over a Connection: rows in, domain values out.

Everything here is portable SQLAlchemy Core. ``for_update`` asks PostgreSQL for row locks (SQLite
ignores it; its writes are serialized by the single writer anyway). SQLite hands back naive
datetimes, so every time read here goes through :func:`as_utc`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters.tables import (
    session_cities,
    session_trainers,
    sessions,
    trainers,
    trainings,
)
from trainops_scheduling.domain import Session, TimeRange


def as_utc(value: datetime) -> datetime:
    """Stored times are UTC; SQLite returns them naive, PostgreSQL aware in the session zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    id: uuid.UUID
    code: str
    title: dict[str, str]
    target_sectors: list[str]
    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TrainerRecord:
    id: uuid.UUID
    name: str
    home_city: str
    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """What ``GET /sessions`` may narrow by; ``starts_from``/``starts_before`` are UTC bounds."""

    city: str | None = None
    training_id: uuid.UUID | None = None
    status: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    limit: int = 1000
    offset: int = 0


# ------------------------------------------------------------------------------------------
# Trainings
# ------------------------------------------------------------------------------------------


def _training(row: Any) -> TrainingRecord:
    return TrainingRecord(
        id=row.id,
        code=row.code,
        title=dict(row.title),
        target_sectors=list(row.target_sectors),
        version=row.version,
        created_at=as_utc(row.created_at),
    )


def insert_training(conn: Connection, training: TrainingRecord) -> None:
    conn.execute(
        trainings.insert().values(
            id=training.id,
            code=training.code,
            title=training.title,
            target_sectors=training.target_sectors,
            version=training.version,
            created_at=training.created_at,
        )
    )


def get_training(conn: Connection, training_id: uuid.UUID) -> TrainingRecord | None:
    row = conn.execute(sa.select(trainings).where(trainings.c.id == training_id)).first()
    return _training(row) if row is not None else None


def training_id_by_code(conn: Connection, code: str) -> uuid.UUID | None:
    found: uuid.UUID | None = conn.execute(
        sa.select(trainings.c.id).where(trainings.c.code == code)
    ).scalar_one_or_none()
    return found


def list_trainings(conn: Connection) -> list[TrainingRecord]:
    rows = conn.execute(sa.select(trainings).order_by(trainings.c.code)).all()
    return [_training(r) for r in rows]


# ------------------------------------------------------------------------------------------
# Trainers
# ------------------------------------------------------------------------------------------


def _trainer(row: Any) -> TrainerRecord:
    return TrainerRecord(
        id=row.id,
        name=row.name,
        home_city=row.home_city,
        version=row.version,
        created_at=as_utc(row.created_at),
    )


def insert_trainer(conn: Connection, trainer: TrainerRecord) -> None:
    conn.execute(
        trainers.insert().values(
            id=trainer.id,
            name=trainer.name,
            home_city=trainer.home_city,
            version=trainer.version,
            created_at=trainer.created_at,
        )
    )


def lock_trainers(conn: Connection, trainer_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Lock the given trainers' rows (in id order, so two writers never deadlock); return the
    ids that exist.

    Holding these locks until commit serializes every booking of the same trainer, which makes
    the overlap check that follows race-free on PostgreSQL.
    """
    wanted = sorted(set(trainer_ids))
    if not wanted:
        return set()
    rows = conn.execute(
        sa.select(trainers.c.id)
        .where(trainers.c.id.in_(wanted))
        .order_by(trainers.c.id)
        .with_for_update()
    ).scalars()
    return set(rows)


def list_trainers(conn: Connection) -> list[TrainerRecord]:
    rows = conn.execute(sa.select(trainers).order_by(trainers.c.name, trainers.c.id)).all()
    return [_trainer(r) for r in rows]


def get_trainer(conn: Connection, trainer_id: uuid.UUID) -> TrainerRecord | None:
    row = conn.execute(sa.select(trainers).where(trainers.c.id == trainer_id)).first()
    return _trainer(row) if row is not None else None


# ------------------------------------------------------------------------------------------
# Sessions
# ------------------------------------------------------------------------------------------


def _session(row: Any) -> Session:
    """Rebuild the aggregate from a row (the constructor re-checks structural invariants)."""
    return Session(
        id=row.id,
        training_id=row.training_id,
        mode=row.mode,
        cities=tuple(row.cities),
        timezone=row.timezone,
        starts_at=as_utc(row.starts_at),
        ends_at=as_utc(row.ends_at),
        capacity=row.capacity,
        language=row.language,
        trainer_ids=tuple(uuid.UUID(t) for t in row.trainer_ids),
        venue=row.venue,
        status=row.status,
        version=row.version,
        cancel_reason=row.cancel_reason,
    )


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "training_id": session.training_id,
        "mode": session.mode,
        "cities": list(session.cities),
        "venue": session.venue,
        "timezone": session.timezone,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "capacity": session.capacity,
        "language": session.language,
        "trainer_ids": [str(t) for t in session.trainer_ids],
        "status": session.status,
        "cancel_reason": session.cancel_reason,
        "version": session.version,
    }


def insert_session(conn: Connection, session: Session, now: datetime) -> None:
    conn.execute(
        sessions.insert().values(
            id=session.id, created_at=now, updated_at=now, **_session_values(session)
        )
    )
    conn.execute(
        session_cities.insert(),
        [
            {"session_id": session.id, "city": c, "starts_at": session.starts_at}
            for c in session.cities
        ],
    )
    if session.trainer_ids:
        conn.execute(
            session_trainers.insert(),
            [{"session_id": session.id, "trainer_id": t} for t in session.trainer_ids],
        )


class StaleSession(Exception):
    """The row's version moved between load and save (cannot happen under the row lock)."""


def update_session(
    conn: Connection, session: Session, previous_version: int, now: datetime
) -> None:
    """Save a changed session, guarded on the version it was loaded at (optimistic check)."""
    result = conn.execute(
        sessions.update()
        .where(sessions.c.id == session.id, sessions.c.version == previous_version)
        .values(updated_at=now, **_session_values(session))
    )
    if result.rowcount != 1:
        raise StaleSession(f"session {session.id} changed concurrently; retry")
    conn.execute(
        session_cities.update()
        .where(session_cities.c.session_id == session.id)
        .values(starts_at=session.starts_at)
    )


def get_session(
    conn: Connection, session_id: uuid.UUID, *, for_update: bool = False
) -> Session | None:
    query = sa.select(sessions).where(sessions.c.id == session_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _session(row) if row is not None else None


def sessions_overlapping(
    conn: Connection, trainer_ids: Sequence[uuid.UUID], interval: TimeRange
) -> list[Session]:
    """Active sessions of any of ``trainer_ids`` that overlap ``interval`` (half-open)."""
    if not trainer_ids:
        return []
    booked = (
        sa.select(session_trainers.c.session_id)
        .where(session_trainers.c.trainer_id.in_(list(trainer_ids)))
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(sessions).where(
            sessions.c.id.in_(booked),
            sessions.c.status != "cancelled",
            sessions.c.starts_at < interval.ends_at,
            sessions.c.ends_at > interval.starts_at,
        )
    ).all()
    return [_session(r) for r in rows]


def find_sessions(conn: Connection, flt: SessionFilter) -> list[Session]:
    """Sessions matching ``flt``, earliest first; a city filter goes through the city index."""
    query = sa.select(sessions)
    start_column: sa.ColumnElement[Any] = sessions.c.starts_at
    if flt.city is not None:
        query = query.join(session_cities, session_cities.c.session_id == sessions.c.id).where(
            session_cities.c.city == flt.city
        )
        start_column = session_cities.c.starts_at
    if flt.training_id is not None:
        query = query.where(sessions.c.training_id == flt.training_id)
    if flt.status is not None:
        query = query.where(sessions.c.status == flt.status)
    if flt.starts_from is not None:
        query = query.where(start_column >= flt.starts_from)
    if flt.starts_before is not None:
        query = query.where(start_column < flt.starts_before)
    query = query.order_by(sessions.c.starts_at, sessions.c.id).limit(flt.limit).offset(flt.offset)
    return [_session(r) for r in conn.execute(query).all()]
