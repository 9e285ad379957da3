"""The registration migrations: v2 backfills the seat counters of a database that predates
them, and the counters it wrote carry on deciding seats."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from seat_counters import ADMIN, CITIES, counter_problems, person, sqlite_engine
from sqlalchemy.engine import Connection

from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_registration.adapters.tables import registrations, sessions
from trainops_registration.api.views import registration_json
from trainops_registration.domain.records import Registration
from trainops_registration.handlers import registering
from trainops_shared.storage import MigrationSet, apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.unit


# --------------------------------------------------------------------------------------------
# The v2 migration's backfill


V1_ONLY = MigrationSet("registration", tuple(m for m in MIGRATIONS.migrations if m.version == 1))
COUNTER_COLUMNS = ("confirmed_count", "waitlisted_count", "last_waitlist_position")


def test_migration_set_is_v1_to_v6_and_v10() -> None:
    assert [m.version for m in MIGRATIONS.migrations] == [1, 2, 3, 4, 5, 6, 10]


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
            assert {"ix_message_outbox_due", "ux_message_outbox_cause"} <= indexes
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
                ("registration", 10),
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
