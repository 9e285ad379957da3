"""Projection handlers: every event of the three streams folded into the reporting read model.

Each handler is ``handler(conn, event)``, run inside the consumer's transaction together with the
inbox row of the event, so a redelivered event id never reaches it twice. What the inbox cannot
catch, the handlers do:

* order: an event about an aggregate not seen yet (attendance before its registration, a
  registration before its session) raises :class:`RetryLater` and comes back later;
* staleness: each independently changing attribute keeps the ``aggregate_version`` that last set
  it, and an event not newer than that changes nothing, so a late redelivery never rolls back;
* re-publishes under a new event id: creation events are ignored when the row already exists, and
  a feedback response counts once per invitation (per registration: the first one counted).

Every change of a fact's ``registered``/``attended`` flag, feedback sums or profile is also folded
into the pre-aggregated cube (``adapters.cube``) in the same statement sequence, so the cube and
the facts never disagree.

Nothing here reads the wall clock, so replaying the streams into an empty database (in any order
the retries produce) yields the same rows.

Throughput: the consumer applies up to 500 events per transaction by calling these handlers one
after another, so per-event Python overhead is the bottleneck, not SQLite. Every statement is
therefore built once at import (``sa.bindparam`` placeholders, executed with parameter dicts):
SQLAlchemy memoizes a statement object's cache key, whereas building ``select(...).where(...)``
or ``insert().values(...)`` per call regenerates it each time, which cost more than running the
statement. The reads a handler needs are folded into one query where possible (a registration
reads its session, its participant's profile and whether it was already projected at once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.cube import (
    FactDelta,
    apply_fact_deltas,
    move_participant,
    profile_of,
)
from trainops_reporting.adapters.tables import (
    facts,
    feedback_responses,
    participants,
    report_state,
    sessions,
    surveys,
    trainers,
    trainings,
)
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    FeedbackSubmitted,
    ParticipantRegistered,
    RegistrationCancelled,
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    SurveyPublished,
    TrainerRegistered,
    TrainingDefined,
    WaitlistPromoted,
)
from trainops_shared.inbox import RetryLater

OVERALL_ITEM = "overall"
"""The survey item whose answers make the satisfaction mean."""


def utc(value: datetime) -> datetime:
    """Events carry UTC; a naive value (an older producer) is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_B = sa.bindparam

_BUMP = (
    report_state.update()
    .where(report_state.c.id == 1)
    .values(generation=report_state.c.generation + 1)
)


def bump_generation(conn: Connection) -> None:
    """Invalidate every cached report: called first by each handler, in the same transaction.

    Taking the ``report_state`` row lock before any other row keeps one lock order in every
    projection transaction (no deadlocks between replicas on PostgreSQL). It stays one bump per
    applied event (not per transaction): the generation doubles as the count of applied events,
    which the integration and replay tests rely on.
    """
    conn.execute(_BUMP)


def _registered(status: str, session_cancelled: bool) -> bool:
    """Counted as registered: holds a seat (confirmed, promoted included) in a live session."""
    return status == "confirmed" and not session_cancelled


# ----------------------------------------------------------------------------------------------
# scheduling
# ----------------------------------------------------------------------------------------------


_TRAINING_VERSION = sa.select(trainings.c.version).where(trainings.c.training_id == _B("b_id"))
_TRAINING_INSERT = trainings.insert()
_TRAINING_UPDATE = trainings.update().where(trainings.c.training_id == _B("b_id"))


def on_training_defined(conn: Connection, event: TrainingDefined) -> None:
    bump_generation(conn)
    current = conn.execute(_TRAINING_VERSION, {"b_id": event.training_id}).scalar_one_or_none()
    values = {
        "code": event.code,
        "title": dict(event.title),
        "target_sectors": list(event.target_sectors),
        "version": event.aggregate_version,
    }
    if current is None:
        conn.execute(_TRAINING_INSERT, {"training_id": event.training_id, **values})
    elif event.aggregate_version > current:
        conn.execute(_TRAINING_UPDATE, {"b_id": event.training_id, **values})


_TRAINER_VERSION = sa.select(trainers.c.version).where(trainers.c.trainer_id == _B("b_id"))
_TRAINER_INSERT = trainers.insert()
_TRAINER_UPDATE = trainers.update().where(trainers.c.trainer_id == _B("b_id"))


