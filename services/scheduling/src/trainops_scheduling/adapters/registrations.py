"""The per-session registration counts projected from registration's events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters.tables import registration_counts
from trainops_scheduling.domain.registrations import RegistrationCounts


def add_counts(conn: Connection, session_id: uuid.UUID, delta: RegistrationCounts) -> None:
    """Add ``delta`` to the session's counts (creating its row at zero first)."""
    table = registration_counts
    changed = conn.execute(
        table.update()
        .where(table.c.session_id == session_id)
        .values(
            confirmed=table.c.confirmed + delta.confirmed,
            waitlisted=table.c.waitlisted + delta.waitlisted,
        )
    ).rowcount
    if not changed:
        conn.execute(
            table.insert().values(
                session_id=session_id, confirmed=delta.confirmed, waitlisted=delta.waitlisted
            )
        )


def counts_of(
    conn: Connection, session_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, RegistrationCounts]:
    """The counts of each of ``session_ids`` that registration has told of (others: none)."""
    wanted = list(set(session_ids))
    if not wanted:
        return {}
    table = registration_counts
    rows = conn.execute(sa.select(table).where(table.c.session_id.in_(wanted))).all()
    return {r.session_id: RegistrationCounts(r.confirmed, r.waitlisted) for r in rows}
