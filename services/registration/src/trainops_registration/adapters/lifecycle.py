"""The personal-data lifecycle in storage: consents, erasure, retention and subject access.

Erasure is crypto-shredding (:mod:`.personal_data`): the person's key row is deleted, the
sealed fields and their blind index are cleared as well (less to carry around, nothing to
match), and ``erased_at`` is set. The pseudonymous id, the categories and every registration
stay, so what the reports counted stays counted.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.outbox import message_outbox
from trainops_registration.adapters.tables import (
    consents,
    duplicate_flags,
    participant_merges,
    participants,
    registrations,
    sessions,
)
from trainops_registration.domain.consent import ConsentRecord
from trainops_shared.tables import audit_log
from trainops_shared.timeutil import as_utc

_p = participants.c
_c = consents.c
_r = registrations.c


def grant_consents(
    conn: Connection,
    participant_id: uuid.UUID,
    purposes: tuple[str, ...],
    now: datetime,
    source: str,
) -> None:
    """Record ``purposes`` as agreed now (a purpose withdrawn before is agreed again: the
    person just said so)."""
    for purpose in purposes:
        updated = conn.execute(
            consents.update()
            .where(_c.participant_id == participant_id, _c.purpose == purpose)
            .values(granted_at=now, withdrawn_at=None, source=source)
        )
        if not updated.rowcount:
            conn.execute(
                consents.insert().values(
                    participant_id=participant_id,
                    purpose=purpose,
                    granted_at=now,
                    withdrawn_at=None,
                    source=source,
                )
            )


def withdraw_consent(
    conn: Connection, participant_id: uuid.UUID, purpose: str, now: datetime, source: str
) -> bool:
    """Withdraw one agreed purpose; ``False`` when it was not agreed (or already withdrawn)."""
    result = conn.execute(
        consents.update()
        .where(
            _c.participant_id == participant_id,
            _c.purpose == purpose,
            _c.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now, source=source)
    )
    return bool(result.rowcount)


def consents_of(conn: Connection, participant_id: uuid.UUID) -> list[ConsentRecord]:
    rows = conn.execute(
        sa.select(consents).where(_c.participant_id == participant_id).order_by(_c.purpose)
    ).all()
    return [
        ConsentRecord(
            purpose=row.purpose,
            granted_at=as_utc(row.granted_at),
            withdrawn_at=as_utc(row.withdrawn_at) if row.withdrawn_at is not None else None,
            source=row.source,
        )
        for row in rows
    ]


def erase_person(conn: Connection, participant_id: uuid.UUID, now: datetime) -> bool:
    """Shred the person's personal data; ``False`` when already erased (nothing to do)."""
    cleared = conn.execute(
        participants.update()
        .where(_p.participant_id == participant_id, _p.erased_at.is_(None))
        .values(**personal_data.CLEARED, erased_at=now, updated_at=now)
    )
    destroyed = personal_data.destroy_person_key(conn, participant_id)
    # Staff's notes about the person were sealed with the key just destroyed; the ciphertext
    # goes too (nothing left that could ever be opened).
    conn.execute(
        duplicate_flags.update()
        .where(duplicate_flags.c.participant_id == participant_id)
        .values(note="")
    )
    conn.execute(
        participant_merges.update()
        .where(participant_merges.c.kept_participant_id == participant_id)
        .values(reason="")
    )
    return bool(cleared.rowcount) or destroyed


def due_for_retention(conn: Connection, cutoff: datetime, limit: int) -> list[uuid.UUID]:
    """People registered for at least one session whose every session ended before
    ``cutoff``: their personal data has been kept as long as it may be."""
    s = sessions.c
    sessions_of = registrations.join(sessions, s.session_id == _r.session_id)
    mine = _r.participant_id == _p.participant_id
    later = sa.select(sa.literal(1)).select_from(sessions_of).where(mine, s.ends_at >= cutoff)
    any_session = sa.select(sa.literal(1)).select_from(sessions_of).where(mine)
    rows = conn.execute(
        sa.select(_p.participant_id)
        .where(
            _p.erased_at.is_(None),
            _p.merged_into.is_(None),
            any_session.exists(),
            ~later.exists(),
        )
        .order_by(_p.created_at, _p.participant_id)
        .limit(limit)
    ).scalars()
    return list(rows)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return value


