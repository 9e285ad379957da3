"""Use cases: each a synchronous function over one transaction's ``Connection``.

Every function loads what it needs, asks the domain what to do, writes the change and records
the events it causes (transactional outbox) before returning; any exception rolls all of it back,
so an error never leaves a half-applied registration or an event for a change that did not happen.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

import msgspec
from sqlalchemy.engine import Connection

from trainops_registration.adapters import repository as repo
from trainops_registration.adapters.repository import RegistrationRecord, SessionRecord
from trainops_registration.domain import (
    Conflict as DomainConflict,
)
from trainops_registration.domain import (
    Forbidden as DomainForbidden,
)
from trainops_registration.domain import (
    Participant,
    ParticipantInput,
    decide_new_registration,
    ensure_can_cancel,
    ensure_can_record_attendance,
    ensure_session_accepts_registrations,
    promotions_after_cancel,
    validate_participant,
)
from trainops_registration.domain.identity import duplicate_detail, match_scope
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Forbidden, Invalid, NotFound
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    ParticipantProfile,
    ParticipantRegistered,
    RegistrationCancelled,
    WaitlistPromoted,
    uuid7,
)
from trainops_shared.outbox import record_events


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command answers over HTTP: the status code and the JSON body."""

    status_code: int
    body: dict[str, Any]


# --------------------------------------------------------------------------------------------
# Views (what the API shows of a registration)


def registration_view(record: RegistrationRecord) -> dict[str, Any]:
    """The registration without personal data (POST answers, idempotency replays)."""
    body: dict[str, Any] = {
        "id": str(record.registration_id),
        "participant_id": str(record.participant_id),
        "session_id": str(record.session_id),
        "status": record.status,
        "city": record.city,
        "sector": record.sector,
        "sex": record.sex,
        "age_band": record.age_band,
        "language": record.language,
        "attended": record.attended,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }
    if record.waitlist_position is not None:
        body["waitlist_position"] = record.waitlist_position
    if record.cancel_cause is not None:
        body["cancel_cause"] = record.cancel_cause
    if record.person is not None:
        body["participant"] = {
            "full_name": record.person.full_name,
            "email": record.person.email,
            "phone": record.person.phone,
            "organisation": record.person.organisation,
            "city": record.person.city,
        }
    return body


# --------------------------------------------------------------------------------------------
# Register


@dataclass(frozen=True, slots=True)
class RegisterParticipant:
    session_id: uuid.UUID
    participant: ParticipantInput
    idempotency_key: str | None = None
    request_hash: str = ""
    correlation_id: uuid.UUID = field(default_factory=uuid7)
    route: str = "POST /registrations"
    """Where the request was sent: an idempotency key is scoped to it (and to the principal)."""


def request_fingerprint(payload: msgspec.Struct) -> str:
    """A stable hash of the decoded request (field order fixed, whitespace irrelevant)."""
    import hashlib

    return hashlib.sha256(msgspec.json.encode(payload, order="sorted")).hexdigest()


def canonical_participant(person: Participant) -> Participant:
    """The validated person with an e-mail fit for matching: wholly lower-case.

    The domain keeps the local part as typed (RFC 5321 allows case-sensitive mailboxes), but no
    provider people here use treats ``A.S@mail.kz`` and ``a.s@mail.kz`` as two mailboxes, and a
    coordinator typing it differently must not create a second person.
    """
    if person.email is None or person.email == person.email.lower():
        return person
    return msgspec.structs.replace(person, email=person.email.lower())


def ensure_may_register_in(principal: Principal, person: Participant) -> str:
    """The match scope of ``person`` for ``principal``: their city, which a coordinator must
    share (403: they named another city themselves; see :func:`match_scope`)."""
    try:
        return match_scope(repo.normalise_region(principal).region_scope, person)
    except DomainForbidden as exc:
        raise Forbidden(exc.message, field=exc.field) from None


def load_open_session(conn: Connection, session_id: uuid.UUID) -> SessionRecord:
    """The session copy, locked for seat counting; 404 when scheduling's event has not arrived."""
    session = repo.get_session(conn, session_id, for_update=True)
    if session is None:
        raise NotFound(
            f"session {session_id} is not known to registration; if it was just scheduled, "
            "scheduling's events may still be arriving: retry in a few seconds",
            field="session_id",
        )
    ensure_session_accepts_registrations(cast(Any, session.status))
    return session


def resolve_participant(
    conn: Connection, person: Participant, scope: str, session_id: uuid.UUID, now: datetime
) -> tuple[uuid.UUID, repo.ParticipantMatch | None]:
    """The person's pseudonymous id (an existing participant's of the person's own city, else a
    new one's) and, for an existing one, their live registration for ``session_id`` (found by
    the same query). ``scope`` is the match scope (:func:`ensure_may_register_in`). Contact
    details the matched person lacks are added: they are of that city, the caller's region."""
    for _ in range(3):
        existing = repo.match_participant(conn, person, session_id, scope)
        if existing is not None:
            if not repo.lock_live_participant(conn, existing.record.participant_id):
                continue  # merged away since the match was read: match again
            repo.fill_participant_gaps(conn, existing.record, person, now)
            return existing.record.participant_id, existing
        created = repo.insert_participant(conn, person, now)
        if created is not None:
            return created, None
    raise Conflict("the participant is being registered concurrently; retry", field="participant")


