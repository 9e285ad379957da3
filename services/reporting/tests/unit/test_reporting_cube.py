"""The pre-aggregated cube answers exactly what the fact table answers, whatever happened.

Property: for seeded random event streams (profile changes, waitlist promotions, cancellations of
seats and sessions, reschedules, attendance corrections, feedback, redeliveries under new event
ids, delivery in shuffled order with retries), every donor table of up to three dimensions, with
and without a training filter, and the summary, are identical from the cube and from the facts;
and the incrementally maintained cube equals a rebuild from the facts, at several points of the
stream, not only at its end.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from reporting_cube_check import (
    assert_cube_exact,
    deliver,
    pre_aggregates,
    random_stream,
    redeliveries,
)
from reporting_programme import Programme, build_donor_scenario, december
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.adapters.report_queries import (
    ReportFilter,
    donor_cells,
    summary_figures,
    window_is_everything,
)
from trainops_reporting.adapters.tables import cube, people
from trainops_shared.storage import apply_migrations, schema_migrations

pytestmark = pytest.mark.unit


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        with connection.begin():
            apply_migrations(connection, [MIGRATIONS])
        yield connection
    engine.dispose()


@pytest.mark.parametrize("seed", range(4))
def test_cube_equals_facts_on_random_streams(conn: Connection, seed: int) -> None:
    programme, trainings = random_stream(seed)
    rng = random.Random(1000 + seed)
    events = programme.events + redeliveries(programme, rng)
    third = len(events) // 3
    compared = 0
    # in order for a prefix, then the rest shuffled (out of order, with retries)
    deliver(conn, events[:third])
    compared += assert_cube_exact(conn, trainings)
    deliver(conn, events[third : 2 * third], rng)
    compared += assert_cube_exact(conn, trainings)
    deliver(conn, events[2 * third :], rng)
    deliver(conn, redeliveries(programme, rng))
    compared += assert_cube_exact(conn, trainings)
    assert compared == 3 * 85 * (len(trainings) + 3)
    assert conn.execute(sa.select(sa.func.count()).select_from(cube)).scalar_one() > 0


@pytest.mark.parametrize("seed", range(3))
def test_cube_is_the_same_in_any_delivery_order(seed: int) -> None:
    programme, _ = random_stream(100 + seed, size=180)
    results = []
    for order in (None, 1, 2):
        engine = sa.create_engine("sqlite://")
        with engine.connect() as connection:
            with connection.begin():
                apply_migrations(connection, [MIGRATIONS])
            deliver(connection, programme.events, None if order is None else random.Random(order))
            results.append(pre_aggregates(connection))
        engine.dispose()
    assert results[0] == results[1] == results[2]


def test_a_person_moving_cell_moves_every_contribution(
    conn: Connection, programme: Programme
) -> None:
    t1 = programme.training("T1")
    first = programme.session(t1, december(22))
    second = programme.session(t1, december(28), mode="in_person")
    reg = programme.register(first, city="aktau")
    programme.attend(reg)
    programme.feedback(reg, 5)
    programme.register(second, participant_id=reg.participant_id, city="almaty")
    deliver(conn, programme.events)
    cells = donor_cells(conn, ReportFilter(), ("city", "mode"), "cube")
    assert [(c.key, c.registered, c.attended, c.feedback_responses) for c in cells] == [
        (("almaty", "in_person"), 1, 0, 0),
        (("almaty", "online"), 1, 1, 1),
    ]
    assert [c.key for c in donor_cells(conn, ReportFilter(), ("city",), "cube")] == [("almaty",)]
    # aktau is gone from every grain: no zero rows are left behind
    assert not conn.execute(sa.select(cube).where(cube.c.city == "aktau")).first()


def test_source_choice_by_window(conn: Connection, programme: Programme) -> None:
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    everything = ReportFilter(start=december(1, 0), end=december(1, 0).replace(year=2021, month=2))
    part = ReportFilter(start=december(22, 0), end=december(23, 0))
    assert window_is_everything(conn, ReportFilter())
    assert window_is_everything(conn, everything)
    assert not window_is_everything(conn, part)
    assert not window_is_everything(conn, ReportFilter(end=december(23, 0)))
    with pytest.raises(ValueError, match="cannot answer"):
        donor_cells(conn, part, ("city",), "cube")
    # a partial window falls back to the facts (and gets the windowed answer)
    assert summary_figures(conn, part) == summary_figures(conn, part, "facts")
    assert summary_figures(conn, part).participants_registered == 18
    assert donor_cells(conn, everything, ("city", "sex")) == donor_cells(
        conn, everything, ("city", "sex"), "facts"
    )


def test_v2_migration_backfills_the_cube_from_existing_facts(
    conn: Connection, programme: Programme
) -> None:
    """A database projected by the v1 build gets its cube from the facts at upgrade."""
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    expected = pre_aggregates(conn)
    with conn.begin_nested():  # back to the v1 schema, facts kept
        people.drop(conn)
        cube.drop(conn)
        conn.execute(sa.text("DROP INDEX ix_report_facts_window_cover"))
        conn.execute(sa.text("CREATE INDEX ix_report_facts_window ON report_facts (starts_at)"))
        conn.execute(
            schema_migrations.delete().where(
                schema_migrations.c.component == "reporting", schema_migrations.c.version == 2
            )
        )
    with conn.begin_nested():
        assert apply_migrations(conn, [MIGRATIONS]) == [("reporting", 2)]
    assert pre_aggregates(conn) == expected
    indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("report_facts")}
    assert "ix_report_facts_window_cover" in indexes and "ix_report_facts_window" not in indexes
