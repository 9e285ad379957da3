"""The registration migrations: v2 backfills the seat counters of a database that predates
them, and the counters it wrote carry on deciding seats."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from seat_counters import ADMIN, CITIES, counter_problems, person, sqlite_engine
from sqlalchemy.engine import Connection

from trainops_devtools.testing.attack import files_leaking
from trainops_devtools.testing.events import session_scheduled
from trainops_registration.adapters import identity, lifecycle, people
from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_registration.adapters.outbox import message_outbox
from trainops_registration.adapters.tables import (
    duplicate_flags,
    participant_merges,
    registrations,
    sessions,
)
from trainops_registration.api.views import registration_json
from trainops_registration.domain.records import Registration
from trainops_registration.handlers import registering
from trainops_registration.handlers.events import on_session_scheduled
from trainops_shared.storage import MigrationSet, SqliteDatabase, apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.unit


# --------------------------------------------------------------------------------------------
# The v2 migration's backfill


V1_ONLY = MigrationSet("registration", tuple(m for m in MIGRATIONS.migrations if m.version == 1))
COUNTER_COLUMNS = ("confirmed_count", "waitlisted_count", "last_waitlist_position")


def test_migration_set_is_v1_to_v13() -> None:
    assert [m.version for m in MIGRATIONS.migrations] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15]


def test_v5_adds_the_message_outbox_to_an_older_database() -> None:
    engine = sqlite_engine()
    with engine.connect() as conn:
        with conn.begin():
            apply_migrations(conn, [PLUMBING_MIGRATIONS, V1_ONLY])
            conn.exec_driver_sql("DROP TABLE message_outbox")
        with conn.begin():
            applied = apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
            assert ("registration", 5) in applied
            assert "message_outbox" in sa.inspect(conn).get_table_names()
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("message_outbox")}
            assert {"ix_message_outbox_due", "ux_message_outbox_cause_seq"} <= indexes
    engine.dispose()


def test_v9_adds_the_followup_tables_to_an_older_database() -> None:
    engine = sqlite_engine()
    with engine.connect() as conn:
        with conn.begin():
            apply_migrations(conn, [PLUMBING_MIGRATIONS, V1_ONLY])
            for table in ("feedback_links", "feedback_answers", "certificates"):
                conn.exec_driver_sql(f"DROP TABLE {table}")
        with conn.begin():
            applied = apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
            assert ("registration", 9) in applied
            tables = set(sa.inspect(conn).get_table_names())
            assert {"feedback_links", "feedback_answers", "certificates"} <= tables
            columns = {c["name"] for c in sa.inspect(conn).get_columns("certificates")}
            assert {"code", "registration_id", "issued_at"} <= columns
    engine.dispose()


def test_v6_adds_the_trainings_names_to_an_older_database() -> None:
    engine = sqlite_engine()
    with engine.connect() as conn:
        with conn.begin():
            apply_migrations(conn, [PLUMBING_MIGRATIONS, V1_ONLY])
            conn.exec_driver_sql("DROP TABLE trainings")
        with conn.begin():
            applied = apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
            assert ("registration", 6) in applied
            columns = {c["name"] for c in sa.inspect(conn).get_columns("trainings")}
            assert columns == {"training_id", "code", "title"}
    engine.dispose()


def test_v8_widens_the_message_index_and_adds_the_links_to_an_older_database() -> None:
    """A message outbox as v5 made it (one row per registration and kind, no alternative
    session) keeps its rows; afterwards a second reschedule of the same registration (a higher
    session version) may be queued, the same version again may not."""
    engine = sqlite_engine()
    now = datetime.now(UTC)
    row = {
        "message_id": uuid.uuid4(),
        "kind": "confirmed",
        "registration_id": uuid.uuid4(),
        "session_id": uuid.uuid4(),
        "participant_id": uuid.uuid4(),
        "city": "almaty",
        "language": "ru",
        "sequence": 1,
        "status": "sent",
        "attempts": 1,
        "next_attempt_at": now,
        "created_at": now,
    }
    with engine.connect() as conn:
        with conn.begin():
            apply_migrations(conn, [PLUMBING_MIGRATIONS, V1_ONLY])
            conn.exec_driver_sql("DROP INDEX ux_message_outbox_cause_seq")
            conn.exec_driver_sql("ALTER TABLE message_outbox DROP COLUMN alternative_session_id")
            conn.exec_driver_sql(
                "CREATE UNIQUE INDEX ux_message_outbox_cause ON message_outbox "
                "(registration_id, kind)"
            )
            conn.exec_driver_sql("DROP TABLE registration_links")
            # Only the columns v5 knew are written.
            conn.execute(message_outbox.insert().values(**row))
        with conn.begin():
            applied = apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
            assert ("registration", 8) in applied
            inspector = sa.inspect(conn)
            indexes = {i["name"] for i in inspector.get_indexes("message_outbox")}
            assert "ux_message_outbox_cause" not in indexes
            assert "ux_message_outbox_cause_seq" in indexes
            assert "registration_links" in inspector.get_table_names()
        with conn.begin():
            kept = conn.execute(sa.select(message_outbox)).mappings().one()
            assert (
                kept["message_id"] == row["message_id"] and kept["alternative_session_id"] is None
            )
            for sequence in (2, 3):
                conn.execute(
                    message_outbox.insert().values(
                        {
                            **row,
                            "message_id": uuid.uuid4(),
                            "kind": "rescheduled",
                            "sequence": sequence,
                        }
                    )
                )
        with pytest.raises(sa.exc.IntegrityError), conn.begin():
            conn.execute(
                message_outbox.insert().values(
                    {**row, "message_id": uuid.uuid4(), "kind": "rescheduled", "sequence": 3}
                )
            )


def test_v10_adds_the_session_quotas_to_an_older_database() -> None:
    engine = sqlite_engine()
    with engine.connect() as conn:
        with conn.begin():
            apply_migrations(conn, [PLUMBING_MIGRATIONS, V1_ONLY])
            conn.exec_driver_sql("ALTER TABLE sessions DROP COLUMN quotas")
            expected = insert_v1_rows(conn, random.Random(5))
        with conn.begin():
            applied = apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
            assert ("registration", 10) in applied
            assert "quotas" in {c["name"] for c in sa.inspect(conn).get_columns("sessions")}
            stored = conn.execute(sa.select(sessions.c.session_id, sessions.c.quotas)).all()
            assert {str(sid) for sid, _ in stored} == set(expected)
            assert all(quotas is None for _, quotas in stored)
    engine.dispose()


def insert_v1_rows(conn: Connection, rng: random.Random) -> dict[str, tuple[int, int, int]]:
    """Sessions and registrations as a v1 database holds them (no counter values given);
    returns each session's expected ``(confirmed, waitlisted, last position)``."""
    now = datetime.now(UTC)
    expected: dict[str, tuple[int, int, int]] = {}
    layouts = [(0, 0, 0), (0, 0, 3), (3, 0, 0), (2, 4, 1), (5, 1, 2)]
    layouts += [(rng.randint(0, 6), rng.randint(0, 6), rng.randint(0, 4)) for _ in range(6)]
    for n, (n_confirmed, n_waiting, n_cancelled) in enumerate(layouts):
        sid = str(uuid.uuid4())
        conn.execute(
            sessions.insert().values(
                session_id=sid,
                training_id=str(uuid.uuid4()),
                mode="in_person",
                cities=list(CITIES),
                timezone="Asia/Almaty",
                starts_at=now,
                ends_at=now + timedelta(hours=2),
                capacity=n_confirmed,
                language="ru",
                # The first layout's session was cancelled: its registrations all are too.
                status="cancelled" if n == 1 else "scheduled",
                version=1,
                updated_at=now,
            )
        )
        statuses = (
            [("confirmed", None)] * n_confirmed
            + [("waitlisted", p) for p in range(1, n_waiting + 1)]
            + [("cancelled", None)] * n_cancelled
        )
        rng.shuffle(statuses)
        for status, position in statuses:
            conn.execute(
                registrations.insert().values(
                    registration_id=str(uuid.uuid4()),
                    session_id=sid,
                    participant_id=str(uuid.uuid4()),
                    city="almaty",
                    sector="ngo",
                    sex="undisclosed",
                    age_band="undisclosed",
                    language="ru",
                    status=status,
                    waitlist_position=position,
                    cancel_cause="participant" if status == "cancelled" else None,
                    version=1,
                    created_by="legacy",
                    created_at=now,
                    updated_at=now,
                )
            )
        expected[sid] = (n_confirmed, n_waiting, n_waiting)
    return expected


