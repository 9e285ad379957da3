"""The registration API's reach and identity rules end to end (real nats-server, SQLite and
PostgreSQL): region isolation and roles, one participant across sessions, concurrent
registrations never overbooking, the all-or-nothing CSV import.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

import pytest
from registration_support import ADMIN, Harness, coordinator, person

from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import token_for
from trainops_shared.events import (
    SessionCompleted,
)

pytestmark = pytest.mark.integration
T = TypeVar("T")


async def test_region_isolation_and_roles(harness: Harness) -> None:
    h = harness
    session_id = await h.schedule(capacity=5, cities=("almaty", "aktobe"))
    almaty, aktobe = coordinator("almaty"), coordinator("aktobe")
    mine = await h.register(session_id, person("Aliya Akhmetova", email="aliya@x.kz"), almaty)
    theirs = await h.register(session_id, person("Bolat Serikov", city="aktobe"), aktobe)
    assert mine.status_code == theirs.status_code == 201
    mine_id = mine.json()["id"]

    seen = await h.get(mine_id, almaty)
    assert seen.status_code == 200
    assert seen.json()["participant"]["email"] == "aliya@x.kz"
    for call in (
        h.client.get(f"/registrations/{mine_id}", headers=aktobe),
        h.client.post(f"/registrations/{mine_id}/cancel", headers=aktobe),
        h.client.post(
            f"/registrations/{mine_id}/attendance", json={"attended": True}, headers=aktobe
        ),
    ):
        r = await call
        assert r.status_code == 404, r.text
    listed = await h.client.get("/registrations", headers=aktobe)
    assert [i["id"] for i in listed.json()["items"]] == [theirs.json()["id"]]
    everything = await h.client.get(
        "/registrations", params={"session_id": str(session_id)}, headers=ADMIN
    )
    assert everything.json()["total"] == 2
    assert (await h.get(mine_id, almaty)).json()["status"] == "confirmed"

    for role in ("reporting", "programme_staff"):
        token = token_for(role=role)
        r = await h.client.get("/registrations", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403
    assert (await h.client.get("/registrations")).status_code == 401
    filtered = await h.client.get("/registrations", params={"status": "nope"}, headers=ADMIN)
    assert filtered.status_code in (400, 422)


async def test_participant_identity_across_sessions(harness: Harness) -> None:
    h = harness
    s1 = await h.schedule(capacity=5)
    s2 = await h.schedule(capacity=5)
    almaty = coordinator("almaty")
    a = await h.register(s1, person("Айгерим Жанибекова"), almaty)
    b = await h.register(s2, person("Zhanibekova Aigerim"), almaty)
    assert a.json()["participant_id"] == b.json()["participant_id"]
    c = await h.register(s1, person("Saule K", phone="+7 (701) 555-44-33"), almaty)
    d = await h.register(s2, person("Сауле К", phone="87015554433"), almaty)
    assert c.json()["participant_id"] == d.json()["participant_id"]
    # Same name, same city, but different e-mails: two different people.
    e = await h.register(s1, person("Asel Nur", email="asel1@x.kz"), almaty)
    f = await h.register(s1, person("Асель Нур", email="asel2@x.kz"), almaty)
    assert f.status_code == 201, f.text
    assert e.json()["participant_id"] != f.json()["participant_id"]
    # Completed session: no more registrations; attendance still possible.
    await h.publish(SessionCompleted(aggregate_id=s1, aggregate_version=2, session_id=s1))

    async def closed() -> bool:
        r = await h.register(s1, person("Late Person"), almaty)
        return bool(r.status_code == 409)

    await eventually(closed)
    att = await h.client.post(
        f"/registrations/{a.json()['id']}/attendance", json={"attended": True}, headers=almaty
    )
    assert att.status_code == 200, att.text


async def test_concurrent_registrations_never_overbook(harness: Harness) -> None:
    h = harness
    session_id = await h.schedule(capacity=5)
    almaty = coordinator("almaty")
    replies = await asyncio.gather(
        *(
            h.register(session_id, person(f"Person {i}", email=f"p{i}@x.kz"), almaty)
            for i in range(20)
        )
    )
    assert {r.status_code for r in replies} == {201}
    statuses = [r.json()["status"] for r in replies]
    assert statuses.count("confirmed") == 5
    positions = sorted(
        r.json()["waitlist_position"] for r in replies if "waitlist_position" in r.json()
    )
    assert positions == list(range(1, 16))


async def test_csv_import_all_or_nothing(harness: Harness) -> None:
    h = harness
    session_id = await h.schedule(capacity=2)
    almaty = coordinator("almaty")
    url = f"/registrations/import?session_id={session_id}"
    header = "full_name,email,phone,sector,sex,age_band,city,language\n"
    bad = (
        header
        + "Aida Ermekova,aida@x.kz,,media,female,25-34,almaty,ru\n"
        + "Bad Sector,,,press,male,25-34,almaty,ru\n"
        + "Wrong City,,,ngo,male,25-34,astana,ru\n"
        + "Bad Mail,nope,,ngo,male,25-34,almaty,ru\n"
    )
    r = await h.client.post(
        url, content=bad.encode(), headers={"Content-Type": "text/csv", **almaty}
    )
    assert r.status_code == 422, r.text
    problems = {(p["line"], p["field"]) for p in r.json()["errors"]}
    assert problems == {(3, "sector"), (4, "city"), (5, "email")}
    listed = await h.client.get(
        "/registrations", params={"session_id": str(session_id)}, headers=almaty
    )
    assert listed.json()["total"] == 0

    dup = header + "Aida Ermekova,aida@x.kz,,media,female,25-34,almaty,ru\n" * 2
    r = await h.client.post(
        url, content=dup.encode(), headers={"Content-Type": "text/csv", **almaty}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["line"] == 3

    good = (
        header
        + "Aida Ermekova,aida@x.kz,,media,female,25-34,almaty,ru\n"
        + "Берик Омаров,,+7 701 000 00 01,akimat,male,45-54,Almaty,KK\n"
        + "Dina Sadykova,,,blogger,female,18-24,almaty,en\n"
    )
    r = await h.client.post(
        url, content=good.encode(), headers={"Content-Type": "text/csv", **almaty}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["confirmed"], r.json()["waitlisted"]) == (3, 2, 1)
