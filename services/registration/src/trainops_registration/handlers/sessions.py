"""The sessions a coordinator registers people for: their region's copies of scheduling's
sessions, upcoming first; one session's people and their attendance."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

import msgspec
from sqlalchemy.engine import Connection

from trainops_registration.adapters import registrations, sessions, trainings
from trainops_registration.domain.errors import NotFound
from trainops_registration.domain.identity import region_code
from trainops_registration.domain.records import Registration, SessionCopy
from trainops_registration.domain.seats import RegistrationStatus
from trainops_registration.domain.trainings import TrainingNames
from trainops_registration.handlers.registrations import record_attendance
from trainops_shared.auth import Principal


class RegionSessions(msgspec.Struct, frozen=True, kw_only=True):
    """Sessions not yet over (soonest first), then those over (latest first)."""

    region: str | None
    upcoming: list[SessionCopy]
    past: list[SessionCopy]
    trainings: TrainingNames = msgspec.field(default_factory=dict)


def read_region_sessions(
    conn: Connection, principal: Principal, *, region: str | None, now: datetime
) -> RegionSessions:
    """A coordinator always gets their own region (whatever ``region`` says); an admin gets
    ``region``, or every region when it is ``None``."""
    region = (
        region_code(principal.region) or ""
        if principal.role == "coordinator"
        else (region_code(region))
    )
    found = [s for s in sessions.list_sessions(conn) if region is None or region in s.cities]
    upcoming = [s for s in found if s.ends_at >= now]
    past = sorted((s for s in found if s.ends_at < now), key=lambda s: s.starts_at, reverse=True)
    return RegionSessions(
        region=region, upcoming=upcoming, past=past, trainings=trainings.training_names(conn)
    )


class SessionRoster(msgspec.Struct, frozen=True, kw_only=True):
    """A session's people the reader may see: confirmed by name, the waiting list in order."""

    session: SessionCopy
    confirmed: list[Registration]
    waitlist: list[Registration]


ROSTER_MAX: Final = 10_000
"""More registrations than any session seats: a roster is read whole."""


def visible_session(conn: Connection, session_id: uuid.UUID, principal: Principal) -> SessionCopy:
    """The session copy, if it takes people of the principal's region (else 404)."""
    found = sessions.get_session(conn, session_id)
    scope = region_code(principal.region_scope)
    if found is None or (scope is not None and scope not in found.cities):
        raise NotFound("session_id", f"session {session_id} not found")
    return found


def read_session_roster(
    conn: Connection, session_id: uuid.UUID, principal: Principal
) -> SessionRoster:
    """A coordinator sees only the registrations of their region, also in a session of
    several cities."""
    session = visible_session(conn, session_id, principal)

    def of(status: RegistrationStatus) -> list[Registration]:
        found, _ = registrations.list_registrations(
            conn, principal, session_id=session_id, status=status, limit=ROSTER_MAX, offset=0
        )
        return found

    confirmed = sorted(
        of("confirmed"), key=lambda r: (r.person.full_name if r.person else "", r.registration_id)
    )
    waitlist = sorted(of("waitlisted"), key=lambda r: r.waitlist_position or 0)
    return SessionRoster(session=session, confirmed=confirmed, waitlist=waitlist)


def record_session_attendance(
    conn: Connection,
    session_id: uuid.UUID,
    registration_ids: list[uuid.UUID],
    attended: bool,
    principal: Principal,
    correlation_id: uuid.UUID,
) -> list[Registration]:
    """Record the same answer for many registrations of one session, all or none (one of
    another session, or another region's: 404 and nothing recorded)."""
    visible_session(conn, session_id, principal)
    recorded = []
    for registration_id in registration_ids:
        found = registrations.get_registration(conn, registration_id, principal)
        if found is None or found.session_id != session_id:
            raise NotFound("registration_id", f"registration {registration_id} not found")
        recorded.append(
            record_attendance(conn, registration_id, attended, principal, correlation_id)
        )
    return recorded