def on_trainer_registered(conn: Connection, event: TrainerRegistered) -> None:
    """Only the trainer's home city is kept: names are not report material."""
    bump_generation(conn)
    current = conn.execute(_TRAINER_VERSION, {"b_id": event.trainer_id}).scalar_one_or_none()
    if current is None:
        conn.execute(
            _TRAINER_INSERT,
            {
                "trainer_id": event.trainer_id,
                "home_city": event.home_city,
                "version": event.aggregate_version,
            },
        )
    elif event.aggregate_version > current:
        conn.execute(
            _TRAINER_UPDATE,
            {
                "b_id": event.trainer_id,
                "home_city": event.home_city,
                "version": event.aggregate_version,
            },
        )


_SESSION = sa.select(sessions).where(sessions.c.session_id == _B("b_id"))
_SESSION_EXISTS = sa.select(sessions.c.session_id).where(sessions.c.session_id == _B("b_id"))
_SESSION_INSERT = sessions.insert()
_SESSION_UPDATE = sessions.update().where(sessions.c.session_id == _B("b_id"))
_FACTS_OF_SESSION_UPDATE = facts.update().where(facts.c.session_id == _B("b_session_id"))
_CONFIRMED_FACTS_OF_SESSION = sa.select(facts).where(
    facts.c.session_id == _B("b_session_id"), facts.c.status == "confirmed"
)
_FACTS_OF_SESSION_CANCELLED = (
    facts.update()
    .where(facts.c.session_id == _B("b_session_id"))
    .values(session_cancelled=True, registered=sa.false())
)
_FACTS_OF_SESSION_REINSTATED = (
    facts.update()
    .where(facts.c.session_id == _B("b_session_id"))
    .values(session_cancelled=False, registered=facts.c.status == "confirmed")
)


def _session(conn: Connection, session_id: Any, why: str) -> sa.Row[Any]:
    row = conn.execute(_SESSION, {"b_id": session_id}).one_or_none()
    if row is None:
        raise RetryLater(f"session {session_id} not seen yet ({why})")
    return row


def on_session_scheduled(conn: Connection, event: SessionScheduled) -> None:
    bump_generation(conn)
    exists = conn.execute(_SESSION_EXISTS, {"b_id": event.session_id}).first()
    if exists is not None:
        return  # a re-publish of the creation under a new event id
    v = event.aggregate_version
    conn.execute(
        _SESSION_INSERT,
        {
            "session_id": event.session_id,
            "training_id": event.training_id,
            "mode": event.mode,
            "cities": list(event.cities),
            "timezone": event.timezone,
            "language": event.language,
            "starts_at": utc(event.starts_at),
            "ends_at": utc(event.ends_at),
            "capacity": event.capacity,
            "status": "scheduled",
            "created_version": v,
            "times_version": v,
            "capacity_version": v,
            "status_version": v,
        },
    )


def on_session_rescheduled(conn: Connection, event: SessionRescheduled) -> None:
    bump_generation(conn)
    row = _session(conn, event.session_id, "rescheduled")
    if event.aggregate_version <= row.times_version:
        return
    starts_at = utc(event.starts_at)
    conn.execute(
        _SESSION_UPDATE,
        {
            "b_id": event.session_id,
            "starts_at": starts_at,
            "ends_at": utc(event.ends_at),
            "times_version": event.aggregate_version,
        },
    )
    conn.execute(
        _FACTS_OF_SESSION_UPDATE, {"b_session_id": event.session_id, "starts_at": starts_at}
    )


def on_session_capacity_changed(conn: Connection, event: SessionCapacityChanged) -> None:
    bump_generation(conn)
    row = _session(conn, event.session_id, "capacity changed")
    if event.aggregate_version <= row.capacity_version:
        return
    conn.execute(
        _SESSION_UPDATE,
        {
            "b_id": event.session_id,
            "capacity": event.capacity,
            "capacity_version": event.aggregate_version,
        },
    )


