"""Queries and writes over a SQLAlchemy ``Connection``: the only code that knows the tables.

Region scoping happens here, in the WHERE clause of every staff-facing read
(:func:`trainops_shared.auth.region_filter` on ``registrations.city``), so a coordinator's query
simply cannot return another region's rows: they are "not found", never "forbidden".
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from trainops_registration.adapters.tables import (
    idempotency_keys,
    participants,
    registrations,
    sessions,
)
from trainops_registration.domain import Participant, SessionSeats, WaitlistEntry
from trainops_shared.auth import Principal, region_filter


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time this service stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_region(principal: Principal) -> Principal:
    """Region claims compare with lower-cased city codes (``Almaty`` in a token is ``almaty``)."""
    if principal.region is None:
        return principal
    return dataclasses.replace(principal, region=principal.region.strip().lower())


# --------------------------------------------------------------------------------------------
# Sessions (the copy kept from scheduling's events)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_id: uuid.UUID
    training_id: uuid.UUID
    mode: str
    cities: list[str]
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    language: str
    status: str
    version: int

    @classmethod
    def from_row(cls, row: RowMapping) -> SessionRecord:
        return cls(
            session_id=uuid.UUID(row["session_id"]),
            training_id=uuid.UUID(row["training_id"]),
            mode=row["mode"],
            cities=[str(c).lower() for c in row["cities"]],
            timezone=row["timezone"],
            starts_at=utc(row["starts_at"]),
            ends_at=utc(row["ends_at"]),
            capacity=int(row["capacity"]),
            language=row["language"],
            status=row["status"],
            version=int(row["version"]),
        )


def get_session(
    conn: Connection, session_id: uuid.UUID, *, for_update: bool = False
) -> SessionRecord | None:
    """The session copy; ``for_update`` takes its row lock on PostgreSQL (seat counting).

    SQLite ignores ``FOR UPDATE``; there every write transaction is serialized anyway.
    """
    query = sa.select(sessions).where(sessions.c.session_id == str(session_id))
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return SessionRecord.from_row(row) if row is not None else None


def insert_session(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(sessions.insert().values(**values))


def update_session(conn: Connection, session_id: uuid.UUID, values: dict[str, Any]) -> None:
    conn.execute(sessions.update().where(sessions.c.session_id == str(session_id)).values(**values))


# --------------------------------------------------------------------------------------------
# Participants


@dataclass(frozen=True, slots=True)
class ParticipantRecord:
    participant_id: uuid.UUID
    full_name: str
    name_key: str
    email: str | None
    phone: str | None
    organisation: str | None
    city: str

    @classmethod
    def from_row(cls, row: RowMapping) -> ParticipantRecord:
        return cls(
            participant_id=uuid.UUID(row["participant_id"]),
            full_name=row["full_name"],
            name_key=row["name_key"],
            email=row["email"],
            phone=row["phone"],
            organisation=row["organisation"],
            city=row["city"],
        )


def find_participant(conn: Connection, person: Participant) -> ParticipantRecord | None:
    """The existing participant this input denotes: same e-mail, else same phone, else same
    ``name_key`` in the same city whose own e-mail/phone do not contradict the input's.

    The last rule is why a name match is not blind: two different people called Aigerim Seitova
    in Almaty with two different e-mail addresses stay two people.
    """
    if person.email is not None:
        row = (
            conn.execute(sa.select(participants).where(participants.c.email == person.email))
            .mappings()
            .first()
        )
        if row is not None:
            return ParticipantRecord.from_row(row)
    if person.phone is not None:
        row = (
            conn.execute(sa.select(participants).where(participants.c.phone == person.phone))
            .mappings()
            .first()
        )
        if row is not None:
            return ParticipantRecord.from_row(row)
    candidates = (
        conn.execute(
            sa.select(participants)
            .where(participants.c.name_key == person.name_key, participants.c.city == person.city)
            .order_by(participants.c.created_at)
            .limit(20)
        )
        .mappings()
        .all()
    )
    for row in candidates:
        record = ParticipantRecord.from_row(row)
        if person.email is not None and record.email is not None:
            continue  # both have e-mails and they differ (an equal one matched above)
        if person.phone is not None and record.phone is not None:
            continue
        return record
    return None


def insert_participant(conn: Connection, person: Participant, now: datetime) -> uuid.UUID | None:
    """Insert a new person; ``None`` when a concurrent transaction inserted the same e-mail or
    phone first (the unique index fired; the caller looks the person up again)."""
    participant_id = uuid.uuid4()
    try:
        with conn.begin_nested():
            conn.execute(
                participants.insert().values(
                    participant_id=str(participant_id),
                    full_name=person.full_name,
                    name_key=person.name_key,
                    email=person.email,
                    phone=person.phone,
                    organisation=person.organisation,
                    city=person.city,
                    sector=person.sector,
                    sex=person.sex,
                    age_band=person.age_band,
                    language=person.language,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        return None
    return participant_id


def fill_participant_gaps(
    conn: Connection, record: ParticipantRecord, person: Participant, now: datetime
) -> None:
    """Add contact details the stored person lacks; never overwrite what is there.

    A contact already used by another participant is left out (the unique index says so):
    merging two people is a human decision, not a side effect of registering.
    """
    for column, value in (
        ("email", person.email),
        ("phone", person.phone),
        ("organisation", person.organisation),
    ):
        if value is None or getattr(record, column) is not None:
            continue
        try:
            with conn.begin_nested():
                conn.execute(
                    participants.update()
                    .where(participants.c.participant_id == str(record.participant_id))
                    .values({column: value, "updated_at": now})
                )
        except IntegrityError:
            continue


# --------------------------------------------------------------------------------------------
# Registrations


@dataclass(frozen=True, slots=True)
class RegistrationRecord:
    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    city: str
    sector: str
    sex: str
    age_band: str
    language: str
    status: str
    waitlist_position: int | None
    attended: bool | None
    cancel_cause: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    person: ParticipantRecord | None = None

    @classmethod
    def from_row(cls, row: RowMapping, *, with_person: bool = False) -> RegistrationRecord:
        person = None
        if with_person:
            person = ParticipantRecord(
                participant_id=uuid.UUID(row["participant_id"]),
                full_name=row["p_full_name"],
                name_key=row["p_name_key"],
                email=row["p_email"],
                phone=row["p_phone"],
                organisation=row["p_organisation"],
                city=row["p_city"],
            )
        return cls(
            registration_id=uuid.UUID(row["registration_id"]),
            session_id=uuid.UUID(row["session_id"]),
            participant_id=uuid.UUID(row["participant_id"]),
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
            created_at=utc(row["created_at"]),
            updated_at=utc(row["updated_at"]),
            person=person,
        )


_PERSON_COLUMNS = (
    participants.c.full_name.label("p_full_name"),
    participants.c.name_key.label("p_name_key"),
    participants.c.email.label("p_email"),
    participants.c.phone.label("p_phone"),
    participants.c.organisation.label("p_organisation"),
    participants.c.city.label("p_city"),
)


def get_registration(
    conn: Connection,
    registration_id: uuid.UUID,
    principal: Principal,
    *,
    with_person: bool = False,
    for_update: bool = False,
) -> RegistrationRecord | None:
    """One registration as ``principal`` may see it: another region's is simply absent."""
    principal = normalise_region(principal)
    if with_person:
        query = sa.select(registrations, *_PERSON_COLUMNS).join(
            participants, participants.c.participant_id == registrations.c.participant_id
        )
    else:
        query = sa.select(registrations)
    query = query.where(
        registrations.c.registration_id == str(registration_id),
        region_filter(principal, registrations.c.city),
    )
    if for_update:
        query = query.with_for_update(of=registrations)
    row = conn.execute(query).mappings().first()
    return RegistrationRecord.from_row(row, with_person=with_person) if row is not None else None


