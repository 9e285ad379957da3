"""The trainings of the programme; ``code`` is their unique human key."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters.tables import trainings
from trainops_scheduling.domain.records import TrainingRecord


def _training(row: Any) -> TrainingRecord:
    # The table's columns are the record's fields, one for one.
    return TrainingRecord(**row._mapping)


def insert_training(conn: Connection, training: TrainingRecord) -> None:
    conn.execute(trainings.insert().values(**asdict(training)))


def get_training(conn: Connection, training_id: uuid.UUID) -> TrainingRecord | None:
    row = conn.execute(sa.select(trainings).where(trainings.c.id == training_id)).first()
    return _training(row) if row is not None else None


def training_id_by_code(conn: Connection, code: str) -> uuid.UUID | None:
    found: uuid.UUID | None = conn.execute(
        sa.select(trainings.c.id).where(trainings.c.code == code)
    ).scalar_one_or_none()
    return found


def list_trainings(conn: Connection) -> list[TrainingRecord]:
    rows = conn.execute(sa.select(trainings).order_by(trainings.c.code)).all()
    return [_training(r) for r in rows]
