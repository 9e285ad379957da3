"""Projection handlers on an in-memory SQLite database: exact figures, ordering, idempotency."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from reporting_programme import Programme, build_donor_scenario, december
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.adapters.report_cache import PatternCache, ReportCache
from trainops_reporting.adapters.state import read_generation
from trainops_reporting.adapters.tables import (
    EVIDENCE_TABLES,
    READ_MODEL_TABLES,
    facts,
    feedback_responses,
    metadata,
    participant_merges,
)
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_reporting.handlers.reports import ReportRequest, donor_report, summary_report
from trainops_shared.events import Event, FeedbackSubmitted
from trainops_shared.inbox import RetryLater
from trainops_shared.storage import MigrationSet, apply_migrations

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


def _summary(conn: Connection, k: int = 1, **kw: Any) -> dict[str, Any]:
    out = summary_report(conn, ReportRequest(k=k, **kw), PatternCache(("all", "year", "month")))
    for described in ("definitions", "indicator_definitions", "indicators_version", "evidence"):
        out.pop(described)
    return out


def _donor(conn: Connection, by: tuple[str, ...], k: int = 5, **kw: Any) -> dict[str, Any]:
    return donor_report(conn, ReportRequest(by=by, k=k, **kw), PatternCache(("all",)))


def test_scenario_summary_is_exact(conn: Connection, programme: Programme) -> None:
    ids = build_donor_scenario(programme)
    deliver(conn, programme.events)
    assert _summary(conn) == {
        "sessions_scheduled": 2,
        "sessions_delivered": 1,
        "registered": 20,
        "attended": 15,
        "feedback_responses": 9,
        "satisfaction_mean": 3.89,
        "cities_reached": 2,
        "suppressed": {},
        "k": 1,
        "unit": "registrations",
        "filters": {"period": "all", "training_id": None},
        # women: 13 of the 20 registrations (the sex margin)
        "indicators": {"attendance_rate": 0.75, "feedback_completion": 0.6, "share_of_women": 0.65},
        "indicators_hidden": {},
    }
    t2 = _summary(conn, training_id=ids["t2"])
    assert (t2["sessions_scheduled"], t2["sessions_delivered"]) == (1, 0)
    assert (t2["registered"], t2["attended"]) == (2, 0)
    assert t2["satisfaction_mean"] is None and t2["cities_reached"] == 0
    assert _summary(conn, k=5, training_id=ids["t2"])["suppressed"] == {"registered": "primary"}
    assert _summary(conn, period="2020-12")["registered"] == 18  # T2 starts in January


def test_donor_by_city_suppresses_feedback(conn: Connection, programme: Programme) -> None:
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    report = _donor(conn, ("city",))
    ratios = [(r.pop("indicators"), r.pop("indicators_hidden")) for r in report["rows"]]
    # aktau's women (5 of 10) are published in city x sex; its attended is hidden, so is its rate
    assert ratios[0] == (
        {"attendance_rate": None, "feedback_completion": None, "share_of_women": 0.5},
        {"attendance_rate": "suppressed", "feedback_completion": "suppressed"},
    )
    assert set(ratios[1][1].values()) == {"suppressed"} and len(ratios[1][1]) == 3
    assert report["rows"] == [
        {
            "city": "aktau",
            "registered": 10,
            "attended": None,  # 8 = female 3 (primary) + male 5: shown, it bounds the 3
            "feedback_responses": None,
            "satisfaction_mean": None,
            "suppressed": {"attended": "complementary", "feedback_responses": "complementary"},
        },
        {
            "city": "almaty",
            "registered": 10,
            "attended": None,
            "feedback_responses": None,
            "satisfaction_mean": None,
            "suppressed": {"attended": "complementary", "feedback_responses": "primary"},
        },
    ]
    assert report["totals"] == {
        "registered": 20,
        "attended": 15,
        "feedback_responses": 9,
        "satisfaction_mean": 3.89,
        "suppressed": {},
        "indicators": {"attendance_rate": 0.75, "feedback_completion": 0.6, "share_of_women": None},
        "indicators_hidden": {"share_of_women": "suppressed"},
    }
    assert report["suppressed_cells"] == 4
    unsuppressed = _donor(conn, ("city",), k=1)
    assert [r["satisfaction_mean"] for r in unsuppressed["rows"]] == [4.0, 3.75]
    assert unsuppressed["suppressed_cells"] == 0


def test_donor_by_city_and_sex_hides_recomputable_cells(
    conn: Connection, programme: Programme
) -> None:
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    report = _donor(conn, ("city", "sex"))
    by_key = {(r["city"], r["sex"]): r for r in report["rows"]}
    assert by_key["almaty", "male"]["suppressed"]["registered"] == "primary"
    assert by_key["almaty", "female"]["registered"] is None
    assert by_key["almaty", "female"]["suppressed"]["registered"] == "complementary"
    # the sex margins are hidden: shown, 13 - 5 and 7 - 5 would give almaty's counts away
    # (hiding aktau's 5s instead is no better: a complementary count reads "k or more")
    assert [by_key["aktau", sex]["registered"] for sex in ("female", "male")] == [5, 5]
    assert report["totals"]["registered"] == 20
    assert {r["city"]: r["registered"] for r in report["row_totals"]} == {
        "aktau": 10,
        "almaty": 10,
    }
    assert {r["sex"]: r["registered"] for r in report["column_totals"]} == {
        "female": None,
        "male": None,
    }


def test_donor_by_training_counts_registrations_per_training(
    conn: Connection, programme: Programme
) -> None:
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    report = _donor(conn, ("training",), k=1)
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
    assert _summary(conn)["attended"] == 1


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


def test_reschedule_moves_facts_between_periods(conn: Connection, programme: Programme) -> None:
    t1 = programme.training("T1")
    session_id = programme.session(t1, december(22))
    programme.register(session_id)
    programme.reschedule(session_id, datetime(2021, 1, 15, 5, tzinfo=UTC))
    deliver(conn, programme.events)
    assert _summary(conn, period="2020")["registered"] == 0
    assert _summary(conn, period="2021-01")["registered"] == 1
    assert _summary(conn, period="2021-01")["sessions_scheduled"] == 1


def test_cancelled_session_uncounts_its_registrations(
    conn: Connection, programme: Programme
) -> None:
    t1 = programme.training("T1")
    session_id = programme.session(t1, december(22))
    for _ in range(6):
        programme.register(session_id)
    deliver(conn, programme.events)
    assert _summary(conn)["registered"] == 6
    programme.cancel_session(session_id)
    deliver(conn, programme.events[-1:])
    figures = _summary(conn)
    assert (figures["registered"], figures["sessions_scheduled"]) == (0, 0)


def test_one_response_counts_per_invitation(conn: Connection, programme: Programme) -> None:
    """Responses made up with new response and invitation ids for a real registration: later
    ones change nothing, earlier ones at most take the one counted place."""
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    before = _summary(conn)
    answered = next(e for e in programme.events if isinstance(e, FeedbackSubmitted))

    def forged(shift: timedelta) -> list[FeedbackSubmitted]:
        return [
            msgspec.structs.replace(
                answered,
                event_id=uuid.uuid4(),
                aggregate_id=(rid := uuid.uuid4()),
                response_id=rid,
                invitation_id=uuid.uuid4(),
                occurred_at=answered.occurred_at + shift,
                answers={"overall": 1},
            )
            for _ in range(20)
        ]

    deliver(conn, forged(timedelta(hours=1)))
    assert _summary(conn) == before
    deliver(conn, forged(timedelta(hours=-1)))
    after = _summary(conn)
    assert after["feedback_responses"] == before["feedback_responses"] == 9
    answers = conn.execute(
        sa.select(sa.func.count())
        .select_from(feedback_responses)
        .where(feedback_responses.c.registration_id == answered.registration_id)
    ).scalar_one()
    assert answers == 1


def test_migration_keeps_the_first_response_per_registration() -> None:
    """A read model projected before v3 (several responses on one registration) is reduced to
    the first response per registration, with the facts recomputed."""
    programme = Programme()
    build_donor_scenario(programme)
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        apply_migrations(conn, [MigrationSet("reporting", MIGRATIONS.migrations[:2])])
        # Today's handlers also write the evidence tables (v7); v7 leaves existing ones be.
        metadata.create_all(conn, tables=EVIDENCE_TABLES)
        conn.execute(sa.text("DROP INDEX IF EXISTS ux_report_feedback_registration"))
        participant_merges.create(conn)  # today's handlers read it (v8 then finds it there)
        deliver_v2 = [e for e in programme.events]
        for event in deliver_v2:
            apply(conn, event)
        before = summary_report(conn, ReportRequest(k=1), PatternCache(("all",)))[
            "satisfaction_mean"
        ]
        answered = next(e for e in programme.events if isinstance(e, FeedbackSubmitted))
        fact = conn.execute(
            sa.select(facts).where(facts.c.registration_id == answered.registration_id)
        ).one()
        for _ in range(20):
            conn.execute(
                feedback_responses.insert().values(
                    response_id=uuid.uuid4(),
                    registration_id=answered.registration_id,
                    session_id=answered.session_id,
                    survey_id=answered.survey_id,
                    overall=1,
                    language="kk",
                    has_comment=False,
                    submitted_at=datetime(2030, 1, 1, tzinfo=UTC),
                )
            )
        conn.execute(
            facts.update()
            .where(facts.c.registration_id == answered.registration_id)
            .values(
                feedback_count=fact.feedback_count + 20,
                overall_sum=fact.overall_sum + 20,
                overall_count=fact.overall_count + 20,
            )
        )
        apply_migrations(conn, [MIGRATIONS])
        after = summary_report(conn, ReportRequest(k=1), PatternCache(("all",)))
        assert after["satisfaction_mean"] == before
        assert after["feedback_responses"] == 9
    engine.dispose()


def test_participant_counted_in_latest_profile_cell(conn: Connection, programme: Programme) -> None:
    t1 = programme.training("T1")
    first = programme.session(t1, december(22))
    second = programme.session(t1, december(28))
    person = uuid.uuid4()
    programme.register(first, participant_id=person, city="aktau")
    programme.register(second, participant_id=person, city="almaty")  # moved
    rng = random.Random(7)
    deliver(conn, programme.events, rng)
    report = _donor(conn, ("city",), k=1)
    assert [(r["city"], r["registered"]) for r in report["rows"]] == [("almaty", 2)]


def test_report_cache_is_invalidated_by_any_event(conn: Connection, programme: Programme) -> None:
    ids = build_donor_scenario(programme)
    deliver(conn, programme.events)
    cache = ReportCache()
    calls = []

    def compute(c: Connection) -> dict[str, Any]:
        calls.append(1)
        return _summary(c)

    first = cache.get_or_compute(conn, "k", compute)
    assert cache.get_or_compute(conn, "k", compute) is first
    assert len(calls) == 1
    programme.register(ids["s1"])
    deliver(conn, programme.events[-1:])
    again = cache.get_or_compute(conn, "k", compute)
    assert len(calls) == 2
    assert again["registered"] == first["registered"] + 1
