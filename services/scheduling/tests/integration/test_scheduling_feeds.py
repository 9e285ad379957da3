"""Calendar feeds over HTTP, on SQLite and PostgreSQL: a city's and a trainer's sessions at a
secret URL a calendar app subscribes to without a token, documented as ``text/calendar``; the
token is shown once and stored only as its hash; revoking makes the URL 404 for good."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import in_process_settings, token_for
from trainops_scheduling.app import build_spec
from trainops_shared.link_tokens import hash_token
from trainops_shared.service import create_app

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff', subject='planner-1')}"}
OTHER = {"Authorization": f"Bearer {token_for(role='coordinator', region='aktobe', subject='c-2')}"}


@pytest.fixture
async def client(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = in_process_settings(
        "scheduling", nats_url=nats_url, database_url=database_url, data_dir=tmp_path
    )
    async with AsyncTestClient(create_app(build_spec(settings), settings)) as test_client:
        yield test_client


async def test_city_and_trainer_feeds_are_secret_revocable_calendars(
    client: AsyncTestClient[Any],
) -> None:
    training = await client.post(
        "/trainings",
        json={"code": f"f-{uuid.uuid4().hex[:6]}", "title": {"en": "Ethics", "kk": "Әдеп"}},
        headers=STAFF,
    )
    trainer = await client.post(
        "/trainers", json={"name": "Aigerim", "home_city": "almaty"}, headers=STAFF
    )
    body = {
        "training_id": training.json()["id"],
        "mode": "in_person",
        "cities": ["aktobe"],
        "starts_at": "2030-05-02T10:00",
        "ends_at": "2030-05-02T13:00",
        "capacity": 20,
        "language": "kk",
        "trainer_ids": [trainer.json()["id"]],
    }
    aktobe = (await client.post("/sessions", json=body, headers=STAFF)).json()
    almaty = (
        await client.post(
            "/sessions", json={**body, "cities": ["almaty"], "trainer_ids": []}, headers=STAFF
        )
    ).json()

    made = await client.post(
        "/calendar-feeds", json={"kind": "city", "subject": "aktobe"}, headers=STAFF
    )
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    path = "/feeds/" + url.rsplit("/", 1)[1]
    feed = await client.get(path)  # no token: a calendar app cannot send one
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    assert f"UID:{aktobe['id']}@trainops" in feed.text and almaty["id"] not in feed.text
    assert "X-WR-CALNAME:Aktobe" in feed.text and "SUMMARY;LANGUAGE=kk:Әдеп" in feed.text

    mine = await client.post(
        "/calendar-feeds", json={"kind": "trainer", "subject": trainer.json()["id"]}, headers=STAFF
    )
    trainer_path = "/feeds/" + mine.json()["url"].rsplit("/", 1)[1]
    trainer_feed = await client.get(trainer_path)
    assert trainer_feed.status_code == 200 and aktobe["id"] in trainer_feed.text
    assert almaty["id"] not in trainer_feed.text

    listed = await client.get("/calendar-feeds", headers=STAFF)
    assert [f["kind"] for f in listed.json()] == ["trainer", "city"]
    assert all(f["url"] is None for f in listed.json()) and token not in listed.text
    assert (await client.get("/calendar-feeds", headers=OTHER)).json() == []

    for wrong in ({"kind": "city", "subject": "atlantis"}, {"kind": "trainer", "subject": "x"}):
        refused = await client.post("/calendar-feeds", json=wrong, headers=STAFF)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "subject"
    assert (await client.get(f"/feeds/{uuid.uuid4().hex}.ics")).status_code == 404

    feed_id = made.json()["id"]
    stranger = await client.post(f"/calendar-feeds/{feed_id}/revoke", headers=OTHER)
    assert stranger.status_code == 404
    revoked = await client.post(f"/calendar-feeds/{feed_id}/revoke", headers=STAFF)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert (await client.get(path)).status_code == 404
    assert (await client.get(trainer_path)).status_code == 200  # the other feed still works

    schema = (await client.get("/schema/openapi.json")).json()
    answers = schema["paths"]["/feeds/{token}"]["get"]["responses"]["200"]["content"]
    assert any(media.startswith("text/calendar") for media in answers)
    assert hash_token(token) != token
