"""Projection handlers on an in-memory SQLite database: exact figures, ordering, idempotency."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from reporting_programme import Programme, build_donor_scenario, december
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.report_cache import ReportCache
from trainops_reporting.adapters.report_queries import ReportFilter, read_generation
from trainops_reporting.adapters.tables import MIGRATIONS, READ_MODEL_TABLES, facts
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_reporting.handlers.reports import donor_report, summary_report
from trainops_shared.events import Event
from trainops_shared.inbox import RetryLater
from trainops_shared.storage import apply_migrations

pytestmark = pytest.mark.unit


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        with connection.begin():
            apply_migrations(connection, [MIGRATIONS])
        yield connection
    engine.dispose()


def apply(conn: Connection, event: Event) -> None:
    """Like the consumer: the handler runs in its own (sub)transaction, all or nothing."""
    with conn.begin_nested():
        EVENT_HANDLERS[type(event)](conn, event)


def deliver(conn: Connection, events: Sequence[Event], rng: random.Random | None = None) -> None:
    """Deliver in the given order (or shuffled); RetryLater puts an event back in the queue."""
    queue = list(events)
    if rng is not None:
        rng.shuffle(queue)
    stalls = 0
    while queue:
        event = queue.pop(0)
        try:
            apply(conn, event)
            stalls = 0
        except RetryLater:
            queue.append(event)
            stalls += 1
            assert stalls <= len(queue), "no event can make progress"


def dump(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table in READ_MODEL_TABLES:
        rows = conn.execute(sa.select(table)).all()
        out[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return out


def test_scenario_summary_is_exact(conn: Connection, programme: Programme) -> None:
    ids = build_donor_scenario(programme)
    deliver(conn, programme.events)
    figures = summary_report(conn, ReportFilter())
    assert figures == {
        "sessions_scheduled": 2,
        "sessions_delivered": 1,
        "participants_registered": 19,
        "participants_attended": 15,
        "feedback_responses": 9,
        "satisfaction_mean": 3.89,
        "cities_reached": 2,
        "filters": {"from": None, "to": None, "training_id": None},
    }
    t2 = summary_report(conn, ReportFilter(training_id=ids["t2"]))
    assert (t2["sessions_scheduled"], t2["sessions_delivered"]) == (1, 0)
    assert (t2["participants_registered"], t2["participants_attended"]) == (2, 0)
    assert t2["satisfaction_mean"] is None and t2["cities_reached"] == 0
    window = ReportFilter(start=december(22, 0), end=december(23, 0))
    assert summary_report(conn, window)["participants_registered"] == 18
    assert summary_report(conn, window)["sessions_scheduled"] == 1


def test_donor_by_city_suppresses_feedback(conn: Connection, programme: Programme) -> None:
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    report = donor_report(conn, ReportFilter(), ("city",), 5)
    assert report["rows"] == [
        {
            "city": "aktau",
            "registered": 10,
            "attended": 8,
            "feedback_responses": None,
            "satisfaction_mean": None,
            "suppressed": {"feedback_responses": "complementary"},
        },
        {
            "city": "almaty",
            "registered": 9,
            "attended": 7,
            "feedback_responses": None,
            "satisfaction_mean": None,
            "suppressed": {"feedback_responses": "primary"},
        },
    ]
    assert report["totals"] == {
        "registered": 19,
        "attended": 15,
        "feedback_responses": 9,
        "satisfaction_mean": 3.89,
        "suppressed": {},
    }
    assert report["suppressed_cells"] == 2
    unsuppressed = donor_report(conn, ReportFilter(), ("city",), 1)
    assert [r["satisfaction_mean"] for r in unsuppressed["rows"]] == [4.0, 3.75]
    assert unsuppressed["suppressed_cells"] == 0


def test_donor_by_city_and_sex_hides_recomputable_cells(
    conn: Connection, programme: Programme
) -> None:
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    report = donor_report(conn, ReportFilter(), ("city", "sex"), 5)
    by_key = {(r["city"], r["sex"]): r for r in report["rows"]}
    assert by_key["almaty", "male"]["suppressed"]["registered"] == "primary"
    # each line (row or column with its total) has at least two hidden members
    for key in [("almaty", "female"), ("aktau", "female"), ("aktau", "male")]:
        assert by_key[key]["registered"] is None
        assert by_key[key]["suppressed"]["registered"] == "complementary"
    assert report["totals"]["registered"] == 19
    assert {r["city"]: r["registered"] for r in report["row_totals"]} == {
        "aktau": 10,
        "almaty": 9,
    }
    assert {r["sex"]: r["registered"] for r in report["column_totals"]} == {
        "female": 12,
        "male": 7,
    }


def test_donor_by_training_counts_people_per_training(
    conn: Connection, programme: Programme
) -> None:
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    report = donor_report(conn, ReportFilter(), ("training",), 1)
    assert [(r["training"], r["registered"]) for r in report["rows"]] == [("T1", 18), ("T2", 2)]


def test_events_about_unseen_aggregates_retry_later(conn: Connection, programme: Programme) -> None:
    t1 = programme.training("T1")
    session_id = programme.session(t1, december(22))
    reg = programme.register(session_id)
    attendance = programme.attend(reg)
    feedback = programme.feedback(reg, 5)
    with pytest.raises(RetryLater):
        apply(conn, reg)  # session not seen yet
    for early in (attendance, feedback):
        with pytest.raises(RetryLater):
            apply(conn, early)
    assert read_generation(conn) == 0  # nothing of a retried event stays
    deliver(conn, programme.events)
    assert summary_report(conn, ReportFilter())["participants_attended"] == 1


def test_late_redelivery_never_rolls_back(conn: Connection, programme: Programme) -> None:
    ids = build_donor_scenario(programme)
    deliver(conn, programme.events)
    before = dump(conn)
    stale = [
        e for e in programme.events if e.aggregate_version < programme.versions[e.aggregate_id]
    ]
    assert ids["late_attendance"] in stale
    for event in stale:  # every superseded event, again, under a new event id
        apply(conn, msgspec.structs.replace(event, event_id=uuid.uuid4()))
    assert dump(conn) == before


def test_republished_creations_count_once(conn: Connection, programme: Programme) -> None:
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    before = dump(conn)
    creations = [e for e in programme.events if e.aggregate_version == 1]
    for event in creations:
        apply(conn, msgspec.structs.replace(event, event_id=uuid.uuid4()))
    assert dump(conn) == before


def test_replay_in_any_order_gives_identical_read_model(programme: Programme) -> None:
    build_donor_scenario(programme)
    dumps = []
    for seed in (None, 1, 2, 3):
        engine = sa.create_engine("sqlite://")
        with engine.connect() as connection:
            with connection.begin():
                apply_migrations(connection, [MIGRATIONS])
            deliver(connection, programme.events, None if seed is None else random.Random(seed))
            dumps.append(dump(connection))
        engine.dispose()
    assert all(d == dumps[0] for d in dumps[1:])


def test_cancellation_after_promotion_and_stale_promotion(
    conn: Connection, programme: Programme
) -> None:
    t1 = programme.training("T1")
    session_id = programme.session(t1, december(22))
    reg = programme.register(session_id, status="waitlisted")
    programme.promote(reg)
    programme.cancel(reg)
    promotion = programme.events[-2]
    deliver(conn, [e for e in programme.events if e is not promotion])
    apply(conn, promotion)  # arrives after the cancellation: must not revive the seat
    row = conn.execute(sa.select(facts)).one()
    assert (row.status, row.registered) == ("cancelled", False)


def test_reschedule_moves_facts_between_windows(conn: Connection, programme: Programme) -> None:
    t1 = programme.training("T1")
    session_id = programme.session(t1, december(22))
    programme.register(session_id)
    programme.reschedule(session_id, datetime(2021, 1, 15, 5, tzinfo=UTC))
    deliver(conn, programme.events)
    december_window = ReportFilter(start=december(1, 0), end=datetime(2021, 1, 1, tzinfo=UTC))
    january = ReportFilter(start=datetime(2021, 1, 1, tzinfo=UTC))
    assert summary_report(conn, december_window)["participants_registered"] == 0
    assert summary_report(conn, january)["participants_registered"] == 1
    assert summary_report(conn, january)["sessions_scheduled"] == 1


def test_cancelled_session_uncounts_its_registrations(
    conn: Connection, programme: Programme
) -> None:
    t1 = programme.training("T1")
    session_id = programme.session(t1, december(22))
    for _ in range(6):
        programme.register(session_id)
    deliver(conn, programme.events)
    assert summary_report(conn, ReportFilter())["participants_registered"] == 6
    programme.cancel_session(session_id)
    deliver(conn, programme.events[-1:])
    figures = summary_report(conn, ReportFilter())
    assert (figures["participants_registered"], figures["sessions_scheduled"]) == (0, 0)


def test_participant_counted_in_latest_profile_cell(conn: Connection, programme: Programme) -> None:
    t1 = programme.training("T1")
    first = programme.session(t1, december(22))
    second = programme.session(t1, december(28))
    person = uuid.uuid4()
    programme.register(first, participant_id=person, city="aktau")
    programme.register(second, participant_id=person, city="almaty")  # moved
    rng = random.Random(7)
    deliver(conn, programme.events, rng)
    report = donor_report(conn, ReportFilter(), ("city",), 1)
    assert [(r["city"], r["registered"]) for r in report["rows"]] == [("almaty", 1)]


def test_report_cache_is_invalidated_by_any_event(conn: Connection, programme: Programme) -> None:
    ids = build_donor_scenario(programme)
    deliver(conn, programme.events)
    cache = ReportCache()
    calls = []

    def compute(c: Connection) -> dict[str, Any]:
        calls.append(1)
        return summary_report(c, ReportFilter())

    first = cache.get_or_compute(conn, "k", compute)
    assert cache.get_or_compute(conn, "k", compute) is first
    assert len(calls) == 1
    programme.register(ids["s1"])
    deliver(conn, programme.events[-1:])
    again = cache.get_or_compute(conn, "k", compute)
    assert len(calls) == 2
    assert again["participants_registered"] == first["participants_registered"] + 1
