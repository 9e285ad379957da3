"""``trainops deadletters`` against a real nats-server and a real dead letter.

A handler that fails until its cause is "fixed" makes the real :class:`EventConsumer` dead-letter
an event (``max_attempts=2``); the CLI lists it without consuming it, replays it after the fix,
and the event is then applied exactly once with the dead-letter stream left empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import nats
import pytest
import sqlalchemy as sa

from trainops_cli import main as cli_main
from trainops_devtools.testing.counting import ApplicationCounter
from trainops_devtools.testing.polling import eventually
from trainops_shared.broker import declare_all_streams
from trainops_shared.events import SessionCompleted, encode_event
from trainops_shared.events.streams import DEAD_LETTER, SCHEDULING
from trainops_shared.inbox import EventConsumer
from trainops_shared.storage import Database, open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

CONSUMER = "dlqtest"

COUNTER = ApplicationCounter("dlq")


@dataclass
class Switch:
    """The cause of the failure; the operator "fixes" it by flipping ``fixed``."""

    fixed: bool = False
    attempts: int = 0


def counting_handler(switch: Switch) -> Callable[[sa.Connection, SessionCompleted], None]:
    def handle(conn: sa.Connection, event: SessionCompleted) -> None:
        switch.attempts += 1
        if not switch.fixed:
            raise RuntimeError("projection table is being migrated")
        COUNTER.apply(conn, event)

    return handle


@contextlib.asynccontextmanager
async def consuming(database_url: str, nats_url: str, switch: Switch) -> AsyncIterator[Database]:
    db = open_database(database_url)
    await db.start([PLUMBING_MIGRATIONS, COUNTER.migrations])
    await declare_all_streams(nats_url, [SCHEDULING])
    nc = await nats.connect(nats_url, name="dlqtest")
    consumer = EventConsumer(
        service=CONSUMER,
        db=db,
        handlers={SessionCompleted: counting_handler(switch)},
        max_attempts=2,
        fetch_timeout=0.2,
    )
    try:
        await consumer.start(nc)
        yield db
    finally:
        await consumer.stop()
        await nc.close()
        await db.close()


async def applied(db: Database) -> dict[str, int]:
    return await COUNTER.applied(db)


async def dead_letter_count(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().stream_info(DEAD_LETTER.name)).state.messages
    finally:
        await nc.close()


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``trainops <argv>`` as the console script would (it runs its own event loop, so in
    a worker thread) and return (exit code, stdout, stderr)."""
    capsys.readouterr()

    def run() -> int:
        parser = cli_main.build_parser()
        args = parser.parse_args(list(argv))
        return int(args.func(args) or 0)

    code = await asyncio.to_thread(run)
    out, err = capsys.readouterr()
    return code, out, err


async def test_dead_letter_is_listed_then_replayed_and_applied_once(
    fresh_nats_server: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_nats_server.url
    switch = Switch()
    event = SessionCompleted(aggregate_id=(sid := uuid.uuid4()), session_id=sid)
    async with consuming(f"sqlite+aiosqlite:///{tmp_path / 'dlq.db'}", url, switch) as db:
        nc = await nats.connect(url)
        ack = await nc.jetstream().publish(
            event.subject, encode_event(event), headers={"Nats-Msg-Id": str(event.event_id)}
        )
        await nc.close()
        await eventually(lambda: dead_letter_count(url), what="the event to be dead-lettered")

        # list: the dead letter with where it came from and why; listing consumes nothing.
        for _ in range(2):
            code, out, err = await cli(capsys, "deadletters", "list", "--json", "--nats-url", url)
            assert (code, err) == (0, "")
            listing = json.loads(out)
            assert listing["truncated"] is False
            [letter] = listing["dead_letters"]
            assert letter["consumer"] == CONSUMER
            assert letter["original_subject"] == event.subject
            assert letter["original_stream"] == SCHEDULING.name
            assert letter["original_seq"] == ack.seq
            assert letter["attempts"] == 2
            assert "handler failed 2 times" in letter["reason"]
            assert "projection table is being migrated" in letter["reason"]
            assert letter["event_id"] == str(event.event_id)
            assert letter["subject"] == f"deadletter.{CONSUMER}.{event.subject}"
            assert letter["time"] is not None
        dl_seq = letter["seq"]

        code, out, _ = await cli(capsys, "deadletters", "list", "--nats-url", url)
        assert code == 0
        assert "SEQ" in out and CONSUMER in out and event.subject in out
        code, out, _ = await cli(
            capsys, "deadletters", "list", "--consumer", "someone-else", "--nats-url", url
        )
        assert (code, out.strip()) == (0, "no dead letters of consumer 'someone-else'")

        # Unknown sequences are refused before anything is replayed.
        code, _, err = await cli(
            capsys, "deadletters", "replay", str(dl_seq), "999", "--nats-url", url
        )
        assert code == 1
        assert "no dead letter with sequence 999" in err and "nothing was replayed" in err
        assert await dead_letter_count(url) == 1

        # A dry run changes nothing.
        code, out, _ = await cli(
            capsys, "deadletters", "replay", "--all", "--dry-run", "--nats-url", url
        )
        assert code == 0 and "would replay" in out
        assert await dead_letter_count(url) == 1
        assert await applied(db) == {}

        # The operator fixes the cause and replays.
        switch.fixed = True
        code, out, err = await cli(
            capsys, "deadletters", "replay", str(dl_seq), "--json", "--nats-url", url
        )
        assert (code, err) == (0, "")
        [result] = json.loads(out)["replayed"]
        assert result["status"] == "replayed"
        assert result["msg_id"] == f"replay:{dl_seq}:{event.event_id}"
        assert result["new_seq"] > ack.seq

        await eventually(lambda: applied(db), what="the replayed event to be applied")
        assert await dead_letter_count(url) == 0
        code, out, _ = await cli(capsys, "deadletters", "list", "--json", "--nats-url", url)
        assert json.loads(out)["dead_letters"] == []

        # Replaying the same sequence again is an unknown sequence now, and even a copy with
        # another message id is skipped by the inbox: the event stays applied once.
        code, _, err = await cli(capsys, "deadletters", "replay", str(dl_seq), "--nats-url", url)
        assert code == 1 and f"no dead letter with sequence {dl_seq}" in err
        nc = await nats.connect(url)
        await nc.jetstream().publish(
            event.subject, encode_event(event), headers={"Nats-Msg-Id": "another-copy"}
        )
        await nc.close()
        await eventually(
            lambda: _consumer_caught_up(url, result["new_seq"] + 1), what="the copy to be acked"
        )
        assert await applied(db) == {str(event.event_id): 1}
        assert await dead_letter_count(url) == 0


async def test_unreachable_nats_fails_fast_with_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from trainops_devtools.testing.ports import free_port

    url = f"nats://127.0.0.1:{free_port()}"
    started = time.monotonic()
    code, out, err = await cli(capsys, "deadletters", "list", "--nats-url", url, "--timeout", "1")
    assert time.monotonic() - started < 10
    assert code == 1 and out == ""
    assert f"cannot reach NATS at {url}" in err
    code, _, err = await cli(capsys, "deadletters", "replay", "--all", "--nats-url", "http://x")
    assert code == 1 and "is not a nats://host:port URL" in err


async def _consumer_caught_up(url: str, stream_seq: int) -> bool:
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().consumer_info(SCHEDULING.name, CONSUMER)
        return bool(info.delivered.stream_seq >= stream_seq and info.num_ack_pending == 0)
    finally:
        await nc.close()
