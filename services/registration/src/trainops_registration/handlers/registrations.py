"""Changing and reading registrations: cancel, record attendance, one, a page.

A cancellation that frees a seat promotes the head of the waitlist in the same transaction, so
no request ever sees a free seat while someone waits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from trainops_registration.adapters import outbox, registrations, sessions, waitlist
from trainops_registration.domain import (
    ensure_can_cancel,
    ensure_can_record_attendance,
    promotions_after_cancel,
)
from trainops_registration.domain.records import Registration, SessionCopy
from trainops_registration.domain.seats import RegistrationStatus, ensure_registrations_can_change
from trainops_registration.handlers import followups
from trainops_registration.handlers.pages import Page
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.errors import NotFound
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    RegistrationCancelled,
    WaitlistPromoted,
)
from trainops_shared.outbox import record_events
from trainops_shared.timeutil import utc_now


def _not_found(registration_id: uuid.UUID) -> NotFound:
    return NotFound(f"registration {registration_id} not found", field="id")


def _locked(
    conn: Connection, registration_id: uuid.UUID, principal: Principal
) -> tuple[Registration, SessionCopy]:
    """The registration (region-scoped) and its session, locked session first then registration
    (the one lock order every writer uses, so no deadlocks)."""
    found = registrations.get_registration(conn, registration_id, principal)
    if found is None:
        raise _not_found(registration_id)
    session = sessions.get_session(conn, found.session_id, for_update=True)
    record = registrations.get_registration(conn, registration_id, principal, for_update=True)
    if session is None or record is None:
        raise _not_found(registration_id)
    return record, session


def _as_changed(conn: Connection, registration_id: uuid.UUID, principal: Principal) -> Registration:
    """The registration as the change left it, with the person where the caller may see them."""
    updated = registrations.get_registration(conn, registration_id, principal, with_person=True)
    if updated is None:  # read back in the transaction that just changed it
        raise _not_found(registration_id)
    return updated


def promotion_events(
    promoted: Sequence[Registration],
    now: datetime,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None,
    actor: str | None = None,
) -> list[Event]:
    """``WaitlistPromoted`` of each promoted registration; ``actor`` is the subject of the
    account whose request freed the seats (``None`` when scheduling's event did)."""
    return [
        WaitlistPromoted(
            aggregate_id=r.registration_id,
            aggregate_version=r.version,
            occurred_at=now,
            correlation_id=correlation_id,
            causation_id=causation_id,
            actor=actor,
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
) -> Registration:
    """Cancel; a confirmed seat goes to the first waitlisted person in the same transaction."""
    cancelled, _ = cancel_and_promote(conn, registration_id, principal, correlation_id)
    return cancelled


def cancel_and_promote(
    conn: Connection,
    registration_id: uuid.UUID,
    principal: Principal,
    correlation_id: uuid.UUID,
) -> tuple[Registration, list[Registration]]:
    """:func:`cancel_registration`, also answering the registrations the freed seat promoted
    (the console says who moved up)."""
    record, session = _locked(conn, registration_id, principal)
    ensure_registrations_can_change(session.status)
    ensure_can_cancel(record.status)
    now = utc_now()
    snapshot = waitlist.seat_snapshot(conn, session, head=session.capacity)
    to_promote = promotions_after_cancel(snapshot, record.status, record.city, record.sector)
    version = record.version + 1
    registrations.mark_cancelled(conn, registration_id, "participant", version, now)
    if record.status == "confirmed":
        sessions.adjust_seats(conn, session.session_id, confirmed=-1)
    else:
        waitlist.leave_waitlist(conn, session.session_id, record.waitlist_position)
    cancelled = RegistrationCancelled(
        aggregate_id=registration_id,
        aggregate_version=version,
        occurred_at=now,
        correlation_id=correlation_id,
        registration_id=registration_id,
        session_id=record.session_id,
        participant_id=record.participant_id,
        actor=principal.subject,
        previous_status="confirmed" if record.status == "confirmed" else "waitlisted",
        cause="participant",
    )
    promoted = waitlist.promote(conn, session.session_id, to_promote, now)
    outbox.queue_promotions(conn, promoted, session, now)
    record_events(
        conn,
        [
            cancelled,
            *promotion_events(
                promoted, now, correlation_id, cancelled.event_id, actor=principal.subject
            ),
        ],
    )
    record_audit(
        conn,
        principal,
        "registration.cancelled",
        "registration",
        registration_id,
        {
            "session_id": record.session_id,
            "previous_status": record.status,
            "promoted": len(promoted),
        },
        at=now,
    )
    return _as_changed(conn, registration_id, principal), promoted


def record_attendance(
    conn: Connection,
    registration_id: uuid.UUID,
    attended: bool,
    principal: Principal,
    correlation_id: uuid.UUID,
) -> Registration:
    """Record (or re-record) attendance of a confirmed registration; each time a new version."""
    record, session = _locked(conn, registration_id, principal)
    ensure_can_record_attendance(record.status, session.status)
    now = utc_now()
    version = record.version + 1
    registrations.set_attendance(conn, registration_id, attended, version, now)
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
                actor=principal.subject,
                attended=attended,
                language=record.language,
            )
        ],
    )
    followups.after_attendance(conn, registration_id, now, correlation_id)
    record_audit(
        conn,
        principal,
        "registration.attendance_recorded",
        "registration",
        registration_id,
        {"session_id": record.session_id, "attended": attended, "version": version},
        at=now,
    )
    return _as_changed(conn, registration_id, principal)


def read_registration(
    conn: Connection, registration_id: uuid.UUID, principal: Principal
) -> Registration:
    record = registrations.get_registration(conn, registration_id, principal, with_person=True)
    if record is None:
        raise _not_found(registration_id)
    return record


def read_registrations(
    conn: Connection,
    principal: Principal,
    *,
    session_id: uuid.UUID | None,
    status: RegistrationStatus | None,
    limit: int,
    offset: int,
) -> Page[Registration]:
    records, total = registrations.list_registrations(
        conn, principal, session_id=session_id, status=status, limit=limit, offset=offset
    )
    return Page(records, total, limit, offset)
