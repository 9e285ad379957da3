"""``trainops rebuild reporting`` end to end on a real nats-server: progress, then the rebuilt
file and its manifest; a URL it cannot rebuild is refused with one clear line."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import nats
import pytest

from trainops_cli import main as cli_main
from trainops_devtools.nats_server import NatsServer
from trainops_reporting.adapters import rebuilt_store
from trainops_shared.broker import declare_all_streams
from trainops_shared.events import SessionScheduled, TrainingDefined, encode_event
from trainops_shared.events.streams import FEEDBACK, REGISTRATION, SCHEDULING
from trainops_shared.timeutil import utc_now

pytestmark = pytest.mark.integration


def _cli(argv: list[str]) -> int:
    args = cli_main.build_parser().parse_args(argv)
    return int(args.func(args))


async def test_rebuild_prints_progress_and_publishes_a_complete_model(
    fresh_nats_server: NatsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_nats_server.url
    await declare_all_streams(url, [SCHEDULING, REGISTRATION, FEEDBACK])
    training_id = uuid.uuid4()
    session_id = uuid.uuid4()
    now = utc_now()
    events = [
        TrainingDefined(
            aggregate_id=training_id,
            training_id=training_id,
            code="T1",
            title={"en": "T1"},
            target_sectors=[],
        ),
        SessionScheduled(
            aggregate_id=session_id,
            session_id=session_id,
            training_id=training_id,
            mode="online",
            cities=["almaty"],
            timezone="Asia/Almaty",
            starts_at=now,
            ends_at=now,
            capacity=10,
            language="kk",
        ),
    ]
    nc = await nats.connect(url)
    try:
        js = nc.jetstream(timeout=10)
        for event in events:
            await js.publish(event.subject, encode_event(event), stream=SCHEDULING.name)
    finally:
        await nc.close()
    live = tmp_path / "reporting.db"
    argv = ["rebuild", "reporting", "--database-url", f"sqlite:///{live}", "--nats-url", url]
    assert await asyncio.to_thread(_cli, argv) == 0
    out = capsys.readouterr().out
    assert "100.0%" in out and "ev/s" in out
    assert "rebuilt: 2 events" in out
    assert rebuilt_store.pending_manifest(live) == {
        SCHEDULING.name: 2,
        REGISTRATION.name: 0,
        FEEDBACK.name: 0,
    }


def test_a_database_it_cannot_rebuild_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["rebuild", "reporting", "--database-url", "postgresql+asyncpg://u@h/db"]
    assert _cli(argv) == 1
    err = capsys.readouterr().err
    assert "trainops rebuild: " in err and "not a SQLite file" in err
