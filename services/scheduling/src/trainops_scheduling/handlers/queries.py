"""The read use cases: each a synchronous ``fn(conn, ...)`` run in one read transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Connection

from trainops_scheduling.adapters import sessions, trainers, trainings
from trainops_scheduling.domain import Session
from trainops_scheduling.domain.records import SessionFilter, TrainerRecord, TrainingRecord
from trainops_shared.errors import NotFound


def list_trainings(conn: Connection) -> list[TrainingRecord]:
    """Every training, by code."""
    return trainings.list_trainings(conn)


def get_training(conn: Connection, training_id: uuid.UUID) -> TrainingRecord:
    training = trainings.get_training(conn, training_id)
    if training is None:
        raise NotFound(f"no training {training_id}", field="training_id")
    return training


def list_trainers(conn: Connection) -> list[TrainerRecord]:
    """Every trainer, by name."""
    return trainers.list_trainers(conn)


def get_trainer(conn: Connection, trainer_id: uuid.UUID) -> TrainerRecord:
    trainer = trainers.get_trainer(conn, trainer_id)
    if trainer is None:
        raise NotFound(f"no trainer {trainer_id}", field="trainer_id")
    return trainer


def find_sessions(conn: Connection, flt: SessionFilter) -> list[Session]:
    """The calendar: sessions matching ``flt``, earliest first."""
    return sessions.find_sessions(conn, flt)


def get_session(conn: Connection, session_id: uuid.UUID) -> Session:
    session = sessions.get_session(conn, session_id)
    if session is None:
        raise NotFound(f"no session {session_id}", field="session_id")
    return session


def session_with_title(conn: Connection, session_id: uuid.UUID) -> tuple[Session, dict[str, str]]:
    """A session and its training's title per language (what a calendar entry shows)."""
    session = get_session(conn, session_id)
    training = trainings.get_training(conn, session.training_id)
    return session, training.title if training is not None else {}
