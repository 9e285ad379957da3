"""Session capacity over HTTP: bounded by the installation's ``SCHEDULING_MAX_CAPACITY``
(default 100,000) rather than a fixed 10,000, on scheduling and on a capacity change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import in_process_settings, token_for
from trainops_scheduling.app import build_spec
from trainops_shared.service import create_app

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
Factory = Callable[..., AbstractAsyncContextManager[AsyncTestClient[Any]]]


@pytest.fixture
def scheduling(nats_url: str, tmp_path: Path) -> Factory:
    @asynccontextmanager
    async def start(max_capacity: int | None = None) -> AsyncIterator[AsyncTestClient[Any]]:
        settings = in_process_settings(
            "scheduling",
            nats_url=nats_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex}.db",
            data_dir=tmp_path,
        )
        app = create_app(build_spec(settings, max_capacity=max_capacity), settings)
        async with AsyncTestClient(app) as client:
            yield client

    return start


async def _schedule(client: AsyncTestClient[Any], capacity: int) -> Any:
    training = await client.post(
        "/trainings",
        json={"code": f"t-{uuid.uuid4().hex[:8]}", "title": {"en": "Webinar"}},
        headers=STAFF,
    )
    assert training.status_code == 201, training.text
    body = {
        "training_id": training.json()["id"],
        "mode": "online",
        "cities": ["almaty", "aktobe"],
        "starts_at": "2021-03-01T10:00",
        "ends_at": "2021-03-01T12:00",
        "capacity": capacity,
        "language": "kk",
    }
    return await client.post("/sessions", json=body, headers=STAFF)


async def test_a_national_webinar_of_50000_seats_is_scheduled_by_default(
    scheduling: Factory,
) -> None:
    async with scheduling() as client:
        answer = await _schedule(client, 50_000)
        assert answer.status_code == 201, answer.text
        assert answer.json()["capacity"] == 50_000
        too_big = await _schedule(client, 100_001)
        assert too_big.status_code == 422, too_big.text
        assert too_big.json()["field"] == "capacity"


async def test_the_bound_is_the_installations_setting(scheduling: Factory) -> None:
    async with scheduling(max_capacity=500) as client:
        refused = await _schedule(client, 501)
        assert refused.status_code == 422, refused.text
        assert "between 1 and 500" in refused.text
        created = await _schedule(client, 400)
        assert created.status_code == 201, created.text
        sid = created.json()["id"]
        grown = await client.post(
            f"/sessions/{sid}/capacity", json={"capacity": 600}, headers=STAFF
        )
        assert grown.status_code == 422, grown.text
        kept = await client.post(f"/sessions/{sid}/capacity", json={"capacity": 500}, headers=STAFF)
        assert kept.status_code == 200, kept.text