def list_registrations(
    conn: Connection,
    principal: Principal,
    *,
    session_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[RegistrationRecord], int]:
    """A page of the registrations ``principal`` may see, oldest first, and the total count."""
    principal = normalise_region(principal)
    conditions: list[sa.ColumnElement[bool]] = [region_filter(principal, registrations.c.city)]
    if session_id is not None:
        conditions.append(registrations.c.session_id == str(session_id))
    if status is not None:
        conditions.append(registrations.c.status == status)
    total = conn.execute(
        sa.select(sa.func.count()).select_from(registrations).where(*conditions)
    ).scalar_one()
    rows = (
        conn.execute(
            sa.select(registrations, *_PERSON_COLUMNS)
            .join(participants, participants.c.participant_id == registrations.c.participant_id)
            .where(*conditions)
            .order_by(registrations.c.created_at, registrations.c.registration_id)
            .limit(limit)
            .offset(offset)
        )
        .mappings()
        .all()
    )
    return [RegistrationRecord.from_row(r, with_person=True) for r in rows], int(total)


def live_registration(
    conn: Connection, participant_id: uuid.UUID, session_id: uuid.UUID
) -> RegistrationRecord | None:
    """The person's not-cancelled registration for the session, if any (whatever its region)."""
    row = (
        conn.execute(
            sa.select(registrations).where(
                registrations.c.participant_id == str(participant_id),
                registrations.c.session_id == str(session_id),
                registrations.c.status != "cancelled",
            )
        )
        .mappings()
        .first()
    )
    return RegistrationRecord.from_row(row) if row is not None else None