def _set_session_status(conn: Connection, event: Event, session_id: Any, status: str) -> None:
    row = _session(conn, session_id, status)
    if event.aggregate_version <= row.status_version:
        return
    conn.execute(
        _SESSION_UPDATE,
        {"b_id": session_id, "status": status, "status_version": event.aggregate_version},
    )
    cancelled = status == "cancelled"
    if cancelled != (row.status == "cancelled"):
        # the facts whose ``registered`` flips: the confirmed ones (cancelled or waitlisted stay
        # unregistered either way)
        flipping = conn.execute(_CONFIRMED_FACTS_OF_SESSION, {"b_session_id": session_id}).all()
        apply_fact_deltas(
            conn,
            (_delta(fact, registered=-1 if cancelled else 1) for fact in flipping),
        )
        conn.execute(
            _FACTS_OF_SESSION_CANCELLED if cancelled else _FACTS_OF_SESSION_REINSTATED,
            {"b_session_id": session_id},
        )


def on_session_cancelled(conn: Connection, event: SessionCancelled) -> None:
    bump_generation(conn)
    _set_session_status(conn, event, event.session_id, "cancelled")


def on_session_completed(conn: Connection, event: SessionCompleted) -> None:
    bump_generation(conn)
    _set_session_status(conn, event, event.session_id, "completed")


# ----------------------------------------------------------------------------------------------
# registration
# ----------------------------------------------------------------------------------------------


def _delta(fact: Any, **changes: int) -> FactDelta:
    """A change of the contribution of ``fact`` (a facts row or the values of a new one)."""
    get = fact.__getitem__ if isinstance(fact, Mapping) else lambda name: getattr(fact, name)
    return FactDelta(
        participant_id=get("participant_id"),
        training_id=get("training_id"),
        mode=get("mode"),
        profile=profile_of(fact),
        **changes,
    )


_FACT = sa.select(facts).where(facts.c.registration_id == _B("b_id"))
_FACT_UPDATE = facts.update().where(facts.c.registration_id == _B("b_id"))
_FACT_INSERT = facts.insert()
_FACTS_OF_PARTICIPANT_UPDATE = facts.update().where(facts.c.participant_id == _B("b_id"))


def _fact(conn: Connection, registration_id: Any, why: str) -> sa.Row[Any]:
    row = conn.execute(_FACT, {"b_id": registration_id}).one_or_none()
    if row is None:
        raise RetryLater(f"registration {registration_id} not seen yet ({why})")
    return row


PROFILE_COLUMNS = ("city", "sector", "sex", "age_band", "language")

_PARTICIPANT_INSERT = participants.insert()
_PARTICIPANT_UPDATE = participants.update().where(participants.c.participant_id == _B("b_id"))

_REGISTRATION_CONTEXT = (
    sa.select(
        sessions.c.training_id,
        sessions.c.mode,
        sessions.c.starts_at,
        sessions.c.status,
        sa.exists().where(facts.c.registration_id == _B("b_registration_id")).label("fact_exists"),
        participants.c.participant_id.label("known_participant"),
        *(participants.c[name] for name in PROFILE_COLUMNS),
        participants.c.profile_at,
        participants.c.profile_event_id,
    )
    .select_from(
        sessions.outerjoin(participants, participants.c.participant_id == _B("b_participant_id"))
    )
    .where(sessions.c.session_id == _B("b_session_id"))
)
"""Everything a registration needs in one read: its session (the row exists iff the session
does), whether it was already projected, and its participant's current profile, if any."""


def _participant_profile(
    conn: Connection, event: ParticipantRegistered, context: sa.Row[Any]
) -> dict[str, str]:
    """Record the event's profile if it is the participant's latest; return the latest.

    When a newer profile arrives, every fact of the participant moves to it, so that a person is
    counted in one cell only (see ``adapters.tables``). "Latest" is by ``occurred_at`` then
    ``event_id``, never by arrival, so any delivery order converges to the same rows.
    ``context`` is the participant part of :data:`_REGISTRATION_CONTEXT` (all null if unknown).
    """
    profile = event.profile
    incoming = {
        "city": profile.city,
        "sector": profile.sector,
        "sex": profile.sex,
        "age_band": profile.age_band,
        "language": profile.language,
    }
    stamp = (utc(event.occurred_at), str(event.event_id))
    if context.known_participant is None:
        conn.execute(
            _PARTICIPANT_INSERT,
            {
                "participant_id": event.participant_id,
                "profile_at": stamp[0],
                "profile_event_id": stamp[1],
                **incoming,
            },
        )
        return incoming
    current = {name: getattr(context, name) for name in PROFILE_COLUMNS}
    if stamp <= (utc(context.profile_at), context.profile_event_id):
        return current
    conn.execute(
        _PARTICIPANT_UPDATE,
        {
            "b_id": event.participant_id,
            "profile_at": stamp[0],
            "profile_event_id": stamp[1],
            **incoming,
        },
    )
    if incoming != current:
        move_participant(conn, event.participant_id, profile_of(current), profile_of(incoming))
        conn.execute(_FACTS_OF_PARTICIPANT_UPDATE, {"b_id": event.participant_id, **incoming})
    return incoming


