"""The participant's consent link (``/r/consents/{token}``): one per person, stored as a hash.

The token is derived from the link key and the person's pseudonymous id
(:data:`~trainops_registration.domain.consent.CONSENT_LINK_PURPOSE`), so every mail a person
gets carries the same link and the database never holds a working one. The mail relay writes
the row when it composes a mail (only it holds the key); the page finds the person by the
token's hash. Migration 15.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.outbox import message_outbox
from trainops_registration.adapters.tables import metadata, participants
from trainops_shared.columns import UtcDateTime, UUIDType

consent_links = sa.Table(
    "consent_links",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("participant_id", UUIDType(), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

_l = consent_links.c


def participant_of_message(conn: Connection, message_id: uuid.UUID) -> uuid.UUID | None:
    row = conn.execute(
        sa.select(message_outbox.c.participant_id).where(message_outbox.c.message_id == message_id)
    ).first()
    return None if row is None else row.participant_id


def ensure_consent_link(
    conn: Connection, participant_id: uuid.UUID, token_hash: str, now: datetime
) -> None:
    """The person's link row; nothing when it exists (every mail derives the same token)."""
    if conn.execute(sa.select(_l.token_hash).where(_l.participant_id == participant_id)).first():
        return
    conn.execute(
        consent_links.insert().values(
            token_hash=token_hash, participant_id=participant_id, created_at=now
        )
    )


@dataclass(frozen=True, slots=True)
class LinkedPerson:
    participant_id: uuid.UUID
    """The person now holding the consents: the kept record when the linked one was merged."""
    language: str
    city: str
    erased: bool


def find_person(conn: Connection, token_hash: str) -> LinkedPerson | None:
    """The person behind a consent link, following a merge to the record that was kept."""
    found = conn.execute(
        sa.select(_l.participant_id).where(_l.token_hash == token_hash)
    ).scalar_one_or_none()
    p = participants.c
    for _ in range(8):  # merges chain rarely; a cycle cannot exist, the bound keeps it certain
        if found is None:
            return None
        row = conn.execute(
            sa.select(p.participant_id, p.language, p.city, p.erased_at, p.merged_into).where(
                p.participant_id == found
            )
        ).first()
        if row is None:
            return None
        if row.merged_into is None:
            return LinkedPerson(
                row.participant_id, row.language, row.city, row.erased_at is not None
            )
        found = row.merged_into
    return None
