"""Queries and writes over a SQLAlchemy ``Connection``: the only code that knows the tables.

Region scoping happens here, in the WHERE clause of every staff-facing read
(:func:`trainops_shared.auth.region_filter` on ``registrations.city``), so a coordinator's query
simply cannot return another region's rows: they are "not found", never "forbidden".

The statements of the registration write path are built once, at import, with ``bindparam``
placeholders, and executed with a parameter dict: SQLAlchemy then finds them in its compiled
cache without rebuilding the expression and its cache key on every request (that rebuilding,
not SQLite, was most of the writer thread's time).
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

_s = sessions.c
_p = participants.c
_r = registrations.c
# Rendered inline (not as a bound parameter) so that SQLite can prove the partial unique index
# ``ux_registrations_live`` (``WHERE status <> 'cancelled'``) applies to the query.
_NOT_CANCELLED = _r.status != sa.literal_column("'cancelled'")


def _tolerates_failed_statement(conn: Connection) -> bool:
    """Whether a failed INSERT/UPDATE leaves the transaction usable without a SAVEPOINT.

    SQLite undoes just the failing statement (constraint violations ABORT the statement only);
    PostgreSQL aborts the whole transaction, so there a SAVEPOINT must fence the statement.
    """
    return conn.dialect.name == "sqlite"


def _execute_may_conflict(conn: Connection, stmt: sa.Executable, params: dict[str, Any]) -> bool:
    """Execute ``stmt``; ``False`` (and nothing changed) when a unique index refused it."""
    try:
        if _tolerates_failed_statement(conn):
            conn.execute(stmt, params)
        else:
            with conn.begin_nested():
                conn.execute(stmt, params)
    except IntegrityError:
        return False
    return True


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
    confirmed_count: int = 0
    waitlisted_count: int = 0
    last_waitlist_position: int = 0

    def seats(self) -> SessionSeats:
        """Capacity, confirmed count and the end of the waitlist, from the counters alone."""
        last = self.last_waitlist_position
        return SessionSeats(
            capacity=self.capacity,
            confirmed_count=self.confirmed_count,
            waitlist=(WaitlistEntry(_LAST_ENTRY_ID, last),) if last > 0 else (),
        )

    def with_registration(self, status: str, waitlist_position: int | None) -> SessionRecord:
        """This session after one more registration (what :func:`adjust_seats` stored), for a
        transaction that registers several people with the session read once (CSV import)."""
        if status == "confirmed":
            return dataclasses.replace(self, confirmed_count=self.confirmed_count + 1)
        return dataclasses.replace(
            self,
            waitlisted_count=self.waitlisted_count + 1,
            last_waitlist_position=waitlist_position or self.last_waitlist_position,
        )

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
            confirmed_count=int(row["confirmed_count"]),
            waitlisted_count=int(row["waitlisted_count"]),
            last_waitlist_position=int(row["last_waitlist_position"]),
        )


# A stand-in id for the last waitlist entry of :meth:`SessionRecord.seats`: the new-registration
# rule reads only its position (the counters say where the queue ends without loading the row).
_LAST_ENTRY_ID = uuid.UUID(int=0)

_GET_SESSION = sa.select(sessions).where(_s.session_id == sa.bindparam("sid"))
_GET_SESSION_LOCKED = _GET_SESSION.with_for_update()


def get_session(
    conn: Connection, session_id: uuid.UUID, *, for_update: bool = False
) -> SessionRecord | None:
    """The session copy; ``for_update`` takes its row lock on PostgreSQL (seat counting).

    SQLite ignores ``FOR UPDATE``; there every write transaction is serialized anyway.
    """
    query = _GET_SESSION_LOCKED if for_update else _GET_SESSION
    row = conn.execute(query, {"sid": str(session_id)}).mappings().first()
    return SessionRecord.from_row(row) if row is not None else None


_ADJUST_SEATS = (
    sessions.update()
    .where(_s.session_id == sa.bindparam("sid"))
    .values(
        confirmed_count=_s.confirmed_count + sa.bindparam("d_confirmed", type_=sa.Integer),
        waitlisted_count=_s.waitlisted_count + sa.bindparam("d_waitlisted", type_=sa.Integer),
        last_waitlist_position=_s.last_waitlist_position + sa.bindparam("d_last", type_=sa.Integer),
    )
)
_RESET_SEATS = (
    sessions.update()
    .where(_s.session_id == sa.bindparam("sid"))
    .values(confirmed_count=0, waitlisted_count=0, last_waitlist_position=0)
)


def adjust_seats(
    conn: Connection,
    session_id: uuid.UUID,
    *,
    confirmed: int = 0,
    waitlisted: int = 0,
    last_position: int = 0,
) -> None:
    """Move the session's seat counters by these deltas (same transaction as the change).

    Every status change of a registration calls this (or :func:`cancel_all_of_session`), so the
    counters always equal what counting the registrations would give.
    """
    conn.execute(
        _ADJUST_SEATS,
        {
            "sid": str(session_id),
            "d_confirmed": confirmed,
            "d_waitlisted": waitlisted,
            "d_last": last_position,
        },
    )


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


@dataclass(frozen=True, slots=True)
class ParticipantMatch:
    """The existing participant an input denotes, and their live registration for a session."""

    record: ParticipantRecord
    live_registration_id: uuid.UUID | None
    live_status: str | None


_MATCH_LIMIT = 20
_MATCH_PRIORITY = sa.case(
    (_p.email == sa.bindparam("email"), 0),
    (_p.phone == sa.bindparam("phone"), 1),
    else_=2,
)
_FIND_PARTICIPANT = (
    sa.select(
        _p.participant_id,
        _p.full_name,
        _p.name_key,
        _p.email,
        _p.phone,
        _p.organisation,
        _p.city,
        _r.registration_id.label("live_registration_id"),
        _r.status.label("live_status"),
    )
    .select_from(
        participants.outerjoin(
            registrations,
            sa.and_(
                _r.participant_id == _p.participant_id,
                _r.session_id == sa.bindparam("sid"),
                _NOT_CANCELLED,
            ),
        )
    )
    .where(
        sa.or_(
            _p.email == sa.bindparam("email"),
            _p.phone == sa.bindparam("phone"),
            sa.and_(_p.name_key == sa.bindparam("name_key"), _p.city == sa.bindparam("city")),
        )
    )
    # E-mail matches first, then phone matches, then same-name candidates oldest first: the
    # rows arrive in the order the matching rules are tried. At most one row each for e-mail
    # and phone (unique indexes) and one live registration per person and session.
    .order_by(_MATCH_PRIORITY, _p.created_at)
    .limit(_MATCH_LIMIT + 2)
)


def match_participant(
    conn: Connection, person: Participant, session_id: uuid.UUID
) -> ParticipantMatch | None:
    """The existing participant this input denotes: same e-mail, else same phone, else same
    ``name_key`` in the same city whose own e-mail/phone do not contradict the input's; with
    their live (not cancelled) registration for ``session_id``, if any.

    The last rule is why a name match is not blind: two different people called Aigerim Seitova
    in Almaty with two different e-mail addresses stay two people. One query answers all three
    rules and the duplicate check; the rules are then applied here, in priority order.
    """
    rows = conn.execute(
        _FIND_PARTICIPANT,
        {
            "email": person.email,
            "phone": person.phone,
            "name_key": person.name_key,
            "city": person.city,
            "sid": str(session_id),
        },
    ).all()
    if not rows:
        return None
    chosen = None
    if person.email is not None:
        chosen = next((r for r in rows if r.email == person.email), None)
    if chosen is None and person.phone is not None:
        chosen = next((r for r in rows if r.phone == person.phone), None)
    if chosen is None:
        names = [r for r in rows if r.name_key == person.name_key and r.city == person.city]
        for row in names[:_MATCH_LIMIT]:
            if person.email is not None and row.email is not None:
                continue  # both have e-mails and they differ (an equal one matched above)
            if person.phone is not None and row.phone is not None:
                continue
            chosen = row
            break
    if chosen is None:
        return None
    record = ParticipantRecord(
        participant_id=uuid.UUID(chosen.participant_id),
        full_name=chosen.full_name,
        name_key=chosen.name_key,
        email=chosen.email,
        phone=chosen.phone,
        organisation=chosen.organisation,
        city=chosen.city,
    )
    live = chosen.live_registration_id
    return ParticipantMatch(
        record=record,
        live_registration_id=uuid.UUID(live) if live is not None else None,
        live_status=chosen.live_status,
    )


def find_participant(conn: Connection, person: Participant) -> ParticipantRecord | None:
    """The existing participant this input denotes (see :func:`match_participant`)."""
    match = match_participant(conn, person, _LAST_ENTRY_ID)
    return match.record if match is not None else None


_INSERT_PARTICIPANT = participants.insert()


def insert_participant(conn: Connection, person: Participant, now: datetime) -> uuid.UUID | None:
    """Insert a new person; ``None`` when a concurrent transaction inserted the same e-mail or
    phone first (the unique index fired; the caller looks the person up again)."""
    participant_id = uuid.uuid4()
    inserted = _execute_may_conflict(
        conn,
        _INSERT_PARTICIPANT,
        {
            "participant_id": str(participant_id),
            "full_name": person.full_name,
            "name_key": person.name_key,
            "email": person.email,
            "phone": person.phone,
            "organisation": person.organisation,
            "city": person.city,
            "sector": person.sector,
            "sex": person.sex,
            "age_band": person.age_band,
            "language": person.language,
            "created_at": now,
            "updated_at": now,
        },
    )
    return participant_id if inserted else None


_FILL_GAP = {
    column: participants.update()
    .where(_p.participant_id == sa.bindparam("pid"))
    .values({column: sa.bindparam("value"), "updated_at": sa.bindparam("now")})
    for column in ("email", "phone", "organisation")
}


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
        _execute_may_conflict(
            conn,
            _FILL_GAP[column],
            {"pid": str(record.participant_id), "value": value, "now": now},
        )


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

    ``session`` must have been read under its row lock in this transaction: its seat counters
    are then the current ones.

    Only those entries are ever needed (promotions take at most the free seats from the head;
    a new registration goes after the last), so a long waitlist is never loaded whole.
    """
    sid = str(session.session_id)
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
        confirmed_count=session.confirmed_count,
        waitlist=tuple(WaitlistEntry(uuid.UUID(rid), pos) for rid, pos in entries.items()),
    )


