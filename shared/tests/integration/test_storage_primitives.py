"""Column types, the UUID conversion and the versioned-copy upsert on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_shared.columns import UtcDateTime, UUIDType, convert_string_uuid_columns
from trainops_shared.storage import Migration, MigrationSet, open_database
from trainops_shared.upsert import update_if_newer, upsert_if_newer

pytestmark = pytest.mark.integration

ALMATY = timezone(timedelta(hours=5))

metadata = sa.MetaData()
copies = sa.Table(
    "session_copies",
    metadata,
    sa.Column("session_id", UUIDType(), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
legacy_md = sa.MetaData()
legacy = sa.Table(
    "legacy_ids",
    legacy_md,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ref", sa.String(36), nullable=True),
)
MIGRATIONS = MigrationSet(
    "primitives",
    (
        Migration(1, "copies", lambda c: metadata.create_all(c)),
        Migration(2, "legacy", lambda c: legacy_md.create_all(c)),
    ),
)


def _row(conn: Connection, session_id: uuid.UUID) -> sa.Row[tuple[object, ...]]:
    return conn.execute(sa.select(copies).where(copies.c.session_id == session_id)).one()


async def test_columns_and_versioned_upsert(database_url: str) -> None:
    db = open_database(database_url)
    await db.start([MIGRATIONS])
    try:
        sid = uuid.uuid4()
        starts = datetime(2026, 5, 4, 15, 0, tzinfo=ALMATY)

        def copy(status: str, capacity: int, version: int) -> dict[str, object]:
            return {
                "session_id": sid,
                "status": status,
                "capacity": capacity,
                "starts_at": starts,
                "version": version,
            }

        assert await db.write(lambda c: upsert_if_newer(c, copies, copy("scheduled", 20, 2)))
        # Same version again (a redelivery) and an older one (a late event): nothing changes.
        assert not await db.write(lambda c: upsert_if_newer(c, copies, copy("draft", 99, 2)))
        assert not await db.write(lambda c: upsert_if_newer(c, copies, copy("draft", 5, 1)))
        row = await db.read(lambda c: _row(c, sid))
        assert (row.status, row.capacity, row.version) == ("scheduled", 20, 2)
        assert row.starts_at == datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
        assert row.starts_at.utcoffset() == timedelta(0)
        assert isinstance(row.session_id, uuid.UUID)

        # Newer, but only the named columns move; the capacity stays.
        newer = copy("rescheduled", 1, 3)
        assert await db.write(lambda c: upsert_if_newer(c, copies, newer, update=["status"]))
        row = await db.read(lambda c: _row(c, sid))
        assert (row.status, row.capacity, row.version) == ("rescheduled", 20, 3)

        assert not await db.write(
            lambda c: update_if_newer(c, copies, {"session_id": sid}, {"capacity": 7}, version=3)
        )
        assert await db.write(
            lambda c: update_if_newer(c, copies, {"session_id": sid}, {"capacity": 7}, version=4)
        )
        assert not await db.write(
            lambda c: update_if_newer(
                c, copies, {"session_id": uuid.uuid4()}, {"capacity": 1}, version=9
            )
        )
        row = await db.read(lambda c: _row(c, sid))
        assert (row.capacity, row.version) == (7, 4)

        # Concurrent deliveries of versions 5..12 in any order: the newest wins.
        versions = [9, 5, 12, 7, 11, 6, 10, 8]
        results = await asyncio.gather(
            *(
                db.write(lambda c, v=v: upsert_if_newer(c, copies, copy(f"v{v}", v, v)))
                for v in versions
            )
        )
        assert results[versions.index(12)] is True
        row = await db.read(lambda c: _row(c, sid))
        assert (row.status, row.version) == ("v12", 12)

        with pytest.raises(ValueError, match="version column"):
            await db.write(lambda c: upsert_if_newer(c, copies, {"session_id": sid}))
        with pytest.raises(ValueError, match="no column"):
            await db.write(lambda c: upsert_if_newer(c, copies, {**copy("x", 1, 99), "nope": 1}))
    finally:
        await db.close()


async def test_string_uuid_columns_convert(database_url: str) -> None:
    db = open_database(database_url)
    await db.start([MIGRATIONS])
    try:
        a, b = uuid.uuid4(), uuid.uuid4()

        def seed(conn: Connection) -> None:
            conn.execute(
                legacy.insert(), [{"id": str(a), "ref": str(b)}, {"id": str(b), "ref": None}]
            )

        await db.write(seed)
        await db.write(
            lambda c: convert_string_uuid_columns(c, [("legacy_ids", "id"), ("legacy_ids", "ref")])
        )
        converted = sa.Table(
            "legacy_ids",
            sa.MetaData(),
            sa.Column("id", UUIDType(), primary_key=True),
            sa.Column("ref", UUIDType(), nullable=True),
        )

        def read(conn: Connection) -> dict[uuid.UUID, uuid.UUID | None]:
            rows = conn.execute(
                sa.select(converted.c.id, converted.c.ref).where(converted.c.id.in_([a, b]))
            )
            return {r.id: r.ref for r in rows}

        assert await db.read(read) == {a: b, b: None}
    finally:
        await db.close()
