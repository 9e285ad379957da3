"""Hostile input to the feedback service: far-future sessions on the bus, broken JSON bodies,
control characters in comments and unknown query parameters. Each is handled or refused with a
clear 4xx; none is a 500 or a dead letter.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import token_for
from trainops_shared.validation import instant_bounds

pytestmark = pytest.mark.integration

Eventually = Callable[..., Awaitable[Any]]
PUBLIC_URL = "https://feedback.example.kz"
STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
ANSWERS = {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 4}


async def _invitation_of_a_session_in_year_9999(
    client: AsyncTestClient[Litestar], events: Any, bus: Any, eventually: Eventually
) -> tuple[uuid.UUID, dict[str, Any]]:
    """A session at the very end of the calendar, completed with one attendee; its link."""
    training = events.training()
    scheduled = msgspec.structs.replace(
        events.session(training.training_id),
        starts_at=datetime(9999, 12, 31, 20, tzinfo=UTC),
        ends_at=datetime(9999, 12, 31, 23, tzinfo=UTC),
    )
    sid = scheduled.session_id
    reg = events.register(sid, city="almaty", language="kk")
    await bus.publish(training, scheduled, reg, events.attend(reg), events.complete(sid))

    async def invited() -> dict[str, Any] | None:
        response = await client.get(f"/sessions/{sid}/invitations", headers=STAFF)
        rows = response.json() if response.status_code == 200 else []
        return rows[0] if rows else None

    return sid, await eventually(invited)


async def test_a_session_in_year_9999_still_invites_its_participants(
    open_client: Callable[[], Any], events: Any, bus: Any, eventually: Eventually
) -> None:
    async with open_client() as client:
        _, invitation = await _invitation_of_a_session_in_year_9999(client, events, bus, eventually)
        expires_at = datetime.fromisoformat(invitation["expires_at"])
        assert expires_at == instant_bounds().high + timedelta(days=60)
        token = invitation["url"].rsplit("/", 1)[1]
        page = await client.get(f"/f/{token}")
        assert page.status_code == 200, page.text
        created = await client.post("/responses", json={"token": token, "answers": ANSWERS})
        assert created.status_code == 201, created.text
        dead = await bus.stream("DEAD_LETTERS", "deadletter.>")
        assert dead == []


async def test_broken_json_bodies_are_a_400(open_client: Callable[[], Any]) -> None:
    headers = {"Content-Type": "application/json"}
    async with open_client() as client:
        deep = await client.post(
            "/responses",
            content=b'{"token": "'
            + b"A" * 43
            + b'", "answers": {"x": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}}",
            headers=headers,
        )
        assert deep.status_code == 400, deep.text
        assert "nests deeper than" in deep.json()["detail"]
        nested = await client.post(
            "/responses",
            json={
                "token": "A" * 43,
                "answers": {"overall": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]},
            },
        )
        assert nested.status_code == 422, nested.text
        not_utf8 = await client.post(
            "/responses",
            content=b'{"token": "' + b"A" * 43 + b'", "answers": {}, "comment": "\xff\xfe"}',
            headers=headers,
        )
        assert not_utf8.status_code == 400, not_utf8.text
        assert not_utf8.json()["detail"] == "the JSON body is not valid UTF-8"


@pytest.mark.parametrize("comment", ["good\x00", "good \u202egnirt", "\x1b[2Jgood", "a\u2068b"])
async def test_control_and_bidi_characters_are_refused_in_comments(
    open_client: Callable[[], Any], events: Any, bus: Any, eventually: Eventually, comment: str
) -> None:
    async with open_client() as client:
        _, invitation = await _invitation_of_a_session_in_year_9999(client, events, bus, eventually)
        token = invitation["url"].rsplit("/", 1)[1]
        bad = await client.post(
            "/responses", json={"token": token, "answers": ANSWERS, "comment": comment}
        )
        assert bad.status_code == 422, bad.text
        assert bad.json()["field"] == "comment"
        form = await client.post(
            f"/f/{token}",
            content=f"overall=5&relevance=4&trainer=5&knowledge_gain=4&comment={comment}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 422, form.text
        ok = await client.post(
            "/responses",
            json={"token": token, "answers": ANSWERS, "comment": "line one\r\nline two\tend"},
        )
        assert ok.status_code == 201, ok.text


async def test_unknown_query_parameters_are_named(open_client: Callable[[], Any]) -> None:
    async with open_client() as client:
        listing = await client.get(f"/sessions/{uuid.uuid4()}/invitations?q=", headers=STAFF)
        assert listing.status_code == 422
        assert listing.json()["field"] == "q"
        answer = await client.post("/responses?tokn=x", json={"answers": ANSWERS})
        assert answer.status_code == 422
        assert answer.json()["field"] == "tokn"
        # The participant's page is reached from links apps rewrite (fbclid, utm_*): it shows
        # the usual "not found" page for this unknown token instead of refusing the link.
        page = await client.get(f"/f/{'A' * 43}?lang=kk&fbclid=x")
        assert page.status_code == 404, page.text
