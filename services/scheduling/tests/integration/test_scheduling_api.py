"""The scheduling service over HTTP on a real nats-server, on SQLite and on PostgreSQL.

Drives the app through its public routes and reads the SCHEDULING stream back with nats-py to
check that every change was published exactly once with the right aggregate version.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import httpx
import nats
import pytest
from litestar.testing import AsyncTestClient
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.pytest_plugin import ServiceHarness
from trainops_devtools.testing.tokens import TEST_JWT_ENV, in_process_settings, token_for
from trainops_scheduling.app import build_spec
from trainops_shared.events import Event, SessionScheduled, decode_event
from trainops_shared.service import create_app

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
REPORTING = {"Authorization": f"Bearer {token_for(role='reporting')}"}
COORDINATOR = {"Authorization": "Bearer " + token_for(role="coordinator", region="aktobe")}


@pytest.fixture
async def client(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = in_process_settings(
        "scheduling", nats_url=nats_url, database_url=database_url, data_dir=tmp_path
    )
    app = create_app(build_spec(settings), settings)
    async with AsyncTestClient(app) as test_client:
        yield test_client


async def stream_events(nats_url: str, aggregate_ids: set[uuid.UUID]) -> list[Event]:
    """Every event of the SCHEDULING stream about ``aggregate_ids``, in stream order."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("SCHEDULING")
        if info.state.messages == 0:
            return []
        sub = await js.pull_subscribe(
            "scheduling.>",
            stream="SCHEDULING",
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=5
            ),
        )
        found: list[Event] = []
        while True:
            msgs = await sub.fetch(1000, timeout=5)
            for msg in msgs:
                event = decode_event(msg.data)
                if event.aggregate_id in aggregate_ids:
                    found.append(event)
            if msgs[-1].metadata.num_pending == 0:
                break
        await sub.unsubscribe()
        return found
    finally:
        await nc.close()


async def create_training(client: AsyncTestClient[Any], code: str | None = None) -> dict[str, Any]:
    response = await client.post(
        "/trainings",
        json={
            "code": code or f"ethics-{uuid.uuid4().hex[:8]}",
            "title": {"en": "Ethical coverage of children's issues", "kk": "Балалар мәселесі"},
            "target_sectors": ["media", "blogger"],
        },
        headers=STAFF,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]  # JSON object by contract


async def create_trainer(client: AsyncTestClient[Any], name: str = "Aigerim") -> dict[str, Any]:
    response = await client.post(
        "/trainers", json={"name": name, "home_city": "almaty"}, headers=STAFF
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]  # JSON object by contract