@pytest.mark.parametrize("pre_counter_schema", [False, True], ids=["v1", "v1-without-columns"])
def test_v2_backfills_the_counters_of_existing_rows(pre_counter_schema: bool) -> None:
    """v1 then rows then v2. ``v1`` is the v1 migration as it is now (``create_all`` of the
    current tables: the columns exist, all 0); ``v1-without-columns`` additionally drops them,
    as a database created before the counters were added to the table definition has it."""
    engine = sqlite_engine()
    with engine.connect() as conn:
        with conn.begin():
            applied = apply_migrations(conn, [PLUMBING_MIGRATIONS, V1_ONLY])
            assert [step for step in applied if step[0] == "registration"] == [
                ("registration", 1),
            ]
            if pre_counter_schema:
                for column in COUNTER_COLUMNS:
                    conn.exec_driver_sql(f"ALTER TABLE sessions DROP COLUMN {column}")
            expected = insert_v1_rows(conn, random.Random(11))
        with conn.begin():
            assert apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS]) == [
                ("registration", 2),
                ("registration", 3),
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
        with conn.begin():
            stored = {
                str(sid): (c, w, last)
                for sid, c, w, last in conn.execute(
                    sa.select(
                        sessions.c.session_id,
                        sessions.c.confirmed_count,
                        sessions.c.waitlisted_count,
                        sessions.c.last_waitlist_position,
                    )
                ).all()
            }
            assert stored == expected
            assert counter_problems(conn) == []
            assert apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS]) == []
        # The backfilled counters carry on: the next registration of the fullest session is
        # decided from them and lands at the end of its waitlist.
        sid = max(expected, key=lambda s: (expected[s][1], s))
        with conn.begin():
            registered = registering.register_participant(
                conn,
                registering.RegisterParticipant(session_id=uuid.UUID(sid), participant=person(1)),
                ADMIN,
                render=registration_json,
            )
            assert isinstance(registered, Registration)
            body = registration_json(registered)
        assert (body["status"], body.get("waitlist_position")) == (
            "waitlisted",
            expected[sid][1] + 1,
        )
        with conn.begin():
            assert counter_problems(conn) == []
    engine.dispose()


