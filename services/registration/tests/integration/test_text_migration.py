"""Migration v7 on SQLite and PostgreSQL: names, organisations and training titles stored before
control and bidi characters were refused are cleaned, the name's search key follows the name,
clean rows stay as they were, and the log says how many rows changed without any value."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_registration.adapters.tables import participants, trainings
from trainops_registration.domain.participant import name_key
from trainops_shared.storage import MigrationSet, apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS
from trainops_shared.validation import check_text

pytestmark = pytest.mark.integration

V6 = MigrationSet("registration", tuple(m for m in MIGRATIONS.migrations if m.version <= 6))
# Up to the cleaning only: later migrations (sealing the personal fields) are tested on their own.
V7 = MigrationSet("registration", tuple(m for m in MIGRATIONS.migrations if m.version <= 7))
NOW = datetime(2021, 3, 1, 6, 0, tzinfo=UTC)
NAMES = {
    # stored: what v7 leaves
    "Aida\x00 Ermekova": "Aida Ermekova",
    "Berik\u202e Omarov": "Berik Omarov",
    "\x1b[31mDana\tAbenova\x1b[0m": "[31mDana Abenova[0m",
    "\x07\u2066\x00": "\ufffd",
    "Clean Name": "Clean Name",
}


def _storable(conn: Connection, text: str) -> str:
    """PostgreSQL text cannot hold NUL at all; there the seed carries U+0001 instead."""
    return text.replace("\x00", "\x01") if conn.dialect.name == "postgresql" else text


def _seed(conn: Connection) -> dict[str, uuid.UUID]:
    assert apply_migrations(conn, [PLUMBING_MIGRATIONS, V6])
    ids = {}
    for index, stored in enumerate(NAMES):
        pid = uuid.uuid4()
        ids[stored] = pid
        organisation = {0: "NGO\u202d Almaty", 3: "\x00\x01"}.get(index, "Plain Org")
        conn.execute(
            participants.insert().values(
                participant_id=pid,
                full_name=_storable(conn, stored),
                name_key=name_key(stored),
                email=f"p{index}@x.kz",
                phone=None,
                organisation=_storable(conn, organisation),
                city="almaty",
                sector="ngo",
                sex="female",
                age_band="25-34",
                language="ru",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    conn.execute(
        trainings.insert().values(
            training_id=uuid.uuid4(),
            code="ethics",
            title={"kk": "Этика\u202e", "ru": "Этика", "en": _storable(conn, "\x00")},
        )
    )
    return ids


def _migrate_and_check(conn: Connection, ids: dict[str, uuid.UUID]) -> list[dict[str, object]]:
    with structlog.testing.capture_logs() as logs:
        assert apply_migrations(conn, [PLUMBING_MIGRATIONS, V7]) == [("registration", 7)]
    rows = {
        r.participant_id: r
        for r in conn.execute(
            sa.select(
                participants.c.participant_id,
                participants.c.full_name,
                participants.c.name_key,
                participants.c.organisation,
                participants.c.updated_at,
            )
        )
    }
    for stored, expected in NAMES.items():
        row = rows[ids[stored]]
        assert row.full_name == expected
        assert row.name_key == name_key(expected)
        check_text(row.full_name, "full_name")  # what the input side accepts today
    organisations = [rows[ids[s]].organisation for s in NAMES]
    assert organisations == ["NGO Almaty", "Plain Org", "Plain Org", None, "Plain Org"]
    title = conn.execute(sa.select(trainings.c.title)).scalar_one()
    assert title == {"kk": "Этика", "ru": "Этика", "en": "\ufffd"}
    assert apply_migrations(conn, [PLUMBING_MIGRATIONS, V7]) == []
    return logs


async def test_v7_cleans_stored_names_and_titles(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            ids = await conn.run_sync(_seed)
        async with engine.begin() as conn:
            logs = await conn.run_sync(_migrate_and_check, ids)
    finally:
        await engine.dispose()
    cleaned = {
        (entry["table"], entry["column"]): entry["rows"]
        for entry in logs
        if entry["event"] == "stored_text_cleaned"
    }
    assert cleaned == {
        ("participants", "full_name"): 4,
        ("participants", "organisation"): 2,
        ("trainings", "title"): 1,
    }
    text = repr(logs)
    for value in ("Aida", "Berik", "Dana", "Ermekova", "NGO", "Этика"):
        assert value not in text
