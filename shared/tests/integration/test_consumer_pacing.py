"""A consumer with ``stream_order`` catches up on a backlog producers first.

On a real nats-server: a backlog of registrations and of feedback on them, in two streams. Read
concurrently, feedback runs ahead of its registrations and is retried; paced, the feedback loop
waits until the registration stream is down to a batch, so nothing waits for another stream,
and the catch-up fetches take more than a live batch.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import nats
import pytest
from sqlalchemy.engine import Connection

from trainops_devtools.nats_server import NatsServer
from trainops_shared.broker import declare_all_streams
from trainops_shared.events import AttendanceRecorded, FeedbackSubmitted, encode_event
from trainops_shared.events.streams import FEEDBACK, REGISTRATION
from trainops_shared.inbox import EventConsumer, RetryLater
from trainops_shared.storage import SqliteDatabase
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

BACKLOG = 600
BATCH = 50


def _pair() -> tuple[AttendanceRecorded, FeedbackSubmitted]:
    registration_id, session_id, participant_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    attended = AttendanceRecorded(
        aggregate_id=registration_id,
        registration_id=registration_id,
        session_id=session_id,
        participant_id=participant_id,
        attended=True,
    )
    response_id = uuid.uuid4()
    feedback = FeedbackSubmitted(
        aggregate_id=response_id,
        response_id=response_id,
        survey_id=uuid.uuid4(),
        session_id=session_id,
        registration_id=registration_id,
        participant_id=participant_id,
        answers={"overall": 4},
        language="kk",
    )
    return attended, feedback


async def test_a_dependent_stream_waits_for_its_producers_backlog(
    fresh_nats_server: NatsServer, tmp_path: Path
) -> None:
    url = fresh_nats_server.url
    await declare_all_streams(url, [REGISTRATION, FEEDBACK])
    known: set[uuid.UUID] = set()
    batches: dict[str, list[int]] = {REGISTRATION.name: [], FEEDBACK.name: []}
    known_at_first_feedback: list[int] = []

    def on_attendance(_conn: Connection, event: AttendanceRecorded) -> None:
        known.add(event.registration_id)

    def on_feedback(_conn: Connection, event: FeedbackSubmitted) -> None:
        if not known_at_first_feedback:
            known_at_first_feedback.append(len(known))
        if event.registration_id not in known:
            raise RetryLater("registration not seen yet")

    db = SqliteDatabase(f"sqlite:///{tmp_path / 'paced.db'}")
    await db.start([PLUMBING_MIGRATIONS])
    consumer = EventConsumer(
        service="paced",
        db=db,
        handlers={AttendanceRecorded: on_attendance, FeedbackSubmitted: on_feedback},
        batch_size=BATCH,
        catch_up_batch_size=4 * BATCH,
        stream_order=(REGISTRATION.name, FEEDBACK.name),
        on_batch=lambda stream, size: batches[stream].append(size),
    )
    nc = await nats.connect(url)
    try:
        js = nc.jetstream(timeout=10)
        pairs = [_pair() for _ in range(BACKLOG)]
        # The feedback is published first: unpaced, its loop would have it all before most
        # registrations were fetched.
        for _, feedback in pairs:
            await js.publish(feedback.subject, encode_event(feedback), stream=FEEDBACK.name)
        for attended, _ in pairs:
            await js.publish(attended.subject, encode_event(attended), stream=REGISTRATION.name)
        await consumer.start(nc)
        deadline = time.monotonic() + 60
        while consumer.applied < 2 * BACKLOG:
            assert time.monotonic() < deadline, f"applied {consumer.applied} of {2 * BACKLOG}"
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
        await db.close()
        await nc.close()
    assert consumer.retried == 0
    assert known_at_first_feedback[0] >= BACKLOG - BATCH
    assert max(batches[REGISTRATION.name]) > BATCH  # caught up in larger fetches
    assert max(batches[FEEDBACK.name]) > BATCH
