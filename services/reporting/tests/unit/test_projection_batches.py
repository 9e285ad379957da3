"""Set-based batches give the read model the per-event handlers give, whatever the batching.

Property: random streams (profile changes, promotions, cancellations of seats and sessions,
reschedules, attendance corrections, feedback replaced by an earlier response, re-publications
under new ids), shuffled and cut into batches of random sizes, applied with ``apply_batch`` and
the waiting events fed back into later batches, end with the same rows in every table and the
same generation as the per-event handlers in producer order. (Which copy of a re-published
registration stamps its participant's profile is the first to arrive, in either path: a copy's
event id is read as its original's when comparing.)
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta

import msgspec
import pytest
import sqlalchemy as sa
from reporting_programme import Programme, december
from reporting_streams import (
    Model,
    deliver_in_batches,
    empty_read_model,
    projected_per_event,
    random_stream,
    read_model,
    redeliveries,
)
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.state import read_generation
from trainops_reporting.adapters.tables import facts
from trainops_reporting.domain.batch_fold import BatchFold, Loaded
from trainops_reporting.handlers.batches import apply_batch
from trainops_shared.events import Event
from trainops_shared.inbox import RetryLater

pytestmark = pytest.mark.unit


@pytest.fixture
def conn() -> Iterator[Connection]:
    with empty_read_model() as connection:
        yield connection


def _batched(events: Sequence[Event], rng: random.Random) -> tuple[Model, int, int]:
    with empty_read_model() as connection:
        with connection.begin():
            waited = deliver_in_batches(connection, events, rng)
        return read_model(connection), read_generation(connection), waited


def _as_originals(model: Model, copies: Sequence[Event], programme: Programme) -> Model:
    """``model`` with every copy's event id in ``report_participants`` read as its original's."""
    originals = {
        (type(e), e.aggregate_id, e.aggregate_version): str(e.event_id) for e in programme.events
    }
    original_of = {
        str(c.event_id): originals[(type(c), c.aggregate_id, c.aggregate_version)] for c in copies
    }
    rows = [(*row[:-1], original_of.get(row[-1], row[-1])) for row in model["report_participants"]]
    return {**model, "report_participants": sorted(rows, key=repr)}


@pytest.mark.parametrize("seed", range(6))
def test_shuffled_batches_give_the_per_event_read_model(seed: int) -> None:
    programme, _ = random_stream(seed, size=400)
    rng = random.Random(2000 + seed)
    copies = redeliveries(programme, rng, count=60)
    events = programme.events + copies
    in_order = projected_per_event(events)
    shuffled = list(events)
    rng.shuffle(shuffled)
    model, generation, waited = _batched(shuffled, rng)
    model = _as_originals(model, copies, programme)
    assert (model, generation) == in_order
    assert generation == len(events)
    assert waited > 0, "the shuffle should have made some events wait"
    assert model["report_facts"] and model["report_feedback_responses"]


def test_in_order_batches_give_the_per_event_read_model() -> None:
    programme, _ = random_stream(11, size=500)
    model, generation, waited = _batched(programme.events, random.Random(5))
    assert (model, generation) == projected_per_event(programme.events)
    assert waited == 0


def test_waiting_events_change_nothing_and_the_rest_apply(conn: Connection) -> None:
    p = Programme()
    training = p.training("T1")
    session = p.session(training, december(3))
    scheduling = list(p.events)
    reg = p.register(session)
    attended = p.attend(reg)
    # attendance before its registration, and the registration before its session
    with conn.begin_nested():
        failures = apply_batch(conn, [attended, reg, *scheduling])
    assert sorted(failures) == [0, 1]
    assert all(isinstance(exc, RetryLater) for exc in failures.values())
    assert "not seen yet" in str(failures[1])
    assert conn.execute(sa.select(sa.func.count()).select_from(facts)).scalar_one() == 0
    assert read_generation(conn) == len(scheduling)
    with conn.begin_nested():
        assert sorted(apply_batch(conn, [attended, reg])) == [0]
    with conn.begin_nested():
        assert apply_batch(conn, [attended]) == {}
    row = conn.execute(sa.select(facts.c.attended, facts.c.registered)).one()
    assert tuple(row) == (True, True)


def test_an_earlier_response_in_the_same_batch_replaces_the_counted_one(conn: Connection) -> None:
    p = Programme()
    p.survey()
    session = p.session(p.training("T1"), december(3))
    reg = p.register(session)
    with conn.begin_nested():
        assert apply_batch(conn, list(p.events)) == {}
    late = p.feedback(reg, 2)
    early = msgspec.structs.replace(
        p.feedback(reg, 5),
        occurred_at=late.occurred_at - timedelta(hours=1),
        response_id=uuid.uuid4(),
    )
    with conn.begin_nested():
        assert apply_batch(conn, [late]) == {}
    with conn.begin_nested():
        assert apply_batch(conn, [late, early, late]) == {}
    row = conn.execute(
        sa.select(facts.c.feedback_count, facts.c.overall_sum, facts.c.overall_count)
    ).one()
    assert tuple(row) == (1, 5, 1)


def test_the_fold_refuses_event_types_it_does_not_fold() -> None:
    p = Programme()
    p.training("T1")
    with pytest.raises(TypeError, match="TrainingDefined"):
        BatchFold(Loaded()).apply(p.events[0])