def session_body(training_id: str, trainer_ids: list[str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "training_id": training_id,
        "mode": "online",
        "cities": ["almaty", "astana", "aktobe", "aktau", "kostanay", "shymkent", "oskemen"],
        "timezone": "Asia/Almaty",
        "starts_at": "2020-12-22T10:00",
        "ends_at": "2020-12-22T13:00",
        "capacity": 60,
        "language": "kk",
        "trainer_ids": trainer_ids,
    }
    body.update(overrides)
    return body


async def test_sessions_lifecycle_and_events(client: AsyncTestClient[Any], nats_url: str) -> None:
    training = await create_training(client)
    trainer = await create_trainer(client)
    other_trainer = await create_trainer(client, "Daniyar")

    duplicate = await client.post(
        "/trainings",
        json={"code": training["code"], "title": {"en": "again"}, "target_sectors": []},
        headers=STAFF,
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "code"

    created = await client.post(
        "/sessions", json=session_body(training["id"], [trainer["id"]]), headers=STAFF
    )
    assert created.status_code == 201, created.text
    session = created.json()
    assert session["starts_at_utc"] == "2020-12-22T04:00:00Z"
    assert session["ends_at_utc"] == "2020-12-22T07:00:00Z"
    assert session["local_times"]["almaty"] == "2020-12-22T10:00+06:00"
    assert session["local_times"]["aktobe"] == "2020-12-22T09:00+05:00"
    assert session["local_times"]["aktau"] == "2020-12-22T09:00+05:00"
    assert (session["status"], session["version"], session["venue"]) == ("scheduled", 1, None)
    sid = session["id"]

    fetched = await client.get(f"/sessions/{sid}", headers=COORDINATOR)
    assert fetched.status_code == 200
    assert fetched.json() == session

    # The same trainer at an overlapping time: 409 naming the session already booked.
    clash = await client.post(
        "/sessions",
        json=session_body(
            training["id"],
            [other_trainer["id"], trainer["id"]],
            mode="in_person",
            cities=["aktobe"],
            venue="Aktobe, Hotel Kazakhstan",
            timezone=None,
            starts_at="2020-12-22T11:30",  # Aktobe time = 06:30Z, inside 04:00-07:00Z
            ends_at="2020-12-22T12:30",
        ),
        headers=STAFF,
    )
    assert clash.status_code == 409, clash.text
    assert clash.json()["conflicting_session_id"] == sid
    assert clash.json()["field"] == "trainer_ids[1]"

    unknown = await client.post(
        "/sessions",
        json=session_body(training["id"], [trainer["id"], str(uuid.uuid4())]),
        headers=STAFF,
    )
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "trainer_ids[1]"
    unknown_training = await client.post(
        "/sessions", json=session_body(str(uuid.uuid4()), []), headers=STAFF
    )
    assert (unknown_training.status_code, unknown_training.json()["field"]) == (422, "training_id")

    moved = await client.post(
        f"/sessions/{sid}/reschedule",
        json={"starts_at": "2020-12-22T11:00", "ends_at": "2020-12-22T14:00"},
        headers=STAFF,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["starts_at_utc"], moved.json()["version"]) == ("2020-12-22T05:00:00Z", 2)

    resized = await client.post(f"/sessions/{sid}/capacity", json={"capacity": 80}, headers=STAFF)
    assert (resized.status_code, resized.json()["capacity"], resized.json()["version"]) == (
        200,
        80,
        3,
    )

    calendar = await client.get(f"/sessions/{sid}/calendar.ics", headers=REPORTING)
    assert calendar.status_code == 200
    assert calendar.headers["content-type"] == "text/calendar; charset=utf-8"
    text = calendar.content.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20201222T050000Z\r\n" in text
    assert "SEQUENCE:3\r\n" in text
    assert "Балалар мәселесі" in text

    done = await client.post(f"/sessions/{sid}/complete", headers=STAFF)
    assert (done.status_code, done.json()["status"], done.json()["version"]) == (
        200,
        "completed",
        4,
    )
    late_move = await client.post(
        f"/sessions/{sid}/reschedule",
        json={"starts_at": "2020-12-23T10:00", "ends_at": "2020-12-23T12:00"},
        headers=STAFF,
    )
    assert late_move.status_code == 409
    assert late_move.json()["error"] == "conflict"

    second = await client.post(
        "/sessions",
        json=session_body(
            training["id"],
            [other_trainer["id"]],
            starts_at="2021-01-15T10:00",
            ends_at="2021-01-15T12:00",
        ),
        headers=STAFF,
    )
    sid2 = second.json()["id"]
    cancelled = await client.post(
        f"/sessions/{sid2}/cancel", json={"reason": "trainer ill"}, headers=STAFF
    )
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    complete_cancelled = await client.post(f"/sessions/{sid2}/complete", headers=STAFF)
    assert complete_cancelled.status_code == 409
    assert complete_cancelled.json()["current_status"] == "cancelled"

    # Filters.
    async def listed(**params: str) -> list[str]:
        response = await client.get("/sessions", params=params, headers=REPORTING)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json() if s["training_id"] == training["id"]]

    assert await listed() == [sid, sid2]
    assert await listed(city="aktobe", **{"from": "2020-12-22", "to": "2020-12-23"}) == [sid]
    assert await listed(**{"from": "2021-01-01"}) == [sid2]
    assert await listed(status="completed", training_id=training["id"]) == [sid]
    assert await listed(to="2020-12-22T05:00:00Z") == []  # [from, to): starts at 05:00Z
    bad = await client.get("/sessions", params={"from": "22.12.2020"}, headers=REPORTING)
    assert (bad.status_code, bad.json()["field"]) == (422, "from")
    bad_status = await client.get("/sessions", params={"status": "lost"}, headers=REPORTING)
    assert bad_status.status_code == 422
    assert "status" in bad_status.json()["detail"]

    missing = await client.get(f"/sessions/{uuid.uuid4()}", headers=REPORTING)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")

    # Exactly once on the stream, with the aggregate versions of the session.
    ids = {uuid.UUID(x) for x in (training["id"], trainer["id"], other_trainer["id"], sid, sid2)}
    expected = [
        ("scheduling.training_defined.v1", training["id"], 1),
        ("scheduling.trainer_registered.v1", trainer["id"], 1),
        ("scheduling.trainer_registered.v1", other_trainer["id"], 1),
        ("scheduling.session_scheduled.v1", sid, 1),
        ("scheduling.session_rescheduled.v1", sid, 2),
        ("scheduling.session_capacity_changed.v1", sid, 3),
        ("scheduling.session_completed.v1", sid, 4),
        ("scheduling.session_scheduled.v1", sid2, 1),
        ("scheduling.session_cancelled.v1", sid2, 2),
    ]

    async def all_published() -> list[Event] | None:
        events = await stream_events(nats_url, ids)
        return events if len(events) >= len(expected) else None

    events = await eventually(all_published)
    assert [(e.subject, str(e.aggregate_id), e.aggregate_version) for e in events] == expected
    assert max(Counter(e.event_id for e in events).values()) == 1
    scheduled = events[3]
    assert isinstance(scheduled, SessionScheduled)
    assert scheduled.starts_at.isoformat() == "2020-12-22T04:00:00+00:00"
    assert len(scheduled.cities) == 7 and scheduled.timezone == "Asia/Almaty"


async def test_auth_and_validation(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/sessions")).status_code == 401
    body = {"code": "x1", "title": {"en": "X"}, "target_sectors": []}
    no_token = await client.post("/trainings", json=body)
    assert (no_token.status_code, no_token.json()["error"]) == (401, "unauthorized")
    for headers in (REPORTING, COORDINATOR):
        forbidden = await client.post("/trainings", json=body, headers=headers)
        assert (forbidden.status_code, forbidden.json()["error"]) == (403, "forbidden")
    assert (await client.get("/trainings", headers=COORDINATOR)).status_code == 200
    admin = {"Authorization": f"Bearer {token_for(role='admin')}"}
    assert (
        await client.post("/trainers", json={"name": "A", "home_city": "aktau"}, headers=admin)
    ).status_code == 201

    training = await create_training(client)
    bad_capacity = await client.post(
        "/sessions", json=session_body(training["id"], [], capacity=0), headers=STAFF
    )
    assert bad_capacity.status_code == 422
    assert "capacity" in bad_capacity.json()["field"]
    missing_field = await client.post("/trainers", json={"name": "A"}, headers=STAFF)
    assert missing_field.status_code == 422
    assert "home_city" in missing_field.json()["detail"]
    in_person_two_cities = await client.post(
        "/sessions",
        json=session_body(training["id"], [], mode="in_person", cities=["almaty", "aktau"]),
        headers=STAFF,
    )
    assert (in_person_two_cities.status_code, in_person_two_cities.json()["field"]) == (
        422,
        "cities",
    )
    unknown_city = await client.post(
        "/sessions",
        json=session_body(training["id"], [], cities=["almaty", "paris"]),
        headers=STAFF,
    )
    assert (unknown_city.status_code, unknown_city.json()["field"]) == (422, "cities[1]")
    sectors = await client.post(
        "/trainings",
        json={"code": "y1", "title": {"en": "Y"}, "target_sectors": ["media", "police"]},
        headers=STAFF,
    )
    assert (sectors.status_code, sectors.json()["field"]) == (422, "target_sectors[1]")
    assert (await client.get(f"/trainings/{uuid.uuid4()}", headers=STAFF)).status_code == 404


@pytest.mark.parametrize(
    "backend",
    [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def test_concurrent_bookings_of_one_trainer_admit_one(
    service_processes: ServiceHarness, backend: Literal["sqlite", "postgres"]
) -> None:
    """Truly concurrent requests against ``python -m trainops_scheduling`` (the in-process test
    client handles one request at a time, so it could not expose a race)."""
    # The process verifies the tokens of this module (signed with the test key).
    started = service_processes.start(["scheduling"], database=backend, extra_env=TEST_JWT_ENV)
    [process] = started.values()
    async with httpx.AsyncClient(base_url=process.url, headers=STAFF, timeout=30) as http:
        training = (
            await http.post(
                "/trainings",
                json={"code": "race", "title": {"en": "Race"}, "target_sectors": ["ngo"]},
            )
        ).json()
        trainers = [
            (await http.post("/trainers", json={"name": f"T{i}", "home_city": "aktau"})).json()
            for i in range(2)
        ]
        attempts = 24

        async def book(i: int) -> httpx.Response:
            # Every request shares trainer 0; half of them also name trainer 1 first.
            ids = [trainers[0]["id"]] if i % 2 else [trainers[1]["id"], trainers[0]["id"]]
            return await http.post(
                "/sessions",
                json=session_body(
                    training["id"],
                    ids,
                    starts_at=f"2021-02-01T10:{i:02d}",
                    ends_at="2021-02-01T12:00",
                ),
            )

        responses = await asyncio.gather(*(book(i) for i in range(attempts)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: attempts - 1}, [r.text for r in responses]
    winner = next(r.json()["id"] for r in responses if r.status_code == 201)
    assert all(
        r.json()["conflicting_session_id"] == winner for r in responses if r.status_code == 409
    )