# --------------------------------------------------------------------------------------------
# v11: personal fields sealed per person


V6 = MigrationSet("registration", tuple(m for m in MIGRATIONS.migrations if m.version <= 6))
PLAIN = {"name": "Saule Plaintextova", "email": "saule.plain@example.kz", "phone": "+77017770011"}


def database_files(folder: Path) -> list[Path]:
    """The database file and its WAL."""
    return [p for p in folder.iterdir() if p.name.startswith("registration.db")]


def files_holding_plain(folder: Path) -> dict[str, list[str]]:
    """The database file and its WAL, searched as stored, for the person's values."""
    return files_leaking(database_files(folder), PLAIN)


async def test_v11_seals_plaintext_rows_and_leaves_none_in_the_file(tmp_path: Path) -> None:
    """A v6 database file with a person in clear; the service's own storage runs v11 at start;
    afterwards the person is read as before, their consent to taking part is recorded, and
    neither the database file nor its WAL holds their name, e-mail or phone."""
    path = tmp_path / "registration.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    pid = uuid.uuid4()
    with engine.begin() as conn:
        apply_migrations(conn, [PLUMBING_MIGRATIONS, V6])
        # v6's participants as the table was then: plaintext fields, no blind index yet.
        for column in ("email_index", "phone_index"):
            conn.exec_driver_sql(f"DROP INDEX ux_participants_{column}_city")
        conn.exec_driver_sql("DROP INDEX ix_participants_name_index_city")
        for column in ("email_index", "phone_index", "name_index", "erased_at"):
            conn.exec_driver_sql(f"ALTER TABLE participants DROP COLUMN {column}")
        conn.exec_driver_sql("DROP TABLE person_keys")
        conn.exec_driver_sql("DROP TABLE consents")
        conn.execute(
            sa.text(
                "INSERT INTO participants (participant_id, full_name, name_key, email, phone,"
                " organisation, city, sector, sex, age_band, language, created_at, updated_at)"
                " VALUES (:pid, :name, 'saule plaintextova', :email, :phone, NULL, 'almaty',"
                " 'ngo', 'female', '25-34', 'ru', :now, :now)"
            ),
            {**PLAIN, "pid": pid.hex, "now": datetime(2021, 1, 5, tzinfo=UTC)},
        )
    engine.dispose()
    assert files_holding_plain(tmp_path), "the control: the v6 file holds the person in clear"

    db = SqliteDatabase(f"sqlite+aiosqlite:///{path}")
    await db.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    try:
        person = await db.read(lambda c: people.get_person(c, pid, ADMIN))
        assert person is not None
        assert (person.full_name, person.email, person.phone) == (
            PLAIN["name"],
            PLAIN["email"],
            PLAIN["phone"],
        )
        agreed = await db.read(lambda c: [r.purpose for r in lifecycle.consents_of(c, pid)])
        assert agreed == ["taking_part"]
    finally:
        await db.close()
    assert files_holding_plain(tmp_path) == {}


