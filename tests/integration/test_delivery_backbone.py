"""The delivery guarantees on a real nats-server, on SQLite and on PostgreSQL.

Every event committed through the outbox is applied exactly once by an idempotent consumer:
through duplicate publishes, relay crashes, a SIGKILLed broker in the middle of a burst, and
poison messages that must not block the messages behind them.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats
import pytest
import sqlalchemy as sa
from nats.js.errors import NotFoundError

from trainops_devtools.testing.counting import ApplicationCounter, write_completed_events
from trainops_devtools.testing.polling import eventually
from trainops_shared.broker import declare_all_streams, make_broker
from trainops_shared.events import SessionCompleted, encode_event
from trainops_shared.events.streams import DEAD_LETTER, SCHEDULING
from trainops_shared.inbox import EventConsumer
from trainops_shared.outbox import OutboxRelay, count_unsent
from trainops_shared.storage import Database, open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS, outbox

pytestmark = pytest.mark.integration

COUNTER = ApplicationCounter("backbone")
FAILING = uuid.UUID(int=666)


def apply_completed(conn: sa.Connection, event: SessionCompleted) -> None:
    if event.session_id == FAILING:
        raise RuntimeError("this handler always fails for the failing session")
    COUNTER.apply(conn, event)


@dataclass
class Node:
    """One service's worth of plumbing: a database, its outbox relay and its consumer."""

    db: Database
    relay: OutboxRelay
    consumer: EventConsumer
    broker: object

    async def write_events(self, n: int) -> list[SessionCompleted]:
        return await write_completed_events(self.db, self.relay, n)

    async def applied(self) -> dict[str, int]:
        return await COUNTER.applied(self.db)


@contextlib.asynccontextmanager
async def node(
    url: str,
    nats_url: str,
    *,
    relay: bool = True,
    max_attempts: int = 3,
    max_deliver: int | None = None,
) -> AsyncIterator[Node]:
    db = open_database(url)
    await db.start([PLUMBING_MIGRATIONS, COUNTER.migrations])
    await declare_all_streams(nats_url, [SCHEDULING])
    broker = make_broker(nats_url, service="backbone", timeout=2)
    the_relay = OutboxRelay(db, nats_url, name="backbone", poll_interval=0.2, max_backoff=0.5)
    consumer = EventConsumer(
        service="backbone",
        db=db,
        handlers={SessionCompleted: apply_completed},
        max_attempts=max_attempts,
        max_deliver=max_deliver,
        batch_size=200,
        ack_wait=3.0,  # a batch in flight when the broker dies comes back after this
    )
    await broker.start()
    await consumer.start(broker.config.connection_state.connection)
    if relay:
        await the_relay.start()
    try:
        yield Node(db, the_relay, consumer, broker)
    finally:
        await the_relay.stop()
        await consumer.stop()
        await broker.stop()
        await db.close()


