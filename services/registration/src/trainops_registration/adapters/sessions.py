"""The session copy: scheduling's sessions as this service last heard of them, with the seat
counters every registration write keeps current.

The statements of the write path are built once, at import, with ``bindparam`` placeholders
and executed with a parameter dict: SQLAlchemy then finds them in its compiled cache without
rebuilding the expression and its cache key on every request (that rebuilding, not SQLite, was
most of the writer thread's time).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from trainops_registration.adapters.tables import sessions
from trainops_registration.domain.records import SessionCopy
from trainops_shared.events.scheduling import SeatQuota
from trainops_shared.timeutil import as_utc
from trainops_shared.upsert import update_if_newer, upsert_if_newer

_s = sessions.c


def session_from_row(row: RowMapping) -> SessionCopy:
    return SessionCopy(
        session_id=row["session_id"],
        training_id=row["training_id"],
        mode=row["mode"],
        cities=[str(c).lower() for c in row["cities"]],
        timezone=row["timezone"],
        starts_at=as_utc(row["starts_at"]),
        ends_at=as_utc(row["ends_at"]),
        capacity=int(row["capacity"]),
        language=row["language"],
        status=row["status"],
        version=int(row["version"]),
        confirmed_count=int(row["confirmed_count"]),
        waitlisted_count=int(row["waitlisted_count"]),
        last_waitlist_position=int(row["last_waitlist_position"]),
        quotas=tuple(msgspec.convert(row["quotas"] or [], list[SeatQuota])),
    )


def quota_values(quotas: list[SeatQuota]) -> list[dict[str, object]]:
    """The quotas as the JSON column holds them."""
    return [msgspec.to_builtins(q) for q in quotas]


_GET_SESSION = sa.select(sessions).where(_s.session_id == sa.bindparam("sid"))
_GET_SESSION_LOCKED = _GET_SESSION.with_for_update()


def get_session(
    conn: Connection, session_id: uuid.UUID, *, for_update: bool = False
) -> SessionCopy | None:
    """The session copy; ``for_update`` takes its row lock on PostgreSQL (seat counting).

    SQLite ignores ``FOR UPDATE``; there every write transaction is serialized anyway.
    """
    query = _GET_SESSION_LOCKED if for_update else _GET_SESSION
    row = conn.execute(query, {"sid": str(session_id)}).mappings().first()
    return session_from_row(row) if row is not None else None


_ADJUST_SEATS = (
    sessions.update()
    .where(_s.session_id == sa.bindparam("sid"))
    .values(
        confirmed_count=_s.confirmed_count + sa.bindparam("d_confirmed", type_=sa.Integer),
        waitlisted_count=_s.waitlisted_count + sa.bindparam("d_waitlisted", type_=sa.Integer),
        last_waitlist_position=_s.last_waitlist_position + sa.bindparam("d_last", type_=sa.Integer),
    )
)
_RESET_SEATS = (
    sessions.update()
    .where(_s.session_id == sa.bindparam("sid"))
    .values(confirmed_count=0, waitlisted_count=0, last_waitlist_position=0)
)


def adjust_seats(
    conn: Connection,
    session_id: uuid.UUID,
    *,
    confirmed: int = 0,
    waitlisted: int = 0,
    last_position: int = 0,
) -> None:
    """Move the session's seat counters by these deltas (same transaction as the change).

    Every status change of a registration calls this (or :func:`reset_seats`), so the counters
    always equal what counting the registrations would give.
    """
    conn.execute(
        _ADJUST_SEATS,
        {
            "sid": str(session_id),
            "d_confirmed": confirmed,
            "d_waitlisted": waitlisted,
            "d_last": last_position,
        },
    )


def reset_seats(conn: Connection, session_id: uuid.UUID) -> None:
    """Nobody holds a seat or waits any more (every registration of the session was cancelled)."""
    conn.execute(_RESET_SEATS, {"sid": str(session_id)})


def upsert_session(conn: Connection, values: dict[str, Any], *, keep: tuple[str, ...]) -> bool:
    """Insert the copy, or take ``values`` over if their ``version`` is newer than the stored
    one (``keep`` names columns only a new row takes); ``False`` when nothing changed."""
    update = [c for c in values if c not in keep]
    return upsert_if_newer(
        conn, sessions, {**values, "session_id": str(values["session_id"])}, update=update
    )


def update_session(
    conn: Connection, session_id: uuid.UUID, changes: dict[str, Any], *, version: int
) -> bool:
    """Apply ``changes`` to the copy as of ``version``, unless it already is that new."""
    return update_if_newer(
        conn, sessions, {"session_id": str(session_id)}, changes, version=version
    )


_LIST_SESSIONS = sa.select(sessions).order_by(_s.starts_at, _s.session_id)


def list_sessions(conn: Connection) -> list[SessionCopy]:
    """Every session copy, earliest first; the caller narrows by region (``cities`` is JSON,
    which SQLite and PostgreSQL filter differently, and the copy is small)."""
    return [session_from_row(row) for row in conn.execute(_LIST_SESSIONS).mappings()]
