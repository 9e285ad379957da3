"""Check-in codes: the hash of each registration's code, and the registration a code opens."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from trainops_registration.adapters.tables import checkin_codes, session_meetings

_c = checkin_codes.c
_m = session_meetings.c


def ensure_codes(conn: Connection, hashes: Mapping[uuid.UUID, str], now: datetime) -> None:
    """Store the code hash of each registration that has none yet (the same registration always
    derives the same code, so a second store of it, also a concurrent one, changes nothing)."""
    if not hashes:
        return
    rows = [
        {"code_hash": code, "registration_id": rid, "created_at": now}
        for rid, code in hashes.items()
    ]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(checkin_codes).values(rows).on_conflict_do_nothing())


def registration_of(conn: Connection, code_hash: str) -> uuid.UUID | None:
    found = conn.execute(
        sa.select(_c.registration_id).where(_c.code_hash == code_hash)
    ).scalar_one_or_none()
    return uuid.UUID(str(found)) if found is not None else None


def meeting_url(conn: Connection, session_id: uuid.UUID) -> str | None:
    found = conn.execute(
        sa.select(_m.url).where(_m.session_id == str(session_id))
    ).scalar_one_or_none()
    return str(found) if found is not None else None


def set_meeting_url(conn: Connection, session_id: uuid.UUID, url: str, now: datetime) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(session_meetings).values(
        session_id=str(session_id), url=url, updated_at=now
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[_m.session_id], set_={"url": url, "updated_at": now}
        )
    )
