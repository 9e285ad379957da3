"""Seat quotas in scheduling: validated with the session, carried on its events, stored (and
added by migration 4 to an older database), and read from the console's one-line form."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters import sessions
from trainops_scheduling.adapters.tables import MIGRATIONS
from trainops_scheduling.domain import CityCatalogue, InvalidField
from trainops_scheduling.domain.quotas import parse_quota_text, quota_text
from trainops_scheduling.handlers import commands
from trainops_shared.auth import Principal
from trainops_shared.events import SeatQuota, SessionCapacityChanged, SessionScheduled
from trainops_shared.storage import MigrationSet, apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS, outbox

pytestmark = pytest.mark.unit

CATALOGUE = CityCatalogue.default()
STAFF = Principal(subject="staff-1", role="programme_staff")
MEDIA = SeatQuota(max_seats=10, sector="media")
AKTOBE = SeatQuota(max_seats=5, city="aktobe")


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        with connection.begin():
            apply_migrations(connection, [PLUMBING_MIGRATIONS, MIGRATIONS])
        yield connection
    engine.dispose()


def _schedule(conn: Connection, quotas: list[SeatQuota]) -> uuid.UUID:
    training = commands.define_training(
        conn, actor=STAFF, code=f"t-{uuid.uuid4().hex[:6]}", title={"en": "T"}, target_sectors=[]
    )
    return commands.schedule_session(
        conn,
        actor=STAFF,
        catalogue=CATALOGUE,
        training_id=training.id,
        mode="online",
        cities=["almaty", "aktobe"],
        starts_at="2027-02-01T10:00",
        ends_at="2027-02-01T12:00",
        capacity=40,
        language="ru",
        trainer_ids=[],
        quotas=quotas,
    ).id


def _events(conn: Connection) -> list[object]:
    from trainops_shared.events import decode_event

    rows = conn.execute(sa.select(outbox.c.payload).order_by(outbox.c.id)).scalars()
    return [decode_event(bytes(p)) for p in rows]


def test_quotas_are_stored_and_travel_on_the_session_events(conn: Connection) -> None:
    sid = _schedule(conn, [MEDIA, AKTOBE])
    stored = sessions.get_session(conn, sid)
    assert stored is not None and stored.quotas == (MEDIA, AKTOBE)
    changed = commands.change_capacity(
        conn, actor=STAFF, session_id=sid, capacity=40, quotas=[MEDIA]
    )
    assert (changed.version, changed.quotas) == (2, (MEDIA,))
    # Only the capacity: the quotas stay; the same values again: no new version.
    same = commands.change_capacity(conn, actor=STAFF, session_id=sid, capacity=40)
    assert same.version == 2
    grown = commands.change_capacity(conn, actor=STAFF, session_id=sid, capacity=50)
    assert (grown.version, grown.quotas) == (3, (MEDIA,))
    scheduled, *changes = (
        e for e in _events(conn) if isinstance(e, SessionScheduled | SessionCapacityChanged)
    )
    assert isinstance(scheduled, SessionScheduled) and scheduled.quotas == [MEDIA, AKTOBE]
    assert [c.quotas for c in changes if isinstance(c, SessionCapacityChanged)] == [
        [MEDIA],
        [MEDIA],
    ]


@pytest.mark.parametrize(
    ("quotas", "field"),
    [
        ([SeatQuota(max_seats=3)], "quotas[0]"),
        ([SeatQuota(max_seats=3, city="astana")], "quotas[0].city"),
        ([MEDIA, SeatQuota(max_seats=2, sector="media")], "quotas[1]"),
        ([SeatQuota(max_seats=-1, sector="ngo")], "quotas[0].max_seats"),
        ([SeatQuota(max_seats=200_000, sector="ngo")], "quotas[0].max_seats"),
        ([SeatQuota(max_seats=1, sector="pirates")], "quotas[0].sector"),  # type: ignore[arg-type]
    ],
)
def test_unusable_quotas_are_refused_naming_the_quota(
    conn: Connection, quotas: list[SeatQuota], field: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        _schedule(conn, quotas)
    assert caught.value.field == field
    assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 1  # training


def test_migration_4_adds_the_column_to_an_older_database() -> None:
    engine = sa.create_engine("sqlite://")
    before = MigrationSet("scheduling", tuple(m for m in MIGRATIONS.migrations if m.version < 4))
    with engine.connect() as conn:
        with conn.begin():
            apply_migrations(conn, [PLUMBING_MIGRATIONS, before])
            conn.exec_driver_sql("ALTER TABLE sessions DROP COLUMN quotas")
        with conn.begin():
            assert ("scheduling", 4) in apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
            columns = {c["name"] for c in sa.inspect(conn).get_columns("sessions")}
            assert "quotas" in columns
        with conn.begin():
            sid = _schedule(conn, [])
            stored = sessions.get_session(conn, sid)
            assert stored is not None and stored.quotas == ()
    engine.dispose()


def test_the_console_form_reads_and_writes_one_line() -> None:
    text = "media=10, aktobe=5,blogger/almaty=2"
    quotas = parse_quota_text(text, ["almaty", "aktobe"])
    assert quotas == [MEDIA, AKTOBE, SeatQuota(max_seats=2, sector="blogger", city="almaty")]
    assert parse_quota_text(quota_text(quotas), ["almaty", "aktobe"]) == quotas
    assert parse_quota_text("  ", ["almaty"]) == []
    for wrong in ("media", "media=ten", "astana=3", "media/ngo=1"):
        with pytest.raises(InvalidField) as caught:
            parse_quota_text(wrong, ["almaty", "aktobe"])
        assert caught.value.field == "quotas"