def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def add_registration(
    conn: Connection,
    session: SessionRecord,
    person: Participant,
    principal: Principal,
    now: datetime,
    correlation_id: uuid.UUID,
    *,
    field_prefix: str = "participant",
) -> RegistrationRecord:
    """Register ``person`` for the (locked, open) ``session``: confirm or waitlist, record event."""
    if person.city not in session.cities:
        raise Invalid(
            f"the session takes participants from {', '.join(session.cities)}, "
            f"not from {person.city}",
            field=_field(field_prefix, "city"),
        )
    # Checked again here, not only by the callers: the match scope is what keeps matching
    # inside the caller's region, whoever calls.
    scope = ensure_may_register_in(principal, person)
    participant_id, existing = resolve_participant(conn, person, scope, session.session_id, now)
    if existing is not None and existing.live_registration_id is not None:
        said = duplicate_detail(existing.live_city or "", scope, existing.live_registration_id)
        detail = said.pop("detail")
        if "registration_id" in said:
            detail += f" ({existing.live_status})"
        raise Conflict(detail, field=field_prefix or "participant", **said)
    # The session row is locked (load_open_session): its seat counters are current.
    decision = decide_new_registration(session.seats())
    registration_id = uuid7()
    values = {
        "registration_id": str(registration_id),
        "session_id": str(session.session_id),
        "participant_id": str(participant_id),
        "city": person.city,
        "sector": person.sector,
        "sex": person.sex,
        "age_band": person.age_band,
        "language": person.language,
        "status": decision.status,
        "waitlist_position": decision.waitlist_position,
        "attended": None,
        "cancel_cause": None,
        "version": 1,
        "created_by": principal.subject,
        "created_at": now,
        "updated_at": now,
    }
    repo.insert_registration(conn, values)
    if decision.status == "confirmed":
        repo.adjust_seats(conn, session.session_id, confirmed=1)
    else:
        position = decision.waitlist_position or 0
        repo.adjust_seats(
            conn,
            session.session_id,
            waitlisted=1,
            last_position=position - session.last_waitlist_position,
        )
    record_events(
        conn,
        [
            ParticipantRegistered(
                aggregate_id=registration_id,
                aggregate_version=1,
                occurred_at=now,
                correlation_id=correlation_id,
                registration_id=registration_id,
                session_id=session.session_id,
                participant_id=participant_id,
                status=decision.status,
                waitlist_position=decision.waitlist_position,
                profile=ParticipantProfile(
                    city=person.city,
                    sector=person.sector,
                    sex=person.sex,
                    age_band=person.age_band,
                    language=person.language,
                ),
            )
        ],
    )
    return RegistrationRecord(
        registration_id=registration_id,
        session_id=session.session_id,
        participant_id=participant_id,
        city=person.city,
        sector=person.sector,
        sex=person.sex,
        age_band=person.age_band,
        language=person.language,
        status=decision.status,
        waitlist_position=decision.waitlist_position,
        attended=None,
        cancel_cause=None,
        version=1,
        created_at=now,
        updated_at=now,
    )


def register_participant(
    conn: Connection, command: RegisterParticipant, principal: Principal
) -> Outcome:
    """POST /registrations: one person for one session, at most once per idempotency key."""
    now = datetime.now(UTC)
    key = command.idempotency_key
    scope = repo.IdempotencyScope.of(principal, command.route) if key is not None else None
    if key is not None and scope is not None:
        stored = repo.claim_idempotency_key(conn, scope, key, command.request_hash, now)
        if stored is not None:
            if stored.request_hash != command.request_hash:
                raise Invalid(
                    "this Idempotency-Key was already used with a different request body; "
                    "use a new key for a new registration",
                    field="Idempotency-Key",
                )
            return Outcome(stored.status_code, stored.body)
    person = canonical_participant(validate_participant(command.participant))
    ensure_may_register_in(principal, person)
    session = load_open_session(conn, command.session_id)
    record = add_registration(conn, session, person, principal, now, command.correlation_id)
    outcome = Outcome(201, registration_view(record))
    if key is not None and scope is not None:
        repo.store_idempotent_response(conn, scope, key, 201, outcome.body)
    return outcome


# --------------------------------------------------------------------------------------------
# Cancel


def _not_found(registration_id: uuid.UUID) -> NotFound:
    return NotFound(f"registration {registration_id} not found", field="id")


