"""A participant merge makes two pseudonyms one person in the read model.

``registration.participants_merged.v1`` re-keys the merged participant's facts to the kept one,
with the kept one's profile, so a distinct count of people ("reach") counts the person once and
every breakdown puts the person in one cell. The outcome does not depend on the order events
arrive in (a registration of the merged id delivered after the merge, merges chained out of
order), and a redelivered merge changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from reporting_programme import Programme, december
from reporting_streams import deliver, deliver_in_batches, empty_read_model, read_model
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.report_queries import finest_cells
from trainops_reporting.adapters.tables import facts, participants
from trainops_reporting.domain.categories import DIMENSIONS
from trainops_shared.events import Event

pytestmark = pytest.mark.unit
CITY = DIMENSIONS.index("city")


def _projected(events: Sequence[Event], rng: random.Random | None = None) -> dict[str, Any]:
    with empty_read_model() as connection:
        with connection.begin():
            deliver(connection, events, rng)
        return {
            "model": read_model(connection),
            "cells": finest_cells(connection),
            "reach": _reach(connection),
            "people": connection.execute(
                sa.select(sa.func.count()).select_from(participants)
            ).scalar_one(),
        }


def _reach(conn: Connection) -> int:
    """Distinct people with a counted registration."""
    query = sa.select(sa.func.count(sa.distinct(facts.c.participant_id))).where(facts.c.registered)
    return int(conn.execute(query).scalar_one())


@pytest.fixture
def conn() -> Iterator[Connection]:
    with empty_read_model() as connection:
        yield connection


def _moved_person(programme: Programme) -> tuple[list[Event], Any, Any]:
    """One person registered in aktau, then again (as a new participant) in almaty."""
    t1 = programme.training("T1")
    first = programme.session(t1, december(22))
    second = programme.session(t1, december(28), mode="in_person")
    old = programme.register(first, city="aktau", sex="male")
    programme.attend(old)
    programme.feedback(old, 4)
    new = programme.register(second, city="almaty", sex="male", age_band="35-44")
    programme.register(second, city="almaty")  # someone else
    return programme.events, new, old


def test_a_merge_counts_the_person_once_in_the_kept_profile(
    conn: Connection, programme: Programme
) -> None:
    _, new, old = _moved_person(programme)
    deliver(conn, programme.events)
    assert _reach(conn) == 3  # before the merge: the person is two pseudonyms
    programme.merge(keep=new, merge=old)
    deliver(conn, programme.events[-1:])
    assert _reach(conn) == 2
    ids = {row.participant_id for row in conn.execute(sa.select(facts.c.participant_id))}
    assert old.participant_id not in ids and new.participant_id in ids
    cells = finest_cells(conn)
    assert {cell.key[CITY] for cell in cells} == {"almaty"}
    person = [cell for cell in cells if cell.key[DIMENSIONS.index("age_band")] == "35-44"]
    assert sum(cell.registered for cell in person) == 2  # both registrations, one profile
    assert sum(cell.attended for cell in person) == 1
    assert sum(cell.feedback_responses for cell in person) == 1
    assert sum(cell.registered for cell in cells) == 3  # registrations are still three


def test_a_redelivered_merge_changes_nothing(conn: Connection, programme: Programme) -> None:
    _, new, old = _moved_person(programme)
    merge = programme.merge(keep=new, merge=old)
    deliver(conn, programme.events)
    before = read_model(conn), finest_cells(conn)
    deliver(conn, [merge, merge])  # the inbox would drop these; the handler is idempotent too
    assert (read_model(conn), finest_cells(conn)) == before


@pytest.mark.parametrize("seed", range(4))
def test_any_delivery_order_gives_the_same_merged_model(seed: int) -> None:
    """Merges delivered before the registrations they fold, and a chain (b into a, then a into
    c) in either order, converge to the producer-order result."""
    programme = Programme()
    _, new, old = _moved_person(programme)
    programme.merge(keep=new, merge=old)
    t2 = programme.training("T2")
    later = programme.session(t2, december(30))
    a = programme.register(later, city="shymkent")
    b = programme.register(later, city="taraz")
    c = programme.register(later, city="shymkent", sex="male")
    programme.merge(keep=a, merge=b)
    programme.merge(keep=c, merge=a)
    in_order = _projected(programme.events)
    shuffled = _projected(programme.events, random.Random(seed))
    assert shuffled == in_order
    assert in_order["reach"] == 3  # the moved person, c (= a = b), the someone else
    assert in_order["people"] == 3


def test_a_registration_of_the_merged_id_after_the_merge_goes_to_the_kept_one(
    conn: Connection, programme: Programme
) -> None:
    _, new, old = _moved_person(programme)
    merge = programme.merge(keep=new, merge=old)
    late = [e for e in programme.events if getattr(e, "participant_id", None) == old.participant_id]
    early = [e for e in programme.events if e not in late and e is not merge]
    deliver(conn, [*early, merge, *late])
    assert _reach(conn) == 2
    row = conn.execute(
        sa.select(facts.c.participant_id, facts.c.city).where(
            facts.c.registration_id == old.registration_id
        )
    ).one()
    assert (row.participant_id, row.city) == (new.participant_id, "almaty")


@pytest.mark.parametrize("seed", range(4))
def test_batches_give_the_per_event_merged_model(seed: int) -> None:
    """The consumer's batch path: a merge in the batch or before it, and registrations of the
    merged id in any batch, give what the per-event handlers give."""
    programme = Programme()
    _, new, old = _moved_person(programme)
    programme.merge(keep=new, merge=old)
    t2 = programme.training("T2")
    later = programme.session(t2, december(30))
    a = programme.register(later, city="shymkent")
    b = programme.register(later, city="taraz")
    programme.attend(b)
    programme.merge(keep=a, merge=b)
    programme.register(programme.session(t2, december(31)), city="taraz")
    in_order = _projected(programme.events)
    rng = random.Random(seed)
    shuffled = list(programme.events)
    rng.shuffle(shuffled)
    with empty_read_model() as connection:
        with connection.begin():
            deliver_in_batches(connection, shuffled, rng, max_batch=6)
        batched = {
            "model": read_model(connection),
            "cells": finest_cells(connection),
            "reach": _reach(connection),
        }
    assert batched == {key: in_order[key] for key in batched}
