"""The scheduling use cases: each a synchronous function run inside ONE write transaction.

Each loads what it needs (locking rows on PostgreSQL), lets the domain decide, saves the result,
records the events in the outbox and the audit entry of the change, so either all of it commits
or none of it does. ``actor`` is the signed-in account whose request this is: its subject goes
on every event and on the audit entry. Domain errors carry their HTTP answer themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy.engine import Connection

from trainops_scheduling.adapters import sessions, trainers, trainings
from trainops_scheduling.domain import (
    DEFAULT_MAX_CAPACITY,
    CityCatalogue,
    InvalidField,
    Session,
    SessionMode,
    TrainerDoubleBooked,
    TravelTimes,
    ensure_trainers_free,
    ensure_travel_possible,
    parse_interval,
    search_window,
    validate_sector,
)
from trainops_scheduling.domain.cities import load_zone
from trainops_scheduling.domain.records import TrainerRecord, TrainingRecord
from trainops_shared.audit import DetailValue, record_audit
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Invalid, NotFound
from trainops_shared.events import (
    Event,
    SeatQuota,
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    TrainerRegistered,
    TrainingDefined,
    uuid7,
)
from trainops_shared.outbox import record_events
from trainops_shared.timeutil import utc_now


def _record(
    conn: Connection,
    actor: Principal,
    event: Event,
    action: str,
    detail: Mapping[str, DetailValue] | None = None,
) -> None:
    """Record the event of one change and its audit entry (``action`` names the record type)."""
    record_events(conn, [event])
    record_audit(conn, actor, action, action.split(".", 1)[0], event.aggregate_id, detail)


# ------------------------------------------------------------------------------------------
# Trainings and trainers
# ------------------------------------------------------------------------------------------


def define_training(
    conn: Connection,
    *,
    actor: Principal,
    code: str,
    title: Mapping[str, str],
    target_sectors: Sequence[str],
) -> TrainingRecord:
    """Create a training; its code is the human key and must be unique (409 otherwise)."""
    sectors = [
        validate_sector(s, field=f"target_sectors[{i}]") for i, s in enumerate(target_sectors)
    ]
    if len(set(sectors)) != len(sectors):
        raise Invalid("target sectors must be distinct", field="target_sectors")
    code = code.strip()
    existing = trainings.training_id_by_code(conn, code)
    if existing is not None:
        raise Conflict(
            f"a training with code {code!r} already exists",
            field="code",
            existing_training_id=str(existing),
        )
    training = TrainingRecord(
        id=uuid7(),
        code=code,
        title={lang: text.strip() for lang, text in title.items() if text and text.strip()},
        target_sectors=sectors,
        version=1,
        created_at=utc_now(),
    )
    trainings.insert_training(conn, training)
    event = TrainingDefined(
        aggregate_id=training.id,
        aggregate_version=1,
        actor=actor.subject,
        training_id=training.id,
        code=training.code,
        title=training.title,
        target_sectors=training.target_sectors,
    )
    _record(conn, actor, event, "training.defined", {"version": 1})
    return training


def register_trainer(
    conn: Connection, *, actor: Principal, name: str, home_city: str
) -> TrainerRecord:
    """Register a trainer; home city is free text (invited experts come from abroad too)."""
    name, home_city = name.strip(), home_city.strip()
    if not name:
        raise Invalid("a trainer needs a name", field="name")
    if not home_city:
        raise Invalid("a trainer needs a home city", field="home_city")
    trainer = TrainerRecord(
        id=uuid7(), name=name, home_city=home_city, version=1, created_at=utc_now()
    )
    trainers.insert_trainer(conn, trainer)
    event = TrainerRegistered(
        aggregate_id=trainer.id,
        aggregate_version=1,
        actor=actor.subject,
        trainer_id=trainer.id,
        name=trainer.name,
        home_city=trainer.home_city,
    )
    _record(conn, actor, event, "trainer.registered", {"version": 1})
    return trainer


# ------------------------------------------------------------------------------------------
# Sessions
# ------------------------------------------------------------------------------------------


def _check_trainers_exist(conn: Connection, trainer_ids: Sequence[uuid.UUID]) -> None:
    """Lock the trainers (serializing their bookings) and name the first unknown one."""
    known = trainers.lock_trainers(conn, trainer_ids)
    for i, trainer_id in enumerate(trainer_ids):
        if trainer_id not in known:
            raise Invalid(f"unknown trainer {trainer_id}", field=f"trainer_ids[{i}]")


def _check_trainers_free(conn: Connection, session: Session, travel: TravelTimes) -> None:
    """409 naming the other session if any trainer is booked at an overlapping time, or in
    person in another city too close before or after to travel between the two."""
    nearby = sessions.sessions_overlapping(
        conn, session.trainer_ids, search_window(session, travel)
    )
    existing = [s for s in nearby if s.interval.overlaps(session.interval)]
    try:
        ensure_trainers_free(session.trainer_ids, session.interval, existing, session.id)
    except TrainerDoubleBooked as exc:
        index = session.trainer_ids.index(exc.trainer_id)
        raise TrainerDoubleBooked(
            exc.trainer_id, exc.conflicting_session_id, field=f"trainer_ids[{index}]"
        ) from exc
    ensure_travel_possible(session, nearby, travel)


def schedule_session(
    conn: Connection,
    *,
    actor: Principal,
    catalogue: CityCatalogue,
    training_id: uuid.UUID,
    mode: SessionMode,
    cities: Sequence[str],
    starts_at: str,
    ends_at: str,
    capacity: int,
    language: str,
    trainer_ids: Sequence[uuid.UUID],
    venue: str | None = None,
    timezone: str | None = None,
    max_capacity: int = DEFAULT_MAX_CAPACITY,
    travel: TravelTimes | None = None,
    quotas: Sequence[SeatQuota] = (),
) -> Session:
    """Put a session in the calendar.

    Naive ``starts_at``/``ends_at`` are wall times in ``timezone`` (default: the first city's
    zone); with an offset the offset wins. Trainer rows are locked before the overlap check so
    two concurrent bookings of one trainer cannot both pass it.
    """
    for i, city in enumerate(cities):
        catalogue.validate(city, field=f"cities[{i}]")
    if not cities:
        raise InvalidField("cities", "at least one city is required")
    zone_name = timezone if timezone is not None else catalogue.timezone_of(cities[0])
    zone = load_zone(zone_name, field="timezone")
    interval = parse_interval(starts_at, ends_at, zone)
    if trainings.get_training(conn, training_id) is None:
        raise Invalid(f"unknown training {training_id}", field="training_id")
    session = Session.schedule(
        id=uuid7(),
        training_id=training_id,
        mode=mode,
        cities=cities,
        starts_at=interval.starts_at,
        ends_at=interval.ends_at,
        capacity=capacity,
        language=language,
        catalogue=catalogue,
        timezone=zone_name,
        trainer_ids=trainer_ids,
        venue=venue,
        max_capacity=max_capacity,
        quotas=quotas,
    )
    _check_trainers_exist(conn, session.trainer_ids)
    _check_trainers_free(conn, session, travel or TravelTimes())
    sessions.insert_session(conn, session, utc_now())
    event = SessionScheduled(
        aggregate_id=session.id,
        aggregate_version=session.version,
        actor=actor.subject,
        session_id=session.id,
        training_id=session.training_id,
        mode=session.mode,
        cities=list(session.cities),
        timezone=session.timezone,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        capacity=session.capacity,
        language=session.language,
        trainer_ids=list(session.trainer_ids),
        venue=session.venue,
        quotas=list(session.quotas),
    )
    detail: dict[str, DetailValue] = {
        "version": session.version,
        "mode": session.mode,
        "capacity": session.capacity,
    }
    if session.quotas:
        detail["quotas"] = len(session.quotas)
    _record(conn, actor, event, "session.scheduled", detail)
    return session


def _load_for_change(conn: Connection, session_id: uuid.UUID) -> Session:
    session = sessions.get_session(conn, session_id, for_update=True)
    if session is None:
        raise NotFound(f"no session {session_id}")
    return session


def _save(
    conn: Connection,
    actor: Principal,
    before: Session,
    after: Session,
    event: Event,
    action: str,
    detail: Mapping[str, DetailValue] | None = None,
) -> Session:
    """Persist a transition, its event and its audit entry, unless the domain said nothing
    changed (then nothing is written at all)."""
    if after is before:
        return before
    sessions.update_session(conn, after, before.version, utc_now())
    _record(conn, actor, event, action, {"version": after.version, **(detail or {})})
    return after


def reschedule_session(
    conn: Connection,
    *,
    actor: Principal,
    session_id: uuid.UUID,
    starts_at: str,
    ends_at: str,
    travel: TravelTimes | None = None,
) -> Session:
    """Move a session; its trainers must be free at the new time (its own slot excepted) and
    able to travel from and to their other in-person sessions.

    Naive times are read in the session's own zone, as when it was scheduled.
    """
    before = _load_for_change(conn, session_id)
    interval = parse_interval(starts_at, ends_at, before.timezone)
    after = before.reschedule(interval.starts_at, interval.ends_at)
    if after is not before:
        _check_trainers_exist(conn, after.trainer_ids)
        _check_trainers_free(conn, after, travel or TravelTimes())
    event = SessionRescheduled(
        aggregate_id=after.id,
        aggregate_version=after.version,
        actor=actor.subject,
        session_id=after.id,
        starts_at=after.starts_at,
        ends_at=after.ends_at,
        previous_starts_at=before.starts_at,
        previous_ends_at=before.ends_at,
    )
    return _save(conn, actor, before, after, event, "session.rescheduled")


def change_capacity(
    conn: Connection,
    *,
    actor: Principal,
    session_id: uuid.UUID,
    capacity: int,
    max_capacity: int = DEFAULT_MAX_CAPACITY,
    quotas: Sequence[SeatQuota] | None = None,
) -> Session:
    """Change the seats: the capacity and, unless ``quotas`` is ``None``, the quotas (the
    whole new list; registration promotes whoever the new rules let in)."""
    before = _load_for_change(conn, session_id)
    after = before.change_capacity(capacity, max_capacity, quotas)
    event = SessionCapacityChanged(
        aggregate_id=after.id,
        aggregate_version=after.version,
        actor=actor.subject,
        session_id=after.id,
        capacity=after.capacity,
        previous_capacity=before.capacity,
        quotas=list(after.quotas),
    )
    detail: dict[str, DetailValue] = {
        "capacity": after.capacity,
        "previous_capacity": before.capacity,
    }
    if quotas is not None:
        detail["quotas"] = len(after.quotas)
    return _save(conn, actor, before, after, event, "session.capacity_changed", detail)


def cancel_session(
    conn: Connection,
    *,
    actor: Principal,
    session_id: uuid.UUID,
    reason: str,
    alternative_session_id: uuid.UUID | None = None,
) -> Session:
    """Cancel a session; the reason travels in the event, never in the audit entry (free text).

    ``alternative_session_id`` names the session its people are offered instead: another
    session of the calendar that is still scheduled (else 422 naming the field)."""
    before = _load_for_change(conn, session_id)
    if alternative_session_id is not None:
        alternative = sessions.get_session(conn, alternative_session_id)
        if alternative is None or alternative.id == session_id:
            raise InvalidField("alternative_session_id", "not another session of the calendar")
        if alternative.status != "scheduled":
            raise InvalidField("alternative_session_id", f"that session is {alternative.status}")
    after = before.cancel(reason)
    event = SessionCancelled(
        aggregate_id=after.id,
        aggregate_version=after.version,
        actor=actor.subject,
        session_id=after.id,
        reason=after.cancel_reason or reason,
        alternative_session_id=alternative_session_id,
    )
    return _save(conn, actor, before, after, event, "session.cancelled")


def complete_session(conn: Connection, *, actor: Principal, session_id: uuid.UUID) -> Session:
    before = _load_for_change(conn, session_id)
    after = before.complete()
    event = SessionCompleted(
        aggregate_id=after.id,
        aggregate_version=after.version,
        actor=actor.subject,
        session_id=after.id,
    )
    return _save(conn, actor, before, after, event, "session.completed")