def _locked(
    conn: Connection, registration_id: uuid.UUID, principal: Principal
) -> tuple[RegistrationRecord, SessionRecord]:
    """The registration (region-scoped) and its session, locked session first then registration
    (the one lock order every writer uses, so no deadlocks)."""
    found = repo.get_registration(conn, registration_id, principal)
    if found is None:
        raise _not_found(registration_id)
    session = repo.get_session(conn, found.session_id, for_update=True)
    record = repo.get_registration(conn, registration_id, principal, for_update=True)
    if session is None or record is None:
        raise _not_found(registration_id)
    return record, session


def promotion_events(
    promoted: Sequence[RegistrationRecord],
    now: datetime,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None,
) -> list[Event]:
    return [
        WaitlistPromoted(
            aggregate_id=r.registration_id,
            aggregate_version=r.version,
            occurred_at=now,
            correlation_id=correlation_id,
            causation_id=causation_id,
            registration_id=r.registration_id,
            session_id=r.session_id,
            participant_id=r.participant_id,
        )
        for r in promoted
    ]


def cancel_registration(
    conn: Connection,
    registration_id: uuid.UUID,
    principal: Principal,
    correlation_id: uuid.UUID,
) -> Outcome:
    """Cancel; a confirmed seat goes to the first waitlisted person in the same transaction."""
    record, session = _locked(conn, registration_id, principal)
    if session.status == "completed":
        raise DomainConflict(
            "session.status", "the session is completed; its registrations can no longer change"
        )
    now = datetime.now(UTC)
    status = cast(Literal["confirmed", "waitlisted", "cancelled"], record.status)
    ensure_can_cancel(status)
    snapshot = repo.seat_snapshot(conn, session, head=session.capacity)
    to_promote = promotions_after_cancel(snapshot, status)
    version = record.version + 1
    repo.update_registration(
        conn,
        registration_id,
        {
            "status": "cancelled",
            "waitlist_position": None,
            "cancel_cause": "participant",
            "version": version,
            "updated_at": now,
        },
    )
    if record.status == "confirmed":
        repo.adjust_seats(conn, session.session_id, confirmed=-1)
    else:  # waitlisted: everyone behind moves up, so the queue ends one place earlier
        if record.waitlist_position is not None:
            repo.close_waitlist_gap(conn, session.session_id, record.waitlist_position)
        repo.adjust_seats(conn, session.session_id, waitlisted=-1, last_position=-1)
    cancelled = RegistrationCancelled(
        aggregate_id=registration_id,
        aggregate_version=version,
        occurred_at=now,
        correlation_id=correlation_id,
        registration_id=registration_id,
        session_id=record.session_id,
        participant_id=record.participant_id,
        previous_status=cast(Literal["confirmed", "waitlisted"], record.status),
        cause="participant",
    )
    promoted = repo.promote(conn, session.session_id, to_promote, now)
    record_events(
        conn, [cancelled, *promotion_events(promoted, now, correlation_id, cancelled.event_id)]
    )
    updated = repo.get_registration(conn, registration_id, principal, with_person=True)
    assert updated is not None
    return Outcome(200, registration_view(updated))


# --------------------------------------------------------------------------------------------
# Attendance


def record_attendance(
    conn: Connection,
    registration_id: uuid.UUID,
    attended: bool,
    principal: Principal,
    correlation_id: uuid.UUID,
) -> Outcome:
    """Record (or re-record) attendance of a confirmed registration; each time a new version."""
    record, session = _locked(conn, registration_id, principal)
    ensure_can_record_attendance(
        cast(Literal["confirmed", "waitlisted", "cancelled"], record.status),
        cast(Literal["scheduled", "cancelled", "completed"], session.status),
    )
    now = datetime.now(UTC)
    version = record.version + 1
    repo.update_registration(
        conn, registration_id, {"attended": attended, "version": version, "updated_at": now}
    )
    record_events(
        conn,
        [
            AttendanceRecorded(
                aggregate_id=registration_id,
                aggregate_version=version,
                occurred_at=now,
                correlation_id=correlation_id,
                registration_id=registration_id,
                session_id=record.session_id,
                participant_id=record.participant_id,
                attended=attended,
                language=record.language,
            )
        ],
    )
    updated = repo.get_registration(conn, registration_id, principal, with_person=True)
    assert updated is not None
    return Outcome(200, registration_view(updated))


# --------------------------------------------------------------------------------------------
# Reads


def read_registration(
    conn: Connection, registration_id: uuid.UUID, principal: Principal
) -> dict[str, Any]:
    record = repo.get_registration(conn, registration_id, principal, with_person=True)
    if record is None:
        raise _not_found(registration_id)
    return registration_view(record)


def read_registrations(
    conn: Connection,
    principal: Principal,
    *,
    session_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    records, total = repo.list_registrations(
        conn, principal, session_id=session_id, status=status, limit=limit, offset=offset
    )
    return {
        "items": [registration_view(r) for r in records],
        "total": total,
        "limit": limit,
        "offset": offset,
    }
