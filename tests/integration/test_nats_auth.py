"""The event bus is authenticated: who may connect, publish, declare and consume.

Each test runs on a server of its own with the generated users (``fresh_nats_server``), the
configuration ``trainops up`` runs. What a service needs (declaring its streams, the outbox
relay, its durable pull consumer, dead letters) works as its own user; what it must not do
(connect without credentials, publish another context's events, use another service's consumer,
read a stream it does not consume, listen on another client's replies) is refused, and nothing
refused reaches a stream.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import nats.errors
import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing.polling import eventually
from trainops_shared.broker import (
    NatsUnavailable,
    declare_all_streams,
    make_broker,
    probe_nats,
)
from trainops_shared.events import SessionCompleted
from trainops_shared.events.streams import (
    DEAD_LETTER,
    DUPLICATE_WINDOW_SECONDS,
    FEEDBACK,
    REGISTRATION,
    SCHEDULING,
    stream_for_subject,
)
from trainops_shared.inbox import EventConsumer
from trainops_shared.nats_auth import CONSUMES, inbox_prefix, render_authorization
from trainops_shared.outbox import OutboxRelay, count_unsent, record_events
from trainops_shared.storage import Database, Migration, MigrationSet, open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
ALL_STREAMS = [SCHEDULING, REGISTRATION, FEEDBACK]
FORGED = {
    "registration.participant_registered.v1": REGISTRATION.name,
    # a forged merge would fold two people into one in the reports
    "registration.participants_merged.v1": REGISTRATION.name,
    "feedback.feedback_submitted.v1": FEEDBACK.name,
}


def anonymous_connect_reply(address: str) -> str:
    """Speak the protocol without credentials (nats-py leaks its socket on a refusal)."""
    host, port = address.removeprefix("nats://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=3) as sock:
        sock.recv(65536)  # INFO
        sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
        return sock.recv(4096).decode()


class Client:
    """A connection as one user that records the server's asynchronous errors."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []
        self.nc: NatsClient | None = None

    async def on_error(self, exc: Exception) -> None:
        self.errors.append(exc)

    def violations(self) -> list[str]:
        return [str(e) for e in self.errors if "permissions violation" in str(e).lower()]

    async def refused(self, count: int, kind: str = "") -> None:
        """Wait until the server has reported ``count`` violations (of ``kind``)."""

        async def enough() -> bool:
            return sum(kind.lower() in v.lower() for v in self.violations()) >= count

        await eventually(enough, 5, what=f"{count} permission violations {kind}")


@contextlib.asynccontextmanager
async def connect_as(server: NatsServer, user: str) -> AsyncIterator[tuple[NatsClient, Client]]:
    client = Client()
    nc = await nats.connect(
        server.url_for(user),
        inbox_prefix=inbox_prefix(user),
        error_cb=client.on_error,
        allow_reconnect=False,
        connect_timeout=2,
    )
    client.nc = nc
    try:
        yield nc, client
    finally:
        await nc.close()


async def stream_counts(server: NatsServer) -> dict[str, int]:
    nc = await nats.connect(server.url, allow_reconnect=False)
    try:
        js = nc.jetstream(timeout=5)
        return {s.name: (await js.stream_info(s.name)).state.messages for s in ALL_STREAMS}
    finally:
        await nc.close()


async def test_a_client_without_valid_credentials_cannot_connect(
    fresh_nats_server: NatsServer,
) -> None:
    server = fresh_nats_server
    assert anonymous_connect_reply(server.address).startswith("-ERR 'Authorization Violation'")
    with pytest.raises(NatsUnavailable, match="refused a client without credentials"):
        await probe_nats(server.address, 2)
    wrong = server.url_for("registration").replace("registration:", "registration:x", 1)
    with pytest.raises(NatsUnavailable) as info:
        await probe_nats(wrong, 2)
    assert "refused the credentials of user 'registration'" in str(info.value)
    assert server.auth is not None
    assert server.auth.credentials["registration"].password not in str(info.value)
    await probe_nats(server.url_for("registration"), 2)  # the right ones are accepted


@pytest.mark.parametrize("user", ["reporting", "scheduling"])
async def test_a_service_cannot_publish_registration_or_feedback_events(
    fresh_nats_server: NatsServer, user: str
) -> None:
    """The forgery of item 4: reporting (or any other service) publishing the events reporting
    counts. The server refuses each publish and no message reaches the streams."""
    server = fresh_nats_server
    await declare_all_streams(server.url, ALL_STREAMS)
    before = await stream_counts(server)
    async with connect_as(server, user) as (nc, client):
        js = nc.jetstream(timeout=1)
        for subject, stream in FORGED.items():
            await nc.publish(subject, b'{"type": "forged"}')
            with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
                await js.publish(subject, b'{"type": "forged"}', stream=stream)
        await nc.flush()
        await client.refused(2 * len(FORGED))
        assert all("publish" in v.lower() for v in client.violations()), client.violations()
    assert await stream_counts(server) == before


