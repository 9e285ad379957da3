"""Migration v3 on SQLite and PostgreSQL: training titles, trainer names and home cities, venues
and cancellation reasons stored before control and bidi characters were refused are cleaned
(a reason keeps its line breaks), clean rows stay as they were, and the log counts the rows
changed without any value."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from trainops_scheduling.adapters.tables import MIGRATIONS, sessions, trainers, trainings
from trainops_shared.storage import MigrationSet, apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

V2 = MigrationSet("scheduling", tuple(m for m in MIGRATIONS.migrations if m.version <= 2))
# Up to the cleaning only: later migrations are tested on their own.
V3 = MigrationSet("scheduling", tuple(m for m in MIGRATIONS.migrations if m.version <= 3))
NOW = datetime(2021, 3, 1, 6, 0, tzinfo=UTC)
NUL = "\x00"


def _seed(conn: Connection) -> None:
    assert apply_migrations(conn, [PLUMBING_MIGRATIONS, V2])
    nul = "\x01" if conn.dialect.name == "postgresql" else NUL  # PostgreSQL text holds no NUL
    training = uuid.uuid4()
    conn.execute(
        trainings.insert(),
        [
            {
                "id": training,
                "code": "ethics",
                "title": {"kk": "Этика\u202e", "ru": f"Эти{nul}ка", "en": "Ethics"},
                "target_sectors": ["media"],
                "version": 1,
                "created_at": NOW,
            },
            {
                "id": uuid.uuid4(),
                "code": "clean",
                "title": {"kk": "Таза", "ru": "Чисто", "en": "Clean"},
                "target_sectors": ["media"],
                "version": 1,
                "created_at": NOW,
            },
        ],
    )
    conn.execute(
        trainers.insert(),
        [
            {
                "id": uuid.uuid4(),
                "name": f"Asel\u2067 Nurlanovna{nul}",
                "home_city": "almaty\x1b",
                "version": 1,
                "created_at": NOW,
            },
            {
                "id": uuid.uuid4(),
                "name": "Clean",
                "home_city": "aktau",
                "version": 1,
                "created_at": NOW,
            },
        ],
    )
    conn.execute(
        sessions.insert().values(
            id=uuid.uuid4(),
            training_id=training,
            mode="in_person",
            cities=["almaty"],
            venue="Hall\u202e 2",
            timezone="Asia/Almaty",
            starts_at=NOW,
            ends_at=NOW + timedelta(hours=2),
            capacity=10,
            language="ru",
            trainer_ids=[],
            status="cancelled",
            cancel_reason=f"Trainer ill.\nMoved{nul} to May.",
            version=2,
            created_at=NOW,
            updated_at=NOW,
        )
    )


def _migrate(conn: Connection) -> tuple[dict[str, object], list[dict[str, object]]]:
    with structlog.testing.capture_logs() as logs:
        assert apply_migrations(conn, [PLUMBING_MIGRATIONS, V3]) == [("scheduling", 3)]
    assert apply_migrations(conn, [PLUMBING_MIGRATIONS, V3]) == []
    titles = dict(conn.execute(sa.select(trainings.c.code, trainings.c.title)).all())
    people = sorted(conn.execute(sa.select(trainers.c.name, trainers.c.home_city)).all())
    session = conn.execute(sa.select(sessions.c.venue, sessions.c.cancel_reason)).one()
    return {"titles": titles, "trainers": people, "session": tuple(session)}, logs


async def test_v3_cleans_stored_titles_and_names(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_seed)
        async with engine.begin() as conn:
            stored, logs = await conn.run_sync(_migrate)
    finally:
        await engine.dispose()
    assert stored["titles"] == {
        "ethics": {"kk": "Этика", "ru": "Этика", "en": "Ethics"},
        "clean": {"kk": "Таза", "ru": "Чисто", "en": "Clean"},
    }
    assert [tuple(t) for t in stored["trainers"]] == [  # type: ignore[attr-defined]
        ("Asel Nurlanovna", "almaty"),
        ("Clean", "aktau"),
    ]
    assert stored["session"] == ("Hall 2", "Trainer ill.\nMoved to May.")
    cleaned = {
        (entry["table"], entry["column"]): entry["rows"]
        for entry in logs
        if entry["event"] == "stored_text_cleaned"
    }
    assert cleaned == {
        ("trainings", "title"): 1,
        ("trainers", "name"): 1,
        ("trainers", "home_city"): 1,
        ("sessions", "venue"): 1,
        ("sessions", "cancel_reason"): 1,
    }
    text = repr(logs)
    for value in ("Asel", "Этика", "Hall", "Trainer ill"):
        assert value not in text