def _rows(conn: Connection, query: sa.Select[Any]) -> list[dict[str, Any]]:
    return [
        {key: _plain(value) for key, value in row.items()} for row in conn.execute(query).mappings()
    ]


_RECORDS_NAMING: dict[str, tuple[sa.Table, tuple[str, str, str, str, str]]] = {
    "duplicate_flags": (
        duplicate_flags,
        ("flag_id", "participant_id", "possible_duplicate_of", "note", "created_at"),
    ),
    "merges": (
        participant_merges,
        ("merge_id", "kept_participant_id", "merged_participant_id", "reason", "merged_at"),
    ),
}
"""The subject-access sections of records naming a person: table and :func:`_rows_naming`'s
columns."""


def _rows_naming(
    conn: Connection,
    participant_id: uuid.UUID,
    cipher: personal_data.PersonCipher | None,
    table: sa.Table,
    columns: tuple[str, str, str, str, str],
) -> list[dict[str, Any]]:
    """The records of ``table`` (flags, merges) naming the person in its owner or other
    column, oldest first, with the staff's text opened where it is the person's own (they are
    the owner); where it is another person's, the text is left out.

    ``columns``: the record's id, owner, other participant, text and time columns."""
    id_name, owner, other, text, at = columns
    c = table.c
    rows = _rows(
        conn,
        sa.select(table)
        .where(sa.or_(c[owner] == participant_id, c[other] == participant_id))
        .order_by(c[at], c[id_name]),
    )
    for row in rows:
        if row[owner] == str(participant_id):
            row[text] = personal_data.open_text(
                cipher, f"{table.name}.{text}", uuid.UUID(row[id_name]), row[text]
            )
        else:
            del row[text]
    return rows


def export_person(conn: Connection, participant_id: uuid.UUID) -> dict[str, Any] | None:
    """Everything this service holds about the person, opened, as JSON-ready data; ``None``
    when there is no such (live) participant. The caller has checked the reader's reach."""
    row = (
        conn.execute(
            sa.select(participants).where(
                _p.participant_id == participant_id,
                _p.merged_into.is_(None),
                _p.erased_at.is_(None),
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    cipher = personal_data.cipher_for(conn, participant_id)
    fields = personal_data.open_fields(cipher, row)
    naming = {
        key: _rows_naming(conn, participant_id, cipher, table, columns)
        for key, (table, columns) in _RECORDS_NAMING.items()
    }
    person = {
        "participant_id": str(participant_id),
        **fields,
        **{
            key: _plain(row[key])
            for key in ("city", "sector", "sex", "age_band", "language", "created_at")
        },
        "updated_at": _plain(row["updated_at"]),
    }
    registration_ids = list(
        conn.execute(
            sa.select(_r.registration_id).where(_r.participant_id == participant_id)
        ).scalars()
    )
    m = message_outbox.c
    a = audit_log.c
    about = [str(participant_id), *(str(r) for r in registration_ids)]
    return {
        "participant": person,
        "consents": [
            {
                "purpose": c.purpose,
                "granted_at": _plain(c.granted_at),
                "withdrawn_at": _plain(c.withdrawn_at),
                "source": c.source,
            }
            for c in consents_of(conn, participant_id)
        ],
        "registrations": _rows(
            conn,
            sa.select(registrations)
            .where(_r.participant_id == participant_id)
            .order_by(_r.created_at),
        ),
        "messages": _rows(
            conn,
            sa.select(
                m.message_id,
                m.kind,
                m.registration_id,
                m.session_id,
                m.language,
                m.status,
                m.attempts,
                m.created_at,
                m.sent_at,
            )
            .where(m.participant_id == participant_id)
            .order_by(m.created_at),
        ),
        **naming,
        "audit": _rows(
            conn,
            sa.select(a.occurred_at, a.actor_role, a.action, a.record_type, a.record_id, a.detail)
            .where(a.record_id.in_(about))
            .order_by(a.id),
        ),
    }