async def test_each_service_publishes_only_its_own_context(
    fresh_nats_server: NatsServer,
) -> None:
    server = fresh_nats_server
    await declare_all_streams(server.url, ALL_STREAMS)
    own = {"registration": REGISTRATION, "scheduling": SCHEDULING, "feedback": FEEDBACK}
    for user, spec in own.items():
        async with connect_as(server, user) as (nc, client):
            js = nc.jetstream(timeout=3)
            ack = await js.publish(f"{spec.context}.probe.v1", b"{}", stream=spec.name)
            assert ack.stream == spec.name
            for other in own.values():
                if other is not spec:
                    await nc.publish(f"{other.context}.forged.v1", b"{}")
            await nc.publish(f"{DEAD_LETTER.context}.someone-else.x", b"{}")
            await nc.flush()
            await client.refused(3)
    assert await stream_counts(server) == {s.name: 1 for s in ALL_STREAMS}


async def test_consumers_and_reads_are_limited_to_what_a_service_consumes(
    fresh_nats_server: NatsServer,
) -> None:
    server = fresh_nats_server
    await declare_all_streams(server.url, ALL_STREAMS)
    async with connect_as(server, "scheduling") as (nc, _):
        await nc.jetstream(timeout=3).publish("scheduling.probe.v1", b"{}", stream="SCHEDULING")
    async with connect_as(server, "feedback") as (nc, _):
        await nc.jetstream(timeout=3).publish("feedback.probe.v1", b"{}", stream="FEEDBACK")
    async with connect_as(server, "registration") as (nc, client):
        js = nc.jetstream(timeout=1)
        sub = await js.pull_subscribe("scheduling.>", durable="registration", stream="SCHEDULING")
        [msg] = await sub.fetch(1, timeout=3)
        await msg.ack_sync()
        assert (await js.get_msg("SCHEDULING", 1)).data == b"{}"  # the dead-letter path's read
        with pytest.raises(nats.errors.TimeoutError):  # another service's consumer
            await js.pull_subscribe("scheduling.>", durable="reporting", stream="SCHEDULING")
        # Feedback's answers are read too (who answered: no more reminders).
        sub = await js.pull_subscribe("feedback.>", durable="registration", stream="FEEDBACK")
        [msg] = await sub.fetch(1, timeout=3)
        await msg.ack_sync()
        with pytest.raises(nats.errors.TimeoutError):  # a stream registration does not consume
            await js.pull_subscribe("identity.>", durable="registration", stream="IDENTITY")
        with pytest.raises(nats.errors.TimeoutError):  # nor reads back (its own: it publishes)
            await js.get_msg("REGISTRATION", 1)
        with pytest.raises(nats.errors.TimeoutError):  # streams are never deleted by services
            await js.delete_stream("SCHEDULING")
        # Other clients' replies (pull responses, PubAcks) are not for registration to hear.
        await nc.subscribe("_INBOX.>")
        await nc.subscribe(f"{inbox_prefix('reporting')}.>")
        await nc.flush()
        await client.refused(2, "subscription")


meta = sa.MetaData()
applied = sa.Table("applied", meta, sa.Column("event_id", sa.String(36), primary_key=True))
MIGRATIONS = MigrationSet("authtest", (Migration(1, "applied", meta.create_all),))
POISON = uuid.UUID(int=7)


def apply(conn: sa.Connection, event: SessionCompleted) -> None:
    if event.session_id == POISON:
        raise ValueError("this session is poison")
    conn.execute(applied.insert().values(event_id=str(event.event_id)))


