"""Trainer travel time over HTTP, on SQLite and PostgreSQL: an in-person booking in another
city too soon after (or before) the trainer's other in-person session is refused with 409
naming that session and the travel time, by scheduling and by rescheduling alike; the
installation's settings (a default and per-city-pair values) decide how long is enough."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import in_process_settings, token_for
from trainops_scheduling.app import TRAVEL_ENV, TRAVEL_PAIRS_ENV, build_spec, load_travel
from trainops_scheduling.domain import CityCatalogue
from trainops_shared.service import create_app

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}


@pytest.fixture
async def client(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = in_process_settings(
        "scheduling", nats_url=nats_url, database_url=database_url, data_dir=tmp_path
    )
    travel = load_travel(
        CityCatalogue.default(), {TRAVEL_ENV: "180", TRAVEL_PAIRS_ENV: "almaty:almaty_region=60"}
    )
    app = create_app(build_spec(settings, travel=travel), settings)
    async with AsyncTestClient(app) as test_client:
        yield test_client


async def _setup(client: AsyncTestClient[Any]) -> tuple[str, str]:
    training = await client.post(
        "/trainings",
        json={"code": f"t-{uuid.uuid4().hex[:8]}", "title": {"en": "Ethics"}},
        headers=STAFF,
    )
    trainer = await client.post(
        "/trainers", json={"name": "Aigerim", "home_city": "almaty"}, headers=STAFF
    )
    assert training.status_code == trainer.status_code == 201
    return training.json()["id"], trainer.json()["id"]


async def _book(
    client: AsyncTestClient[Any],
    training_id: str,
    trainer_id: str,
    city: str,
    starts: str,
    ends: str,
    mode: str = "in_person",
) -> Any:
    body = {
        "training_id": training_id,
        "mode": mode,
        "cities": [city],
        "starts_at": f"2027-03-02T{starts}",
        "ends_at": f"2027-03-02T{ends}",
        "capacity": 20,
        "language": "ru",
        "trainer_ids": [trainer_id],
    }
    return await client.post("/sessions", json=body, headers=STAFF)


async def test_travel_time_between_cities_refuses_or_allows_the_booking(
    client: AsyncTestClient[Any],
) -> None:
    training, trainer = await _setup(client)
    astana = await _book(client, training, trainer, "astana", "09:00", "12:00")
    assert astana.status_code == 201, astana.text
    astana_id = astana.json()["id"]

    too_soon = await _book(client, training, trainer, "almaty", "14:00", "16:00")
    assert too_soon.status_code == 409, too_soon.text
    refusal = too_soon.json()
    assert refusal["conflicting_session_id"] == astana_id
    assert refusal["travel_minutes"] == 180
    assert refusal["field"] == "trainer_ids[0]"
    assert astana_id in refusal["detail"]

    # Booked earlier than the Astana session: the gap before it counts just the same.
    before = await _book(client, training, trainer, "shymkent", "06:00", "07:30")
    assert before.status_code == 409, before.text
    assert before.json()["conflicting_session_id"] == astana_id

    # Online needs no travel, nor does the same city; exactly the travel time is enough.
    online = await _book(client, training, trainer, "almaty", "13:00", "14:00", mode="online")
    assert online.status_code == 201, online.text
    same_city = await _book(client, training, trainer, "astana", "12:00", "13:00")
    assert same_city.status_code == 201, same_city.text
    almaty = await _book(client, training, trainer, "almaty", "16:00", "18:00")
    assert almaty.status_code == 201, almaty.text
    almaty_id = almaty.json()["id"]

    # The pair almaty/almaty_region has its own, shorter time (60 minutes) in both directions.
    region = await _book(client, training, trainer, "almaty_region", "19:00", "20:00")
    assert region.status_code == 201, region.text
    region_id = region.json()["id"]
    near = await _book(client, training, trainer, "almaty_region", "18:30", "18:45")
    assert near.status_code == 409, near.text
    assert (near.json()["conflicting_session_id"], near.json()["travel_minutes"]) == (
        almaty_id,
        60,
    )

    # Rescheduling is held to the same rule, and a refused move changes nothing.
    moved = await client.post(
        f"/sessions/{almaty_id}/reschedule",
        json={"starts_at": "2027-03-02T14:30", "ends_at": "2027-03-02T16:00"},
        headers=STAFF,
    )
    assert moved.status_code == 409, moved.text
    assert moved.json()["conflicting_session_id"] == astana_id
    kept = await client.get(f"/sessions/{almaty_id}", headers=STAFF)
    assert kept.json()["version"] == 1
    assert kept.json()["starts_at_utc"] == "2027-03-02T11:00:00Z"

    # A cancelled session frees its trainer's travel too.
    cancelled = await client.post(
        f"/sessions/{almaty_id}/cancel", json={"reason": "moved online"}, headers=STAFF
    )
    assert cancelled.status_code == 200, cancelled.text
    freed = await _book(client, training, trainer, "almaty_region", "18:30", "18:45")
    assert freed.status_code == 201, freed.text
    listed = await client.get("/sessions", params={"training_id": training}, headers=STAFF)
    assert {s["id"] for s in listed.json()} >= {astana_id, almaty_id, region_id}
    assert len(listed.json()) == 6
