"""Random event streams and how the consumer delivers them (shared by the unit and PG tests).

Imported as ``reporting_streams`` (``tests/`` is on ``sys.path`` like ``reporting_programme``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec
import sqlalchemy as sa
from reporting_programme import Programme, december
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.adapters.state import read_generation
from trainops_reporting.adapters.tables import READ_MODEL_TABLES
from trainops_reporting.handlers.batches import apply_batch
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_shared.events import Event, ParticipantRegistered
from trainops_shared.inbox import RetryLater
from trainops_shared.storage import apply_migrations

Model = dict[str, list[tuple[Any, ...]]]


def random_stream(seed: int, size: int = 260) -> tuple[Programme, list[uuid.UUID]]:
    """A programme whose events exercise every path that changes a fact's contribution.

    Profiles change (the same person registers again from another city or sector), seats are
    waitlisted, promoted and cancelled, sessions are cancelled, rescheduled and completed,
    attendance is recorded and corrected, feedback arrives (with and without an ``overall``).
    """
    rng = random.Random(seed)
    p = Programme()
    p.survey()
    trainings = [p.training(f"T{i}") for i in range(3)]
    sessions_ids = [
        p.session(
            rng.choice(trainings),
            december(rng.randint(1, 28), rng.randint(0, 20)),
            mode=rng.choice(("online", "in_person", "hybrid")),
        )
        for _ in range(6)
    ]
    people_ids = [uuid.uuid4() for _ in range(14)]
    registrations: list[ParticipantRegistered] = []
    status: dict[uuid.UUID, str] = {}  # as the registration service keeps it
    cancelled_sessions: set[uuid.UUID] = set()
    while len(p.events) < size:
        roll = rng.random()
        if roll < 0.40 or not registrations:
            reg = p.register(
                rng.choice(sessions_ids),
                participant_id=rng.choice(people_ids),
                city=rng.choice(("almaty", "aktau", "astana")),
                sector=rng.choice(("media", "ngo")),
                sex=rng.choice(("female", "male")),
                age_band=rng.choice(("25-34", "35-44")),
                language=rng.choice(("kk", "ru")),
                status="waitlisted" if rng.random() < 0.25 else "confirmed",
            )
            registrations.append(reg)
            status[reg.registration_id] = reg.status
        elif roll < 0.50:
            reg = rng.choice(registrations)
            if status[reg.registration_id] == "waitlisted":  # only a waiting seat is promoted
                status[reg.registration_id] = "confirmed"
                p.promote(reg)
        elif roll < 0.57:
            reg = rng.choice(registrations)
            if status[reg.registration_id] != "cancelled":  # cancelled is final
                status[reg.registration_id] = "cancelled"
                p.cancel(reg)
        elif roll < 0.75:
            p.attend(rng.choice(registrations), attended=rng.random() < 0.7)
        elif roll < 0.88:
            reg = rng.choice(registrations)
            event = p.feedback(reg, rng.randint(1, 5))
            if rng.random() < 0.2:  # an answer without a usable overall score
                p.events[-1] = msgspec.structs.replace(event, answers={"relevance": 3})
            elif len(p.events) % 3 == 0:  # with a choice item (an option repeated, as a client
                # may); chosen without the generator, so every seed keeps its stream
                topics = ["law", "data", "law"] if len(p.events) % 2 else ["ethics"]
                p.events[-1] = msgspec.structs.replace(event, choices={"topics": topics})
        elif roll < 0.92:
            session_id = rng.choice(sessions_ids)
            if session_id not in cancelled_sessions:
                cancelled_sessions.add(session_id)
                p.cancel_session(session_id)
        elif roll < 0.96:
            p.reschedule(rng.choice(sessions_ids), december(rng.randint(1, 28), 9))
        else:
            p.complete(rng.choice(sessions_ids))
    return p, trainings


def redeliveries(p: Programme, rng: random.Random, count: int = 30) -> list[Event]:
    """Old events again under new ids (the inbox cannot catch these): stale updates and
    re-published creations must change nothing."""
    picks = rng.sample(p.events, min(count, len(p.events)))
    return [msgspec.structs.replace(e, event_id=uuid.uuid4()) for e in picks]


def deliver(conn: Connection, events: Sequence[Event], rng: random.Random | None = None) -> None:
    """Like the consumer: each handler in its own savepoint; RetryLater requeues the event."""
    queue = list(events)
    if rng is not None:
        rng.shuffle(queue)
    stalls = 0
    while queue:
        event = queue.pop(0)
        try:
            with conn.begin_nested():
                EVENT_HANDLERS[type(event)](conn, event)
            stalls = 0
        except RetryLater:
            queue.append(event)
            stalls += 1
            assert stalls <= len(queue), "no event can make progress"


def deliver_in_batches(
    conn: Connection, events: Sequence[Event], rng: random.Random, max_batch: int = 40
) -> int:
    """Like the consumer with a batch handler: each batch one transaction; what waits comes
    back in a later batch. Returns how many times an event had to wait."""
    queue = list(events)
    waited = 0
    stalls = 0
    while queue:
        size = rng.randint(1, max_batch)
        batch, queue = queue[:size], queue[size:]
        with conn.begin_nested():
            failures = apply_batch(conn, batch)
        for exc in failures.values():
            assert isinstance(exc, RetryLater), exc
        waited += len(failures)
        queue.extend(batch[i] for i in sorted(failures))
        stalls = stalls + 1 if len(failures) == len(batch) else 0
        assert stalls <= len(queue) + 1, "no event can make progress"
    return waited


def read_model(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, in a canonical order (the generation counter in
    ``report_state`` counts deliveries, so it is left out)."""
    return {
        table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
        for table in READ_MODEL_TABLES
    }


@contextmanager
def empty_read_model() -> Iterator[Connection]:
    """A connection to a migrated, empty in-memory read model."""
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            with connection.begin():
                apply_migrations(connection, [MIGRATIONS])
            yield connection
    finally:
        engine.dispose()


def projected_per_event(events: Sequence[Event]) -> tuple[Model, int]:
    """The read model and generation the per-event handlers give for ``events`` in order."""
    with empty_read_model() as conn:
        with conn.begin():
            deliver(conn, events)
        return read_model(conn), read_generation(conn)