async def test_relay_consumer_and_dead_letters_work_as_the_services_own_users(
    fresh_nats_server: NatsServer, tmp_path: Path
) -> None:
    """Scheduling's relay publishes through its outbox, registration's durable pull consumer
    (through the FastStream broker's connection) applies the events and dead-letters a poison
    one, each connected with its own user and inbox prefix: the whole path a service needs."""
    server = fresh_nats_server
    producer_db: Database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    consumer_db: Database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await producer_db.start([PLUMBING_MIGRATIONS])
    await consumer_db.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    scheduling_url = server.url_for("scheduling")
    registration_url = server.url_for("registration")
    await declare_all_streams(scheduling_url, [SCHEDULING])
    await declare_all_streams(registration_url, [SCHEDULING])  # existing and equal: no update
    relay = OutboxRelay(producer_db, scheduling_url, name="scheduling", poll_interval=0.2)
    broker = make_broker(registration_url, service="registration", timeout=2)
    consumer = EventConsumer(
        service="registration",
        db=consumer_db,
        handlers={SessionCompleted: apply},
        max_attempts=2,
        batch_size=50,
    )
    await broker.start()
    await consumer.start(broker.config.connection_state.connection)
    await relay.start()
    try:
        good = [SessionCompleted(aggregate_id=(s := uuid.uuid4()), session_id=s) for _ in range(5)]
        poison = SessionCompleted(aggregate_id=POISON, session_id=POISON)
        await producer_db.write(lambda c: record_events(c, [*good, poison]))
        relay.notify()

        async def all_applied() -> bool | None:
            rows = await consumer_db.read(lambda c: c.execute(sa.select(applied)).all())
            return len(rows) == len(good) or None

        await eventually(all_applied, 30, what="the good events applied")

        async def dead_lettered() -> bool:
            return consumer.dead_lettered == 1

        await eventually(dead_lettered, 30, what="a dead letter")
        assert await producer_db.read(count_unsent) == 0
    finally:
        await relay.stop()
        await consumer.stop()
        await broker.stop()
        await producer_db.close()
        await consumer_db.close()
    nc = await nats.connect(server.url, allow_reconnect=False)
    try:
        js = nc.jetstream(timeout=5)
        letter = await js.get_msg(DEAD_LETTER.name, seq=1)
        assert letter.subject == "deadletter.registration.scheduling.session_completed.v1"
    finally:
        await nc.close()


async def test_credentials_survive_a_restart_of_the_server(fresh_nats_server: NatsServer) -> None:
    server = fresh_nats_server
    await declare_all_streams(server.url_for("scheduling"), [SCHEDULING])
    server.restart(kill=True)
    async with connect_as(server, "scheduling") as (nc, _):
        ack = await nc.jetstream(timeout=3).publish("scheduling.x.v1", b"{}", stream="SCHEDULING")
        assert ack.seq == 1
    assert (server.store_dir / "auth.conf").stat().st_mode & 0o077 == 0
    assert server.config_path.stat().st_mode & 0o077 == 0


def test_deploy_auth_conf_is_the_generated_permission_table() -> None:
    assert (REPO / "deploy" / "nats" / "auth.conf").read_text() == render_authorization()


def test_consumed_streams_match_every_services_event_handlers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The permission table names the streams each service reads; its handlers decide them."""
    import importlib

    from trainops_devtools.testing.tokens import TEST_JWT_ENV, TEST_SIGNING_KEY
    from trainops_shared.credentials import private_key_pem, write_secret_file

    # The identity service signs with the private half of the key the others verify with.
    key_file = tmp_path / "signing.key"
    write_secret_file(key_file, private_key_pem(TEST_SIGNING_KEY).encode())
    monkeypatch.setenv("JWT_SIGNING_KEY_FILE", str(key_file))

    for service, consumed in CONSUMES.items():
        app = importlib.import_module(f"trainops_{service}.app")
        from trainops_shared.settings import load_settings

        settings = load_settings(service, {**TEST_JWT_ENV, "TRAINOPS_DATA_DIR": str(tmp_path)})
        spec = app.build_spec(settings)
        read = {stream_for_subject(t.type_name()).name for t in spec.event_handlers}
        assert sorted(read) == sorted(consumed), service


async def test_a_consumer_starts_even_if_a_stream_it_may_not_update_differs(
    fresh_nats_server: NatsServer,
) -> None:
    """A stream declared differently (an older version of its producer) is left to its
    producer: a consumer's declaration, which may not update it, does not stop the consumer."""
    server = fresh_nats_server
    nc = await nats.connect(server.url, allow_reconnect=False)
    try:
        await nc.jetstream().add_stream(name="SCHEDULING", subjects=["scheduling.>"])
    finally:
        await nc.close()
    await declare_all_streams(server.url_for("registration"), [SCHEDULING])
    await declare_all_streams(server.url_for("scheduling"), [SCHEDULING])  # its producer may
    nc = await nats.connect(server.url, allow_reconnect=False)
    try:
        info = await nc.jetstream().stream_info("SCHEDULING")
        assert info.config.duplicate_window == DUPLICATE_WINDOW_SECONDS
    finally:
        await nc.close()
