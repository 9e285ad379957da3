"""The read use cases: each a synchronous ``fn(conn, ...)`` run in one read transaction."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy.engine import Connection

from trainops_scheduling.adapters import sessions, trainers, trainings
from trainops_scheduling.domain import Session
from trainops_scheduling.domain.records import SessionFilter, TrainerRecord, TrainingRecord
from trainops_shared.errors import NotFound

_T = TypeVar("_T")


def _found(value: _T | None, kind: str, key: uuid.UUID) -> _T:
    """``value``, or the 404 that names the ``<kind>_id`` looked up."""
    if value is None:
        raise NotFound(f"no {kind} {key}", field=f"{kind}_id")
    return value


def list_trainings(conn: Connection) -> list[TrainingRecord]:
    """Every training, by code."""
    return trainings.list_trainings(conn)


def get_training(conn: Connection, training_id: uuid.UUID) -> TrainingRecord:
    return _found(trainings.get_training(conn, training_id), "training", training_id)


def list_trainers(conn: Connection) -> list[TrainerRecord]:
    """Every trainer, by name."""
    return trainers.list_trainers(conn)


def get_trainer(conn: Connection, trainer_id: uuid.UUID) -> TrainerRecord:
    return _found(trainers.get_trainer(conn, trainer_id), "trainer", trainer_id)


def find_sessions(conn: Connection, flt: SessionFilter) -> list[Session]:
    """The calendar: sessions matching ``flt``, earliest first."""
    return sessions.find_sessions(conn, flt)


def get_session(conn: Connection, session_id: uuid.UUID) -> Session:
    return _found(sessions.get_session(conn, session_id), "session", session_id)


def session_with_title(conn: Connection, session_id: uuid.UUID) -> tuple[Session, dict[str, str]]:
    """A session and its training's title per language (what a calendar entry shows)."""
    session = get_session(conn, session_id)
    training = trainings.get_training(conn, session.training_id)
    return session, training.title if training is not None else {}