def on_participant_registered(conn: Connection, event: ParticipantRegistered) -> None:
    bump_generation(conn)
    context = conn.execute(
        _REGISTRATION_CONTEXT,
        {
            "b_registration_id": event.registration_id,
            "b_participant_id": event.participant_id,
            "b_session_id": event.session_id,
        },
    ).one_or_none()
    if context is None:
        # a projected registration implies its (never deleted) session: not projected yet
        raise RetryLater(f"session {event.session_id} not seen yet (registration)")
    if context.fact_exists:
        return  # a re-publish of the creation under a new event id
    cancelled = context.status == "cancelled"
    profile = _participant_profile(conn, event, context)
    registered = _registered(event.status, cancelled)
    values = {
        "registration_id": event.registration_id,
        "participant_id": event.participant_id,
        "session_id": event.session_id,
        "training_id": context.training_id,
        "mode": context.mode,
        "starts_at": utc(context.starts_at),
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
    conn.execute(_FACT_INSERT, values)
    if registered:
        apply_fact_deltas(conn, [_delta(values, registered=1)])


def _set_registration_status(
    conn: Connection, event: Event, registration_id: Any, status: str
) -> None:
    row = _fact(conn, registration_id, status)
    if event.aggregate_version <= row.status_version:
        return
    if row.status == "cancelled":
        return  # cancelled is final: a re-registration is a new registration
    registered = _registered(status, row.session_cancelled)
    conn.execute(
        _FACT_UPDATE,
        {
            "b_id": registration_id,
            "status": status,
            "status_version": event.aggregate_version,
            "registered": registered,
        },
    )
    if registered != row.registered:
        apply_fact_deltas(conn, [_delta(row, registered=int(registered) - int(row.registered))])


def on_registration_cancelled(conn: Connection, event: RegistrationCancelled) -> None:
    bump_generation(conn)
    _set_registration_status(conn, event, event.registration_id, "cancelled")


def on_waitlist_promoted(conn: Connection, event: WaitlistPromoted) -> None:
    bump_generation(conn)
    _set_registration_status(conn, event, event.registration_id, "confirmed")


def on_attendance_recorded(conn: Connection, event: AttendanceRecorded) -> None:
    """Attendance may be corrected; the record with the highest version wins."""
    bump_generation(conn)
    row = _fact(conn, event.registration_id, "attendance")
    if event.aggregate_version <= row.attendance_version:
        return
    conn.execute(
        _FACT_UPDATE,
        {
            "b_id": event.registration_id,
            "attended": event.attended,
            "attendance_version": event.aggregate_version,
        },
    )
    if event.attended != row.attended:
        apply_fact_deltas(conn, [_delta(row, attended=int(event.attended) - int(row.attended))])


# ----------------------------------------------------------------------------------------------
# feedback
# ----------------------------------------------------------------------------------------------

_SURVEY_VERSION = sa.select(surveys.c.version).where(surveys.c.survey_id == _B("b_id"))
_SURVEY_INSERT = surveys.insert()
_SURVEY_UPDATE = surveys.update().where(surveys.c.survey_id == _B("b_id"))


def on_survey_published(conn: Connection, event: SurveyPublished) -> None:
    bump_generation(conn)
    current = conn.execute(_SURVEY_VERSION, {"b_id": event.survey_id}).scalar_one_or_none()
    values = {
        "code": event.code,
        "items": list(event.items),
        "session_id": event.session_id,
        "version": event.aggregate_version,
    }
    if current is None:
        conn.execute(_SURVEY_INSERT, {"survey_id": event.survey_id, **values})
    elif event.aggregate_version > current:
        conn.execute(_SURVEY_UPDATE, {"b_id": event.survey_id, **values})


def overall_of(answers: Mapping[str, int]) -> int | None:
    """The ``overall`` answer, if given as a Likert value; anything else is not averaged."""
    value = answers.get(OVERALL_ITEM)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        return None
    return value


_FACT_FOR_FEEDBACK = sa.select(facts).where(facts.c.registration_id == _B("b_id"))
_COUNTED_RESPONSE = sa.select(
    feedback_responses.c.response_id,
    feedback_responses.c.submitted_at,
    feedback_responses.c.overall,
).where(feedback_responses.c.registration_id == _B("b_id"))
_RESPONSE_DELETE = feedback_responses.delete().where(
    feedback_responses.c.response_id == _B("b_response_id")
)
_RESPONSE_INSERT = feedback_responses.insert()
_FACT_ADD_FEEDBACK = (
    facts.update()
    .where(facts.c.registration_id == _B("b_id"))
    .values(
        feedback_count=facts.c.feedback_count + _B("b_count", type_=sa.Integer),
        overall_sum=facts.c.overall_sum + _B("b_overall_sum", type_=sa.Integer),
        overall_count=facts.c.overall_count + _B("b_overall_count", type_=sa.Integer),
    )
)


def on_feedback_submitted(conn: Connection, event: FeedbackSubmitted) -> None:
    """At most one response counts per invitation, i.e. per registration (feedback issues one
    invitation per registration and accepts one response on it): the earliest submitted, by
    ``(occurred_at, response_id)``, so that any delivery order leaves the same one counted.

    Keyed on the registration rather than on ``response_id`` (or ``invitation_id``, which a
    forged event can also make up), so responses invented for a real registration cannot pile
    onto its satisfaction figures; a redelivery of the counted response changes nothing either.
    """
    bump_generation(conn)
    fact = conn.execute(_FACT_FOR_FEEDBACK, {"b_id": event.registration_id}).one_or_none()
    if fact is None:
        raise RetryLater(f"registration {event.registration_id} not seen yet (feedback)")
    submitted_at = utc(event.occurred_at)
    overall = overall_of(event.answers)
    counted = conn.execute(_COUNTED_RESPONSE, {"b_id": event.registration_id}).one_or_none()
    count, overall_sum, overall_count = 1, overall or 0, int(overall is not None)
    if counted is not None:
        if (utc(counted.submitted_at), str(counted.response_id)) <= (
            submitted_at,
            str(event.response_id),
        ):
            return  # the counted response is this one, or an earlier one
        conn.execute(_RESPONSE_DELETE, {"b_response_id": counted.response_id})
        count = 0
        overall_sum -= counted.overall or 0
        overall_count -= int(counted.overall is not None)
    conn.execute(
        _RESPONSE_INSERT,
        {
            "response_id": event.response_id,
            "registration_id": event.registration_id,
            "session_id": event.session_id,
            "survey_id": event.survey_id,
            "overall": overall,
            "language": event.language,
            "has_comment": event.has_comment,
            "submitted_at": submitted_at,
            "invitation_id": event.invitation_id,
        },
    )
    conn.execute(
        _FACT_ADD_FEEDBACK,
        {
            "b_id": event.registration_id,
            "b_count": count,
            "b_overall_sum": overall_sum,
            "b_overall_count": overall_count,
        },
    )
    apply_fact_deltas(
        conn,
        [_delta(fact, feedback=count, overall_sum=overall_sum, overall_count=overall_count)],
    )


EVENT_HANDLERS: Mapping[type[Event], Callable[[Connection, Any], None]] = {
    TrainingDefined: on_training_defined,
    TrainerRegistered: on_trainer_registered,
    SessionScheduled: on_session_scheduled,
    SessionRescheduled: on_session_rescheduled,
    SessionCapacityChanged: on_session_capacity_changed,
    SessionCancelled: on_session_cancelled,
    SessionCompleted: on_session_completed,
    ParticipantRegistered: on_participant_registered,
    RegistrationCancelled: on_registration_cancelled,
    WaitlistPromoted: on_waitlist_promoted,
    AttendanceRecorded: on_attendance_recorded,
    SurveyPublished: on_survey_published,
    FeedbackSubmitted: on_feedback_submitted,
}
"""All 13 event types of catalogue v1: the read model is a projection of every stream."""
