"""Moving people: registrations of a cancelled or full session to another session, all or none.

Each moved person is registered for the target session as anyone is (confirmed while seats
last, then waitlisted; the same person not twice) and told once, by that registration's own
message (the new session's times, invitation and link). Their registration of a full session is
cancelled, and the seat it frees goes to the next person waiting there; a cancelled session's
registrations are cancelled already. The two sessions are locked in id order, the one order
every mover uses, so two moves in opposite directions cannot deadlock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from trainops_registration.adapters import registrations, sessions
from trainops_registration.domain.errors import Conflict, Invalid, NotFound
from trainops_registration.domain.identity import region_code
from trainops_registration.domain.participant import Participant
from trainops_registration.domain.records import Registration, SessionCopy
from trainops_registration.handlers.registering import add_registration
from trainops_registration.handlers.registrations import cancel_and_promote
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.timeutil import utc_now


@dataclass(frozen=True, slots=True)
class Moved:
    from_registration_id: uuid.UUID
    registration: Registration


def _locked_pair(
    conn: Connection, from_id: uuid.UUID, to_id: uuid.UUID, principal: Principal
) -> tuple[SessionCopy, SessionCopy]:
    found = {
        sid: sessions.get_session(conn, sid, for_update=True)
        for sid in sorted((from_id, to_id), key=str)
    }
    scope = region_code(principal.region_scope)
    source, target = found[from_id], found[to_id]
    if source is None or (scope is not None and scope not in source.cities):
        raise NotFound("session_id", f"session {from_id} not found")
    if target is None or (scope is not None and scope not in target.cities):
        raise NotFound("to_session_id", f"session {to_id} not found")
    return source, target


def _movable(source: SessionCopy) -> None:
    full = source.status == "scheduled" and source.confirmed_count >= source.capacity
    if source.status != "cancelled" and not full:
        raise Conflict(
            "session.status",
            "only the people of a cancelled or full session can be moved "
            f"(this one is {source.status}, {source.confirmed_count} of {source.capacity} seats)",
        )


def _person(registration: Registration) -> Participant:
    person = registration.person
    if person is None:
        raise Conflict("registration_id", f"registration {registration.registration_id}: merged")
    return Participant(
        full_name=person.full_name,
        sector=registration.sector,
        sex=registration.sex,
        age_band=registration.age_band,
        city=registration.city,
        language=registration.language,
        email=person.email,
        phone=person.phone,
        organisation=person.organisation,
    )


def move_registrations(
    conn: Connection,
    from_session_id: uuid.UUID,
    to_session_id: uuid.UUID,
    registration_ids: list[uuid.UUID],
    principal: Principal,
    correlation_id: uuid.UUID,
) -> list[Moved]:
    """Move ``registration_ids`` (of ``from_session_id``, the principal's region's) to
    ``to_session_id``: 404 for one not found there, 409 for a session that is neither
    cancelled nor full, a closed target, or a person already registered for it."""
    if from_session_id == to_session_id:
        raise Invalid("to_session_id", "the target must be another session")
    if not registration_ids or len(set(registration_ids)) != len(registration_ids):
        raise Invalid("registration_ids", "name each registration to move once")
    source, target = _locked_pair(conn, from_session_id, to_session_id, principal)
    _movable(source)
    if target.status != "scheduled":
        raise Conflict("to_session.status", f"the target session is {target.status}")
    now: datetime = utc_now()
    moved = []
    for registration_id in registration_ids:
        found = registrations.get_registration(conn, registration_id, principal, with_person=True)
        if found is None or found.session_id != from_session_id:
            raise NotFound("registration_ids", f"registration {registration_id} not found")
        if source.status == "scheduled":
            if found.status == "cancelled":
                raise Conflict("registration_ids", f"registration {registration_id} is cancelled")
            cancel_and_promote(conn, registration_id, principal, correlation_id)
        elif found.cancel_cause != "session_cancelled":
            raise Conflict("registration_ids", f"registration {registration_id} was withdrawn")
        added = add_registration(
            conn, target, _person(found), principal, now, correlation_id, field_prefix=""
        )
        target = target.with_registration(added)
        record_audit(
            conn,
            principal,
            "registration.moved",
            "registration",
            added.registration_id,
            {
                "from_registration_id": registration_id,
                "from_session_id": from_session_id,
                "session_id": to_session_id,
                "status": added.status,
            },
            at=now,
        )
        moved.append(Moved(registration_id, added))
    return moved


@dataclass(frozen=True, slots=True)
class MoveChoices:
    """What the session page offers for moving: who may be moved, and where to."""

    movable: bool
    people: list[Registration]
    targets: list[SessionCopy]


def read_move_choices(
    conn: Connection, session_id: uuid.UUID, principal: Principal, now: datetime
) -> MoveChoices:
    """A cancelled session's people it cancelled, or a full session's confirmed and waiting
    people (the principal's region's), and the region's other sessions still to come."""
    source = sessions.get_session(conn, session_id)
    scope = region_code(principal.region_scope)
    if source is None or (scope is not None and scope not in source.cities):
        raise NotFound("session_id", f"session {session_id} not found")
    try:
        _movable(source)
    except Conflict:
        return MoveChoices(movable=False, people=[], targets=[])
    found, _ = registrations.list_registrations(
        conn, principal, session_id=session_id, status=None, limit=10_000, offset=0
    )
    if source.status == "cancelled":
        people = [r for r in found if r.cancel_cause == "session_cancelled"]
    else:
        people = [r for r in found if r.status != "cancelled"]
    targets = [
        s
        for s in sessions.list_sessions(conn)
        if s.session_id != session_id
        and s.status == "scheduled"
        and s.starts_at > now
        and (scope is None or scope in s.cities)
    ]
    return MoveChoices(movable=True, people=people, targets=targets)
