"""The participant's own links (:mod:`trainops_registration.domain.links`): stored as hashes.

A row is written by the mail relay when it renders the message the link goes in (only it holds
the link key); the same message always derives the same token, so a resend finds its row. The
row says what the link is for, until when, and once used, what was answered: the use is one
conditional update, so two clicks at once answer once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.outbox import message_outbox
from trainops_registration.adapters.tables import metadata, registrations, sessions
from trainops_registration.domain.links import LinkPurpose, LinkState
from trainops_shared.columns import UtcDateTime, UUIDType
from trainops_shared.timeutil import as_utc

registration_links = sa.Table(
    "registration_links",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("message_id", UUIDType(), nullable=False, unique=True),
    sa.Column("registration_id", UUIDType(), nullable=False),
    sa.Column("session_id", UUIDType(), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    # The registration's region, like every other row about it.
    sa.Column("city", sa.String(64), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
    sa.Column("answer", sa.String(16), nullable=True),
    sa.Index("ix_registration_links_registration", "registration_id"),
)

_l = registration_links.c


def ensure_link(
    conn: Connection,
    *,
    token_hash: str,
    message_id: uuid.UUID,
    purpose: LinkPurpose,
    expires_at: datetime,
    now: datetime,
) -> None:
    """The link row of ``message_id`` (its registration's ids copied from the outbox row);
    nothing when it exists already (a resend of the same message)."""
    if conn.execute(sa.select(_l.token_hash).where(_l.message_id == message_id)).first():
        return
    m = message_outbox.c
    row = conn.execute(
        sa.select(m.registration_id, m.session_id, m.city).where(m.message_id == message_id)
    ).first()
    if row is None:
        return
    conn.execute(
        registration_links.insert().values(
            token_hash=token_hash,
            message_id=message_id,
            registration_id=row.registration_id,
            session_id=row.session_id,
            purpose=purpose,
            city=row.city,
            expires_at=expires_at,
            created_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class FoundLink:
    registration_id: uuid.UUID
    session_id: uuid.UUID
    city: str
    language: str
    state: LinkState
    starts_at: datetime
    ends_at: datetime
    timezone: str
    mode: str


def find_link(conn: Connection, token_hash: str) -> FoundLink | None:
    """The link, its registration's status and its session as they are now."""
    r, s = registrations.c, sessions.c
    row = conn.execute(
        sa.select(
            _l.registration_id,
            _l.session_id,
            _l.city,
            _l.purpose,
            _l.expires_at,
            _l.answer,
            r.status.label("registration_status"),
            r.language,
            s.status.label("session_status"),
            s.starts_at,
            s.ends_at,
            s.timezone,
            s.mode,
        )
        .select_from(
            registration_links.join(registrations, r.registration_id == _l.registration_id).join(
                sessions, s.session_id == r.session_id
            )
        )
        .where(_l.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    state = LinkState(
        purpose=row.purpose,
        registration_status=row.registration_status,
        used_answer=row.answer,
        expires_at=as_utc(row.expires_at),
        session_status=row.session_status,
    )
    return FoundLink(
        registration_id=row.registration_id,
        session_id=row.session_id,
        city=row.city,
        language=row.language,
        state=state,
        starts_at=as_utc(row.starts_at),
        ends_at=as_utc(row.ends_at),
        timezone=row.timezone,
        mode=row.mode,
    )


def use_link(conn: Connection, token_hash: str, answer: str, now: datetime) -> bool:
    """Record the answer if the link is still unused; ``False`` when another use came first."""
    done = conn.execute(
        registration_links.update()
        .where(_l.token_hash == token_hash, _l.used_at.is_(None))
        .values(used_at=now, answer=answer)
    )
    return done.rowcount == 1
