"""The read model is a function of the events, not of how the broker delivered them.

Property: for seeded random event streams (profile changes, waitlist promotions, cancellations of
seats and sessions, reschedules, attendance corrections, feedback, re-publications under new event
ids), delivering them in producer order or shuffled with retries yields the same rows in every
read-model table and the same finest cells the disclosure universe is built from.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from reporting_programme import Programme, build_donor_scenario, december
from reporting_streams import deliver, random_stream, read_model, redeliveries
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.adapters.report_queries import finest_cells
from trainops_reporting.domain.categories import DIMENSIONS
from trainops_reporting.domain.disclosure.universe import FinestCell
from trainops_shared.events import Event
from trainops_shared.storage import apply_migrations, schema_migrations

pytestmark = pytest.mark.unit

CITY = DIMENSIONS.index("city")


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        with connection.begin():
            apply_migrations(connection, [MIGRATIONS])
        yield connection
    engine.dispose()


def _projected(
    events: Sequence[Event], rng: random.Random | None
) -> tuple[dict[str, list[tuple[Any, ...]]], list[FinestCell]]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        with connection.begin():
            apply_migrations(connection, [MIGRATIONS])
        with connection.begin():
            deliver(connection, events, rng)
        result = read_model(connection), finest_cells(connection)
    engine.dispose()
    return result


@pytest.mark.parametrize("seed", range(4))
def test_any_delivery_order_gives_the_same_read_model(seed: int) -> None:
    programme, _ = random_stream(seed)
    rng = random.Random(1000 + seed)
    in_order = _projected(programme.events, None)
    shuffled = _projected(programme.events + redeliveries(programme, rng), rng)
    assert shuffled == in_order
    model, cells = in_order
    assert model["report_facts"] and cells
    assert sum(cell.registered for cell in cells) > 0


def test_redeliveries_under_new_ids_change_nothing(conn: Connection) -> None:
    programme, _ = random_stream(7)
    deliver(conn, programme.events)
    before = read_model(conn), finest_cells(conn)
    deliver(conn, redeliveries(programme, random.Random(7), count=len(programme.events)))
    assert (read_model(conn), finest_cells(conn)) == before


def test_a_person_moving_city_moves_every_registration(
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
    cells = finest_cells(conn)
    assert {cell.key[CITY] for cell in cells} == {"almaty"}
    assert sum(cell.registered for cell in cells) == 2
    assert sum(cell.attended for cell in cells) == 1
    assert sum(cell.feedback_responses for cell in cells) == 1


def test_v4_migration_drops_the_old_pre_aggregates_and_keeps_the_facts(
    conn: Connection, programme: Programme
) -> None:
    """A database that still has the person/cell pre-aggregates of an older build loses them
    at upgrade; every projected row stays."""
    build_donor_scenario(programme)
    deliver(conn, programme.events)
    expected = read_model(conn)
    with conn.begin_nested():
        for table in ("report_people", "report_cube"):
            conn.execute(sa.text(f"CREATE TABLE {table} (grain INTEGER, registered INTEGER)"))
            conn.execute(sa.text(f"INSERT INTO {table} VALUES (0, 3)"))
        conn.execute(
            schema_migrations.delete().where(
                schema_migrations.c.component == "reporting", schema_migrations.c.version == 4
            )
        )
    with conn.begin_nested():
        assert apply_migrations(conn, [MIGRATIONS]) == [("reporting", 4)]
    tables = set(sa.inspect(conn).get_table_names())
    assert not tables & {"report_people", "report_cube"}
    assert read_model(conn) == expected


def test_a_fresh_read_model_has_no_pre_aggregates(conn: Connection) -> None:
    assert not set(sa.inspect(conn).get_table_names()) & {"report_people", "report_cube"}