def seat_snapshot(conn: Connection, session: SessionRecord, *, head: int) -> SessionSeats:
    """Capacity, confirmed count and the waitlist's first ``head`` and last entries.

    Only those entries are ever needed (promotions take at most the free seats from the head;
    a new registration goes after the last), so a long waitlist is never loaded whole.
    """
    sid = str(session.session_id)
    confirmed = conn.execute(
        sa.select(sa.func.count())
        .select_from(registrations)
        .where(registrations.c.session_id == sid, registrations.c.status == "confirmed")
    ).scalar_one()
    waiting = sa.select(registrations.c.registration_id, registrations.c.waitlist_position).where(
        registrations.c.session_id == sid, registrations.c.status == "waitlisted"
    )
    entries: dict[str, int] = {}
    if head > 0:
        for rid, pos in conn.execute(
            waiting.order_by(registrations.c.waitlist_position).limit(head)
        ).all():
            entries[rid] = int(pos)
    last = conn.execute(waiting.order_by(registrations.c.waitlist_position.desc()).limit(1)).first()
    if last is not None:
        entries[last[0]] = int(last[1])
    return SessionSeats(
        capacity=session.capacity,
        confirmed_count=int(confirmed),
        waitlist=tuple(WaitlistEntry(uuid.UUID(rid), pos) for rid, pos in entries.items()),
    )


def insert_registration(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(registrations.insert().values(**values))


def update_registration(
    conn: Connection, registration_id: uuid.UUID, values: dict[str, Any]
) -> None:
    conn.execute(
        registrations.update()
        .where(registrations.c.registration_id == str(registration_id))
        .values(**values)
    )


def promote(
    conn: Connection, session_id: uuid.UUID, registration_ids: Sequence[uuid.UUID], now: datetime
) -> list[RegistrationRecord]:
    """Confirm the head of the waitlist and close the gap they leave (positions stay 1..n)."""
    if not registration_ids:
        return []
    ids = [str(r) for r in registration_ids]
    conn.execute(
        registrations.update()
        .where(registrations.c.registration_id.in_(ids))
        .values(
            status="confirmed",
            waitlist_position=None,
            version=registrations.c.version + 1,
            updated_at=now,
        )
    )
    conn.execute(
        registrations.update()
        .where(
            registrations.c.session_id == str(session_id),
            registrations.c.status == "waitlisted",
        )
        .values(waitlist_position=registrations.c.waitlist_position - len(ids))
    )
    rows = (
        conn.execute(sa.select(registrations).where(registrations.c.registration_id.in_(ids)))
        .mappings()
        .all()
    )
    by_id = {r["registration_id"]: RegistrationRecord.from_row(r) for r in rows}
    return [by_id[i] for i in ids]


def close_waitlist_gap(conn: Connection, session_id: uuid.UUID, position: int) -> None:
    """A waitlisted registration left: everyone behind it moves up one place."""
    conn.execute(
        registrations.update()
        .where(
            registrations.c.session_id == str(session_id),
            registrations.c.status == "waitlisted",
            registrations.c.waitlist_position > position,
        )
        .values(waitlist_position=registrations.c.waitlist_position - 1)
    )


def live_registrations_of_session(
    conn: Connection, session_id: uuid.UUID
) -> list[RegistrationRecord]:
    rows = (
        conn.execute(
            sa.select(registrations)
            .where(
                registrations.c.session_id == str(session_id),
                registrations.c.status != "cancelled",
            )
            .order_by(registrations.c.created_at, registrations.c.registration_id)
        )
        .mappings()
        .all()
    )
    return [RegistrationRecord.from_row(r) for r in rows]


def cancel_all_of_session(
    conn: Connection, session_id: uuid.UUID, cause: str, now: datetime
) -> None:
    conn.execute(
        registrations.update()
        .where(
            registrations.c.session_id == str(session_id),
            registrations.c.status != "cancelled",
        )
        .values(
            status="cancelled",
            waitlist_position=None,
            cancel_cause=cause,
            version=registrations.c.version + 1,
            updated_at=now,
        )
    )


# --------------------------------------------------------------------------------------------
# Idempotency keys


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status_code: int
    body: dict[str, Any]


def claim_idempotency_key(
    conn: Connection, key: str, subject: str, request_hash: str, now: datetime
) -> StoredResponse | None:
    """Claim ``key`` for this request, or return what the first request with it answered.

    The claim is an INSERT: on PostgreSQL a concurrent retry blocks on the primary key until the
    first transaction commits (then finds its answer) or rolls back (then claims it itself).
    """
    try:
        with conn.begin_nested():
            conn.execute(
                idempotency_keys.insert().values(
                    key=key,
                    subject=subject,
                    request_hash=request_hash,
                    status_code=0,
                    response={},
                    created_at=now,
                )
            )
    except IntegrityError:
        row = (
            conn.execute(
                sa.select(idempotency_keys).where(
                    idempotency_keys.c.key == key, idempotency_keys.c.subject == subject
                )
            )
            .mappings()
            .one()
        )
        return StoredResponse(row["request_hash"], int(row["status_code"]), dict(row["response"]))
    return None


def store_idempotent_response(
    conn: Connection, key: str, subject: str, status_code: int, body: dict[str, Any]
) -> None:
    conn.execute(
        idempotency_keys.update()
        .where(idempotency_keys.c.key == key, idempotency_keys.c.subject == subject)
        .values(status_code=status_code, response=body)
    )
