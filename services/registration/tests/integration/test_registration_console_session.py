"""The console's session page through the real app: confirmed people and the waiting list in
order, the attendance checklist marking many at once and undoing, all or none, and each
coordinator seeing their own region's people only."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from registration_support import Harness, coordinator, person

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
AKTOBE = coordinator("aktobe")
TITLES = {"kk": "Сессия", "ru": "Сессия", "en": "Session"}
WAITLIST = {"kk": "Күту тізімі (кезек бойынша)", "ru": "Лист ожидания (по очереди)"}


async def registered(
    harness: Harness, session_id: uuid.UUID, name: str, city: str = "almaty"
) -> Any:
    headers = ALMATY if city == "almaty" else AKTOBE
    r = await harness.register(session_id, person(name, city), headers)
    assert r.status_code == 201, r.text
    return r.json()


async def attended(harness: Harness, registration: Any) -> Any:
    return (await harness.get(registration["id"])).json()["attended"]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_page_lists_confirmed_and_the_waiting_list_in_order(
    harness: Harness, lang: str
) -> None:
    session_id = await harness.schedule(capacity=1, cities=("almaty", "aktobe"))
    seat = await registered(harness, session_id, "Aigerim Seitova")
    first = await registered(harness, session_id, "Dana Nurlanova")
    second = await registered(harness, session_id, "Bota Karimova")
    theirs = await registered(harness, session_id, "Yerlan Abenov", city="aktobe")
    r = await harness.client.get(f"/sessions/{session_id}", params={"lang": lang}, headers=ALMATY)
    assert r.status_code == 200, r.text
    assert f'<h1 id="page-title">{TITLES[lang]}</h1>' in r.text
    assert 'name="csrf_token"' in r.text
    assert f'id="tick-{seat["id"]}"' in r.text
    waitlist = r.text[r.text.index('id="waitlist"') :]
    assert waitlist.index("Dana Nurlanova") < waitlist.index("Bota Karimova")
    assert f'id="registration-{first["id"]}" value="1"' in r.text
    assert f'id="registration-{second["id"]}" value="2"' in r.text
    if lang in WAITLIST:
        assert WAITLIST[lang] in r.text
    assert "Yerlan Abenov" not in r.text and theirs["id"] not in r.text
    # Aktobe's coordinator sees the shared session with their own person only.
    other = await harness.client.get(f"/sessions/{session_id}", headers=AKTOBE)
    assert other.status_code == 200
    assert "Yerlan Abenov" in other.text
    for name in ("Aigerim", "Dana", "Bota"):
        assert name not in other.text
    # The main page's row links here.
    home = await harness.client.get("/", headers=ALMATY)
    assert f'href="/sessions/{session_id}"' in home.text


async def test_another_regions_session_does_not_exist(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty",))
    seat = await registered(harness, session_id, "Aigerim Seitova")
    assert (await harness.client.get(f"/sessions/{session_id}", headers=AKTOBE)).status_code == 404
    missing = await harness.client.get(f"/sessions/{uuid.uuid4()}", headers=ALMATY)
    assert missing.status_code == 404
    refused = await harness.client.post(
        f"/sessions/{session_id}/attendance",
        data={"registration_id": seat["id"], "attended": "true"},
        headers=AKTOBE,
    )
    assert refused.status_code == 404
    assert "Aigerim" not in refused.text
    assert await attended(harness, seat) is None


async def test_checklist_marks_many_at_once_and_undoes(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty", "aktobe"))
    a = await registered(harness, session_id, "Aigerim Seitova")
    b = await registered(harness, session_id, "Dana Nurlanova")
    c = await registered(harness, session_id, "Bota Karimova")
    path = f"/sessions/{session_id}/attendance"
    marked = await harness.client.post(
        path,
        data={"registration_id": [a["id"], b["id"]], "attended": "true", "csrf_token": ""},
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert marked.status_code == 200, marked.text
    assert "Attendance saved: 2." in marked.text
    assert [await attended(harness, x) for x in (a, b, c)] == [True, True, None]
    assert re.search(rf'id="registration-{a["id"]}">.*?data-attended="yes"', marked.text, re.S)
    undone = await harness.client.post(
        path, data={"registration_id": b["id"], "attended": "false"}, headers=ALMATY
    )
    assert undone.status_code == 200, undone.text
    assert await attended(harness, b) is False
    nobody = await harness.client.post(
        path, data={"attended": "true"}, params={"lang": "en"}, headers=ALMATY
    )
    assert nobody.status_code == 422
    assert "Tick at least one person." in nobody.text
    # One registration of another region among the ticked: nothing is recorded.
    theirs = await registered(harness, session_id, "Yerlan Abenov", city="aktobe")
    mixed = await harness.client.post(
        path,
        data={"registration_id": [c["id"], theirs["id"]], "attended": "true"},
        headers=ALMATY,
    )
    assert mixed.status_code == 404
    assert await attended(harness, c) is None
    assert await attended(harness, theirs) is None


async def test_waitlisted_person_cannot_be_marked(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=1, cities=("almaty",))
    seat = await registered(harness, session_id, "Aigerim Seitova")
    waiting = await registered(harness, session_id, "Dana Nurlanova")
    r = await harness.client.post(
        f"/sessions/{session_id}/attendance",
        data={"registration_id": [seat["id"], waiting["id"]], "attended": "true"},
        params={"lang": "ru"},
        headers=ALMATY,
    )
    assert r.status_code == 409, r.text
    assert "При текущем статусе регистрации это действие невозможно." in r.text
    assert await attended(harness, seat) is None
