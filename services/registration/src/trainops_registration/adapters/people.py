"""The coordinators' view of their people: search, one person, their registrations, and the
correction of a person's details.

Every query is confined to the principal's region on the participant's own city column (and
the registration's city for registrations), so another region's person is simply absent.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.common import execute_may_conflict, normalise_region
from trainops_registration.adapters.registrations import registration_from_row
from trainops_registration.adapters.tables import participants, registrations
from trainops_registration.domain.records import Person, Registration
from trainops_shared.auth import Principal, region_filter

_p = participants.c
_r = registrations.c

SEARCH_LIMIT = 50
"""A search answers at most this many people: a coordinator narrows the query instead."""


def search_people(
    conn: Connection,
    principal: Principal,
    *,
    name_tokens: list[str],
    email: str | None,
    phone_digits: str | None,
) -> list[Person]:
    """People of the principal's region whose name key holds every token, or whose e-mail
    holds ``email``, or whose phone holds ``phone_digits``; by name.

    Parts of sealed values cannot be looked up in SQL: the region's live people are opened
    here and matched one by one (the region filter is in the query, so another region's row
    is never even opened).
    """
    principal = normalise_region(principal)
    if not name_tokens and not email and not phone_digits:
        return []
    rows = list(
        conn.execute(
            sa.select(participants).where(
                region_filter(principal, _p.city),
                _p.merged_into.is_(None),
                _p.erased_at.is_(None),
            )
        ).mappings()
    )
    ciphers = personal_data.ciphers_for(conn, (row["participant_id"] for row in rows))
    found: list[Person] = []
    for row in rows:
        person = personal_data.open_person(ciphers.get(row["participant_id"]), row)
        if person is None:
            continue
        if (
            (name_tokens and all(token in person.name_key for token in name_tokens))
            or (email and person.email is not None and email in person.email)
            or (phone_digits and person.phone is not None and phone_digits in person.phone)
        ):
            found.append(person)
    found.sort(key=lambda p: (p.full_name, str(p.participant_id)))
    return found[:SEARCH_LIMIT]


def get_person(
    conn: Connection, participant_id: uuid.UUID, principal: Principal, *, for_update: bool = False
) -> Person | None:
    """The person as ``principal`` may see them: another region's (or a merged-away) person is
    absent."""
    principal = normalise_region(principal)
    query = sa.select(participants).where(
        _p.participant_id == str(participant_id),
        _p.merged_into.is_(None),
        _p.erased_at.is_(None),
        region_filter(principal, _p.city),
    )
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    return personal_data.open_person(personal_data.cipher_for(conn, participant_id), row)


def registrations_of(
    conn: Connection, participant_id: uuid.UUID, principal: Principal
) -> list[Registration]:
    """The person's registrations the principal may see, newest first."""
    principal = normalise_region(principal)
    rows = conn.execute(
        sa.select(registrations)
        .where(_r.participant_id == str(participant_id), region_filter(principal, _r.city))
        .order_by(_r.created_at.desc(), _r.registration_id)
    ).mappings()
    return [registration_from_row(row) for row in rows]


_UPDATE_PERSON = (
    participants.update()
    .where(_p.participant_id == sa.bindparam("pid"))
    .values(
        {
            **{column: sa.bindparam(column) for column in personal_data.PERSONAL_FIELDS},
            **{column: sa.bindparam(column) for column in personal_data.BLIND_INDEXED.values()},
            "updated_at": sa.bindparam("now"),
        }
    )
)


def update_person(conn: Connection, person: Person, now: datetime) -> bool:
    """Store the corrected details; ``False`` (nothing changed) when another person of the city
    already has this e-mail or phone (the per-city unique index refused it)."""
    cipher = personal_data.cipher_for(conn, person.participant_id)
    if cipher is None:
        return False
    sealed = personal_data.sealed_values(
        cipher,
        {
            "full_name": person.full_name,
            "name_key": person.name_key,
            "email": person.email,
            "phone": person.phone,
            "organisation": person.organisation,
        },
    )
    return execute_may_conflict(
        conn, _UPDATE_PERSON, {"pid": str(person.participant_id), **sealed, "now": now}
    )


def holder_of(conn: Connection, column: str, value: str, city: str) -> uuid.UUID | None:
    """The participant of ``city`` holding this e-mail or phone, if any."""
    index = participants.c[personal_data.BLIND_INDEXED[column]]
    row = conn.execute(
        sa.select(_p.participant_id).where(
            index == personal_data.keyring().blind(column, value), _p.city == city
        )
    ).first()
    return row.participant_id if row is not None else None
