"""The console's registration form through the real app: languages, region reach, field
errors that save nothing, the seat decision, and a probable duplicate asked about first."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from registration_support import ADMIN, Harness, coordinator

from trainops_devtools.testing.tokens import token_for

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
AKTOBE = coordinator("aktobe")
TITLES = {
    "kk": "Қатысушыны тіркеу",
    "ru": "Регистрация участника",
    "en": "Register a participant",
}
SECTOR_WORD = {"kk": "БАҚ", "ru": "СМИ", "en": "Media"}


def form(session_id: uuid.UUID, name: str, city: str = "almaty", **extra: str) -> dict[str, str]:
    return {
        "session_id": str(session_id),
        "full_name": name,
        "email": "",
        "phone": "",
        "organisation": "",
        "sector": "media",
        "sex": "female",
        "age_band": "25-34",
        "city": city,
        "language": "kk",
        "csrf_token": "",
        **extra,
    }


async def registrations_of(harness: Harness, session_id: uuid.UUID) -> list[Any]:
    r = await harness.client.get(
        "/registrations", params={"session_id": str(session_id)}, headers=ADMIN
    )
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_form_in_each_language_offers_own_region_sessions_only(
    harness: Harness, lang: str
) -> None:
    own = await harness.schedule(capacity=3, cities=("almaty",))
    other = await harness.schedule(capacity=3, cities=("aktobe",))
    r = await harness.client.get(
        "/register", params={"lang": lang, "session_id": str(own)}, headers=ALMATY
    )
    assert r.status_code == 200, r.text
    assert TITLES[lang] in r.text
    assert 'name="csrf_token"' in r.text
    for name in ("full_name", "email", "phone", "organisation", "sector", "sex", "age_band"):
        assert f'name="{name}"' in r.text
    assert f'<option value="{own}" selected>' in r.text
    assert str(other) not in r.text
    assert f'<option value="media">{SECTOR_WORD[lang]}</option>' in r.text
    # A coordinator's city list is their own city only.
    assert 'value="almaty" selected' in r.text
    assert 'value="aktobe"' not in r.text
    admin = await harness.client.get("/register", headers=ADMIN)
    assert str(own) in admin.text and str(other) in admin.text
    staff = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
    assert (await harness.client.get("/register", headers=staff)).status_code == 403


async def test_bad_input_re_renders_each_error_at_its_field_and_saves_nothing(
    harness: Harness,
) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty",))
    bad = form(session_id, "x", email="not-an-email", phone="12", sector="space")
    r = await harness.client.post("/register", data=bad, params={"lang": "en"}, headers=ALMATY)
    assert r.status_code == 422, r.text
    for field in ("full_name", "email", "phone", "sector"):
        assert f'id="f-{field}-error"' in r.text, field
    assert "Write the full name" in r.text
    assert 'value="not-an-email"' in r.text  # what was typed stays in the form
    no_session = await harness.client.post(
        "/register", data=form(uuid.uuid4(), "Aigerim Seitova"), headers=ALMATY
    )
    assert no_session.status_code == 404
    assert 'id="f-session_id-error"' in no_session.text
    other_city = await harness.client.post(
        "/register",
        data=form(session_id, "Aigerim Seitova", city="aktobe"),
        params={"lang": "ru"},
        headers=ALMATY,
    )
    assert other_city.status_code == 403
    assert "только участников своего региона" in other_city.text
    assert await registrations_of(harness, session_id) == []


async def test_result_says_confirmed_then_waitlisted_with_position(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=1, cities=("almaty",))
    first = await harness.client.post(
        "/register",
        data=form(session_id, "Aigerim Seitova"),
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert first.status_code == 201, first.text
    assert 'data-status="confirmed"' in first.text
    assert "Aigerim Seitova is registered" in first.text
    second = await harness.client.post(
        "/register",
        data=form(session_id, "Dana Nurlanova", sex="", age_band=""),  # blank: not stated
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert second.status_code == 201, second.text
    assert "Dana Nurlanova is on the waiting list, position 1." in second.text
    saved = await registrations_of(harness, session_id)
    assert [r["status"] for r in saved] == ["confirmed", "waitlisted"]
    assert f'href="/sessions/{session_id}"' in second.text
    assert f'href="/people/{saved[1]["participant_id"]}"' in second.text


async def test_probable_duplicate_is_shown_first_within_the_region_only(
    harness: Harness,
) -> None:
    earlier = await harness.schedule(capacity=5, cities=("almaty", "aktobe"))
    later = await harness.schedule(capacity=5, cities=("almaty", "aktobe"))
    known = form(
        earlier, "Aigerim Seitova", email="a.seitova@mail.kz", organisation="Almaty Weekly"
    )
    assert (await harness.client.post("/register", data=known, headers=ALMATY)).status_code == 201
    again = form(later, "Айгерим Сейтова", email="a.seitova@mail.kz")
    asked = await harness.client.post(
        "/register", data=again, params={"lang": "en"}, headers=ALMATY
    )
    assert asked.status_code == 200, asked.text
    assert 'id="duplicate"' in asked.text
    assert "Aigerim Seitova, Almaty Weekly" in asked.text
    assert 'name="confirm_duplicate"' in asked.text
    assert await registrations_of(harness, later) == []
    confirmed = await harness.client.post(
        "/register", data={**again, "confirm_duplicate": "yes"}, headers=ALMATY
    )
    assert confirmed.status_code == 201, confirmed.text
    [linked] = await registrations_of(harness, later)
    [first] = await registrations_of(harness, earlier)
    assert linked["participant_id"] == first["participant_id"]
    # Aktobe's coordinator typing the same e-mail learns nothing of Almaty's person.
    elsewhere = form(later, "Aigerim Seitova", city="aktobe", email="a.seitova@mail.kz")
    theirs = await harness.client.post(
        "/register", data=elsewhere, params={"lang": "en"}, headers=AKTOBE
    )
    assert theirs.status_code == 201, theirs.text
    assert 'id="duplicate"' not in theirs.text
    assert "Almaty Weekly" not in theirs.text


async def test_registering_the_same_person_twice_is_refused_at_the_session(
    harness: Harness,
) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty",))
    once = form(session_id, "Aigerim Seitova", email="a.seitova@mail.kz")
    assert (await harness.client.post("/register", data=once, headers=ALMATY)).status_code == 201
    again = await harness.client.post(
        "/register",
        data={**once, "confirm_duplicate": "yes"},
        params={"lang": "kk"},
        headers=ALMATY,
    )
    assert again.status_code == 409, again.text
    assert 'id="f-session_id-error"' in again.text
    assert "Бұл адам осы сессияға тіркеліп қойған." in again.text
    assert len(await registrations_of(harness, session_id)) == 1


async def test_same_name_in_another_spelling_is_asked_about_too(harness: Harness) -> None:
    earlier = await harness.schedule(capacity=5, cities=("almaty",))
    later = await harness.schedule(capacity=5, cities=("almaty",))
    first = form(earlier, "Seitova Aigerim", organisation="Almaty Weekly")
    assert (await harness.client.post("/register", data=first, headers=ALMATY)).status_code == 201
    asked = await harness.client.post(
        "/register", data=form(later, "Айгерім Сейтова"), params={"lang": "ru"}, headers=ALMATY
    )
    assert asked.status_code == 200, asked.text
    assert "Возможно, этот человек уже есть в вашем регионе: Seitova Aigerim, Almaty Weekly." in (
        asked.text
    )
    assert await registrations_of(harness, later) == []


CONSENT_LEGEND = {
    "kk": "Келісім: қатысушы деректерін не үшін пайдалануға келіседі",
    "ru": "Согласие: для чего участник разрешает использовать свои данные",
    "en": "Consent: what the participant agrees their details are used for",
}
FUTURE_TEXT = {
    "kk": "Алдағы тренингтер",
    "ru": "Будущие тренинги",
    "en": "Future trainings",
}


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_the_form_asks_each_consent_in_the_page_language(harness: Harness, lang: str) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty",))
    r = await harness.client.get(
        "/register", params={"lang": lang, "session_id": str(session_id)}, headers=ALMATY
    )
    assert r.status_code == 200, r.text
    assert CONSENT_LEGEND[lang] in r.text and FUTURE_TEXT[lang] in r.text
    assert '<label for="f-consent-future_trainings">' in r.text
    assert 'value="taking_part" checked required' in r.text
    assert 'id="f-consent-future_trainings" name="consent" value="future_trainings">' in r.text


async def test_the_ticked_consents_are_recorded_and_taking_part_is_required(
    harness: Harness,
) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty",))
    without = {**form(session_id, "Aigerim Seitova"), "consent": ["future_trainings"]}
    refused = await harness.client.post(
        "/register", data=without, params={"lang": "en"}, headers=ALMATY
    )
    assert refused.status_code == 422, refused.text
    assert 'id="f-consents-error"' in refused.text
    assert "Registering needs the consent to taking part." in refused.text
    assert await registrations_of(harness, session_id) == []
    ticked = {**form(session_id, "Aigerim Seitova"), "consent": ["taking_part", "future_trainings"]}
    made = await harness.client.post("/register", data=ticked, headers=ALMATY)
    assert made.status_code == 201, made.text
    [registration] = await registrations_of(harness, session_id)
    consents = await harness.client.get(
        f"/participants/{registration['participant_id']}/consents", headers=ALMATY
    )
    assert consents.status_code == 200, consents.text
    assert {c["purpose"]: c["withdrawn_at"] for c in consents.json()["consents"]} == {
        "future_trainings": None,
        "taking_part": None,
    }
