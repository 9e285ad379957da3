"""Reactions to scheduling's events: the session copy, promotions and cascade cancellations.

Each handler runs inside the consumer's transaction (with the inbox row of the event), so its
state change and the events it causes commit together or not at all. Every handler applies an
event only if its ``aggregate_version`` is newer than the version stored for the session: a late
redelivery of an older event never rolls the copy back. Events about a session not received yet
raise :class:`RetryLater` (streams can deliver out of order after a redelivery).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Connection

from trainops_registration.adapters import outbox, registrations, sessions, trainings, waitlist
from trainops_registration.domain import promotions_after_capacity_change
from trainops_registration.domain.records import SessionCopy
from trainops_registration.handlers import followups
from trainops_registration.handlers.registrations import promotion_events
from trainops_shared.events import (
    Event,
    FeedbackSubmitted,
    RegistrationCancelled,
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    TrainingDefined,
)
from trainops_shared.inbox import EventHandler, RetryLater
from trainops_shared.outbox import record_events
from trainops_shared.timeutil import utc_now


def _reaction_ids(event: Event) -> dict[str, Any]:
    """Correlation of events emitted in reaction to ``event``."""
    return {
        "correlation_id": event.correlation_id or event.event_id,
        "causation_id": event.event_id,
    }


def _newer(conn: Connection, event: Any) -> SessionCopy | None:
    """The locked session copy if ``event`` is newer than it; ``None`` if already applied."""
    session = sessions.get_session(conn, event.session_id, for_update=True)
    if session is None:
        raise RetryLater(f"session {event.session_id} not received yet (SessionScheduled)")
    if event.aggregate_version <= session.version:
        return None
    return session


def on_session_scheduled(conn: Connection, event: SessionScheduled) -> None:
    """The copy is created (status ``scheduled``), or refreshed by a newer version of it."""
    values = {
        "session_id": event.session_id,
        "status": "scheduled",
        "training_id": str(event.training_id),
        "mode": event.mode,
        "cities": [c.strip().lower() for c in event.cities],
        "timezone": event.timezone,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "capacity": event.capacity,
        "language": event.language,
        "quotas": sessions.quota_values(event.quotas),
        "version": event.aggregate_version,
        "updated_at": utc_now(),
    }
    # A newer SessionScheduled never resets the status a later event gave the copy.
    sessions.upsert_session(conn, values, keep=("status",))


def on_session_rescheduled(conn: Connection, event: SessionRescheduled) -> None:
    """New times; each confirmed person is told (an updated invitation and a link to confirm
    or decline), decided here so that the event's inbox row covers the messages too."""
    session = _newer(conn, event)
    if session is None:
        return
    now = utc_now()
    sessions.update_session(
        conn,
        event.session_id,
        {"starts_at": event.starts_at, "ends_at": event.ends_at, "updated_at": now},
        version=event.aggregate_version,
    )
    if session.status != "scheduled":
        return
    live = registrations.live_registrations_of_session(conn, event.session_id)
    confirmed = [r for r in live if r.status == "confirmed"]
    outbox.queue_session_change(
        conn, "rescheduled", confirmed, session, event.aggregate_version, now
    )


def on_capacity_changed(conn: Connection, event: SessionCapacityChanged) -> None:
    """New capacity (and quotas, when the event carries them); an increase, or a quota
    loosened, promotes at once the first waiting people who now fit."""
    session = _newer(conn, event)
    if session is None:
        return
    now = utc_now()
    changes: dict[str, Any] = {"capacity": event.capacity, "updated_at": now}
    if event.quotas is not None:
        changes["quotas"] = sessions.quota_values(event.quotas)
        session = dataclasses.replace(session, quotas=tuple(event.quotas))
    sessions.update_session(conn, event.session_id, changes, version=event.aggregate_version)
    if session.status != "scheduled":
        return
    snapshot = waitlist.seat_snapshot(conn, session, head=max(event.capacity, 0))
    to_promote = promotions_after_capacity_change(snapshot, event.capacity)
    promoted = waitlist.promote(conn, event.session_id, to_promote, now)
    outbox.queue_promotions(conn, promoted, session, now)
    ids = _reaction_ids(event)
    record_events(conn, promotion_events(promoted, now, ids["correlation_id"], ids["causation_id"]))


def on_session_cancelled(conn: Connection, event: SessionCancelled) -> None:
    """The session is off: every live registration is cancelled (cause ``session_cancelled``)
    and its person told (a calendar cancellation, and the alternative session if one is
    offered)."""
    session = _newer(conn, event)
    if session is None:
        return
    now = utc_now()
    sessions.update_session(
        conn,
        event.session_id,
        {"status": "cancelled", "updated_at": now},
        version=event.aggregate_version,
    )
    live = registrations.live_registrations_of_session(conn, event.session_id)
    registrations.cancel_all_of_session(conn, event.session_id, "session_cancelled", now)
    sessions.reset_seats(conn, event.session_id)
    outbox.queue_session_change(
        conn,
        "cancellation",
        live,
        session,
        event.aggregate_version,
        now,
        alternative_session_id=event.alternative_session_id,
    )
    ids = _reaction_ids(event)
    record_events(
        conn,
        [
            RegistrationCancelled(
                aggregate_id=r.registration_id,
                aggregate_version=r.version + 1,
                occurred_at=now,
                registration_id=r.registration_id,
                session_id=r.session_id,
                participant_id=r.participant_id,
                previous_status="confirmed" if r.status == "confirmed" else "waitlisted",
                cause="session_cancelled",
                **ids,
            )
            for r in live
        ],
    )


def on_session_completed(conn: Connection, event: SessionCompleted) -> None:
    if _newer(conn, event) is None:
        return
    sessions.update_session(
        conn,
        event.session_id,
        {"status": "completed", "updated_at": utc_now()},
        version=event.aggregate_version,
    )
    ids = _reaction_ids(event)
    followups.after_session_completed(
        conn, event.session_id, utc_now(), ids["correlation_id"], ids["causation_id"]
    )


def on_training_defined(conn: Connection, event: TrainingDefined) -> None:
    """The training's code and titles, for the pages that list its sessions."""
    trainings.add_training(conn, event.training_id, event.code, dict(event.title))


EVENT_HANDLERS: dict[type[Event], EventHandler] = {
    TrainingDefined: on_training_defined,
    SessionScheduled: on_session_scheduled,
    SessionRescheduled: on_session_rescheduled,
    SessionCapacityChanged: on_capacity_changed,
    SessionCancelled: on_session_cancelled,
    SessionCompleted: on_session_completed,
    FeedbackSubmitted: followups.on_feedback_submitted,
}
