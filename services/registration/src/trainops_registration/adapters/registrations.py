"""Registrations: one person's place in one session, read within the caller's region.

Every read filters on ``registrations.city`` for the principal (another region's registration
is absent, not forbidden); the person's details join only where the principal may see the
person's own city too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from trainops_registration.adapters.common import NOT_CANCELLED, normalise_region
from trainops_registration.adapters.personal_data import PersonCipher, ciphers_for, open_person
from trainops_registration.adapters.tables import participants, registrations
from trainops_registration.domain.records import CancelCause, Person, Registration
from trainops_registration.domain.seats import RegistrationStatus
from trainops_shared.auth import Principal, region_filter
from trainops_shared.timeutil import as_utc

_r = registrations.c
_p = participants.c


def registration_from_row(
    row: RowMapping, *, ciphers: Mapping[uuid.UUID, PersonCipher] | None = None
) -> Registration:
    """The registration of ``row``; with its person where the row has the person's columns
    (``p_*``, joined where the reader may see them) and ``ciphers`` opens them."""
    person: Person | None = None
    if ciphers is not None and row["p_city"] is not None:
        person = open_person(ciphers.get(row["participant_id"]), row, "p_")
    return Registration(
        registration_id=row["registration_id"],
        session_id=row["session_id"],
        participant_id=row["participant_id"],
        city=row["city"],
        sector=row["sector"],
        sex=row["sex"],
        age_band=row["age_band"],
        language=row["language"],
        status=row["status"],
        waitlist_position=row["waitlist_position"],
        attended=row["attended"],
        cancel_cause=row["cancel_cause"],
        version=int(row["version"]),
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        person=person,
    )


_PERSON_COLUMNS = (
    _p.full_name.label("p_full_name"),
    _p.name_key.label("p_name_key"),
    _p.email.label("p_email"),
    _p.phone.label("p_phone"),
    _p.organisation.label("p_organisation"),
    _p.city.label("p_city"),
)


def _with_visible_person(principal: Principal) -> sa.Join:
    """Registrations with their person's details where ``principal`` may see the *person's*
    region too (a second filter beside the registration's own region).

    Every registration lies in its participant's city (matching never leaves the city, and a
    merge moves the registrations with the person), so for current data both filters agree.
    The second one keeps the details of a person of another city off the answer even for a
    registration linked across regions before identity matching was confined to a city.
    """
    return registrations.outerjoin(
        participants,
        sa.and_(_p.participant_id == _r.participant_id, region_filter(principal, _p.city)),
    )


def get_registration(
    conn: Connection,
    registration_id: uuid.UUID,
    principal: Principal,
    *,
    with_person: bool = False,
    for_update: bool = False,
) -> Registration | None:
    """One registration as ``principal`` may see it: another region's is simply absent."""
    principal = normalise_region(principal)
    if with_person:
        query = sa.select(registrations, *_PERSON_COLUMNS).select_from(
            _with_visible_person(principal)
        )
    else:
        query = sa.select(registrations)
    query = query.where(
        _r.registration_id == str(registration_id), region_filter(principal, _r.city)
    )
    if for_update:
        query = query.with_for_update(of=registrations)
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    if not with_person:
        return registration_from_row(row)
    return registration_from_row(row, ciphers=ciphers_for(conn, [row["participant_id"]]))


def list_registrations(
    conn: Connection,
    principal: Principal,
    *,
    session_id: uuid.UUID | None,
    status: RegistrationStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[Registration], int]:
    """A page of the registrations ``principal`` may see, oldest first, and the total count."""
    principal = normalise_region(principal)
    conditions: list[sa.ColumnElement[bool]] = [region_filter(principal, _r.city)]
    if session_id is not None:
        conditions.append(_r.session_id == str(session_id))
    if status is not None:
        conditions.append(_r.status == status)
    total = conn.execute(
        sa.select(sa.func.count()).select_from(registrations).where(*conditions)
    ).scalar_one()
    rows = (
        conn.execute(
            sa.select(registrations, *_PERSON_COLUMNS)
            .select_from(_with_visible_person(principal))
            .where(*conditions)
            .order_by(_r.created_at, _r.registration_id)
            .limit(limit)
            .offset(offset)
        )
        .mappings()
        .all()
    )
    ciphers = ciphers_for(conn, (r["participant_id"] for r in rows if r["p_city"] is not None))
    return [registration_from_row(r, ciphers=ciphers) for r in rows], int(total)


_INSERT_REGISTRATION = registrations.insert()


def insert_registration(conn: Connection, registration: Registration, created_by: str) -> None:
    conn.execute(
        _INSERT_REGISTRATION,
        {
            "registration_id": str(registration.registration_id),
            "session_id": str(registration.session_id),
            "participant_id": str(registration.participant_id),
            "city": registration.city,
            "sector": registration.sector,
            "sex": registration.sex,
            "age_band": registration.age_band,
            "language": registration.language,
            "status": registration.status,
            "waitlist_position": registration.waitlist_position,
            "attended": registration.attended,
            "cancel_cause": registration.cancel_cause,
            "version": registration.version,
            "created_by": created_by,
            "created_at": registration.created_at,
            "updated_at": registration.updated_at,
        },
    )


def mark_cancelled(
    conn: Connection, registration_id: uuid.UUID, cause: CancelCause, version: int, now: datetime
) -> None:
    conn.execute(
        registrations.update()
        .where(_r.registration_id == str(registration_id))
        .values(
            status="cancelled",
            waitlist_position=None,
            cancel_cause=cause,
            version=version,
            updated_at=now,
        )
    )


def set_attendance(
    conn: Connection, registration_id: uuid.UUID, attended: bool, version: int, now: datetime
) -> None:
    conn.execute(
        registrations.update()
        .where(_r.registration_id == str(registration_id))
        .values(attended=attended, version=version, updated_at=now)
    )


def live_registrations_of_session(conn: Connection, session_id: uuid.UUID) -> list[Registration]:
    rows = (
        conn.execute(
            sa.select(registrations)
            .where(_r.session_id == str(session_id), _r.status != "cancelled")
            .order_by(_r.created_at, _r.registration_id)
        )
        .mappings()
        .all()
    )
    return [registration_from_row(r) for r in rows]


def cancel_all_of_session(
    conn: Connection, session_id: uuid.UUID, cause: CancelCause, now: datetime
) -> None:
    """Cancel every live registration of the session (its seat counters: ``reset_seats``)."""
    conn.execute(
        registrations.update()
        .where(_r.session_id == str(session_id), _r.status != "cancelled")
        .values(
            status="cancelled",
            waitlist_position=None,
            cancel_cause=cause,
            version=_r.version + 1,
            updated_at=now,
        )
    )


def live_sessions_of(conn: Connection, participant_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """The sessions the participant holds a live registration of (whatever their region)."""
    ids = conn.execute(
        sa.select(_r.session_id).where(_r.participant_id == str(participant_id), NOT_CANCELLED)
    ).scalars()
    return frozenset(ids)
