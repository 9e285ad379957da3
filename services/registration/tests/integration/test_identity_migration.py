"""Migration v3 (and the later ones) on a database as v2 left it, on SQLite and PostgreSQL.

v2's schema had globally unique e-mails and phones and idempotency keys keyed by (key, subject)
only; v3 makes identity per city, adds flags, merges and ``merged_into``, and rebuilds the
idempotency keys per principal and route.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_registration.adapters.tables import participants
from trainops_shared.storage import MigrationSet, apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

V2 = MigrationSet("registration", tuple(m for m in MIGRATIONS.migrations if m.version <= 2))
NOW = datetime(2021, 1, 5, tzinfo=UTC)

_v2_meta = sa.MetaData()
V2_IDEMPOTENCY_KEYS = sa.Table(
    "idempotency_keys",
    _v2_meta,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def make_v2(conn: Connection) -> None:
    """v1 and v2 as they run now (``create_all`` of the current tables), then the schema
    turned back into what a database created before v3 holds."""
    applied = apply_migrations(conn, [PLUMBING_MIGRATIONS, V2])
    assert [step for step in applied if step[0] == "registration"] == [
        ("registration", 1),
        ("registration", 2),
    ]
    for column in ("email", "phone"):
        conn.exec_driver_sql(f"DROP INDEX ux_participants_{column}_index_city")
        conn.exec_driver_sql(
            f"CREATE UNIQUE INDEX ux_participants_{column} ON participants ({column}) "
            f"WHERE {column} IS NOT NULL"
        )
    conn.exec_driver_sql("DROP INDEX ix_participants_name_index_city")
    conn.exec_driver_sql("CREATE INDEX ix_participants_name_key_city ON participants (name_key)")
    # Before v11 personal fields were plaintext: no blind index, no erasure, no keys, no consents.
    for column in ("email_index", "phone_index", "name_index", "erased_at"):
        conn.exec_driver_sql(f"ALTER TABLE participants DROP COLUMN {column}")
    conn.exec_driver_sql("DROP TABLE person_keys")
    conn.exec_driver_sql("DROP TABLE consents")
    conn.exec_driver_sql("DROP TABLE duplicate_flags")
    conn.exec_driver_sql("DROP TABLE participant_merges")
    conn.exec_driver_sql("ALTER TABLE participants DROP COLUMN merged_into")
    conn.exec_driver_sql("DROP TABLE idempotency_keys")
    V2_IDEMPOTENCY_KEYS.create(conn)
    conn.execute(
        V2_IDEMPOTENCY_KEYS.insert().values(
            key="form-1",
            subject="dev",
            request_hash="0" * 64,
            status_code=201,
            response={"id": "someone-elses"},
            created_at=NOW,
        )
    )
    conn.execute(sa.text(_INSERT_PERSON), _person("aktobe", "same@mail.kz"))


_INSERT_PERSON = (
    "INSERT INTO participants (participant_id, full_name, name_key, email, phone, organisation,"
    " city, sector, sex, age_band, language, created_at, updated_at) VALUES (:pid, 'A B', 'a b',"
    " :email, NULL, NULL, :city, 'ngo', 'female', '25-34', 'ru', :now, :now)"
)


_INSERT_SEALED_PERSON = (
    "INSERT INTO participants (participant_id, full_name, name_key, email, email_index, phone,"
    " organisation, city, sector, sex, age_band, language, created_at, updated_at) VALUES (:pid,"
    " 's1.x', 's1.x', :email, :index, NULL, NULL, :city, 'ngo', 'female', '25-34', 'ru', :now,"
    " :now)"
)


def _person(city: str, email: str) -> dict[str, object]:
    return {"pid": str(uuid.uuid4()), "email": email, "city": city, "now": NOW}


def migrate_and_check(conn: Connection) -> None:
    assert apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS]) == [
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
    inspector = sa.inspect(conn)
    assert "merged_into" in {c["name"] for c in inspector.get_columns("participants")}
    assert {"duplicate_flags", "participant_merges"} <= set(inspector.get_table_names())
    keys = {c["name"] for c in inspector.get_columns("idempotency_keys")}
    assert {"subject", "role", "region", "route", "key"} <= keys
    # Keys of v2 did not say whose they were: none is carried over.
    assert conn.exec_driver_sql("SELECT COUNT(*) FROM idempotency_keys").scalar_one() == 0
    # v11 sealed the v2 row: the plaintext is gone from the column, the blind index has it.
    index = personal_data.keyring().blind("email", "same@mail.kz")
    sealed = conn.execute(sa.select(participants.c.email, participants.c.email_index)).one()
    assert sealed.email != "same@mail.kz" and sealed.email_index == index
    # One e-mail may now belong to a person of each city, but to one person per city only.
    conn.execute(sa.text(_INSERT_SEALED_PERSON), {**_person("almaty", "x"), "index": index})
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(sa.text(_INSERT_SEALED_PERSON), {**_person("aktobe", "x"), "index": index})
    emails = conn.execute(
        sa.select(participants.c.city).where(participants.c.email_index == index)
    ).scalars()
    assert sorted(emails) == ["aktobe", "almaty"]
    assert apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS]) == []


async def test_v3_upgrades_a_v2_database(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(make_v2)
        async with engine.begin() as conn:
            await conn.run_sync(migrate_and_check)
    finally:
        await engine.dispose()


async def test_a_fresh_database_runs_v3_as_a_no_op(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            applied = await conn.run_sync(apply_migrations, [PLUMBING_MIGRATIONS, MIGRATIONS])
        assert ("registration", 3) in applied
        async with engine.connect() as conn:
            names = await conn.run_sync(
                lambda c: {i["name"] for i in sa.inspect(c).get_indexes("participants")}
            )
        assert {"ux_participants_email_index_city", "ux_participants_phone_index_city"} <= names
        legacy = {"ux_participants_email", "ux_participants_phone", "ux_participants_email_city"}
        assert not legacy & names
    finally:
        await engine.dispose()
