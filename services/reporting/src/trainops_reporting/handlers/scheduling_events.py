"""Projection of the scheduling stream: trainings, trainers and sessions.

Each handler is ``handler(conn, event)`` inside the consumer's transaction (see
``handlers.events``); the first thing each does is bump the read model's generation.
"""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Connection

from trainops_reporting.adapters import catalogue, facts, state
from trainops_reporting.domain.projection import is_newer
from trainops_shared.events import (
    Event,
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    TrainerRegistered,
    TrainingDefined,
)
from trainops_shared.inbox import RetryLater
from trainops_shared.timeutil import as_utc


def _unseen(session_id: uuid.UUID, why: str) -> RetryLater:
    return RetryLater(f"session {session_id} not seen yet ({why})")


def on_training_defined(conn: Connection, event: TrainingDefined) -> None:
    state.bump_generation(conn)
    catalogue.save_training(
        conn,
        event.training_id,
        code=event.code,
        title=event.title,
        target_sectors=event.target_sectors,
        version=event.aggregate_version,
    )


def on_trainer_registered(conn: Connection, event: TrainerRegistered) -> None:
    """Only the trainer's home city is kept: names are not report material."""
    state.bump_generation(conn)
    catalogue.save_trainer(
        conn, event.trainer_id, home_city=event.home_city, version=event.aggregate_version
    )


def on_session_scheduled(conn: Connection, event: SessionScheduled) -> None:
    state.bump_generation(conn)
    if catalogue.session_exists(conn, event.session_id):
        return  # a re-publish of the creation under a new event id
    catalogue.add_session(
        conn,
        event.session_id,
        training_id=event.training_id,
        mode=event.mode,
        cities=event.cities,
        timezone=event.timezone,
        language=event.language,
        starts_at=as_utc(event.starts_at),
        ends_at=as_utc(event.ends_at),
        capacity=event.capacity,
        version=event.aggregate_version,
    )


def on_session_rescheduled(conn: Connection, event: SessionRescheduled) -> None:
    state.bump_generation(conn)
    starts_at = as_utc(event.starts_at)
    moved = catalogue.move_session(
        conn, event.session_id, starts_at, as_utc(event.ends_at), event.aggregate_version
    )
    if moved:
        facts.move_session_facts(conn, event.session_id, starts_at)
    elif not catalogue.session_exists(conn, event.session_id):
        raise _unseen(event.session_id, "rescheduled")


def on_session_capacity_changed(conn: Connection, event: SessionCapacityChanged) -> None:
    state.bump_generation(conn)
    resized = catalogue.resize_session(
        conn, event.session_id, event.capacity, event.aggregate_version
    )
    if not resized and not catalogue.session_exists(conn, event.session_id):
        raise _unseen(event.session_id, "capacity changed")


def _set_session_status(conn: Connection, event: Event, session_id: uuid.UUID, status: str) -> None:
    """A cancellation (or its reversal by a later status) flips ``registered`` on every fact of
    the session that holds a seat."""
    row = catalogue.session(conn, session_id)
    if row is None:
        raise _unseen(session_id, status)
    if not is_newer(event.aggregate_version, row.status_version):
        return
    catalogue.set_session_status(conn, session_id, status, event.aggregate_version)
    cancelled = status == "cancelled"
    if cancelled != (row.status == "cancelled"):
        facts.mark_session_facts(conn, session_id, cancelled=cancelled)


def on_session_cancelled(conn: Connection, event: SessionCancelled) -> None:
    state.bump_generation(conn)
    _set_session_status(conn, event, event.session_id, "cancelled")


def on_session_completed(conn: Connection, event: SessionCompleted) -> None:
    state.bump_generation(conn)
    _set_session_status(conn, event, event.session_id, "completed")
