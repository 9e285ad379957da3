"""Participants' calendar feeds: the current generation and token hash of each."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.tables import participant_feeds

_f = participant_feeds.c


def feed_of(conn: Connection, participant_id: uuid.UUID) -> tuple[int, bool] | None:
    """``(generation, live)`` of the participant's feed, or ``None`` if they never had one."""
    row = conn.execute(
        sa.select(_f.generation, _f.token_hash).where(_f.participant_id == str(participant_id))
    ).first()
    return (int(row[0]), row[1] is not None) if row is not None else None


def store_feed(
    conn: Connection,
    participant_id: uuid.UUID,
    generation: int,
    token_hash: str | None,
    now: datetime,
) -> None:
    """Record ``generation`` with its hash (``None``: revoked), replacing the previous one."""
    values = {"generation": generation, "token_hash": token_hash, "updated_at": now}
    changed = conn.execute(
        participant_feeds.update().where(_f.participant_id == str(participant_id)).values(**values)
    )
    if changed.rowcount == 0:
        conn.execute(
            participant_feeds.insert().values(participant_id=str(participant_id), **values)
        )


def participant_of(conn: Connection, token_hash: str) -> uuid.UUID | None:
    found = conn.execute(
        sa.select(_f.participant_id).where(_f.token_hash == token_hash)
    ).scalar_one_or_none()
    return uuid.UUID(str(found)) if found is not None else None
