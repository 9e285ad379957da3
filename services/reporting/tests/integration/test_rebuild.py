"""Rebuilding the read model on a real nats-server: complete or nothing, then adopted at start.

The replay's database must hold exactly what per-event projection of the same events gives; a
run that cannot complete publishes nothing; the adoption swaps the file (never replaying the old
file's WAL onto it) and makes the service's durable consumers deliver what came after the
replay, so an event published after the rebuild reaches the new model.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import msgspec
import nats
import pytest
import sqlalchemy as sa
from reporting_programme import Programme, december
from reporting_streams import projected_per_event, random_stream, read_model

from trainops_devtools.nats_server import NatsServer
from trainops_reporting.adapters import rebuilt_store
from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.adapters.state import read_generation
from trainops_reporting.handlers.batches import apply_batch
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_reporting.handlers.rebuild import (
    Progress,
    RebuildFailed,
    adopt_rebuilt,
    rebuild,
)
from trainops_shared.broker import connection_inbox_prefix, declare_all_streams
from trainops_shared.events import Event, SessionScheduled, encode_event
from trainops_shared.events.streams import FEEDBACK, REGISTRATION, SCHEDULING, stream_for_subject
from trainops_shared.inbox import EventConsumer
from trainops_shared.storage import SqliteDatabase
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

STREAMS = (SCHEDULING, REGISTRATION, FEEDBACK)


async def _publish(url: str, events: list[Event]) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream(timeout=10)
        for event in events:
            await js.publish(
                event.subject,
                encode_event(event),
                stream=stream_for_subject(event.subject).name,
                headers={"Nats-Msg-Id": str(event.event_id)},
            )
    finally:
        await nc.close()


def _stored(path: Path) -> tuple[dict[str, list[tuple[object, ...]]], int]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        result = read_model(conn), read_generation(conn)
    engine.dispose()
    return result


async def test_rebuild_replays_everything_then_the_service_adopts_it(
    fresh_nats_server: NatsServer, tmp_path: Path
) -> None:
    server = fresh_nats_server
    url = server.url
    await declare_all_streams(url, STREAMS)
    programme, _ = random_stream(seed=5, size=300)
    # the generator's sessions include a mode the wire schema does not have
    programme.events = [
        msgspec.structs.replace(e, mode="online")
        if isinstance(e, SessionScheduled) and e.mode == "hybrid"
        else e
        for e in programme.events
    ]
    await _publish(url, programme.events)
    live = tmp_path / "reporting.db"
    # the live model: stale, with a WAL of its own that must not survive the swap
    old = SqliteDatabase(f"sqlite:///{live}")
    await old.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    await old.close()
    old_wal = Path(f"{live}-wal")
    await asyncio.to_thread(old_wal.write_bytes, b"not this database's journal")

    lines: list[Progress] = []
    nc = await nats.connect(url)
    try:
        result = await rebuild(nc, live, report=lines.append, interval_s=0.1, budget_s=60)
        assert result.events == len(programme.events)
        assert lines and lines[-1].fraction == 1.0 and "ev/s" in lines[-1].line()
        assert not rebuilt_store.rebuilding_path(live).exists()
        covered = rebuilt_store.pending_manifest(live)
        assert covered == result.covered
        assert covered[REGISTRATION.name] > 0
        model, generation = _stored(rebuilt_store.rebuilt_path(live))
        assert model == projected_per_event(programme.events)[0]
        assert generation == len(programme.events)
        assert live.stat().st_size > 0  # the live file is untouched until adoption

        # the old service took one more event before its restart: the new model must get it
        session = next(e for e in programme.events if isinstance(e, SessionScheduled))
        extra = Programme().register(session.session_id, participant_id=uuid.uuid4())
        await _publish(url, [extra])

        db = SqliteDatabase(f"sqlite:///{live}")
        consumer = EventConsumer(
            service="reporting", db=db, handlers=EVENT_HANDLERS, batch_handler=apply_batch
        )
        # with the service's own NATS user: it may recreate its own durable consumers
        reporting_url = server.url_for("reporting")
        service_nc = await nats.connect(
            reporting_url, inbox_prefix=connection_inbox_prefix(reporting_url)
        )
        try:
            assert await adopt_rebuilt(service_nc, live, consumer)
        finally:
            await service_nc.close()
        assert rebuilt_store.pending_manifest(live) is None
        assert not rebuilt_store.rebuilt_path(live).exists()
        assert not await asyncio.to_thread(old_wal.exists)
        js = nc.jetstream()
        for stream, seq in covered.items():
            info = await js.consumer_info(stream, "reporting")
            assert info.config.opt_start_seq == seq + 1
        await db.start([PLUMBING_MIGRATIONS, MIGRATIONS])
        await consumer.start(nc)
        try:
            deadline = time.monotonic() + 20
            while consumer.applied < 1:
                assert time.monotonic() < deadline, "the event after the rebuild never came"
                await asyncio.sleep(0.05)
        finally:
            await consumer.stop()
            await db.close()
        model, generation = _stored(live)
        assert generation == len(programme.events) + 1
        assert model == projected_per_event([*programme.events, extra])[0]
    finally:
        await nc.close()


async def test_a_rebuild_that_cannot_complete_publishes_nothing(
    fresh_nats_server: NatsServer, tmp_path: Path
) -> None:
    url = fresh_nats_server.url
    await declare_all_streams(url, STREAMS)
    p = Programme()
    session_id = p.session(p.training("T1"), december(2))
    # a registration for a session that is never scheduled waits for ever
    orphan = msgspec.structs.replace(p.register(session_id), session_id=uuid.uuid4())
    await _publish(url, [*p.events[:-1], orphan])
    live = tmp_path / "reporting.db"
    nc = await nats.connect(url)
    try:
        with pytest.raises(RebuildFailed, match="nothing was published"):
            await rebuild(nc, live, interval_s=0.1, budget_s=1.5)
    finally:
        await nc.close()
    assert rebuilt_store.pending_manifest(live) is None
    assert not rebuilt_store.rebuilt_path(live).exists()
    assert not rebuilt_store.rebuilding_path(live).exists()
