"""The scheduling use cases on an in-memory SQLite database: state, errors and outbox events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_scheduling.adapters import sessions
from trainops_scheduling.adapters.tables import MIGRATIONS
from trainops_scheduling.api.controllers import parse_bound
from trainops_scheduling.domain import CityCatalogue
from trainops_scheduling.domain.records import SessionFilter
from trainops_scheduling.handlers import commands, planning
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Invalid, NotFound
from trainops_shared.events import (
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    TrainingDefined,
    decode_event,
)
from trainops_shared.storage import apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS, audit_log, outbox

pytestmark = pytest.mark.unit

CATALOGUE = CityCatalogue.default()
STAFF = Principal(subject="staff-1", role="programme_staff")


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        with connection.begin():
            apply_migrations(connection, [PLUMBING_MIGRATIONS, MIGRATIONS])
        yield connection
    engine.dispose()


def events(conn: Connection) -> list[Any]:
    rows = conn.execute(sa.select(outbox.c.payload).order_by(outbox.c.id)).scalars()
    return [decode_event(bytes(p)) for p in rows]


def training(conn: Connection, code: str = "ethics-1") -> uuid.UUID:
    return commands.define_training(
        conn,
        actor=STAFF,
        code=code,
        title={"en": "Ethical coverage"},
        target_sectors=["media", "blogger"],
    ).id


def trainer(conn: Connection, name: str = "Aigerim") -> uuid.UUID:
    return commands.register_trainer(conn, actor=STAFF, name=name, home_city="almaty").id


def schedule(conn: Connection, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "catalogue": CATALOGUE,
        "mode": "online",
        "cities": ["almaty", "aktobe"],
        "starts_at": "2020-12-22T10:00",
        "ends_at": "2020-12-22T13:00",
        "capacity": 40,
        "language": "kk",
        "trainer_ids": [],
    }
    values.update(overrides)
    return commands.schedule_session(conn, actor=STAFF, **values)


def test_define_training_records_event_and_rejects_duplicate_code(conn: Connection) -> None:
    training_id = training(conn)
    [event] = events(conn)
    assert isinstance(event, TrainingDefined)
    assert (event.training_id, event.aggregate_version, event.code) == (training_id, 1, "ethics-1")
    with pytest.raises(Conflict) as caught:
        training(conn)
    assert caught.value.field == "code"
    assert len(events(conn)) == 1


def test_define_training_names_the_bad_sector(conn: Connection) -> None:
    with pytest.raises(Invalid) as caught:
        commands.define_training(
            conn, actor=STAFF, code="x", title={"en": "X"}, target_sectors=["media", "journalists"]
        )
    assert caught.value.field == "target_sectors[1]"


def test_schedule_reads_naive_times_in_the_first_citys_zone(conn: Connection) -> None:
    session = schedule(conn, training_id=training(conn), trainer_ids=[trainer(conn)])
    assert session.starts_at.isoformat() == "2020-12-22T04:00:00+00:00"
    assert session.timezone == "Asia/Almaty"
    assert session.local_times(CATALOGUE)["aktobe"] == "2020-12-22T09:00+05:00"
    event = events(conn)[-1]
    assert isinstance(event, SessionScheduled)
    assert event.aggregate_version == 1
    assert event.starts_at.isoformat() == "2020-12-22T04:00:00+00:00"
    stored = sessions.get_session(conn, session.id)
    assert stored == session


def test_explicit_offset_wins_over_the_zone(conn: Connection) -> None:
    session = schedule(
        conn,
        training_id=training(conn),
        starts_at="2020-12-22T04:00:00Z",
        ends_at="2020-12-22T07:00Z",
    )
    assert session.starts_at.hour == 4


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cities": ["almaty", "geneva"]}, "cities[1]"),
        ({"mode": "in_person", "cities": ["almaty", "aktobe"]}, "cities"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"ends_at": "2020-12-22T09:00"}, "ends_at"),
        ({"language": "de"}, "language"),
    ],
)
def test_invalid_sessions_name_the_field(
    conn: Connection, overrides: dict[str, Any], field: str
) -> None:
    training_id = training(conn)
    with pytest.raises(Invalid) as caught:
        schedule(conn, training_id=training_id, **overrides)
    assert caught.value.field == field


def test_unknown_training_and_trainer_are_named(conn: Connection) -> None:
    training_id = training(conn)
    with pytest.raises(Invalid) as caught:
        schedule(conn, training_id=uuid.uuid4())
    assert caught.value.field == "training_id"
    with pytest.raises(Invalid) as caught:
        schedule(conn, training_id=training_id, trainer_ids=[trainer(conn), uuid.uuid4()])
    assert caught.value.field == "trainer_ids[1]"


def test_overlapping_trainer_is_a_conflict_naming_the_other_session(conn: Connection) -> None:
    training_id, a, b = training(conn), trainer(conn, "A"), trainer(conn, "B")
    first = schedule(conn, training_id=training_id, trainer_ids=[a])
    with pytest.raises(Conflict) as caught:
        schedule(
            conn,
            training_id=training_id,
            trainer_ids=[b, a],
            starts_at="2020-12-22T12:00",
            ends_at="2020-12-22T14:00",
        )
    assert caught.value.extra["conflicting_session_id"] == str(first.id)
    assert caught.value.field == "trainer_ids[1]"
    # Back to back is fine (half-open intervals), and a cancelled session frees its trainer.
    schedule(
        conn,
        training_id=training_id,
        trainer_ids=[a],
        starts_at="2020-12-22T13:00",
        ends_at="2020-12-22T15:00",
    )
    commands.cancel_session(conn, actor=STAFF, session_id=first.id, reason="moved online")
    schedule(conn, training_id=training_id, trainer_ids=[a, b])


def test_reschedule_rechecks_trainers_but_not_against_itself(conn: Connection) -> None:
    training_id, a = training(conn), trainer(conn)
    first = schedule(conn, training_id=training_id, trainer_ids=[a])
    second = schedule(
        conn,
        training_id=training_id,
        trainer_ids=[a],
        starts_at="2020-12-23T10:00",
        ends_at="2020-12-23T13:00",
    )
    moved = commands.reschedule_session(
        conn,
        actor=STAFF,
        session_id=first.id,
        starts_at="2020-12-22T11:00",
        ends_at="2020-12-22T14:00",
    )
    assert moved.version == 2
    with pytest.raises(Conflict) as caught:
        commands.reschedule_session(
            conn,
            actor=STAFF,
            session_id=first.id,
            starts_at="2020-12-23T12:00",
            ends_at="2020-12-23T15:00",
        )
    assert caught.value.extra["conflicting_session_id"] == str(second.id)
    event = events(conn)[-1]
    assert isinstance(event, SessionRescheduled)
    assert event.aggregate_version == 2
    assert event.previous_starts_at == first.starts_at


def test_lifecycle_versions_and_illegal_transitions(conn: Connection) -> None:
    session = schedule(conn, training_id=training(conn))
    changed = commands.change_capacity(conn, actor=STAFF, session_id=session.id, capacity=60)
    same = commands.change_capacity(conn, actor=STAFF, session_id=session.id, capacity=60)
    assert (changed.version, same.version) == (2, 2)
    done = commands.complete_session(conn, actor=STAFF, session_id=session.id)
    assert (done.status, done.version) == ("completed", 3)
    with pytest.raises(Conflict) as caught:
        commands.reschedule_session(
            conn,
            actor=STAFF,
            session_id=session.id,
            starts_at="2020-12-24T10:00",
            ends_at="2020-12-24T12:00",
        )
    assert caught.value.extra["current_status"] == "completed"
    other = schedule(conn, training_id=training(conn, "other"))
    commands.cancel_session(conn, actor=STAFF, session_id=other.id, reason="trainer ill")
    with pytest.raises(Conflict):
        commands.complete_session(conn, actor=STAFF, session_id=other.id)
    kinds = [(type(e), e.aggregate_version) for e in events(conn) if e.aggregate_id == session.id]
    assert kinds == [
        (SessionScheduled, 1),
        (SessionCapacityChanged, 2),
        (SessionCompleted, 3),
    ]
    assert isinstance(events(conn)[-1], SessionCancelled)
    with pytest.raises(NotFound):
        commands.complete_session(conn, actor=STAFF, session_id=uuid.uuid4())


def test_find_sessions_filters_by_city_dates_training_and_status(conn: Connection) -> None:
    t1, t2 = training(conn, "t1"), training(conn, "t2")
    s1 = schedule(conn, training_id=t1)
    s2 = schedule(
        conn,
        training_id=t2,
        mode="in_person",
        cities=["kostanay"],
        starts_at="2021-01-15T10:00",
        ends_at="2021-01-15T16:00",
    )
    commands.cancel_session(conn, actor=STAFF, session_id=s2.id, reason="postponed")

    def ids(**kwargs: Any) -> list[uuid.UUID]:
        return [s.id for s in sessions.find_sessions(conn, SessionFilter(**kwargs))]

    assert ids() == [s1.id, s2.id]
    assert ids(city="aktobe") == [s1.id]
    assert ids(training_id=t2) == [s2.id]
    assert ids(status="cancelled") == [s2.id]
    jan = parse_bound("2021-01-01", "Asia/Almaty", "from")
    assert ids(starts_from=jan) == [s2.id]
    assert ids(starts_before=jan) == [s1.id]
    # [from, to): a session starting exactly at ``to`` is excluded.
    assert ids(starts_before=s1.starts_at) == []
    assert ids(starts_from=s1.starts_at, limit=1) == [s1.id]


def test_parse_bound_reads_dates_and_datetimes() -> None:
    assert (
        parse_bound("2020-12-22", "Asia/Almaty", "from").isoformat() == "2020-12-21T18:00:00+00:00"
    )
    assert parse_bound("2020-12-22T10:00+06:00", "UTC", "to").hour == 4
    with pytest.raises(Invalid) as caught:
        parse_bound("22/12/2020", "UTC", "to")
    assert caught.value.field == "to"


def test_every_change_carries_its_actor_and_is_audited_in_its_transaction(
    conn: Connection,
) -> None:
    session = schedule(conn, training_id=training(conn), trainer_ids=[trainer(conn)])
    commands.change_capacity(conn, actor=STAFF, session_id=session.id, capacity=60)
    commands.change_capacity(conn, actor=STAFF, session_id=session.id, capacity=60)  # no change
    commands.cancel_session(conn, actor=STAFF, session_id=session.id, reason="Venue flooded")
    emitted = events(conn)
    assert [e.actor for e in emitted] == ["staff-1"] * 5
    entries = conn.execute(
        sa.select(
            audit_log.c.actor, audit_log.c.actor_role, audit_log.c.action, audit_log.c.detail
        ).order_by(audit_log.c.id)
    ).all()
    assert [(e.actor, e.actor_role, e.action) for e in entries] == [
        ("staff-1", "programme_staff", "training.defined"),
        ("staff-1", "programme_staff", "trainer.registered"),
        ("staff-1", "programme_staff", "session.scheduled"),
        ("staff-1", "programme_staff", "session.capacity_changed"),
        ("staff-1", "programme_staff", "session.cancelled"),
    ]
    assert json.loads(entries[3].detail) == {"version": 2, "capacity": 60, "previous_capacity": 40}
    # The free-text reason travels in the event only, never in the audit log.
    assert all("flooded" not in str(e.detail) for e in entries)


def test_a_refused_change_leaves_neither_event_nor_audit_entry(conn: Connection) -> None:
    session = schedule(conn, training_id=training(conn))
    commands.complete_session(conn, actor=STAFF, session_id=session.id)
    before = (len(events(conn)), _audit_count(conn))
    with pytest.raises(Conflict):
        commands.cancel_session(conn, actor=STAFF, session_id=session.id, reason="late")
    assert (len(events(conn)), _audit_count(conn)) == before


def _audit_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one())


def test_a_cancellation_may_name_the_alternative_session(conn: Connection) -> None:
    """The alternative travels in the event; it must be another, still scheduled session
    (else 422 on ``alternative_session_id`` and nothing is cancelled)."""
    training_id = training(conn)
    off = schedule(conn, training_id=training_id)
    instead = schedule(
        conn,
        training_id=training_id,
        starts_at="2020-12-29T10:00",
        ends_at="2020-12-29T13:00",
    )
    gone = schedule(
        conn, training_id=training_id, starts_at="2021-01-05T10:00", ends_at="2021-01-05T13:00"
    )
    commands.cancel_session(conn, actor=STAFF, session_id=gone.id, reason="no trainer")
    before = len(events(conn))
    for bad in (off.id, gone.id, uuid.uuid4()):
        with pytest.raises(Invalid) as caught:
            commands.cancel_session(
                conn, actor=STAFF, session_id=off.id, reason="flood", alternative_session_id=bad
            )
        assert caught.value.field == "alternative_session_id"
    assert len(events(conn)) == before
    commands.cancel_session(
        conn, actor=STAFF, session_id=off.id, reason="flood", alternative_session_id=instead.id
    )
    cancelled = events(conn)[-1]
    assert isinstance(cancelled, SessionCancelled)
    assert cancelled.alternative_session_id == instead.id


def test_the_alternatives_offered_are_coming_sessions_of_the_training(conn: Connection) -> None:
    """A session already started (as of ``now``) is no alternative: it is not listed, and the
    cancel preview refuses it on ``alternative_session_id``; one sharing a city comes first."""
    training_id = training(conn)
    off = schedule(conn, training_id=training_id, cities=["aktobe"])
    elsewhere, nearby = (
        schedule(
            conn,
            training_id=training_id,
            cities=[city],
            starts_at=f"2020-12-{day}T10:00",
            ends_at=f"2020-12-{day}T13:00",
        )
        for city, day in (("almaty", 23), ("aktobe", 30))
    )
    before = datetime(2020, 12, 1, tzinfo=UTC)
    offered = planning.cancel_alternatives(conn, off, before)
    assert [s.id for s in offered] == [nearby.id, elsewhere.id]
    started = datetime(2020, 12, 23, 6, tzinfo=UTC)
    assert [s.id for s in planning.cancel_alternatives(conn, off, started)] == [nearby.id]
    with pytest.raises(Invalid) as caught:
        planning.preview_cancel(
            conn,
            session_id=off.id,
            reason="flood",
            alternative_session_id=elsewhere.id,
            now=started,
        )
    assert caught.value.field == "alternative_session_id"
    preview = planning.preview_cancel(
        conn, session_id=off.id, reason="flood", alternative_session_id=nearby.id, now=started
    )
    assert preview.alternative == nearby
    assert preview.session.status == "cancelled"
