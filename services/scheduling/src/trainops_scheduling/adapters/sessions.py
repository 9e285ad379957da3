"""The session aggregate: rows in, :class:`~trainops_scheduling.domain.Session` out.

``for_update`` asks PostgreSQL for row locks (SQLite ignores it; its writes are serialized by the
single writer anyway). Cities and trainers are kept twice, as lists on the row (order matters)
and in link tables (index lookups), and both are written here together.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters.tables import session_cities, session_trainers, sessions
from trainops_scheduling.domain import Session, TimeRange
from trainops_scheduling.domain.errors import StaleSession
from trainops_scheduling.domain.records import SessionFilter
from trainops_shared.events.scheduling import SeatQuota


def _session(row: Any) -> Session:
    """Rebuild the aggregate from a row (the constructor re-checks structural invariants)."""
    return Session(
        id=row.id,
        training_id=row.training_id,
        mode=row.mode,
        cities=tuple(row.cities),
        timezone=row.timezone,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        language=row.language,
        trainer_ids=tuple(uuid.UUID(t) for t in row.trainer_ids),
        venue=row.venue,
        status=row.status,
        version=row.version,
        cancel_reason=row.cancel_reason,
        quotas=tuple(msgspec.convert(row.quotas or [], list[SeatQuota])),
    )


session_from_row = _session
"""The aggregate of a ``sessions`` row, for the other adapters that read sessions."""


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
        "quotas": msgspec.to_builtins(list(session.quotas)),
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
    """Sessions matching ``flt``, earliest first (latest first with ``flt.newest_first``); a city
    filter goes through the city index."""
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
    order = (
        (sessions.c.starts_at.desc(), sessions.c.id.desc())
        if flt.newest_first
        else (sessions.c.starts_at, sessions.c.id)
    )
    query = query.order_by(*order).limit(flt.limit).offset(flt.offset)
    return [_session(r) for r in conn.execute(query).all()]
