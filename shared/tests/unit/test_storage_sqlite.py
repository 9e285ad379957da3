"""The SQLite group-commit writer: isolation of failing functions, durability, concurrency."""

import asyncio

import pytest
import sqlalchemy as sa

from trainops_shared.storage import Migration, MigrationSet, SqliteDatabase

pytestmark = pytest.mark.unit

meta = sa.MetaData()
items = sa.Table("items", meta, sa.Column("id", sa.Integer, primary_key=True))
MIGRATIONS = MigrationSet("test", (Migration(1, "items", lambda c: meta.create_all(c)),))


def count(conn):
    return conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one()


async def test_concurrent_writes_commit_together_and_a_failure_rolls_back_alone(tmp_path):
    db = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await db.start([MIGRATIONS])

    def insert(i):
        def fn(conn):
            conn.execute(items.insert().values(id=i))
            if i == 13:
                raise ValueError("unlucky")
            return i

        return fn

    writes = (db.write(insert(i)) for i in range(100))
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert isinstance(results[13], ValueError)
    succeeded = [r for r in results if not isinstance(r, Exception)]
    assert succeeded == [i for i in range(100) if i != 13]
    assert await db.read(count) == 99
    # a duplicate key fails alone too
    with pytest.raises(sa.exc.IntegrityError):
        await db.write(insert(5))
    await db.close()

    reopened = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await reopened.start([MIGRATIONS])
    assert await reopened.read(count) == 99
    assert await reopened.read(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar()) == "wal"
    assert await reopened.read(lambda c: c.exec_driver_sql("PRAGMA synchronous").scalar()) == 2
    await reopened.close()


async def test_migrations_apply_once(tmp_path):
    calls = []

    def upgrade(conn):
        calls.append(1)
        meta.create_all(conn)

    mset = MigrationSet("test", (Migration(1, "items", upgrade),))
    for _ in range(2):
        db = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path}/m.db")
        await db.start([mset])
        await db.close()
    assert calls == [1]


async def test_close_finishes_queued_writes(tmp_path):
    db = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path}/c.db")
    await db.start([MIGRATIONS])

    def insert(i):
        return lambda c: c.execute(items.insert().values(id=i))

    pending = [asyncio.ensure_future(db.write(insert(i))) for i in range(50)]
    await asyncio.sleep(0)
    await db.close()
    await asyncio.gather(*pending)
    db2 = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path}/c.db")
    await db2.start([MIGRATIONS])
    assert await db2.read(count) == 50
    await db2.close()


async def test_a_held_write_lock_answers_unavailable_within_the_bound_and_commits_nothing(
    tmp_path,
):
    import sqlite3
    import time

    from trainops_shared.storage import is_transient

    db = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path}/t.db", write_timeout=0.3)
    await db.start([MIGRATIONS])
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.monotonic()
        results = await asyncio.gather(
            *(db.write(lambda c, i=i: c.execute(items.insert().values(id=i))) for i in range(50)),
            return_exceptions=True,
        )
        waited = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert all(isinstance(r, Exception) and is_transient(r) for r in results), results
    assert waited < 3, f"writes hung {waited:.1f} s behind the lock"
    assert await db.read(count) == 0
    await db.write(lambda c: c.execute(items.insert().values(id=1)))
    assert await db.read(count) == 1
    await db.close()
