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
    duplicate_flags,
    idempotency_keys,
    participant_merges,
    participants,
    registrations,
    sessions,
)
from trainops_registration.domain import Participant, SessionSeats, WaitlistEntry
from trainops_registration.domain.identity import (
    CANDIDATE_RULE_LIMIT,
    Candidate,
    MergePlan,
    MergeSide,
    choose_match,
)
from trainops_shared.auth import Principal, region_filter
from trainops_shared.errors import Conflict

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
    live_city: str | None = None


_MATCH_LIMIT = CANDIDATE_RULE_LIMIT
_MATCH_PRIORITY = sa.case(
    (_p.email == sa.bindparam("email"), 0),
    (_p.phone == sa.bindparam("phone"), 1),
    else_=2,
)
_IN_SCOPE = _p.city == sa.bindparam("city")
_FIND_PARTICIPANT = (
    sa.select(
        _p.participant_id,
        _p.full_name,
        _p.name_key,
        _p.email,
        _p.phone,
        _p.organisation,
        _p.city,
        _p.merged_into,
        _r.registration_id.label("live_registration_id"),
        _r.status.label("live_status"),
        _r.city.label("live_city"),
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
    # Every branch is confined to the match scope (one city) and written as its own
    # ``column = :v AND city = :c`` so that each uses its (column, city) index.
    .where(
        sa.or_(
            sa.and_(_p.email == sa.bindparam("email"), _IN_SCOPE),
            sa.and_(_p.phone == sa.bindparam("phone"), _IN_SCOPE),
            sa.and_(_p.name_key == sa.bindparam("name_key"), _IN_SCOPE),
        ),
        _p.merged_into.is_(None),
    )
    # E-mail matches first, then phone matches, then same-name candidates oldest first: the
    # rows arrive in the order the matching rules are tried. At most one row each for e-mail
    # and phone (unique per city) and one live registration per person and session.
    .order_by(_MATCH_PRIORITY, _p.created_at)
    .limit(_MATCH_LIMIT + 2)
)


def match_participant(
    conn: Connection, person: Participant, session_id: uuid.UUID, scope: str
) -> ParticipantMatch | None:
    """The existing participant of city ``scope`` this input denotes (the rules are
    :func:`~trainops_registration.domain.identity.choose_match`), with their live (not
    cancelled) registration for ``session_id``, if any.

    The query itself is confined to ``scope``: a participant of another city is never read,
    so nothing about them can reach the answer. One query answers all three rules and the
    duplicate check.
    """
    rows = conn.execute(
        _FIND_PARTICIPANT,
        {
            "email": person.email,
            "phone": person.phone,
            "name_key": person.name_key,
            "city": scope,
            "sid": str(session_id),
        },
    ).all()
    if not rows:
        return None
    by_id = {row.participant_id: row for row in rows}
    chosen = choose_match(
        person,
        (
            Candidate(
                participant_id=uuid.UUID(row.participant_id),
                city=row.city,
                name_key=row.name_key,
                email=row.email,
                phone=row.phone,
                merged_into=uuid.UUID(row.merged_into) if row.merged_into else None,
            )
            for row in rows
        ),
        scope,
    )
    if chosen is None:
        return None
    row = by_id[str(chosen.participant_id)]
    record = ParticipantRecord(
        participant_id=chosen.participant_id,
        full_name=row.full_name,
        name_key=row.name_key,
        email=row.email,
        phone=row.phone,
        organisation=row.organisation,
        city=row.city,
    )
    live = row.live_registration_id
    return ParticipantMatch(
        record=record,
        live_registration_id=uuid.UUID(live) if live is not None else None,
        live_status=row.live_status,
        live_city=row.live_city,
    )


_LOCK_LIVE_PARTICIPANT = (
    sa.select(_p.participant_id)
    .where(_p.participant_id == sa.bindparam("pid"), _p.merged_into.is_(None))
    .with_for_update()
)


def lock_live_participant(conn: Connection, participant_id: uuid.UUID) -> bool:
    """Lock the matched participant for the rest of the registration; ``False`` when a merge
    folded them away since the match was read (the caller matches again).

    A merge locks both of its rows the same way, so on PostgreSQL a registration and a merge of
    one person take turns: the registration never links to a row merged under it. One row,
    exclusively: two registrations of one person queue instead of both holding a shared lock
    and deadlocking when both fill in a contact. SQLite runs write transactions one at a time,
    so there is nothing to lock and no statement is spent.
    """
    if conn.dialect.name == "sqlite":
        return True
    row = conn.execute(_LOCK_LIVE_PARTICIPANT, {"pid": str(participant_id)}).first()
    return row is not None


def find_participant(conn: Connection, person: Participant) -> ParticipantRecord | None:
    """The existing participant of the input's own city it denotes (see
    :func:`match_participant`)."""
    match = match_participant(conn, person, _LAST_ENTRY_ID, person.city)
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
    .where(_p.participant_id == sa.bindparam("pid"), participants.c[column].is_(None))
    .values({column: sa.bindparam("value"), "updated_at": sa.bindparam("now")})
    for column in ("email", "phone", "organisation")
}