async def stream_messages(nats_url: str, stream: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        try:
            info = await nc.jetstream().stream_info(stream)
        except NotFoundError:
            return 0
        return info.state.messages
    finally:
        await nc.close()


async def test_event_written_through_outbox_arrives_once(database_url, fresh_nats_server):
    async with node(database_url, fresh_nats_server.url) as n:
        [event] = await n.write_events(1)
        await eventually(lambda: n.applied(), what="the event to be applied")
        assert await n.applied() == {str(event.event_id): 1}
        assert await n.db.read(count_unsent) == 0
        assert await stream_messages(fresh_nats_server.url, "SCHEDULING") == 1


async def test_republish_after_puback_is_dropped_and_never_double_applied(
    database_url, fresh_nats_server
):
    async with node(database_url, fresh_nats_server.url) as n:
        events = await n.write_events(5)
        await eventually(lambda: _all_sent(n.db), what="the outbox to drain")
        # The relay crashed after the PubAck but before "mark sent": the rows look unsent again.
        await n.db.write(lambda c: c.execute(outbox.update().values(sent_at=None)))
        n.relay.notify()
        await eventually(lambda: _all_sent(n.db), what="the re-publish")
        assert await stream_messages(fresh_nats_server.url, "SCHEDULING") == 5
        # Even a copy JetStream cannot recognise (another Nats-Msg-Id) is applied once only.
        nc = await nats.connect(fresh_nats_server.url)
        await nc.jetstream().publish(
            events[0].subject, encode_event(events[0]), headers={"Nats-Msg-Id": "other-id"}
        )
        await nc.close()
        await eventually(
            lambda: _consumer_caught_up(fresh_nats_server.url, 6), what="the copy to be consumed"
        )
        assert await n.applied() == {str(e.event_id): 1 for e in events}


async def test_relay_killed_between_commit_and_publish_republishes_after_restart(
    database_url, fresh_nats_server
):
    async with node(database_url, fresh_nats_server.url, relay=False) as n:
        events = await n.write_events(20)  # committed; no relay runs: "crashed" before publishing
        assert await n.db.read(count_unsent) == 20
        assert await stream_messages(fresh_nats_server.url, "SCHEDULING") == 0
    async with node(database_url, fresh_nats_server.url, relay=True) as restarted:
        await eventually(
            lambda: _applied_count(restarted, 20), what="all 20 events after the restart"
        )
        assert await restarted.applied() == {str(e.event_id): 1 for e in events}


async def test_sigkill_of_nats_during_a_burst_loses_and_doubles_nothing(
    database_url, fresh_nats_server
):
    server = fresh_nats_server
    async with node(database_url, server.url) as n:
        written: list[SessionCompleted] = []

        async def burst() -> None:
            for _ in range(100):  # 1,000 events in 100 transactions of 10
                written.extend(await n.write_events(10))
                await asyncio.sleep(0)

        task = asyncio.create_task(burst())
        await eventually(lambda: _applied_count(n, 50), what="the burst to start flowing")
        await asyncio.to_thread(server.kill)  # SIGKILL, mid-burst
        await asyncio.sleep(0.2)  # let writes pile up in the outbox while NATS is gone
        await asyncio.to_thread(server.start)
        await task
        assert len(written) == 1000
        await eventually(lambda: _applied_count(n, 1000), timeout=90, what="all 1,000 events")
        applied = await n.applied()
        assert applied == {str(e.event_id): 1 for e in written}
        assert await n.db.read(count_unsent) == 0


async def test_poison_messages_are_dead_lettered_and_later_messages_flow(
    database_url, fresh_nats_server
):
    url = fresh_nats_server.url
    async with node(database_url, url, max_attempts=3) as n:
        nc = await nats.connect(url)
        js = nc.jetstream()
        await js.publish(
            "scheduling.session_completed.v1", b"{not json", headers={"Nats-Msg-Id": "p1"}
        )
        failing = SessionCompleted(aggregate_id=FAILING, session_id=FAILING)
        await js.publish(failing.subject, encode_event(failing), headers={"Nats-Msg-Id": "p2"})
        events = await n.write_events(3)
        await eventually(lambda: _applied_count(n, 3), what="the good events behind the poison")
        await eventually(
            lambda: stream_messages(url, DEAD_LETTER.name), timeout=30, what="dead letters"
        )
        await eventually(
            lambda: _dead_letter_count(url, 2), timeout=30, what="both poison messages"
        )
        sub = await js.pull_subscribe("deadletter.>", durable="inspector", stream=DEAD_LETTER.name)
        dead = await sub.fetch(2, timeout=5)
        reasons = {m.headers["Trainops-Original-Seq"]: m.headers["Trainops-Reason"] for m in dead}
        assert "undecodable event" in reasons["1"]
        assert "handler failed 3 times" in reasons["2"]
        assert dead[0].data == b"{not json"
        assert all(m.subject.startswith("deadletter.backbone.scheduling.") for m in dead)
        await nc.close()
        assert await n.applied() == {str(e.event_id): 1 for e in events}


async def test_a_message_the_server_gives_up_on_is_dead_lettered_too(
    database_url, fresh_nats_server
):
    """The server's own bound (a consumer that never acks, e.g. crashing on the message every
    time) ends in the dead-letter stream through the MAX_DELIVERIES advisory, not in silence."""
    url = fresh_nats_server.url
    async with node(database_url, url, max_attempts=100, max_deliver=2) as n:
        failing = SessionCompleted(aggregate_id=FAILING, session_id=FAILING)
        nc = await nats.connect(url)
        js = nc.jetstream()
        await js.publish(failing.subject, encode_event(failing), headers={"Nats-Msg-Id": "f1"})
        events = await n.write_events(2)
        await eventually(lambda: _dead_letter_count(url, 1), timeout=30, what="the dead letter")
        sub = await js.pull_subscribe("deadletter.>", durable="inspector", stream=DEAD_LETTER.name)
        [dead] = await sub.fetch(1, timeout=5)
        assert "max deliveries (2) exceeded" in dead.headers["Trainops-Reason"]
        assert dead.headers["Trainops-Original-Seq"] == "1"
        assert dead.data == encode_event(failing)
        await nc.close()
        await eventually(lambda: _applied_count(n, 2), what="the events behind it")
        assert await n.applied() == {str(e.event_id): 1 for e in events}


async def _all_sent(db: Database) -> bool:
    return await db.read(count_unsent) == 0


async def _applied_count(n: Node, expected: int) -> bool:
    return len(await n.applied()) >= expected


async def _dead_letter_count(url: str, expected: int) -> bool:
    return await stream_messages(url, DEAD_LETTER.name) >= expected


async def _consumer_caught_up(url: str, delivered: int) -> bool:
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().consumer_info("SCHEDULING", "backbone")
        return info.delivered.stream_seq >= delivered and info.num_ack_pending == 0
    finally:
        await nc.close()


async def test_relay_holds_one_reply_subscription_however_many_batches(
    database_url, fresh_nats_server
):
    # Each JetStream context subscribes its own reply inbox on first publish and nats-py never
    # removes it: a relay that made one per batch grew by a subscription per batch.
    async with node(database_url, fresh_nats_server.url, relay=False) as n:
        await n.write_events(1)
        assert await n.relay.publish_pending() == 1
        client = n.relay._nc
        assert client is not None
        subscriptions = len(client._subs)
        for _ in range(300):
            await n.write_events(1)
            assert await n.relay.publish_pending() == 1
        assert len(client._subs) == subscriptions
        assert await stream_messages(fresh_nats_server.url, "SCHEDULING") == 301


async def test_a_payload_of_another_type_than_its_subject_is_dead_lettered(
    database_url, fresh_nats_server
):
    url = fresh_nats_server.url
    async with node(database_url, url) as n:
        nc = await nats.connect(url)
        js = nc.jetstream()
        # A well-formed session_completed payload published where session_cancelled belongs.
        forged = SessionCompleted(aggregate_id=(sid := uuid.uuid4()), session_id=sid)
        await js.publish(
            "scheduling.session_cancelled.v1", encode_event(forged), headers={"Nats-Msg-Id": "f1"}
        )
        events = await n.write_events(1)
        await eventually(lambda: _dead_letter_count(url, 1), timeout=30, what="the dead letter")
        sub = await js.pull_subscribe("deadletter.>", durable="inspector", stream=DEAD_LETTER.name)
        [dead] = await sub.fetch(1, timeout=5)
        assert (
            "does not match subject scheduling.session_cancelled.v1"
            in (dead.headers["Trainops-Reason"])
        )
        await nc.close()
        await eventually(lambda: _applied_count(n, 1), what="the real event")
        assert await n.applied() == {str(e.event_id): 1 for e in events}