# --------------------------------------------------------------------------------------------
# v13: staff's notes and merge reasons sealed with the person's key


V11 = MigrationSet("registration", tuple(m for m in MIGRATIONS.migrations if m.version <= 11))
CANARY_NOTE = "seen as Aigerim Zapiskina at the Aktobe training"
CANARY_REASON = "Aigerim Zapiskina said so on +77017770013"


async def test_v13_seals_flag_notes_and_merge_reasons_in_the_file(tmp_path: Path) -> None:
    """A v11 database with a flag note and a merge reason in clear (and a note about a person
    whose key is gone); after v13 the notes read back, the gone person's is empty, and the
    file and its WAL hold none of the text."""
    path = tmp_path / "registration.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    now = datetime(2021, 1, 5, tzinfo=UTC)
    gone, flag_id, gone_flag, merge_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        apply_migrations(conn, [PLUMBING_MIGRATIONS, V11])
        event = session_scheduled(capacity=5)
        on_session_scheduled(conn, event)
        registered = registering.register_participant(
            conn,
            registering.RegisterParticipant(session_id=event.session_id, participant=person(1)),
            ADMIN,
            render=registration_json,
        )
        assert isinstance(registered, Registration)
        pid = registered.participant_id
        flag = {
            "city": "almaty",
            "status": "open",
            "flagged_by": "coord-1",
            "flagged_by_role": "coordinator",
            "created_at": now,
        }
        conn.execute(
            duplicate_flags.insert(),
            [
                {**flag, "flag_id": flag_id, "participant_id": pid, "note": CANARY_NOTE},
                {**flag, "flag_id": gone_flag, "participant_id": gone, "note": CANARY_NOTE},
            ],
        )
        conn.execute(
            participant_merges.insert().values(
                merge_id=merge_id,
                kept_participant_id=pid,
                merged_participant_id=gone,
                kept_city="almaty",
                merged_city="almaty",
                reason=CANARY_REASON,
                merged_by="admin-1",
                merged_by_role="admin",
                merged_at=now,
                registrations_moved=0,
                flags_resolved=0,
            )
        )
    engine.dispose()
    canaries = {"note": CANARY_NOTE, "reason": CANARY_REASON}
    assert files_leaking(database_files(tmp_path), canaries), "the control: v11 holds it in clear"

    db = SqliteDatabase(f"sqlite+aiosqlite:///{path}")
    await db.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    try:
        flags, _ = await db.read(
            lambda c: identity.list_flags(c, ADMIN, status=None, limit=10, offset=0)
        )
        assert {f.flag_id: f.note for f in flags} == {flag_id: CANARY_NOTE, gone_flag: ""}
        merge = await db.read(lambda c: identity.get_merge(c, merge_id, ADMIN))
        assert merge is not None and merge.reason == CANARY_REASON
    finally:
        await db.close()
    assert files_leaking(database_files(tmp_path), canaries) == {}
