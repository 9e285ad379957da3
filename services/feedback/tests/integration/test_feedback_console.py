"""The feedback staff pages through the real app: every language, region isolation, no caching.

Invitations come about the real way (scheduling and registration events on a real nats-server,
the app's consumers projecting them); one participant answers through ``POST /responses``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import token_for

pytestmark = pytest.mark.integration

Eventually = Callable[..., Awaitable[Any]]
PUBLIC_URL = "https://feedback.example.kz"
ANSWERS = {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 4}
TITLES = {
    "kk": "Кері байланыс: аяқталған сессиялар",
    "ru": "Обратная связь: завершённые сессии",
    "en": "Feedback: completed sessions",
}
SESSION_TITLES = {
    "kk": "Кері байланыс: сессия шақырулары",
    "ru": "Обратная связь: приглашения сессии",
    "en": "Feedback: session invitations",
}


def auth(role: str, region: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(role=role, region=region)}"}


ADMIN = auth("admin")
STAFF = auth("programme_staff")
REPORTING = auth("reporting")
ALMATY = auth("coordinator", "almaty")
AKTOBE = auth("coordinator", "aktobe")


@dataclass
class Invited:
    """A completed session and each registration's link token (by registration id)."""

    session_id: uuid.UUID
    tokens: dict[uuid.UUID, str]
    participants: dict[uuid.UUID, uuid.UUID]
    """registration id -> participant id"""


async def invite(
    client: AsyncTestClient[Litestar],
    events: Any,
    bus: Any,
    eventually: Eventually,
    cities: list[str],
) -> Invited:
    """A completed session where one participant per entry of ``cities`` attended."""
    training = events.training()
    session = events.session(training.training_id, cities=sorted(set(cities)))
    regs = [events.register(session.session_id, city=city, language="kk") for city in cities]
    await bus.publish(training, session, *regs, *(events.attend(r) for r in regs))
    await bus.publish(events.complete(session.session_id))

    async def invited() -> dict[uuid.UUID, str] | None:
        r = await client.get(f"/sessions/{session.session_id}/invitations", headers=ADMIN)
        if r.status_code != 200 or len(r.json()) != len(regs):
            return None
        return {uuid.UUID(row["registration_id"]): row["url"].rsplit("/", 1)[1] for row in r.json()}

    tokens = await eventually(invited)
    return Invited(
        session_id=session.session_id,
        tokens=tokens,
        participants={r.registration_id: r.participant_id for r in regs},
    )


async def answer(client: AsyncTestClient[Litestar], token: str) -> None:
    created = await client.post("/responses", json={"token": token, "answers": ANSWERS})
    assert created.status_code == 201, created.text


def row_of(page: str, element_id: str) -> str:
    found = re.search(rf'<tr id="{re.escape(element_id)}">(.*?)</tr>', page, re.S)
    assert found, element_id
    return found.group(1)


async def test_pages_in_each_language(
    open_client: Callable[[], Any], events: Any, bus: Any, eventually: Eventually
) -> None:
    async with open_client() as client:
        almaty = await invite(client, events, bus, eventually, ["almaty", "almaty", "almaty"])
        answered, *waiting = almaty.tokens
        await answer(client, almaty.tokens[answered])
        for lang in ("kk", "ru", "en"):
            home = await client.get("/", params={"lang": lang}, headers=ALMATY)
            assert home.status_code == 200, home.text
            assert home.headers["content-language"] == lang
            assert TITLES[lang] in home.text
            cells = re.findall(
                r'class="num[^"]*">([^<]*)<', row_of(home.text, f"session-{almaty.session_id}")
            )
            assert cells == ["3", "1", "33 %"], cells
            # Every link of the page within this service leads to a page that exists.
            for path in set(re.findall(r'href="(/[^"#?]*)', home.text)):
                if not path.startswith("/assets/"):
                    target = await client.get(path, headers=ALMATY)
                    assert target.status_code == 200, (path, target.status_code)

            page = await client.get(
                f"/sessions/{almaty.session_id}/page", params={"lang": lang}, headers=ALMATY
            )
            assert page.status_code == 200, page.text
            assert page.headers["cache-control"] == "no-store"
            assert page.headers["content-language"] == lang
            assert SESSION_TITLES[lang] in page.text
            assert page.text.count('<tr class="invitation">') == 3
            assert 'id="rate">33 %<' in page.text
            # Links still to send are shown whole; the used one is not shown at all.
            for registration_id in waiting:
                assert f'value="{PUBLIC_URL}/f/{almaty.tokens[registration_id]}"' in page.text
            assert almaty.tokens[answered] not in page.text
            # Participants by a short code, never their whole id.
            for participant_id in almaty.participants.values():
                assert f"<code>{participant_id.hex[-8:]}</code>" in page.text
                assert str(participant_id) not in page.text
                assert participant_id.hex not in page.text
            for path in set(re.findall(r'href="(/[^"#?]*)', page.text)):
                if not path.startswith("/assets/"):
                    target = await client.get(path, headers=ALMATY)
                    assert target.status_code == 200, (path, target.status_code)