_INSERT_REGISTRATION = registrations.insert()


def insert_registration(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(_INSERT_REGISTRATION, values)


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
    """Confirm the head of the waitlist and close the gap they leave (positions stay 1..n);
    the session's seat counters move with them."""
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
    adjust_seats(
        conn, session_id, confirmed=len(ids), waitlisted=-len(ids), last_position=-len(ids)
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
    """Cancel every live registration of the session; nobody holds a seat or waits any more."""
    conn.execute(_RESET_SEATS, {"sid": str(session_id)})
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


_CLAIM_KEY = idempotency_keys.insert()
_GET_KEY = sa.select(idempotency_keys).where(
    idempotency_keys.c.key == sa.bindparam("k"), idempotency_keys.c.subject == sa.bindparam("subj")
)
_STORE_RESPONSE = (
    idempotency_keys.update()
    .where(
        idempotency_keys.c.key == sa.bindparam("k"),
        idempotency_keys.c.subject == sa.bindparam("subj"),
    )
    .values(status_code=sa.bindparam("code"), response=sa.bindparam("body"))
)


def claim_idempotency_key(
    conn: Connection, key: str, subject: str, request_hash: str, now: datetime
) -> StoredResponse | None:
    """Claim ``key`` for this request, or return what the first request with it answered.

    The claim is an INSERT: on PostgreSQL a concurrent retry blocks on the primary key until the
    first transaction commits (then finds its answer) or rolls back (then claims it itself).
    """
    claimed = _execute_may_conflict(
        conn,
        _CLAIM_KEY,
        {
            "key": key,
            "subject": subject,
            "request_hash": request_hash,
            "status_code": 0,
            "response": {},
            "created_at": now,
        },
    )
    if claimed:
        return None
    row = conn.execute(_GET_KEY, {"k": key, "subj": subject}).mappings().one()
    return StoredResponse(row["request_hash"], int(row["status_code"]), dict(row["response"]))


def store_idempotent_response(
    conn: Connection, key: str, subject: str, status_code: int, body: dict[str, Any]
) -> None:
    conn.execute(_STORE_RESPONSE, {"k": key, "subj": subject, "code": status_code, "body": body})
