"""A consumer with ``only_handled_subjects`` is delivered only the subjects it has handlers for.

On a real nats-server (2.10+ honours ``filter_subjects``): events of a subject the service does
not handle are never delivered to it (nothing to decode, apply or ack), the handled ones are.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy.engine import Connection

from trainops_devtools.nats_server import NatsServer
from trainops_shared.broker import declare_all_streams
from trainops_shared.events import AttendanceRecorded, ParticipantRegistered, encode_event
from trainops_shared.events.streams import REGISTRATION
from trainops_shared.inbox import EventConsumer
from trainops_shared.storage import SqliteDatabase
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration


def _attendance() -> AttendanceRecorded:
    registration_id = uuid.uuid4()
    return AttendanceRecorded(
        aggregate_id=registration_id,
        registration_id=registration_id,
        session_id=uuid.uuid4(),
        participant_id=uuid.uuid4(),
        attended=True,
    )


def test_the_config_names_the_handled_subjects_only() -> None:
    handlers: dict[type[Any], Any] = {AttendanceRecorded: lambda _c, _e: None}
    db = SqliteDatabase("sqlite:///unused.db")
    filtered = EventConsumer(service="s", db=db, handlers=handlers, only_handled_subjects=True)
    assert filtered.consumer_config(REGISTRATION).filter_subjects == [
        AttendanceRecorded.type_name()
    ]
    whole = EventConsumer(service="s", db=db, handlers=handlers)
    assert whole.consumer_config(REGISTRATION).filter_subject == "registration.>"
    assert ParticipantRegistered.type_name() not in filtered.subjects(REGISTRATION)


async def test_unhandled_subjects_are_never_delivered(
    fresh_nats_server: NatsServer, tmp_path: Path
) -> None:
    url = fresh_nats_server.url
    await declare_all_streams(url, [REGISTRATION])
    seen: list[str] = []

    def on_attendance(_conn: Connection, event: AttendanceRecorded) -> None:
        seen.append(str(event.event_id))

    db = SqliteDatabase(f"sqlite:///{tmp_path / 'c.db'}")
    await db.start([PLUMBING_MIGRATIONS])
    consumer = EventConsumer(
        service="filtered",
        db=db,
        handlers={AttendanceRecorded: on_attendance},
        only_handled_subjects=True,
    )
    nc = await nats.connect(url)
    try:
        js = nc.jetstream(timeout=10)
        # a payload nobody could decode, on a subject this consumer does not read
        await js.publish(ParticipantRegistered.type_name(), b"{not json", stream=REGISTRATION.name)
        wanted = _attendance()
        await js.publish(wanted.subject, encode_event(wanted), stream=REGISTRATION.name)
        await consumer.start(nc)
        deadline = time.monotonic() + 20
        while consumer.applied < 1:
            assert time.monotonic() < deadline, "the handled event never arrived"
            await asyncio.sleep(0.05)
        await consumer.stop()
        info = await js.consumer_info(REGISTRATION.name, "filtered")
        assert seen == [str(wanted.event_id)]
        assert consumer.dead_lettered == 0  # the undecodable one was never delivered
        assert info.num_pending == 0 and info.delivered.stream_seq == 2
    finally:
        await consumer.stop()
        await db.close()
        await nc.close()
