"""The trainers who can be booked on sessions, and the row locks that serialise their bookings."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters.tables import trainers
from trainops_scheduling.domain.records import TrainerRecord


def _trainer(row: Any) -> TrainerRecord:
    # The table's columns are the record's fields, one for one.
    return TrainerRecord(**row._mapping)


def insert_trainer(conn: Connection, trainer: TrainerRecord) -> None:
    conn.execute(trainers.insert().values(**asdict(trainer)))


def lock_trainers(conn: Connection, trainer_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Lock the given trainers' rows (in id order, so two writers never deadlock); return the
    ids that exist.

    Holding these locks until commit serializes every booking of the same trainer, which makes
    the overlap check that follows race-free on PostgreSQL.
    """
    wanted = sorted(set(trainer_ids))
    if not wanted:
        return set()
    rows = conn.execute(
        sa.select(trainers.c.id)
        .where(trainers.c.id.in_(wanted))
        .order_by(trainers.c.id)
        .with_for_update()
    ).scalars()
    return set(rows)


def list_trainers(conn: Connection) -> list[TrainerRecord]:
    rows = conn.execute(sa.select(trainers).order_by(trainers.c.name, trainers.c.id)).all()
    return [_trainer(r) for r in rows]


def get_trainer(conn: Connection, trainer_id: uuid.UUID) -> TrainerRecord | None:
    row = conn.execute(sa.select(trainers).where(trainers.c.id == trainer_id)).first()
    return _trainer(row) if row is not None else None
