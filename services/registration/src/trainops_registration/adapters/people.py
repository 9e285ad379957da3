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

from trainops_registration.adapters.common import execute_may_conflict, normalise_region
from trainops_registration.adapters.registrations import registration_from_row
from trainops_registration.adapters.tables import participants, registrations
from trainops_registration.domain.records import Person, Registration
from trainops_shared.auth import Principal, region_filter

_p = participants.c
_r = registrations.c

SEARCH_LIMIT = 50
"""A search answers at most this many people: a coordinator narrows the query instead."""


def _person(row: sa.RowMapping) -> Person:
    return Person(
        participant_id=row["participant_id"],
        full_name=row["full_name"],
        name_key=row["name_key"],
        email=row["email"],
        phone=row["phone"],
        organisation=row["organisation"],
        city=row["city"],
    )


def _escaped(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (``\\`` is the escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_people(
    conn: Connection,
    principal: Principal,
    *,
    name_tokens: list[str],
    email: str | None,
    phone_digits: str | None,
) -> list[Person]:
    """People of the principal's region whose name key holds every token, or whose e-mail
    holds ``email``, or whose phone holds ``phone_digits``; by name."""
    principal = normalise_region(principal)
    alternatives: list[sa.ColumnElement[bool]] = []
    if name_tokens:
        alternatives.append(
            sa.and_(*(_p.name_key.like(f"%{_escaped(t)}%", escape="\\") for t in name_tokens))
        )
    if email:
        alternatives.append(_p.email.like(f"%{_escaped(email)}%", escape="\\"))
    if phone_digits:
        alternatives.append(_p.phone.like(f"%{_escaped(phone_digits)}%", escape="\\"))
    if not alternatives:
        return []
    rows = conn.execute(
        sa.select(participants)
        .where(
            region_filter(principal, _p.city),
            _p.merged_into.is_(None),
            sa.or_(*alternatives),
        )
        .order_by(_p.full_name, _p.participant_id)
        .limit(SEARCH_LIMIT)
    ).mappings()
    return [_person(row) for row in rows]


def get_person(
    conn: Connection, participant_id: uuid.UUID, principal: Principal, *, for_update: bool = False
) -> Person | None:
    """The person as ``principal`` may see them: another region's (or a merged-away) person is
    absent."""
    principal = normalise_region(principal)
    query = sa.select(participants).where(
        _p.participant_id == str(participant_id),
        _p.merged_into.is_(None),
        region_filter(principal, _p.city),
    )
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return _person(row) if row is not None else None


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
        full_name=sa.bindparam("full_name"),
        name_key=sa.bindparam("name_key"),
        email=sa.bindparam("email"),
        phone=sa.bindparam("phone"),
        organisation=sa.bindparam("organisation"),
        updated_at=sa.bindparam("now"),
    )
)


def update_person(conn: Connection, person: Person, now: datetime) -> bool:
    """Store the corrected details; ``False`` (nothing changed) when another person of the city
    already has this e-mail or phone (the per-city unique index refused it)."""
    return execute_may_conflict(
        conn,
        _UPDATE_PERSON,
        {
            "pid": str(person.participant_id),
            "full_name": person.full_name,
            "name_key": person.name_key,
            "email": person.email,
            "phone": person.phone,
            "organisation": person.organisation,
            "now": now,
        },
    )


def holder_of(conn: Connection, column: str, value: str, city: str) -> uuid.UUID | None:
    """The participant of ``city`` holding this e-mail or phone, if any."""
    row = conn.execute(
        sa.select(_p.participant_id).where(participants.c[column] == value, _p.city == city)
    ).first()
    return row.participant_id if row is not None else None
