"""Test helpers of the feedback service: an event builder and a publisher to real JetStream.

Fixtures only (no ``pytest_plugins`` here: the shared plugin is registered by the top-level
``tests/conftest.py``; run these tests from the repository root, or pass
``-p trainops_devtools.testing.pytest_plugin`` when selecting only this directory).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import nats
import pytest
import sqlalchemy as sa
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.ext.asyncio import create_async_engine

from trainops_devtools.testing.polling import eventually as _eventually
from trainops_devtools.testing.ports import free_port
from trainops_devtools.testing.tokens import TEST_JWT_ENV, in_process_settings
from trainops_feedback.app import build_spec
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    ParticipantProfile,
    ParticipantRegistered,
    RegistrationCancelled,
    SessionCompleted,
    SessionScheduled,
    TrainingDefined,
    decode_event,
    encode_event,
)
from trainops_shared.service import create_app
from trainops_shared.settings import load_settings


class EventFactory:
    """Builds events the way their producers do: one version counter per aggregate.

    Aggregates: a training, a session, a registration (created, cancelled, attendance).
    """

    def __init__(self) -> None:
        self.versions: dict[uuid.UUID, int] = defaultdict(int)

    def _emit(self, factory: Callable[..., Event], aggregate: uuid.UUID, **fields: Any) -> Any:
        self.versions[aggregate] += 1
        return factory(aggregate_id=aggregate, aggregate_version=self.versions[aggregate], **fields)

    def training(self, title: dict[str, str] | None = None) -> TrainingDefined:
        training_id = uuid.uuid4()
        event: TrainingDefined = self._emit(
            TrainingDefined,
            training_id,
            training_id=training_id,
            code=f"ethics-{training_id.hex[:6]}",
            title=title
            or {
                "en": "Ethical coverage of children's issues",
                "ru": "Этичное освещение проблем детей",
                "kk": "Балалар мәселелерін әдепті жариялау",
            },
        )
        return event

    def session(
        self,
        training_id: uuid.UUID,
        cities: Iterable[str] = ("almaty", "aktobe"),
        starts_at: datetime = datetime(2020, 12, 22, 4, 0, tzinfo=UTC),
    ) -> SessionScheduled:
        session_id = uuid.uuid4()
        event: SessionScheduled = self._emit(
            SessionScheduled,
            session_id,
            session_id=session_id,
            training_id=training_id,
            mode="online",
            cities=list(cities),
            timezone="Asia/Almaty",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=8),
            capacity=30,
            language="ru",
        )
        return event

    def complete(self, session_id: uuid.UUID) -> SessionCompleted:
        event: SessionCompleted = self._emit(SessionCompleted, session_id, session_id=session_id)
        return event

    def register(
        self, session_id: uuid.UUID, *, city: str = "almaty", language: str = "ru"
    ) -> ParticipantRegistered:
        registration_id = uuid.uuid4()
        event: ParticipantRegistered = self._emit(
            ParticipantRegistered,
            registration_id,
            registration_id=registration_id,
            session_id=session_id,
            participant_id=uuid.uuid4(),
            status="confirmed",
            profile=ParticipantProfile(
                city=city, sector="media", sex="female", age_band="25-34", language=language
            ),
        )
        return event

    def attend(self, reg: ParticipantRegistered, attended: bool = True) -> AttendanceRecorded:
        event: AttendanceRecorded = self._emit(
            AttendanceRecorded,
            reg.registration_id,
            registration_id=reg.registration_id,
            session_id=reg.session_id,
            participant_id=reg.participant_id,
            attended=attended,
        )
        return event

    def cancel(self, reg: ParticipantRegistered) -> RegistrationCancelled:
        event: RegistrationCancelled = self._emit(
            RegistrationCancelled,
            reg.registration_id,
            registration_id=reg.registration_id,
            session_id=reg.session_id,
            participant_id=reg.participant_id,
            previous_status="confirmed",
        )
        return event


class Bus:
    """Publishes events to JetStream as a producer's outbox relay would, and reads streams."""

    def __init__(self, nats_url: str) -> None:
        self.nats_url = nats_url

    async def publish(self, *events: Event) -> None:
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            for event in events:
                await js.publish(
                    event.subject,
                    encode_event(event),
                    headers={"Nats-Msg-Id": str(event.event_id)},
                )
        finally:
            await nc.close()

    async def stream(self, stream: str, subjects: str) -> list[Event]:
        """Every event of ``stream`` in order (an ephemeral consumer that acks nothing)."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(stream)
            if info.state.messages == 0:
                return []
            sub = await js.pull_subscribe(
                subjects,
                stream=stream,
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.ALL,
                    ack_policy=AckPolicy.NONE,
                    inactive_threshold=5,
                ),
            )
            found: list[Event] = []
            while True:
                msgs = await sub.fetch(1000, timeout=5)
                found.extend(decode_event(m.data) for m in msgs)
                if msgs[-1].metadata.num_pending == 0:
                    break
            await sub.unsubscribe()
            return found
        finally:
            await nc.close()


@pytest.fixture
def events() -> EventFactory:
    return EventFactory()


@pytest.fixture
def bus(nats_url: str) -> Bus:
    return Bus(nats_url)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[Any]]:
    """``await eventually(async_check, timeout=20)``: poll until truthy (never a fixed sleep)."""
    return _eventually


FEEDBACK_PUBLIC_URL = "https://feedback.example.kz"
"""The public address the app under test puts in its links."""

T = TypeVar("T")


@pytest.fixture
def open_client(nats_url: str, database_url: str, tmp_path: Path) -> Callable[[], Any]:
    """``async with open_client() as client``: the app on this test's database (restartable)."""
    settings = in_process_settings(
        "feedback",
        nats_url=nats_url,
        database_url=database_url,
        data_dir=tmp_path,
        extra={"TRAINOPS_PUBLIC_URL": FEEDBACK_PUBLIC_URL},
    )

    @asynccontextmanager
    async def factory() -> AsyncIterator[AsyncTestClient[Litestar]]:
        app = create_app(build_spec(settings), settings)
        async with AsyncTestClient(app) as client:
            yield client

    return factory


class Db:
    """The test's own connection to the service's database.

    The app under ``AsyncTestClient`` runs on another event loop (its portal thread), so the test
    must not borrow the app's asyncpg pool: it opens its own engine on the same URL.
    """

    def __init__(self, url: str) -> None:
        self.url = url

    async def run(self, fn: Callable[[sa.Connection], T]) -> T:
        engine = create_async_engine(self.url)
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(fn)
        finally:
            await engine.dispose()


@pytest.fixture
def db(database_url: str) -> Db:
    return Db(database_url)


@pytest.fixture
async def served(nats_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, Litestar]]:
    """The app under uvicorn on a free port: ``(base_url, app)``."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        "feedback",
        {
            "NATS_URL": nats_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'feedback.db'}",
            **TEST_JWT_ENV,
            "TRAINOPS_DATA_DIR": str(tmp_path),
            "TRAINOPS_PORT": str(port),
            "TRAINOPS_PUBLIC_URL": base_url,
        },
    )
    app = create_app(build_spec(settings), settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            task.cancel()
            raise AssertionError("uvicorn did not start")
        await asyncio.sleep(0.05)
    try:
        yield base_url, app
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
