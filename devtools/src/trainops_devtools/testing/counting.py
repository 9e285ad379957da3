"""A projection that counts how often each event was applied, for the delivery tests.

The backbone, cluster-failover and dead-letter tests all ask the same question — did every
acknowledged event arrive, and did any arrive twice? — so they all project ``SessionCompleted``
events into one table of ``(event_id, times)``: a missing id is a lost event, ``times > 1`` a
double count.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from trainops_shared.events import SessionCompleted
from trainops_shared.outbox import OutboxRelay, record_events
from trainops_shared.storage import Database, Migration, MigrationSet


class ApplicationCounter:
    """The ``<name>_applications`` table, its migration and the handler that fills it."""

    def __init__(self, name: str) -> None:
        self.meta = sa.MetaData()
        self.table = sa.Table(
            f"{name}_applications",
            self.meta,
            sa.Column("event_id", sa.String(36), primary_key=True),
            sa.Column("times", sa.Integer, nullable=False),
        )
        self.migrations = MigrationSet(
            name, (Migration(1, f"{name}_applications", self.meta.create_all),)
        )

    def apply(self, conn: sa.Connection, event: SessionCompleted) -> None:
        """Count one application of ``event`` (inside the consumer's transaction)."""
        key = str(event.event_id)
        updated = conn.execute(
            self.table.update()
            .where(self.table.c.event_id == key)
            .values(times=self.table.c.times + 1)
        ).rowcount
        if not updated:
            conn.execute(self.table.insert().values(event_id=key, times=1))

    async def applied(self, db: Database) -> dict[str, int]:
        """How many times each event id was applied so far."""
        rows = await db.read(lambda c: c.execute(sa.select(self.table)).all())
        return {r.event_id: r.times for r in rows}


async def write_completed_events(
    db: Database, relay: OutboxRelay, n: int
) -> list[SessionCompleted]:
    """Commit ``n`` new ``SessionCompleted`` events to the outbox and wake the relay."""
    events = [
        SessionCompleted(aggregate_id=(sid := uuid.uuid4()), session_id=sid) for _ in range(n)
    ]
    await db.write(lambda conn: record_events(conn, events))
    relay.notify()
    return events
