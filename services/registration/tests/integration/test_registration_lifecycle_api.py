"""Consent, subject access and erasure through registration's HTTP API on a real nats-server,
on SQLite and PostgreSQL: the body without consents still registers, a bad consent is a 422
naming it, withdrawal and erasure keep to the region rule, and the events stay free of
personal data."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from registration_support import ADMIN, Harness, coordinator, person

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
AKTOBE = coordinator("aktobe")
CANARY = {"full_name": "Dana Kanareykova", "email": "dana.k@example.kz", "phone": "+77015550999"}
DANA = person(CANARY["full_name"], email=CANARY["email"], phone=CANARY["phone"])


async def test_consents_erasure_and_export_through_the_api(harness: Harness) -> None:
    sid = await harness.schedule(capacity=3, cities=("almaty",))
    client = harness.client
    body = {
        "session_id": str(sid),
        "participant": DANA,
        "consents": ["taking_part", "bogus"],
    }
    bad = await client.post("/registrations", json=body, headers=ALMATY)
    assert bad.status_code == 422, bad.text
    assert bad.json()["field"] == "consents[1]"
    made = await harness.register(sid, DANA, ALMATY)  # no consents: taking part
    assert made.status_code == 201, made.text
    pid = made.json()["participant_id"]
    consents = await client.get(f"/participants/{pid}/consents", headers=ALMATY)
    assert [c["purpose"] for c in consents.json()["consents"]] == ["taking_part"]
    kept = await client.delete(f"/participants/{pid}/consents/taking_part", headers=ALMATY)
    assert kept.status_code == 409, kept.text
    unknown = await client.delete(f"/participants/{pid}/consents/photos", headers=ALMATY)
    assert unknown.status_code == 422, unknown.text

    for path in (f"/participants/{pid}/export", f"/participants/{pid}/consents"):
        assert (await client.get(path, headers=AKTOBE)).status_code == 404
    assert (await client.delete(f"/participants/{pid}", headers=AKTOBE)).status_code == 404
    assert (await client.delete(f"/participants/{uuid.uuid4()}", headers=ADMIN)).status_code == 404

    exported = await client.get(f"/participants/{pid}/export", headers=ALMATY)
    assert exported.status_code == 200, exported.text
    assert exported.json()["participant"]["email"] == CANARY["email"]
    erased = await client.delete(f"/participants/{pid}", headers=ALMATY)
    assert erased.status_code == 200, erased.text
    assert (await client.get(f"/participants/{pid}/export", headers=ADMIN)).status_code == 404
    registration = await harness.get(made.json()["id"])
    assert registration.status_code == 200
    assert registration.json()["status"] == "confirmed"
    assert "participant" not in registration.json()

    events = await harness.registration_events()
    assert events, "the registration's event was not published"
    published = b"".join(msgspec.json.encode(e) for e in events).decode().casefold()
    for value in CANARY.values():
        assert value.casefold() not in published
    audit = await client.get("/audit", params={"action": "participant.erased"}, headers=ADMIN)
    assert [e["record_id"] for e in audit.json()["entries"]] == [pid]


async def test_the_person_page_withdraws_a_consent_and_erases(harness: Harness) -> None:
    sid = await harness.schedule(capacity=3, cities=("almaty",))
    client = harness.client
    body = {
        "session_id": str(sid),
        "participant": DANA,
        "consents": ["taking_part", "future_trainings"],
    }
    made = await client.post("/registrations", json=body, headers=ALMATY)
    assert made.status_code == 201, made.text
    pid = made.json()["participant_id"]
    page = await client.get(f"/people/{pid}", params={"lang": "en"}, headers=ALMATY)
    assert page.status_code == 200, page.text
    assert 'id="withdraw-future_trainings"' in page.text
    assert 'id="withdraw-taking_part"' not in page.text
    assert f'href="/participants/{pid}/export"' in page.text
    other = coordinator("aktobe")
    for path, form in (
        (f"/people/{pid}/consents", {"purpose": "future_trainings"}),
        (f"/people/{pid}/erase", {"confirm_erase": "yes"}),
    ):
        refused = await client.post(path, data=form, headers=other)
        assert refused.status_code == 404, refused.text
    withdrawn = await client.post(
        f"/people/{pid}/consents",
        data={"purpose": "future_trainings"},
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert "The consent was withdrawn." in withdrawn.text
    assert 'id="withdraw-future_trainings"' not in withdrawn.text
    unconfirmed = await client.post(f"/people/{pid}/erase", data={}, headers=ALMATY)
    assert unconfirmed.status_code == 422
    assert (await client.get(f"/participants/{pid}/export", headers=ALMATY)).status_code == 200
    erased = await client.post(
        f"/people/{pid}/erase",
        data={"confirm_erase": "yes"},
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert erased.status_code == 200, erased.text
    assert "The person&#39;s personal data was erased." in erased.text or (
        "The person's personal data was erased." in erased.text
    )
    assert (await client.get(f"/people/{pid}", headers=ALMATY)).status_code == 404
