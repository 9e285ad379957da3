"""The console's people pages through the real app: search within the region, one person's
page, correcting details (validated, nothing changed on a refusal), cancelling with the
promotion said, and another region's person not existing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from registration_support import ADMIN, Harness, coordinator, person

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
AKTOBE = coordinator("aktobe")
SEARCH_TITLES = {"kk": "Қатысушыларды іздеу", "ru": "Поиск участников", "en": "Find participants"}
PERSON_TITLES = {"kk": "Қатысушы", "ru": "Участник", "en": "Participant"}


async def registered(harness: Harness, session_id: uuid.UUID, name: str, **extra: Any) -> Any:
    r = await harness.register(session_id, person(name, **extra), ALMATY)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_search_finds_by_name_phone_or_email_in_the_region_only(
    harness: Harness, lang: str
) -> None:
    session_id = await harness.schedule(capacity=5, cities=("almaty",))
    found = await registered(
        harness,
        session_id,
        "Aigerim Seitova",
        email="a.seitova@mail.kz",
        phone="+7 701 123 45 67",
        organisation="Almaty Weekly",
    )
    await registered(harness, session_id, "Dana Nurlanova")
    row = f'id="person-{found["participant_id"]}"'
    for query in ("Сейтова Айгерим", "seit", "8 701 123 45 67", "a.seitova@mail"):
        r = await harness.client.get("/people", params={"q": query, "lang": lang}, headers=ALMATY)
        assert r.status_code == 200, r.text
        assert SEARCH_TITLES[lang] in r.text
        assert row in r.text, query
        assert "Dana Nurlanova" not in r.text
    other = await harness.client.get(
        "/people", params={"q": "Aigerim", "lang": "en"}, headers=AKTOBE
    )
    assert other.status_code == 200
    assert row not in other.text and "Seitova" not in other.text
    assert "Nobody found." in other.text
    admin = await harness.client.get("/people", params={"q": "Aigerim"}, headers=ADMIN)
    assert row in admin.text


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_person_page_shows_details_and_registrations_not_to_another_region(
    harness: Harness, lang: str
) -> None:
    session_id = await harness.schedule(capacity=5, cities=("almaty",))
    reg = await registered(harness, session_id, "Aigerim Seitova", organisation="Almaty Weekly")
    path = f"/people/{reg['participant_id']}"
    r = await harness.client.get(path, params={"lang": lang}, headers=ALMATY)
    assert r.status_code == 200, r.text
    assert f"{PERSON_TITLES[lang]}: Aigerim Seitova" in r.text
    assert 'name="csrf_token"' in r.text
    assert f'id="registration-{reg["id"]}"' in r.text
    assert f'href="/sessions/{session_id}"' in r.text
    hidden = await harness.client.get(path, headers=AKTOBE)
    assert hidden.status_code == 404
    assert "Aigerim" not in hidden.text and "Almaty Weekly" not in hidden.text
    assert (await harness.client.get(f"/people/{uuid.uuid4()}", headers=ALMATY)).status_code == 404


async def test_correcting_details_validates_and_refuses_another_persons_contact(
    harness: Harness,
) -> None:
    session_id = await harness.schedule(capacity=5, cities=("almaty",))
    reg = await registered(harness, session_id, "Aigerim Seitova", email="a.s@mail.kz")
    await registered(harness, session_id, "Dana Nurlanova", email="dana@mail.kz")
    path = f"/people/{reg['participant_id']}"
    base = {"full_name": "Aigerim Seitova", "email": "a.s@mail.kz", "phone": "", "csrf_token": ""}
    bad = await harness.client.post(
        path,
        data={**base, "email": "broken@", "phone": "12"},
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert bad.status_code == 422, bad.text
    assert 'id="f-email-error"' in bad.text
    assert 'value="broken@"' in bad.text
    taken = await harness.client.post(
        path, data={**base, "email": "dana@mail.kz"}, params={"lang": "en"}, headers=ALMATY
    )
    assert taken.status_code == 409, taken.text
    assert "Another participant of this city already has this contact." in taken.text
    assert 'id="f-email-error"' in taken.text
    unchanged = (await harness.get(reg["id"])).json()["participant"]
    assert unchanged["email"] == "a.s@mail.kz" and unchanged["full_name"] == "Aigerim Seitova"
    stolen = await harness.client.post(
        path, data={**base, "full_name": "Renamed By Aktobe"}, headers=AKTOBE
    )
    assert stolen.status_code == 404
    ok = await harness.client.post(
        path,
        data={**base, "full_name": "Aigerim  Seitova-Nur", "phone": "8 701 555 44 33"},
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert ok.status_code == 200, ok.text
    assert "Details saved." in ok.text
    corrected = (await harness.get(reg["id"])).json()["participant"]
    assert corrected["full_name"] == "Aigerim Seitova-Nur"
    assert corrected["phone"] == "+77015554433"


async def test_cancelling_says_who_moved_up_and_another_region_cannot(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=1, cities=("almaty",))
    seat = await registered(harness, session_id, "Aigerim Seitova")
    waiting = await registered(harness, session_id, "Dana Nurlanova")
    assert waiting["status"] == "waitlisted"
    path = f"/people/{seat['participant_id']}/cancel"
    refused = await harness.client.post(path, data={"registration_id": seat["id"]}, headers=AKTOBE)
    assert refused.status_code == 404
    assert (await harness.get(seat["id"])).json()["status"] == "confirmed"
    someone_else = await harness.client.post(
        path, data={"registration_id": waiting["id"]}, headers=ALMATY
    )
    assert someone_else.status_code == 404
    done = await harness.client.post(
        path, data={"registration_id": seat["id"]}, params={"lang": "en"}, headers=ALMATY
    )
    assert done.status_code == 200, done.text
    assert "Registration cancelled. Moved up from the waiting list: Dana Nurlanova." in done.text
    assert (await harness.get(seat["id"])).json()["status"] == "cancelled"
    assert (await harness.get(waiting["id"])).json()["status"] == "confirmed"
    twice = await harness.client.post(
        path, data={"registration_id": seat["id"]}, params={"lang": "en"}, headers=ALMATY
    )
    # No cancel button is left for it; a resent form is refused on the same page.
    assert twice.status_code == 409, twice.text
    assert "The registration&#39;s status does not allow this." in twice.text
    assert f'id="cancel-{seat["id"]}"' not in twice.text


async def test_search_takes_wildcards_literally(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=5, cities=("almaty",))
    await registered(harness, session_id, "Aigerim Seitova", email="a.s@mail.kz")
    for query in ("%", "_", "%@%", "a%s@mail", "a_s@mail.kz"):
        r = await harness.client.get("/people", params={"q": query, "lang": "en"}, headers=ALMATY)
        assert r.status_code == 200, r.text
        assert "Seitova" not in r.text, query
