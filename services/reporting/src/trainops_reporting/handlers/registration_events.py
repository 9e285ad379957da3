"""Projection of the registration stream: registrations, their status and attendance, merges.

A participant's profile on every fact is that of their latest registration (by
``(occurred_at, event_id)``), so each person falls in one cell of a breakdown by profile; a newer
registration with another profile moves the person and all their contributions at once.

A merge (``ParticipantsMerged``) makes two participant ids one person: the merged id's facts
are re-keyed to the kept id and take the kept one's profile (the merge is that profile's
latest stamp), and a registration of the merged id arriving after the merge is projected under
the kept id, so distinct people count the person once in any delivery order.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters import facts, state
from trainops_reporting.domain.projection import (
    PROFILE_COLUMNS,
    counts_as_registered,
    is_newer,
)
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    ParticipantProfile,
    ParticipantRegistered,
    ParticipantsMerged,
    RegistrationCancelled,
    WaitlistPromoted,
)
from trainops_shared.inbox import RetryLater
from trainops_shared.timeutil import as_utc


def _fact(conn: Connection, registration_id: uuid.UUID, why: str) -> sa.Row[Any]:
    row = facts.fact(conn, registration_id)
    if row is None:
        raise RetryLater(f"registration {registration_id} not seen yet ({why})")
    return row


def _profile_values(profile: ParticipantProfile) -> dict[str, str]:
    return {name: getattr(profile, name) for name in PROFILE_COLUMNS}


def _latest_profile(
    conn: Connection, event: ParticipantRegistered, context: sa.Row[Any]
) -> dict[str, str]:
    """Record the event's profile if it is the participant's latest; return the latest.

    When a newer profile arrives, every fact of the participant moves to it, so that a person is
    counted in one cell only. "Latest" is by ``occurred_at`` then ``event_id``, never by arrival,
    so any delivery order converges to the same rows. ``context`` is the participant part of
    ``facts.registration_context`` (all null if the participant is unknown).
    """
    incoming = _profile_values(event.profile)
    stamp = (as_utc(event.occurred_at), str(event.event_id))
    if context.known_participant is None:
        facts.add_participant(conn, event.participant_id, stamp, incoming)
        return incoming
    current = {name: getattr(context, name) for name in PROFILE_COLUMNS}
    if stamp <= (context.profile_at, context.profile_event_id):
        return current
    facts.set_participant_profile(conn, event.participant_id, stamp, incoming)
    if incoming != current:
        facts.relabel_facts(conn, event.participant_id, incoming)
    return incoming


def on_participant_registered(conn: Connection, event: ParticipantRegistered) -> None:
    state.bump_generation(conn)
    context = facts.registration_context(
        conn, event.registration_id, event.participant_id, event.session_id
    )
    if context is None:
        # a projected registration implies its (never deleted) session: not projected yet
        raise RetryLater(f"session {event.session_id} not seen yet (registration)")
    if context.merged_into is not None:  # announced before a merge, delivered after it
        event = msgspec.structs.replace(event, participant_id=context.merged_into)
        context = facts.registration_context(
            conn, event.registration_id, event.participant_id, event.session_id
        )
        assert context is not None  # the same session as above
    if context.fact_exists:
        return  # a re-publish of the creation under a new event id
    cancelled = context.status == "cancelled"
    profile = _latest_profile(conn, event, context)
    registered = counts_as_registered(event.status, cancelled)
    values = {
        "registration_id": event.registration_id,
        "participant_id": event.participant_id,
        "session_id": event.session_id,
        "training_id": context.training_id,
        "mode": context.mode,
        "starts_at": context.starts_at,
        **profile,
        "status": event.status,
        "session_cancelled": cancelled,
        "registered": registered,
        "attended": False,
        "feedback_count": 0,
        "overall_sum": 0,
        "overall_count": 0,
        "status_version": event.aggregate_version,
        "attendance_version": 0,
    }
    facts.add_fact(conn, values)


def _set_registration_status(
    conn: Connection, event: Event, registration_id: uuid.UUID, status: str
) -> None:
    row = _fact(conn, registration_id, status)
    if not is_newer(event.aggregate_version, row.status_version):
        return
    if row.status == "cancelled":
        return  # cancelled is final: a re-registration is a new registration
    registered = counts_as_registered(status, row.session_cancelled)
    facts.set_fact_status(conn, registration_id, status, event.aggregate_version, registered)


def on_registration_cancelled(conn: Connection, event: RegistrationCancelled) -> None:
    state.bump_generation(conn)
    _set_registration_status(conn, event, event.registration_id, "cancelled")


def on_waitlist_promoted(conn: Connection, event: WaitlistPromoted) -> None:
    state.bump_generation(conn)
    _set_registration_status(conn, event, event.registration_id, "confirmed")


def on_attendance_recorded(conn: Connection, event: AttendanceRecorded) -> None:
    """Attendance may be corrected; the record with the highest version wins."""
    state.bump_generation(conn)
    row = _fact(conn, event.registration_id, "attendance")
    if not is_newer(event.aggregate_version, row.attendance_version):
        return
    facts.set_fact_attendance(conn, event.registration_id, event.attended, event.aggregate_version)


def on_participants_merged(conn: Connection, event: ParticipantsMerged) -> None:
    """One person, one id: the merged participant's facts move to the kept one (or to whom
    the kept one was merged into since), with the kept one's profile unless a later
    registration gave it another. A redelivery changes nothing."""
    state.bump_generation(conn)
    kept = facts.merged_into(conn, event.kept_participant_id) or event.kept_participant_id
    merged = event.merged_participant_id
    if kept == merged:
        return  # registration refuses this; nothing to fold
    facts.record_merge(conn, merged, kept, event.merge_id)
    incoming = _profile_values(event.profile)
    stamp = (as_utc(event.occurred_at), str(event.event_id))
    current = facts.participant(conn, kept)
    if current is None:
        facts.add_participant(conn, kept, stamp, incoming)
        profile = incoming
    elif stamp > (current.profile_at, current.profile_event_id):
        facts.set_participant_profile(conn, kept, stamp, incoming)
        profile = incoming
    else:
        profile = {name: getattr(current, name) for name in PROFILE_COLUMNS}
    facts.rekey_facts(conn, merged, kept)
    facts.drop_participant(conn, merged)
    facts.relabel_facts(conn, kept, profile)
