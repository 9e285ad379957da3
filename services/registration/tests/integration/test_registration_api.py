"""The registration service end to end on a real nats-server and real SQLite and PostgreSQL:
seats, waitlist, promotions, attendance, a session's cancellation, idempotency keys.

Scheduling's events are published to JetStream as scheduling would publish them; the service's
own events are read back from the REGISTRATION stream to check what other contexts will see.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, TypeVar

import pytest
from registration_support import ADMIN, Harness, coordinator, person

from trainops_devtools.testing.events import capacity_changed
from trainops_devtools.testing.polling import eventually
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    ParticipantRegistered,
    RegistrationCancelled,
    SessionCancelled,
    WaitlistPromoted,
    encode_event,
)

pytestmark = pytest.mark.integration
T = TypeVar("T")


async def test_seats_waitlist_promotions_attendance_and_session_cancel(harness: Harness) -> None:
    h = harness
    almaty = coordinator("Almaty")  # region claims compare case-insensitively
    session_id = await h.schedule(capacity=2)

    r1 = await h.register(session_id, person("Айгерім Сейтова", email="A.S@Mail.kz"), almaty)
    assert r1.status_code == 201, r1.text
    assert r1.json()["status"] == "confirmed"
    assert "waitlist_position" not in r1.json()
    r2 = await h.register(session_id, person("Ержан Нұрланов", phone="8 701 123 45 67"), almaty)
    r3 = await h.register(session_id, person("Dana Abenova"), almaty)
    r4 = await h.register(session_id, person("Marat Ospanov"), almaty)
    assert [r.status_code for r in (r2, r3, r4)] == [201, 201, 201]
    assert r2.json()["status"] == "confirmed"
    assert (r3.json()["status"], r3.json()["waitlist_position"]) == ("waitlisted", 1)
    assert (r4.json()["status"], r4.json()["waitlist_position"]) == ("waitlisted", 2)
    ids = [r.json()["id"] for r in (r1, r2, r3, r4)]

    # The same person again (same e-mail, Latin spelling): 409 naming the registration.
    dup = await h.register(session_id, person("Aigerim Seitova", email="A.S@mail.kz"), almaty)
    assert dup.status_code == 409, dup.text
    assert dup.json()["registration_id"] == ids[0]
    assert ids[0] in dup.json()["detail"]
    # Same name key in the same city without contact details: the same person too.
    dup2 = await h.register(session_id, person("Nurlanov Yerzhan"), almaty)
    assert dup2.status_code == 409, dup2.text
    assert dup2.json()["registration_id"] == ids[1]

    # A city the session does not take: 422 on participant.city.
    astana_admin = await h.register(session_id, person("Someone Else", city="aktobe"), ADMIN)
    assert astana_admin.status_code == 422
    assert astana_admin.json()["field"] == "participant.city"
    # A coordinator registering outside their region: 403.
    other = await h.register(session_id, person("Someone Else", city="astana"), almaty)
    assert other.status_code == 403
    # Bad input: 422 naming the field; unknown session: 404 mentioning scheduling's events.
    bad = await h.register(session_id, person("X1", sector="press"), almaty)
    assert (bad.status_code, bad.json()["field"]) == (422, "participant.sector")
    unknown = await h.register(uuid.uuid4(), person("Someone Else"), almaty)
    assert unknown.status_code == 404
    assert "scheduling" in unknown.json()["detail"]

    # Cancel a confirmed one: the first waitlisted is promoted, the next moves up.
    c = await h.client.post(f"/registrations/{ids[0]}/cancel", headers=almaty)
    assert c.status_code == 200, c.text
    assert c.json()["status"] == "cancelled"
    assert (await h.get(ids[2])).json()["status"] == "confirmed"
    r4_now = (await h.get(ids[3])).json()
    assert (r4_now["status"], r4_now["waitlist_position"]) == ("waitlisted", 1)
    again = await h.client.post(f"/registrations/{ids[0]}/cancel", headers=almaty)
    assert again.status_code == 409

    # Cancelled people may register again (a new registration at the back of the queue).
    back = await h.register(session_id, person("Aigerim Seitova", email="a.s@mail.kz"), almaty)
    assert back.status_code == 201, back.text
    assert back.json()["participant_id"] == r1.json()["participant_id"]
    assert (back.json()["status"], back.json()["waitlist_position"]) == ("waitlisted", 2)

    # Capacity up by one (scheduling's event): the head of the waitlist is promoted.
    await h.publish(capacity_changed(session_id, version=2, capacity=3, previous=2))

    async def promoted() -> bool:
        return bool((await h.get(ids[3])).json()["status"] == "confirmed")

    await eventually(promoted)
    assert (await h.get(back.json()["id"])).json()["waitlist_position"] == 1

    # Attendance: confirmed only; re-recording makes a new version.
    a1 = await h.client.post(
        f"/registrations/{ids[1]}/attendance", json={"attended": True}, headers=almaty
    )
    assert a1.status_code == 200, a1.text
    assert a1.json()["attended"] is True
    a2 = await h.client.post(
        f"/registrations/{ids[1]}/attendance", json={"attended": False}, headers=almaty
    )
    assert (a2.json()["attended"], a2.json()["version"]) == (False, a1.json()["version"] + 1)
    for rid in (ids[0], back.json()["id"]):  # cancelled, waitlisted
        no = await h.client.post(
            f"/registrations/{rid}/attendance", json={"attended": True}, headers=almaty
        )
        assert no.status_code == 409, no.text
    bad_body = await h.client.post(
        f"/registrations/{ids[1]}/attendance", json={"attended": "maybe"}, headers=almaty
    )
    assert bad_body.status_code == 400 or bad_body.status_code == 422

    # The session is cancelled: every live registration is cancelled with that cause.
    await h.publish(
        SessionCancelled(
            aggregate_id=session_id, aggregate_version=3, session_id=session_id, reason="flu"
        )
    )

    async def all_cancelled() -> list[dict[str, Any]] | None:
        r = await h.client.get(
            "/registrations", params={"session_id": str(session_id)}, headers=almaty
        )
        items: list[dict[str, Any]] = r.json()["items"]
        return items if all(i["status"] == "cancelled" for i in items) else None

    items = await eventually(all_cancelled)
    assert len(items) == 5
    assert sum(1 for i in items if i.get("cancel_cause") == "session_cancelled") == 4
    late = await h.register(session_id, person("Late Comer"), almaty)
    assert late.status_code == 409
    att = await h.client.post(
        f"/registrations/{ids[1]}/attendance", json={"attended": True}, headers=almaty
    )
    assert att.status_code == 409

    # What other contexts see: the right events, versions per registration, no personal data.
    async def all_events() -> list[Event] | None:
        events = await h.registration_events()
        return events if len(events) >= 14 else None

    events = await eventually(all_events)
    assert len(events) == 14
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("ParticipantRegistered") == 5
    assert kinds.count("WaitlistPromoted") == 2
    assert kinds.count("AttendanceRecorded") == 2
    assert kinds.count("RegistrationCancelled") == 1 + 4
    by_registration: dict[uuid.UUID, list[int]] = {}
    for e in events:
        by_registration.setdefault(e.aggregate_id, []).append(e.aggregate_version)
    for versions in by_registration.values():
        assert versions == list(range(1, len(versions) + 1))
    registered = [e for e in events if isinstance(e, ParticipantRegistered)]
    assert {e.profile.language for e in registered} == {"kk"}
    cascade = [e for e in events if isinstance(e, RegistrationCancelled)][1:]
    assert {e.cause for e in cascade} == {"session_cancelled"}
    assert all(
        isinstance(
            e, AttendanceRecorded | WaitlistPromoted | ParticipantRegistered | RegistrationCancelled
        )
        for e in events
    )
    attendance = [e for e in events if isinstance(e, AttendanceRecorded)]
    assert [e.attended for e in attendance] == [True, False]
    assert attendance[0].language == "kk"
    wire = b"".join(encode_event(e) for e in events).decode()
    for secret in (
        "Айгерім",
        "Seitova",
        "Ержан",
        "Dana",
        "Marat",
        "mail.kz",
        "7011234567",
        "Abenova",
    ):
        assert secret not in wire


async def test_idempotency_key(harness: Harness) -> None:
    h = harness
    session_id = await h.schedule(capacity=5)
    almaty = coordinator("almaty", subject="coord-1")
    body = {"session_id": str(session_id), "participant": person("Gulnara Ibraeva")}
    key = {"Idempotency-Key": "form-42", **almaty}
    first = await h.client.post("/registrations", json=body, headers=key)
    second = await h.client.post("/registrations", json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    listed = await h.client.get(
        "/registrations", params={"session_id": str(session_id)}, headers=almaty
    )
    assert listed.json()["total"] == 1

    other_body = {"session_id": str(session_id), "participant": person("Asel Mukanova")}
    reused = await h.client.post("/registrations", json=other_body, headers=key)
    assert reused.status_code == 422
    assert reused.json()["field"] == "Idempotency-Key"

    # Concurrent retries with one key: still one registration.
    key2 = {"Idempotency-Key": "form-43", **almaty}
    replies = await asyncio.gather(
        *(h.client.post("/registrations", json=other_body, headers=key2) for _ in range(5))
    )
    assert {r.status_code for r in replies} == {201}
    assert len({r.json()["id"] for r in replies}) == 1
    listed = await h.client.get(
        "/registrations", params={"session_id": str(session_id)}, headers=almaty
    )
    assert listed.json()["total"] == 2
