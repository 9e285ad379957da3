"""Several worker processes on one PostgreSQL database: each event published once, each mail
sent once, under concurrent load.

Two relays in one test process stand for two workers (each counts the rows it published, which
JetStream's duplicate window would otherwise hide); then the registration service itself runs
with ``TRAINOPS_WORKERS=2`` under concurrent registrations.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import nats
import pytest

from bench.common import publish_events
from bench.workload import bench_sessions
from trainops_devtools.testing.counting import ApplicationCounter, write_completed_events
from trainops_devtools.testing.polling import eventually
from trainops_shared.broker import declare_all_streams
from trainops_shared.events import ParticipantRegistered, decode_event
from trainops_shared.events.streams import REGISTRATION, SCHEDULING
from trainops_shared.outbox import OutboxRelay, count_unsent
from trainops_shared.storage import open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

COUNTER = ApplicationCounter("workers")


async def test_two_relays_on_one_postgres_publish_each_row_once(
    postgres_database, fresh_nats_server
):
    url = postgres_database()
    nats_url = fresh_nats_server.url
    await declare_all_streams(nats_url, [SCHEDULING])
    writer = open_database(url)
    dbs = [open_database(url), open_database(url)]
    await writer.start([PLUMBING_MIGRATIONS, COUNTER.migrations])
    for db in dbs:
        await db.start([PLUMBING_MIGRATIONS, COUNTER.migrations])
    relays = [
        OutboxRelay(db, nats_url, name="workers", batch_size=50, poll_interval=0.1) for db in dbs
    ]
    for relay in relays:
        await relay.start()
    try:
        # Written in bursts while both relays run and are woken after every commit.
        for _ in range(10):
            await asyncio.gather(
                *(write_completed_events(writer, relay, 20) for relay in relays for _ in range(2))
            )
        await eventually(
            lambda: _none_unsent(writer), what="every outbox row to be published", timeout=60
        )
        assert sum(r.published for r in relays) == 800
        assert sorted(r.published for r in relays) == [0, 800]  # one leads, the other waits

        # The leader stops (as a worker does at shutdown): the standby takes over.
        leader = max(relays, key=lambda r: r.published)
        standby = min(relays, key=lambda r: r.published)
        await leader.stop()
        await write_completed_events(writer, standby, 30)
        await eventually(lambda: _none_unsent(writer), what="the standby to publish", timeout=30)
        assert standby.published == 30
    finally:
        for relay in relays:
            await relay.stop()
        for db in (*dbs, writer):
            await db.close()


async def _none_unsent(db) -> bool:
    return await db.read(count_unsent) == 0


def _register(url: str, auth: str, session_id: str, n: int) -> int:
    body = {
        "session_id": session_id,
        "participant": {
            "full_name": f"Worker Person {n}",
            "sector": "media",
            "city": "almaty",
            "language": "ru",
            "email": f"worker.{n}@workers.example.kz",
        },
    }
    with httpx.Client(headers={"Authorization": f"Bearer {auth}"}, timeout=30) as client:
        deadline = time.monotonic() + 60
        while True:
            response = client.post(f"{url}/registrations", json=body)
            # 404: the session copy has not arrived yet (only before the first 201).
            if response.status_code != 404 or time.monotonic() > deadline:
                return response.status_code
            time.sleep(0.05)


def _worker_pids(pid: int) -> list[int]:
    """uvicorn's worker processes (multiprocessing's resource tracker is a child too)."""
    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


async def _registered_events(nats_url: str) -> list[uuid.UUID]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            "registration.participant_registered.v1", stream=REGISTRATION.name
        )
        ids: list[uuid.UUID] = []
        while True:
            try:
                batch = await sub.fetch(500, timeout=1)
            except TimeoutError:
                return ids
            for msg in batch:
                event = decode_event(msg.data)
                assert isinstance(event, ParticipantRegistered)
                ids.append(event.registration_id)
                await msg.ack()
    finally:
        await nc.close()


def test_registration_with_two_workers_publishes_and_mails_each_registration_once(
    service_processes, fresh_nats_server
):
    nats_url = fresh_nats_server.url
    catcher = service_processes.mail_catcher()
    [registration] = service_processes.start(
        ["registration"],
        nats_url=nats_url,
        database="postgres",
        extra_env={"TRAINOPS_WORKERS": "2"},
    ).values()
    assert registration.pid is not None
    assert len(_worker_pids(registration.pid)) == 2
    sessions = bench_sessions(4)
    asyncio.run(publish_events(nats_url, sessions))
    auth = service_processes.token("coordinator", region="almaty")
    total = 240
    with ThreadPoolExecutor(16) as pool:
        statuses = list(
            pool.map(
                lambda n: _register(
                    registration.url, auth, str(sessions[n % len(sessions)].session_id), n
                ),
                range(total),
            )
        )
    assert statuses == [201] * total

    ids = asyncio.run(_wait_for_events(nats_url, total))
    assert len(ids) == total and len(set(ids)) == total

    deadline = time.monotonic() + 60
    while len(catcher.files()) < total and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(catcher.files()) == total
    assert catcher.duplicates == 0 and catcher.received == total

    leaders = [
        line
        for line in registration.log_path.read_text().splitlines()
        if '"leadership_taken"' in line
    ]
    assert [json.loads(line)["role"] for line in leaders] == ["outbox-relay:registration"]


async def _wait_for_events(nats_url: str, total: int) -> list[uuid.UUID]:
    async def count() -> int:
        nc = await nats.connect(nats_url)
        try:
            info = await nc.jetstream().stream_info(REGISTRATION.name)
            return info.state.messages
        finally:
            await nc.close()

    await eventually(lambda: _at_least(count, total), what=f"{total} events", timeout=60)
    return await _registered_events(nats_url)


async def _at_least(count, total: int) -> bool:
    return await count() >= total
