"""The messages that will not go by themselves: given up after a 5xx or a long outage
(``failed``) or never sendable (``no_address``), for the people who must look at them.

Every query takes the reader's region (``None``: every region): the outbox row carries the
registration's region, so a coordinator never learns of another region's message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.outbox import message_outbox
from trainops_shared.timeutil import as_utc

STUCK: Final = ("failed", "no_address")
_m = message_outbox.c


@dataclass(frozen=True, slots=True)
class StuckMessage:
    message_id: uuid.UUID
    kind: str
    status: str
    registration_id: uuid.UUID
    participant_id: uuid.UUID
    session_id: uuid.UUID
    city: str
    attempts: int
    reason: str
    created_at: datetime


def _scoped(
    query: sa.Select[tuple[object, ...]], region: str | None
) -> sa.Select[tuple[object, ...]]:
    return query if region is None else query.where(_m.city == region)


def stuck_messages(conn: Connection, region: str | None, limit: int) -> list[StuckMessage]:
    """The region's stuck messages, newest first."""
    query = _scoped(
        sa.select(
            _m.message_id,
            _m.kind,
            _m.status,
            _m.registration_id,
            _m.participant_id,
            _m.session_id,
            _m.city,
            _m.attempts,
            _m.last_error,
            _m.created_at,
        ).where(_m.status.in_(STUCK)),
        region,
    )
    rows = conn.execute(query.order_by(_m.created_at.desc(), _m.message_id).limit(limit)).all()
    return [
        StuckMessage(
            message_id=r.message_id,
            kind=r.kind,
            status=r.status,
            registration_id=r.registration_id,
            participant_id=r.participant_id,
            session_id=r.session_id,
            city=r.city,
            attempts=int(r.attempts),
            reason=r.last_error or "",
            created_at=as_utc(r.created_at),
        )
        for r in rows
    ]


def send_again(
    conn: Connection, message_id: uuid.UUID, region: str | None, now: datetime
) -> str | None:
    """Put a stuck message back in the queue (due now, attempts from zero); its status
    before, or ``None`` when the reader's region has no such stuck message."""
    found = conn.execute(
        _scoped(sa.select(_m.status).where(_m.message_id == message_id), region)
    ).scalar_one_or_none()
    before = None if found is None else str(found)
    if before not in STUCK:
        return before
    conn.execute(
        message_outbox.update()
        .where(_m.message_id == message_id, _m.status.in_(STUCK))
        .values(status="pending", attempts=0, next_attempt_at=now, claimed_until=None)
    )
    return before
