"""SQLite files hold personal data: only the service's own user may read them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from trainops_shared.storage import Migration, MigrationSet, SqliteDatabase

pytestmark = pytest.mark.unit

NOTES = sa.Table("notes", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
MIGRATIONS = MigrationSet(
    "modes", [Migration(1, "notes", lambda conn: NOTES.metadata.create_all(conn))]
)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common default (022), under which SQLite's own files come out 0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def side_file_modes(db_file: Path) -> dict[str, int | None]:
    """The modes of the ``-wal`` and ``-shm`` files (``None``: absent)."""
    found: dict[str, int | None] = {}
    for suffix in ("-wal", "-shm"):
        path = Path(f"{db_file}{suffix}")
        found[suffix] = mode(path) if path.exists() else None
    return found


def widen(db_file: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{db_file}{suffix}")
        if path.exists():
            path.chmod(0o644)


async def write_one(db_file: Path) -> None:
    db = SqliteDatabase(f"sqlite+aiosqlite:///{db_file}")
    await db.start([MIGRATIONS])
    try:
        await db.write(lambda conn: conn.execute(NOTES.insert().values()))
        assert side_file_modes(db_file) == {"-wal": 0o600, "-shm": 0o600}
    finally:
        await db.close()


async def test_database_files_and_a_new_folder_are_private(tmp_path: Path) -> None:
    db_file = tmp_path / "data" / "registration.db"
    await write_one(db_file)
    assert mode(db_file) == 0o600
    assert mode(db_file.parent) == 0o700


async def test_files_left_readable_by_an_older_version_are_tightened(tmp_path: Path) -> None:
    db_file = tmp_path / "registration.db"
    await write_one(db_file)
    widen(db_file)
    await write_one(db_file)
    assert mode(db_file) == 0o600
