"""Calendar feeds: their rows (a token's hash, never the token) and the sessions they show."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters.sessions import session_from_row
from trainops_scheduling.adapters.tables import calendar_feeds, session_trainers, sessions
from trainops_scheduling.domain import Session
from trainops_scheduling.domain.records import FeedRecord

_f = calendar_feeds.c


def _feed(row: Any) -> FeedRecord:
    return FeedRecord(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def insert_feed(conn: Connection, feed: FeedRecord, token_hash: str) -> None:
    conn.execute(
        calendar_feeds.insert().values(
            id=feed.id,
            token_hash=token_hash,
            kind=feed.kind,
            subject=feed.subject,
            created_by=feed.created_by,
            created_at=feed.created_at,
        )
    )


def feeds_of(conn: Connection, created_by: str | None) -> list[FeedRecord]:
    """The feeds ``created_by`` made (every feed for ``None``), newest first."""
    query = sa.select(calendar_feeds).order_by(_f.created_at.desc(), _f.id.desc()).limit(1000)
    if created_by is not None:
        query = query.where(_f.created_by == created_by)
    return [_feed(r) for r in conn.execute(query).all()]


def get_feed(conn: Connection, feed_id: uuid.UUID) -> FeedRecord | None:
    row = conn.execute(sa.select(calendar_feeds).where(_f.id == feed_id)).first()
    return _feed(row) if row is not None else None


def feed_by_hash(conn: Connection, token_hash: str) -> FeedRecord | None:
    row = conn.execute(sa.select(calendar_feeds).where(_f.token_hash == token_hash)).first()
    return _feed(row) if row is not None else None


def revoke(conn: Connection, feed_id: uuid.UUID, now: datetime) -> None:
    conn.execute(
        calendar_feeds.update()
        .where(_f.id == feed_id, _f.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def trainer_sessions(
    conn: Connection, trainer_id: uuid.UUID, starts_from: datetime, limit: int
) -> list[Session]:
    """The trainer's sessions starting from ``starts_from``, earliest first."""
    booked = (
        sa.select(session_trainers.c.session_id)
        .where(session_trainers.c.trainer_id == trainer_id)
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(sessions)
        .where(sessions.c.id.in_(booked), sessions.c.starts_at >= starts_from)
        .order_by(sessions.c.starts_at, sessions.c.id)
        .limit(limit)
    ).all()
    return [session_from_row(r) for r in rows]
