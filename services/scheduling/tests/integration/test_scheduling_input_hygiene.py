"""Hostile input to the scheduling API: each is a clear 4xx and changes nothing.

Dates outside the programme window (whose zone arithmetic would overflow), unbounded offsets,
unknown query parameters, control and bidi characters in names and titles, broken JSON and
unauthenticated OPTIONS requests.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import in_process_settings, token_for
from trainops_scheduling.app import build_spec
from trainops_shared.service import create_app

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
FAR_DATES = [
    "0001-01-01T00:00",
    "9999-12-31T22:00-05:00",
    "0001-01-01T00:00+05:00",
    "1999-06-01T10:00",
]


@pytest.fixture
async def client(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = in_process_settings(
        "scheduling", nats_url=nats_url, database_url=database_url, data_dir=tmp_path
    )
    async with AsyncTestClient(create_app(build_spec(settings), settings)) as test_client:
        yield test_client


async def _training(client: AsyncTestClient[Any]) -> str:
    response = await client.post(
        "/trainings",
        json={"code": f"t-{uuid.uuid4().hex[:8]}", "title": {"en": "Ethics"}},
        headers=STAFF,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _session(training_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "training_id": training_id,
        "mode": "online",
        "cities": ["almaty"],
        "starts_at": "2020-12-22T10:00",
        "ends_at": "2020-12-22T13:00",
        "capacity": 20,
        "language": "en",
    }
    body.update(overrides)
    return body


async def _sessions(client: AsyncTestClient[Any]) -> list[dict[str, Any]]:
    response = await client.get("/sessions", headers=STAFF)
    assert response.status_code == 200, response.text
    return list(response.json())


@pytest.mark.parametrize("when", FAR_DATES)
async def test_sessions_outside_the_window_are_refused(
    client: AsyncTestClient[Any], when: str
) -> None:
    training = await _training(client)
    for field, body in (
        ("starts_at", _session(training, starts_at=when)),
        ("ends_at", _session(training, starts_at="2020-12-22T10:00", ends_at=when)),
    ):
        response = await client.post("/sessions", json=body, headers=STAFF)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
        assert "outside the accepted range of dates" in response.json()["detail"]
    assert await _sessions(client) == []

    created = await client.post("/sessions", json=_session(training), headers=STAFF)
    assert created.status_code == 201, created.text
    moved = await client.post(
        f"/sessions/{created.json()['id']}/reschedule",
        json={"starts_at": when, "ends_at": "2020-12-23T10:00"},
        headers=STAFF,
    )
    assert moved.status_code == 422, moved.text
    assert moved.json()["field"] == "starts_at"
    assert await _sessions(client) == [created.json()]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=0001-01-01T00:00%2B05:00", "from"),
        ("to=9999-12-31T23:00:00-05:00", "to"),
        ("offset=9223372036854775808", "offset"),
        ("offset=-1", "offset"),
        ("limit=100000", "limit"),
        ("cty=almaty", "cty"),
        ("city=almaty&q=", "q"),
    ],
)
async def test_bad_list_parameters_are_named(
    client: AsyncTestClient[Any], query: str, field: str
) -> None:
    response = await client.get(f"/sessions?{query}", headers=STAFF)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


async def test_unknown_parameters_are_refused_on_routes_without_any(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get("/trainings?q=", headers=STAFF)
    assert response.status_code == 422
    assert response.json()["detail"] == "unknown query parameter q (this route accepts: none)"


@pytest.mark.parametrize("bad", ["\x00", "\u202e", "\u2066", "\x1b[31m"])
async def test_control_and_bidi_characters_are_refused_in_names_and_titles(
    client: AsyncTestClient[Any], bad: str
) -> None:
    title = await client.post(
        "/trainings",
        json={"code": f"t-{uuid.uuid4().hex[:8]}", "title": {"en": "Ethics", "ru": f"Э{bad}"}},
        headers=STAFF,
    )
    assert (title.status_code, title.json()["field"]) == (422, "title.ru"), title.text
    trainer = await client.post(
        "/trainers", json={"name": f"Aigerim{bad}", "home_city": "almaty"}, headers=STAFF
    )
    assert (trainer.status_code, trainer.json()["field"]) == (422, "name"), trainer.text
    training = await _training(client)
    venue = await client.post(
        "/sessions", json=_session(training, venue=f"Hall{bad}"), headers=STAFF
    )
    assert (venue.status_code, venue.json()["field"]) == (422, "venue"), venue.text
    assert (await client.get("/trainers", headers=STAFF)).json() == []

    created = await client.post("/sessions", json=_session(training), headers=STAFF)
    cancel = await client.post(
        f"/sessions/{created.json()['id']}/cancel", json={"reason": f"ill\n{bad}"}, headers=STAFF
    )
    assert (cancel.status_code, cancel.json()["field"]) == (422, "reason"), cancel.text
    ok = await client.post(
        f"/sessions/{created.json()['id']}/cancel",
        json={"reason": "trainer ill\nmoved"},
        headers=STAFF,
    )
    assert ok.status_code == 200, ok.text


async def test_broken_json_is_a_400(client: AsyncTestClient[Any]) -> None:
    headers = {**STAFF, "Content-Type": "application/json"}
    not_utf8 = await client.post(
        "/trainers", content=b'{"name": "A\xff\xfe", "home_city": "x"}', headers=headers
    )
    assert not_utf8.status_code == 400, not_utf8.text
    assert not_utf8.json()["detail"] == "the JSON body is not valid UTF-8"
    deep = await client.post(
        "/trainers",
        content=b'{"name": "A", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        headers=headers,
    )
    assert deep.status_code == 400, deep.text
    assert "nests deeper than" in deep.json()["detail"]
    assert (await client.get("/trainers", headers=STAFF)).json() == []


async def test_options_is_never_a_500(client: AsyncTestClient[Any]) -> None:
    anonymous = await client.options("/sessions")
    assert anonymous.status_code == 401
    allowed = await client.options("/sessions", headers=STAFF)
    assert allowed.status_code == 204
    assert "OPTIONS" in allowed.headers["allow"]
    preflight = await client.options(
        "/sessions",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
