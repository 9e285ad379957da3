"""The trainings' names, copied from scheduling's ``TrainingDefined`` events."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.tables import trainings


def add_training(
    conn: Connection, training_id: uuid.UUID, code: str, title: dict[str, str]
) -> None:
    """A training is defined once: a re-published definition changes nothing."""
    known = conn.execute(
        sa.select(trainings.c.training_id).where(trainings.c.training_id == training_id)
    ).first()
    if known is None:
        conn.execute(trainings.insert().values(training_id=training_id, code=code, title=title))


def training_names(conn: Connection) -> dict[uuid.UUID, tuple[str, dict[str, str]]]:
    """Every known training: ``training_id -> (code, title per language)``."""
    return {
        row.training_id: (row.code, dict(row.title)) for row in conn.execute(sa.select(trainings))
    }