def fill_participant_gaps(
    conn: Connection, record: ParticipantRecord, person: Participant, now: datetime
) -> None:
    """Add contact details the stored person lacks; never overwrite what is there (each update
    is conditional on the column still being empty, whatever ``record`` was read as).

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
        if with_person and row["p_full_name"] is not None:
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
        sa.and_(
            participants.c.participant_id == registrations.c.participant_id,
            region_filter(principal, participants.c.city),
        ),
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
        query = sa.select(registrations, *_PERSON_COLUMNS).select_from(
            _with_visible_person(principal)
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
            .select_from(_with_visible_person(principal))
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


@dataclass(frozen=True, slots=True)
class IdempotencyScope:
    """Whose key it is and for which route: a key is only ever compared within one scope.

    The subject alone does not identify a principal (development tokens all say ``dev``), so
    the role and the (normalised) region claim belong to the scope as well.
    """

    subject: str
    role: str
    region: str
    route: str

    @classmethod
    def of(cls, principal: Principal, route: str) -> IdempotencyScope:
        region = normalise_region(principal).region or ""
        return cls(principal.subject, principal.role, region, route)

    def params(self) -> dict[str, str]:
        return {
            "b_subject": self.subject,
            "b_role": self.role,
            "b_region": self.region,
            "b_route": self.route,
        }


_ik = idempotency_keys.c
_KEY_IN_SCOPE = sa.and_(
    _ik.subject == sa.bindparam("b_subject"),
    _ik.role == sa.bindparam("b_role"),
    _ik.region == sa.bindparam("b_region"),
    _ik.route == sa.bindparam("b_route"),
    _ik.key == sa.bindparam("b_key"),
)
_CLAIM_KEY = idempotency_keys.insert()
_GET_KEY = sa.select(idempotency_keys).where(_KEY_IN_SCOPE)
_STORE_RESPONSE = (
    idempotency_keys.update()
    .where(_KEY_IN_SCOPE)
    .values(status_code=sa.bindparam("b_code"), response=sa.bindparam("b_body"))
)


def claim_idempotency_key(
    conn: Connection, scope: IdempotencyScope, key: str, request_hash: str, now: datetime
) -> StoredResponse | None:
    """Claim ``key`` within ``scope``, or return what the first request with it answered.

    The claim is an INSERT: on PostgreSQL a concurrent retry blocks on the primary key until the
    first transaction commits (then finds its answer) or rolls back (then claims it itself). The
    same key sent by another principal or to another route is another row: a claim of its own.
    """
    claimed = _execute_may_conflict(
        conn,
        _CLAIM_KEY,
        {
            "subject": scope.subject,
            "role": scope.role,
            "region": scope.region,
            "route": scope.route,
            "key": key,
            "request_hash": request_hash,
            "status_code": 0,
            "response": {},
            "created_at": now,
        },
    )
    if claimed:
        return None
    row = conn.execute(_GET_KEY, {"b_key": key, **scope.params()}).mappings().one()
    return StoredResponse(row["request_hash"], int(row["status_code"]), dict(row["response"]))


def store_idempotent_response(
    conn: Connection, scope: IdempotencyScope, key: str, status_code: int, body: dict[str, Any]
) -> None:
    conn.execute(
        _STORE_RESPONSE, {"b_key": key, "b_code": status_code, "b_body": body, **scope.params()}
    )


# --------------------------------------------------------------------------------------------
# Duplicate flags and merges (every query region-scoped like the registration reads)


@dataclass(frozen=True, slots=True)
class ParticipantSummary:
    """A participant as an admin reviewing duplicates sees them (personal data included)."""

    participant_id: uuid.UUID
    full_name: str
    email: str | None
    phone: str | None
    organisation: str | None
    city: str
    merged_into: uuid.UUID | None
    registrations: int

    def view(self) -> dict[str, Any]:
        return {
            "participant_id": str(self.participant_id),
            "full_name": self.full_name,
            "email": self.email,
            "phone": self.phone,
            "organisation": self.organisation,
            "city": self.city,
            "registrations": self.registrations,
        }


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def get_participant_side(
    conn: Connection, participant_id: uuid.UUID, principal: Principal, *, for_update: bool = False
) -> MergeSide | None:
    """The participant as the flag and merge rules see it, if ``principal`` may see them;
    ``for_update`` locks the row (PostgreSQL) for the rest of the transaction."""
    principal = normalise_region(principal)
    query = sa.select(
        _p.participant_id, _p.city, _p.merged_into, _p.email, _p.phone, _p.organisation
    ).where(_p.participant_id == str(participant_id), region_filter(principal, _p.city))
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    live = conn.execute(
        sa.select(_r.session_id).where(_r.participant_id == row.participant_id, _NOT_CANCELLED)
    ).scalars()
    return MergeSide(
        participant_id=uuid.UUID(row.participant_id),
        city=row.city,
        merged_into=_uuid_or_none(row.merged_into),
        email=row.email,
        phone=row.phone,
        organisation=row.organisation,
        live_sessions=frozenset(uuid.UUID(s) for s in live),
    )


def insert_flag(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(duplicate_flags.insert(), values)


def flag_view(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "flag_id": row.flag_id,
        "participant_id": row.participant_id,
        "city": row.city,
        "possible_duplicate_of": row.possible_duplicate_of,
        "note": row.note,
        "status": row.status,
        "flagged_by": row.flagged_by,
        "flagged_by_role": row.flagged_by_role,
        "created_at": utc(row.created_at).isoformat(),
    }
    if row.resolved_by_merge is not None:
        out["resolved_by_merge"] = row.resolved_by_merge
    return out


def get_flag(conn: Connection, flag_id: uuid.UUID, principal: Principal) -> dict[str, Any] | None:
    principal = normalise_region(principal)
    row = conn.execute(
        sa.select(duplicate_flags).where(
            duplicate_flags.c.flag_id == str(flag_id),
            region_filter(principal, duplicate_flags.c.city),
        )
    ).first()
    return flag_view(row) if row is not None else None


def list_flags(
    conn: Connection, principal: Principal, *, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Flags ``principal`` may see (a coordinator: those on their region's people), oldest first."""
    principal = normalise_region(principal)
    f = duplicate_flags.c
    conditions: list[sa.ColumnElement[bool]] = [region_filter(principal, f.city)]
    if status is not None:
        conditions.append(f.status == status)
    total = conn.execute(
        sa.select(sa.func.count()).select_from(duplicate_flags).where(*conditions)
    ).scalar_one()
    rows = conn.execute(
        sa.select(duplicate_flags)
        .where(*conditions)
        .order_by(f.created_at, f.flag_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [flag_view(r) for r in rows], int(total)


def participant_summaries(
    conn: Connection, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ParticipantSummary]:
    """Summaries of those of ``ids`` that ``principal`` may see."""
    if not ids:
        return {}
    principal = normalise_region(principal)
    counts = (
        sa.select(sa.func.count())
        .where(_r.participant_id == _p.participant_id)
        .scalar_subquery()
        .label("n")
    )
    rows = conn.execute(
        sa.select(
            _p.participant_id,
            _p.full_name,
            _p.email,
            _p.phone,
            _p.organisation,
            _p.city,
            _p.merged_into,
            counts,
        ).where(_p.participant_id.in_([str(i) for i in ids]), region_filter(principal, _p.city))
    ).all()
    return {
        uuid.UUID(r.participant_id): ParticipantSummary(
            participant_id=uuid.UUID(r.participant_id),
            full_name=r.full_name,
            email=r.email,
            phone=r.phone,
            organisation=r.organisation,
            city=r.city,
            merged_into=_uuid_or_none(r.merged_into),
            registrations=int(r.n),
        )
        for r in rows
    }


def shared_contact_candidates(
    conn: Connection, principal: Principal, *, limit: int
) -> list[Candidate]:
    """Live participants whose e-mail or phone another live participant has too (they are of
    different cities: within a city both are unique), at most ``limit`` values of each kind."""
    principal = normalise_region(principal)
    live = sa.and_(_p.merged_into.is_(None), region_filter(principal, _p.city))
    values: dict[str, list[str]] = {}
    for name, column in (("email", _p.email), ("phone", _p.phone)):
        values[name] = list(
            conn.execute(
                sa.select(column)
                .where(live, column.is_not(None))
                .group_by(column)
                .having(sa.func.count() > 1)
                .order_by(column)
                .limit(limit)
            ).scalars()
        )
    if not values["email"] and not values["phone"]:
        return []
    rows = conn.execute(
        sa.select(_p.participant_id, _p.city, _p.name_key, _p.email, _p.phone).where(
            live, sa.or_(_p.email.in_(values["email"]), _p.phone.in_(values["phone"]))
        )
    ).all()
    return [
        Candidate(
            participant_id=uuid.UUID(r.participant_id),
            city=r.city,
            name_key=r.name_key,
            email=r.email,
            phone=r.phone,
        )
        for r in rows
    ]


def apply_merge(
    conn: Connection,
    plan: MergePlan,
    *,
    keep_city: str,
    merge_id: uuid.UUID,
    now: datetime,
) -> tuple[int, int]:
    """Fold ``plan.merge`` into ``plan.keep``: registrations relinked (and moved to the kept
    person's city), the merged row emptied of personal data and pointed at the kept one, the
    flags it answers resolved. Returns (registrations moved, flags resolved).

    The merged row is emptied first so that its e-mail or phone can move to the kept person
    within one city without tripping the per-city unique indexes.
    """
    keep, merge = str(plan.keep), str(plan.merge)
    count = conn.execute(sa.select(sa.func.count()).where(_r.participant_id == merge)).scalar_one()
    conn.execute(
        participants.update()
        .where(_p.participant_id == merge)
        .values(
            merged_into=keep,
            full_name="",
            name_key="",
            email=None,
            phone=None,
            organisation=None,
            updated_at=now,
        )
    )
    if plan.fill:
        filled = _execute_may_conflict(
            conn,
            participants.update()
            .where(_p.participant_id == keep)
            .values(**plan.fill, updated_at=now),
            {},
        )
        if not filled:
            raise Conflict(
                "another participant of the kept person's city has the e-mail or phone the "
                "merged one would bring; merge or correct that participant first",
                field="merge",
            )
    moved = _execute_may_conflict(
        conn,
        registrations.update()
        .where(_r.participant_id == merge)
        .values(participant_id=keep, city=keep_city),
        {},
    )
    if not moved:
        raise Conflict(
            "a registration of the kept participant for a session of the merged one was made "
            "meanwhile; look again and retry",
            field="merge",
        )
    f = duplicate_flags.c
    resolved = conn.execute(
        duplicate_flags.update()
        .where(
            f.status == "open",
            sa.or_(
                f.participant_id == merge,
                f.possible_duplicate_of == merge,
                sa.and_(f.participant_id == keep, f.possible_duplicate_of.is_(None)),
            ),
        )
        .values(status="resolved", resolved_by_merge=str(merge_id))
    ).rowcount
    return int(count), int(resolved or 0)


def insert_merge(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(participant_merges.insert(), values)


def merge_view(row: Any) -> dict[str, Any]:
    return {
        "merge_id": row.merge_id,
        "kept_participant_id": row.kept_participant_id,
        "merged_participant_id": row.merged_participant_id,
        "kept_city": row.kept_city,
        "merged_city": row.merged_city,
        "reason": row.reason,
        "merged_by": row.merged_by,
        "merged_by_role": row.merged_by_role,
        "merged_by_region": row.merged_by_region,
        "merged_at": utc(row.merged_at).isoformat(),
        "registrations_moved": row.registrations_moved,
        "flags_resolved": row.flags_resolved,
    }


def get_merge(conn: Connection, merge_id: uuid.UUID, principal: Principal) -> dict[str, Any] | None:
    principal = normalise_region(principal)
    m = participant_merges.c
    row = conn.execute(
        sa.select(participant_merges).where(
            m.merge_id == str(merge_id),
            region_filter(principal, m.kept_city),
            region_filter(principal, m.merged_city),
        )
    ).first()
    return merge_view(row) if row is not None else None


def list_merges(
    conn: Connection, principal: Principal, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Merge audit records ``principal`` may see, newest first (both cities in their reach)."""
    principal = normalise_region(principal)
    m = participant_merges.c
    conditions = [region_filter(principal, m.kept_city), region_filter(principal, m.merged_city)]
    total = conn.execute(
        sa.select(sa.func.count()).select_from(participant_merges).where(*conditions)
    ).scalar_one()
    rows = conn.execute(
        sa.select(participant_merges)
        .where(*conditions)
        .order_by(m.merged_at.desc(), m.merge_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [merge_view(r) for r in rows], int(total)
