"""Migration v4 on a database whose identifiers are 36-character text, on SQLite and PostgreSQL.

Until v4 every id column was ``String(36)``; v4 turns them into the shared UUID column type
(native ``uuid`` on PostgreSQL, 32 hex digits on SQLite) without losing a row, and the service
carries on with the converted rows: they are found, listed and counted as before.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from trainops_registration.adapters.migrations import MIGRATIONS, UUID_COLUMNS
from trainops_registration.adapters.tables import duplicate_flags, participants, registrations
from trainops_registration.api.views import registration_json
from trainops_registration.domain import ParticipantInput
from trainops_registration.domain.records import Registration
from trainops_registration.handlers import registering
from trainops_registration.handlers import registrations as reads
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict
from trainops_shared.storage import MigrationSet, apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

V3 = MigrationSet("registration", tuple(m for m in MIGRATIONS.migrations if m.version <= 3))
NOW = datetime(2021, 3, 1, 6, 0, tzinfo=UTC)
ADMIN = Principal("admin-1", "admin")
SESSION, TRAINING = uuid.uuid4(), uuid.uuid4()
PERSON, REGISTRATION, FLAG = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def make_v3_with_text_ids(conn: Connection) -> None:
    """v1..v3 as they run now, then every id column turned back into text holding dashed UUIDs,
    as a database created before v4 stores them."""
    applied = apply_migrations(conn, [PLUMBING_MIGRATIONS, V3])
    assert [s for s in applied if s[0] == "registration"] == [
        ("registration", n) for n in (1, 2, 3)
    ]
    if conn.dialect.name == "postgresql":
        for table, column in UUID_COLUMNS:
            conn.exec_driver_sql(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR(36) USING {column}::text"
            )
    params = {
        "sid": str(SESSION),
        "tid": str(TRAINING),
        "pid": str(PERSON),
        "rid": str(REGISTRATION),
        "fid": str(FLAG),
        "now": NOW,
        "end": NOW + timedelta(hours=2),
    }
    for statement in (
        "INSERT INTO sessions (session_id, training_id, mode, cities, timezone, starts_at,"
        " ends_at, capacity, language, status, version, updated_at, confirmed_count,"
        " waitlisted_count, last_waitlist_position) VALUES (:sid, :tid, 'online',"
        " '[\"almaty\"]', 'Asia/Almaty', :now, :end, 1, 'ru', 'scheduled', 1, :now, 1, 0, 0)",
        "INSERT INTO participants (participant_id, full_name, name_key, email, phone,"
        " organisation, city, sector, sex, age_band, language, created_at, updated_at)"
        " VALUES (:pid, 'Aida Ermekova', 'aida ermekova', 'aida@x.kz', NULL, NULL, 'almaty',"
        " 'ngo', 'female', '25-34', 'ru', :now, :now)",
        "INSERT INTO registrations (registration_id, session_id, participant_id, city, sector,"
        " sex, age_band, language, status, waitlist_position, attended, cancel_cause, version,"
        " created_by, created_at, updated_at) VALUES (:rid, :sid, :pid, 'almaty', 'ngo',"
        " 'female', '25-34', 'ru', 'confirmed', NULL, NULL, NULL, 1, 'coord', :now, :now)",
        "INSERT INTO duplicate_flags (flag_id, participant_id, city, possible_duplicate_of,"
        " note, status, flagged_by, flagged_by_role, created_at, resolved_by_merge)"
        " VALUES (:fid, :pid, 'almaty', NULL, 'seen before', 'open', 'coord', 'coordinator',"
        " :now, NULL)",
    ):
        conn.execute(sa.text(statement), params)


def migrate_and_use(conn: Connection) -> None:
    assert apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS]) == [
        ("registration", 4),
        ("registration", 5),
        ("registration", 6),
        ("registration", 7),
        ("registration", 8),
        ("registration", 9),
        ("registration", 10),
        ("registration", 11),
        ("registration", 13),
        ("registration", 15),
    ]
    if conn.dialect.name == "postgresql":
        types = {
            (c["name"]): str(c["type"]).lower()
            for c in sa.inspect(conn).get_columns("registrations")
        }
        assert types["registration_id"] == types["session_id"] == "uuid"
    ids = conn.execute(
        sa.select(registrations.c.registration_id, registrations.c.participant_id)
    ).one()
    assert tuple(ids) == (REGISTRATION, PERSON)
    flag = conn.execute(sa.select(duplicate_flags.c.flag_id, duplicate_flags.c.participant_id))
    assert tuple(flag.one()) == (FLAG, PERSON)
    # The service reads the converted rows as it wrote them, person included.
    found = reads.read_registration(conn, REGISTRATION, ADMIN)
    assert found.person is not None and found.person.full_name == "Aida Ermekova"
    # The same person again is recognised (409 naming the registration); a new one waits,
    # decided from the converted session's seat counters.
    again = registering.RegisterParticipant(
        session_id=SESSION,
        participant=ParticipantInput(
            full_name="Aida Ermekova", sector="ngo", city="almaty", language="ru", email="aida@x.kz"
        ),
    )
    with pytest.raises(Conflict) as refused:
        registering.register_participant(conn, again, ADMIN, render=registration_json)
    assert str(REGISTRATION) in str(refused.value)
    other = registering.RegisterParticipant(
        session_id=SESSION,
        participant=ParticipantInput(
            full_name="Berik Omarov", sector="media", city="almaty", language="kk"
        ),
    )
    made = registering.register_participant(conn, other, ADMIN, render=registration_json)
    assert isinstance(made, Registration)
    assert (made.status, made.waitlist_position) == ("waitlisted", 1)
    count = conn.execute(sa.select(sa.func.count()).select_from(participants)).scalar_one()
    assert count == 2
    assert apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS]) == []


async def test_v4_turns_text_ids_into_uuids_keeping_every_row(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(make_v3_with_text_ids)
        async with engine.begin() as conn:
            await conn.run_sync(migrate_and_use)
    finally:
        await engine.dispose()
