"""The read model's change counter, ``report_state.generation``: one bump per applied event."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import report_state

_BUMP = (
    report_state.update()
    .where(report_state.c.id == 1)
    .values(generation=report_state.c.generation + 1)
)
_GENERATION = sa.select(report_state.c.generation).where(report_state.c.id == 1)


def bump_generation(conn: Connection) -> None:
    """Invalidate every cached report: called first by each handler, in the same transaction.

    Taking the ``report_state`` row lock before any other row keeps one lock order in every
    projection transaction (no deadlocks between replicas on PostgreSQL). It stays one bump per
    applied event (not per transaction): the generation doubles as the count of applied events,
    which the integration and replay tests rely on.
    """
    conn.execute(_BUMP)


def read_generation(conn: Connection) -> int:
    """The read model's change counter (bumped by every projected event)."""
    return int(conn.execute(_GENERATION).scalar_one())
