"""Registering a person for a session: one by HTTP, or many by CSV import (same path).

Every function runs inside one transaction's ``Connection``: it loads what it needs, asks the
domain what to do, writes the change and records the events it causes (transactional outbox);
any exception rolls all of it back, so an error never leaves a half-applied registration or an
event for a change that did not happen.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from trainops_registration.adapters import (
    idempotency,
    lifecycle,
    outbox,
    participants,
    registrations,
    sessions,
    waitlist,
)
from trainops_registration.domain import (
    Participant,
    ParticipantInput,
    decide_new_registration,
    ensure_session_accepts_registrations,
    validate_participant,
)
from trainops_registration.domain.consent import (
    DEFAULT_PURPOSES,
    TAKING_PART,
    validate_consents,
)
from trainops_registration.domain.identity import ensure_not_registered, match_scope, region_code
from trainops_registration.domain.participant import canonical_participant
from trainops_registration.domain.records import ParticipantMatch, Registration, SessionCopy
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Invalid, NotFound
from trainops_shared.events import ParticipantProfile, ParticipantRegistered, uuid7
from trainops_shared.outbox import record_events
from trainops_shared.timeutil import utc_now


@dataclass(frozen=True, slots=True)
class RegisterParticipant:
    session_id: uuid.UUID
    participant: ParticipantInput
    idempotency_key: str | None = None
    request_hash: str = ""
    correlation_id: uuid.UUID = field(default_factory=uuid7)
    route: str = "POST /registrations"
    """Where the request was sent: an idempotency key is scoped to it (and to the principal)."""
    consents: tuple[str, ...] | None = None
    """The purposes the person agreed to (``None``: taking part only)."""
    offered_consents: tuple[str, ...] = DEFAULT_PURPOSES
    """The purposes this installation asks for."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The answer the first request with this idempotency key got, to be sent again as it was."""

    status_code: int
    body: dict[str, Any]


Render = Callable[[Registration], dict[str, Any]]
"""The JSON body a new registration is answered with (kept for retries of a keyed request)."""


def request_fingerprint(payload: msgspec.Struct) -> str:
    """A stable hash of the decoded request (field order fixed, whitespace irrelevant)."""
    return hashlib.sha256(msgspec.json.encode(payload, order="sorted")).hexdigest()


def ensure_may_register_in(principal: Principal, person: Participant) -> str:
    """The match scope of ``person`` for ``principal``: their city, which a coordinator must
    share (403: they named another city themselves; see ``match_scope``)."""
    return match_scope(region_code(principal.region_scope), person)


def load_open_session(conn: Connection, session_id: uuid.UUID) -> SessionCopy:
    """The session copy, locked for seat counting; 404 when scheduling's event has not arrived."""
    session = sessions.get_session(conn, session_id, for_update=True)
    if session is None:
        raise NotFound(
            f"session {session_id} is not known to registration; if it was just scheduled, "
            "scheduling's events may still be arriving: retry in a few seconds",
            field="session_id",
        )
    ensure_session_accepts_registrations(session.status)
    return session


def resolve_participant(
    conn: Connection, person: Participant, scope: str, session_id: uuid.UUID, now: datetime
) -> tuple[uuid.UUID, ParticipantMatch | None]:
    """The person's pseudonymous id (an existing participant's of the person's own city, else a
    new one's) and, for an existing one, their live registration for ``session_id`` (found by
    the same query). ``scope`` is the match scope (:func:`ensure_may_register_in`). Contact
    details the matched person lacks are added: they are of that city, the caller's region."""
    for _ in range(3):
        existing = participants.match_participant(conn, person, session_id, scope)
        if existing is not None:
            if not participants.lock_live_participant(conn, existing.person.participant_id):
                continue  # merged away since the match was read: match again
            participants.fill_participant_gaps(conn, existing.person, person, now)
            return existing.person.participant_id, existing
        created = participants.insert_participant(conn, person, now)
        if created is not None:
            return created, None
    raise Conflict("the participant is being registered concurrently; retry", field="participant")


def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def add_registration(
    conn: Connection,
    session: SessionCopy,
    person: Participant,
    principal: Principal,
    now: datetime,
    correlation_id: uuid.UUID,
    *,
    field_prefix: str = "participant",
    consents: tuple[str, ...] = (TAKING_PART,),
) -> Registration:
    """Register ``person`` for the (locked, open) ``session``: confirm or waitlist, record the
    person's consents, the event and queue the message telling the person which it is."""
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
    ensure_not_registered(
        existing.live if existing is not None else None, scope, field_prefix or "participant"
    )
    # The session row is locked (load_open_session): its seat counters are current; with
    # quotas the seats held per city and sector are read as well.
    seats = waitlist.seat_snapshot(conn, session, head=0) if session.quotas else session.seats()
    decision = decide_new_registration(seats, person.city, person.sector)
    registration = Registration(
        registration_id=uuid7(),
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
    registrations.insert_registration(conn, registration, created_by=principal.subject)
    lifecycle.grant_consents(conn, participant_id, consents, now, "registration")
    if decision.status == "confirmed":
        sessions.adjust_seats(conn, session.session_id, confirmed=1)
    else:
        position = decision.waitlist_position or 0
        sessions.adjust_seats(
            conn,
            session.session_id,
            waitlisted=1,
            last_position=position - session.last_waitlist_position,
        )
    outbox.queue_message(conn, decision.status, registration, session, now)
    record_events(
        conn,
        [
            ParticipantRegistered(
                aggregate_id=registration.registration_id,
                aggregate_version=1,
                occurred_at=now,
                correlation_id=correlation_id,
                registration_id=registration.registration_id,
                session_id=session.session_id,
                participant_id=participant_id,
                actor=principal.subject,
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
    return registration


def register_participant(
    conn: Connection, command: RegisterParticipant, principal: Principal, *, render: Render
) -> Registration | Replay:
    """POST /registrations: one person for one session, at most once per idempotency key.

    A keyed request stores ``render(registration)``, the answer it gets, in the same
    transaction; a retry with the key gets that answer back as a :class:`Replay`.
    """
    now = utc_now()
    key = command.idempotency_key
    scope = idempotency.IdempotencyScope.of(principal, command.route) if key is not None else None
    if key is not None and scope is not None:
        stored = idempotency.claim_idempotency_key(conn, scope, key, command.request_hash, now)
        if stored is not None:
            if stored.request_hash != command.request_hash:
                raise Invalid(
                    "this Idempotency-Key was already used with a different request body; "
                    "use a new key for a new registration",
                    field="Idempotency-Key",
                )
            return Replay(stored.status_code, stored.body)
    person = canonical_participant(validate_participant(command.participant))
    agreed = validate_consents(command.consents, command.offered_consents)
    ensure_may_register_in(principal, person)
    session = load_open_session(conn, command.session_id)
    registration = add_registration(
        conn, session, person, principal, now, command.correlation_id, consents=agreed
    )
    audit_registered(conn, principal, registration)
    if key is not None and scope is not None:
        idempotency.store_idempotent_response(conn, scope, key, 201, render(registration))
    return registration


def audit_registered(conn: Connection, principal: Principal, registration: Registration) -> None:
    """The audit entry of one new registration: ids and the seat decision, nobody's name."""
    record_audit(
        conn,
        principal,
        "registration.registered",
        "registration",
        registration.registration_id,
        {
            "session_id": registration.session_id,
            "participant_id": registration.participant_id,
            "status": registration.status,
            "waitlist_position": registration.waitlist_position,
        },
        at=registration.created_at,
    )
