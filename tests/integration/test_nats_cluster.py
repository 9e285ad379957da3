"""The delivery guarantees on a 3-node NATS cluster with replicated (R3) streams, one node killed.

DESIGN §6: growing past one machine means a 3-node JetStream cluster with R3 streams; the part of
that which can be tried on one machine is this test. Three local ``nats-server`` processes form a
cluster, the streams are declared with three replicas, and the real plumbing (outbox relay,
idempotent consumer on SQLite) carries a burst of events while the leader of the stream is
SIGKILLed, keeps working on the remaining quorum of two, and goes on after the node comes back.
The invariant is the one of the single-server fault tests: every committed event is applied
exactly once and the outbox drains.

Only SQLite: the database is not what is under test here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import StreamInfo

from trainops_devtools.nats_server import ClusterOptions, NatsServer
from trainops_devtools.testing.counting import ApplicationCounter, write_completed_events
from trainops_devtools.testing.polling import eventually as poll
from trainops_devtools.testing.ports import free_port
from trainops_shared.broker import declare_all_streams
from trainops_shared.events import SessionCompleted
from trainops_shared.events.streams import SCHEDULING
from trainops_shared.inbox import EventConsumer
from trainops_shared.outbox import OutboxRelay, count_unsent
from trainops_shared.storage import Database, open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

CLUSTER_NAME = "trainops-test-cluster"
SERVICE = "clustered"

COUNTER = ApplicationCounter("cluster")


async def eventually(
    check: Callable[[], Awaitable[object]], *, timeout: float = 60.0, what: str
) -> object:
    """The shared poll, treating NATS errors as "not yet" while the cluster elects a leader."""
    return await poll(
        check, timeout, what=what, tolerate=(nats.errors.Error, TimeoutError, OSError)
    )


# --------------------------------------------------------------------------------------------
# The cluster
# --------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    nodes: dict[str, NatsServer]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes.values()]

    @property
    def url(self) -> str:
        """The multi-server form of ``NATS_URL`` (what ``settings.validate_nats_url`` accepts)."""
        return ",".join(self.urls)

    async def connect(self, *, first: str | None = None) -> NatsClient:
        """A client that knows every node (nats-py wants a list, not the comma-separated form);
        with ``first``, that node is tried first and the pool is not shuffled."""
        urls = self.urls
        if first is not None:
            urls = [self.nodes[first].url, *(u for u in urls if u != self.nodes[first].url)]
        return await nats.connect(
            servers=urls,
            name=f"{SERVICE}-test",
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
            dont_randomize=first is not None,
        )

    async def stream_info(self, stream: str) -> StreamInfo:
        nc = await self.connect()
        try:
            return await nc.jetstream(timeout=2).stream_info(stream)
        finally:
            await nc.close()


def start_cluster(factory: Callable[..., NatsServer], tmp_path: Path, size: int = 3) -> Cluster:
    """``size`` nats-servers routed to each other, each with its own store, on free ports."""
    names = [f"n{i + 1}" for i in range(size)]
    route_ports = {name: free_port() for name in names}
    routes = tuple(f"nats-route://127.0.0.1:{port}" for port in route_ports.values())
    nodes = {
        name: factory(
            name,
            store_dir=tmp_path / name,
            cluster=ClusterOptions(name=CLUSTER_NAME, port=route_ports[name], routes=routes),
        )
        for name in names
    }
    return Cluster(nodes)


async def declare_replicated_streams(cluster: Cluster) -> None:
    """Declare the streams R3 once the cluster has elected its JetStream meta leader (until then
    the API answers "JetStream system temporarily unavailable")."""

    async def declared() -> bool:
        try:
            # declare_all_streams takes one URL: any node forwards the request to the meta leader.
            await declare_all_streams(cluster.urls[0], [SCHEDULING], replicas=3)
        except Exception:
            return False
        return True

    await eventually(declared, timeout=60, what="the R3 streams to be declared")
    info = await cluster.stream_info(SCHEDULING.name)
    assert info.config.num_replicas == 3


async def stream_leader(cluster: Cluster, stream: str) -> str:
    async def leader() -> str | None:
        info = await cluster.stream_info(stream)
        return info.cluster.leader if info.cluster is not None else None

    return str(await eventually(leader, timeout=30, what=f"a leader for {stream}"))


# --------------------------------------------------------------------------------------------
# The plumbing of one service
# --------------------------------------------------------------------------------------------


@dataclass
class Plumbing:
    db: Database
    relay: OutboxRelay
    consumer: EventConsumer
    consumer_connection: NatsClient

    async def write_events(self, n: int) -> list[SessionCompleted]:
        return await write_completed_events(self.db, self.relay, n)

    async def applied(self) -> dict[str, int]:
        return await COUNTER.applied(self.db)

    async def applied_count(self) -> int:
        return len(await self.applied())


@contextlib.asynccontextmanager
async def plumbing(
    database_url: str, cluster: Cluster, *, consumer_on: str
) -> AsyncIterator[Plumbing]:
    """Outbox relay + idempotent consumer, both knowing every node so they fail over.

    The consumer's connection starts on ``consumer_on`` (the node about to be killed), so its
    fetch/ack path must fail over; the relay's PubAcks stall whichever node it is on, because the
    stream leader it publishes to is the one killed.
    """
    db = open_database(database_url)
    await db.start([PLUMBING_MIGRATIONS, COUNTER.migrations])
    relay = OutboxRelay(
        db,
        ",".join(cluster.urls),  # NATS_URL's form: the cluster's servers, comma-separated
        name=SERVICE,
        poll_interval=0.2,
        max_backoff=0.5,
        publish_timeout=2.0,
    )
    consumer = EventConsumer(
        service=SERVICE,
        db=db,
        handlers={SessionCompleted: COUNTER.apply},
        batch_size=200,
    )
    nc = await cluster.connect(first=consumer_on)
    try:
        await consumer.start(nc)
        await relay.start()
        yield Plumbing(db, relay, consumer, nc)
    finally:
        await relay.stop()
        await consumer.stop()
        await nc.close()
        await db.close()


# --------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------


# nats-py leaves the socket of a refused reconnect attempt (a node answering
# "Authorization Violation" while it rejoins) for the garbage collector; the warning that
# follows is the library's, and the test's counts still decide whether anything was lost.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function StreamWriter.__del__"
    ":pytest.PytestUnraisableExceptionWarning"
)
async def test_killing_the_stream_leader_of_an_r3_cluster_loses_and_doubles_nothing(
    nats_server_factory: Callable[..., NatsServer], tmp_path: Path
) -> None:
    cluster = await asyncio.to_thread(start_cluster, nats_server_factory, tmp_path)
    await declare_replicated_streams(cluster)
    leader = await stream_leader(cluster, SCHEDULING.name)
    victim = cluster.nodes[leader]
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cluster.db'}"

    async with plumbing(database_url, cluster, consumer_on=leader) as p:
        assert p.consumer_connection.connected_url is not None
        assert p.consumer_connection.connected_url.port == victim.port
        written: list[SessionCompleted] = []
        stop_writing = asyncio.Event()

        async def writer() -> None:
            """Commits 10 events per transaction until told to stop (at least 1,000)."""
            while not stop_writing.is_set() or len(written) < 1000:
                written.extend(await p.write_events(10))
                await asyncio.sleep(0.02)

        task = asyncio.create_task(writer())
        try:
            await eventually(
                lambda: _at_least(p.applied_count, 100), what="the burst to start flowing"
            )
            await asyncio.to_thread(victim.kill)  # SIGKILL the stream leader mid-burst
            killed_at = await p.applied_count()

            # Two of three nodes are a quorum: a new leader is elected and events keep flowing.
            new_leader = await stream_leader(cluster, SCHEDULING.name)
            assert new_leader != leader
            await eventually(
                lambda: _at_least(p.applied_count, killed_at + 300),
                what="events to flow through the surviving quorum",
            )
            assert p.consumer_connection.connected_url is not None
            assert p.consumer_connection.connected_url.port != victim.port

            await asyncio.to_thread(victim.start)  # same port, same store: it rejoins
            resumed_at = await p.applied_count()
            await eventually(
                lambda: _at_least(p.applied_count, resumed_at + 200),
                what="events to flow after the restart",
            )
        finally:
            stop_writing.set()
            await task

        total = len(written)
        assert total >= 1000
        await eventually(
            lambda: _at_least(p.applied_count, total), timeout=90, what=f"all {total} events"
        )
        await eventually(lambda: _outbox_drained(p.db), what="the outbox to drain")
        # Redeliveries of messages whose ack was lost with the leader come after ack_wait:
        # wait until the consumer has nothing pending, then count again.
        await eventually(
            lambda: _consumer_idle(p.consumer_connection, total),
            timeout=90,
            what="the consumer to have acknowledged everything",
        )
        assert await p.applied() == {str(e.event_id): 1 for e in written}
        assert p.consumer.dead_lettered == 0

    # The stream holds each event once (the duplicate window survived the leader change) and
    # the restarted node caught up as a current replica.
    async def replicas_current() -> StreamInfo | None:
        info = await cluster.stream_info(SCHEDULING.name)
        peers = info.cluster.replicas if info.cluster is not None else None
        if not peers or len(peers) != 2:
            return None
        return info if all(peer.current and not peer.offline for peer in peers) else None

    info = await eventually(replicas_current, what="all replicas to be current")
    assert isinstance(info, StreamInfo)
    assert info.state.messages == total


async def _at_least(count: Callable[[], Awaitable[int]], expected: int) -> bool:
    return bool(await count() >= expected)


async def _outbox_drained(db: Database) -> bool:
    return bool(await db.read(count_unsent) == 0)


async def _consumer_idle(nc: NatsClient, delivered: int) -> bool:
    info = await nc.jetstream(timeout=2).consumer_info(SCHEDULING.name, SERVICE)
    return bool(
        info.delivered.stream_seq >= delivered
        and info.num_pending == 0
        and info.num_ack_pending == 0
    )
