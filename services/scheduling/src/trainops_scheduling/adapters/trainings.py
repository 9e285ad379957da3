"""The trainings of the programme; ``code`` is their unique human key."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters.tables import trainings
from trainops_scheduling.domain.records import TrainingRecord


def _training(row: Any) -> TrainingRecord:
    return TrainingRecord(
        id=row.id,
        code=row.code,
        title=dict(row.title),
        target_sectors=list(row.target_sectors),
        version=row.version,
        created_at=row.created_at,
    )


def insert_training(conn: Connection, training: TrainingRecord) -> None:
    conn.execute(
        trainings.insert().values(
            id=training.id,
            code=training.code,
            title=training.title,
            target_sectors=training.target_sectors,
            version=training.version,
            created_at=training.created_at,
        )
    )


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