async def test_regions_are_isolated(
    open_client: Callable[[], Any], events: Any, bus: Any, eventually: Eventually
) -> None:
    async with open_client() as client:
        almaty = await invite(client, events, bus, eventually, ["almaty", "almaty"])
        mixed = await invite(client, events, bus, eventually, ["almaty", "aktobe"])
        almaty_tokens = [*almaty.tokens.values()]
        # Aktobe's own listing names its one participant's link; the other one is Almaty's.
        listing = await client.get(f"/sessions/{mixed.session_id}/invitations", headers=AKTOBE)
        aktobe_token = listing.json()[0]["url"].rsplit("/", 1)[1]
        mixed_by_city = {
            "aktobe": aktobe_token,
            "almaty": next(t for t in mixed.tokens.values() if t != aktobe_token),
        }

        # Another region's session does not exist for the coordinator, and shows nothing of it.
        other = await client.get(
            f"/sessions/{almaty.session_id}/page", params={"lang": "en"}, headers=AKTOBE
        )
        assert other.status_code == 404, other.text
        assert other.headers["cache-control"] == "no-store"
        assert "Session not found" in other.text
        home = await client.get("/", params={"lang": "en"}, headers=AKTOBE)
        assert home.status_code == 200
        assert f"session-{almaty.session_id}" not in home.text
        cells = re.findall(
            r'class="num[^"]*">([^<]*)<', row_of(home.text, f"session-{mixed.session_id}")
        )
        assert cells == ["1", "0", "0 %"], cells
        shared = await client.get(f"/sessions/{mixed.session_id}/page", headers=AKTOBE)
        assert shared.status_code == 200
        assert mixed_by_city["aktobe"] in shared.text
        for body in (other.text, home.text, shared.text):
            for token in [*almaty_tokens, mixed_by_city["almaty"]]:
                assert token not in body
            for participant_id in almaty.participants.values():
                assert participant_id.hex[-8:] not in body

        # Unscoped inviters see every region; reporting may not open the page at all.
        for headers in (ADMIN, STAFF):
            everyone = await client.get(f"/sessions/{mixed.session_id}/page", headers=headers)
            assert everyone.status_code == 200
            assert all(token in everyone.text for token in mixed.tokens.values())
            listed = await client.get("/", headers=headers)
            assert f"session-{almaty.session_id}" in listed.text
            assert f"session-{mixed.session_id}" in listed.text
        refused = await client.get(f"/sessions/{almaty.session_id}/page", headers=REPORTING)
        assert refused.status_code == 403
        generic = await client.get("/", params={"lang": "en"}, headers=REPORTING)
        assert generic.status_code == 200
        assert "coordinators, programme staff and admins" in generic.text
        assert f"session-{almaty.session_id}" not in generic.text
        anonymous = await client.get(f"/sessions/{almaty.session_id}/page")
        assert anonymous.status_code == 401
        unknown = await client.get(f"/sessions/{uuid.uuid4()}/page", headers=ADMIN)
        assert unknown.status_code == 404
