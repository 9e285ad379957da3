"""Identity across regions through the HTTP API, on a real nats-server, SQLite and PostgreSQL.

What a coordinator types can only ever be matched with people of their own city; a key they
send is theirs; people registered in two cities are joined by an admin's audited merge.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from registration_support import Harness, person

from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import bearer
from trainops_shared.events import (
    Event,
    ParticipantRegistered,
    ParticipantsMerged,
    encode_event,
)

pytestmark = pytest.mark.integration

Headers = dict[str, str]


class Api(Harness):
    """The harness with sessions roomy enough for every test here, and tokens whose subject
    defaults to what every development token says."""

    def as_(self, role: str, region: str | None = None, subject: str = "dev") -> Headers:
        return bearer(role, region, subject)

    async def schedule(
        self, capacity: int = 10, cities: tuple[str, ...] = ("almaty", "aktobe")
    ) -> uuid.UUID:
        return await super().schedule(capacity, cities)


@pytest.fixture
def api(harness: Harness) -> Api:
    return Api(harness.client, harness.nc)


AKTOBE_PERSON = person(
    "Bolat Serikov",
    "aktobe",
    email="bolat@mail.kz",
    phone="8 701 111 22 33",
    organisation="Aktobe Media Centre",
)


async def test_contacts_of_another_regions_person_never_match(api: Api) -> None:
    """An almaty coordinator typing an aktobe person's e-mail or phone gets a person of their
    own: nothing of the aktobe person is shown, changed or moved."""
    session_id = await api.schedule()
    aktobe, almaty = api.as_("coordinator", "aktobe"), api.as_("coordinator", "almaty")
    theirs = await api.register(session_id, AKTOBE_PERSON, aktobe)
    assert theirs.status_code == 201, theirs.text
    their_pid, their_rid = theirs.json()["participant_id"], theirs.json()["id"]

    by_email = await api.register(
        session_id,
        person("Anyone Typed", email="BOLAT@mail.kz", organisation="Written Over"),
        almaty,
    )
    by_phone = await api.register(
        session_id,
        person("Someone Other", phone="+7 (701) 111-22-33", email="new@mail.kz"),
        almaty,
    )
    for reply in (by_email, by_phone):
        assert reply.status_code == 201, reply.text
        assert reply.json()["participant_id"] != their_pid
        assert reply.json()["city"] == "almaty"
        shown = await api.client.get(f"/registrations/{reply.json()['id']}", headers=almaty)
        assert shown.status_code == 200
        assert "Bolat" not in shown.text
        assert "Aktobe Media Centre" not in shown.text
        assert shown.json()["participant"]["city"] == "almaty"
    assert by_email.json()["participant_id"] != by_phone.json()["participant_id"]

    # The aktobe person is exactly as aktobe registered them (nothing written onto them).
    stored = (await api.client.get(f"/registrations/{their_rid}", headers=aktobe)).json()
    assert stored["participant"] == {
        "full_name": "Bolat Serikov",
        "email": "bolat@mail.kz",
        "phone": "+77011112233",
        "organisation": "Aktobe Media Centre",
        "city": "aktobe",
    }

    # A duplicate 409 concerns the caller's own region: almaty's person, almaty's registration.
    dup = await api.register(session_id, person("Anyone Else", email="bolat@mail.kz"), almaty)
    assert dup.status_code == 409, dup.text
    assert dup.json()["registration_id"] == by_email.json()["id"]
    assert their_rid not in dup.text
    assert their_pid not in dup.text
    # The admin registering in almaty is matched in almaty too.
    admin_dup = await api.register(
        session_id, person("Typed By Admin", phone="87011112233"), api.as_("admin")
    )
    assert admin_dup.status_code == 409, admin_dup.text
    assert admin_dup.json()["registration_id"] == by_phone.json()["id"]
    # The aktobe person's own duplicate is still found in aktobe.
    again = await api.register(session_id, person("Серіков Болат", "aktobe"), aktobe)
    assert again.status_code == 409, again.text
    assert again.json()["registration_id"] == their_rid

    # What reports see: the aktobe pseudonym only ever with an aktobe profile.
    async def three() -> list[Event] | None:
        events = await api.registration_events()
        return events if len(events) >= 3 else None

    events = await eventually(three)
    assert events is not None
    registered = [e for e in events if isinstance(e, ParticipantRegistered)]
    assert {(str(e.participant_id), e.profile.city) for e in registered if e.profile.city} >= {
        (their_pid, "aktobe")
    }
    assert all(e.profile.city == "aktobe" for e in registered if str(e.participant_id) == their_pid)


async def test_an_idempotency_key_belongs_to_its_principal(api: Api) -> None:
    """All these tokens say subject "dev": role and region tell the principals apart."""
    session_id = await api.schedule()
    almaty = api.as_("coordinator", "almaty")
    body = person("Gulnara Ibraeva", email="gulnara@mail.kz")
    first = await api.register(session_id, body, almaty, key="form-1")
    assert first.status_code == 201, first.text
    replay = await api.register(session_id, body, almaty, key="form-1")
    assert (replay.status_code, replay.json()) == (201, first.json())

    # Another region's coordinator replaying it: their own fresh request (not their city: 403).
    aktobe = await api.register(session_id, body, api.as_("coordinator", "aktobe"), key="form-1")
    assert aktobe.status_code == 403, aktobe.text
    assert first.json()["id"] not in aktobe.text
    # An admin replaying it: a fresh request too, judged as one (same person and session: 409).
    admin = await api.register(session_id, body, api.as_("admin"), key="form-1")
    assert admin.status_code == 409, admin.text
    # A second almaty coordinator (another subject) is another principal as well.
    colleague = api.as_("coordinator", "almaty", subject="coord-2")
    second = await api.register(session_id, body, colleague, key="form-1")
    assert second.status_code == 409, second.text
    # The other principals' attempts did not consume or change the first one's key.
    still = await api.register(session_id, body, almaty, key="form-1")
    assert (still.status_code, still.json()) == (201, first.json())
    listed = await api.client.get(
        "/registrations", params={"session_id": str(session_id)}, headers=api.as_("admin")
    )
    assert listed.json()["total"] == 1


async def test_flag_merge_and_audit(api: Api) -> None:
    """Dana moved from Aktobe to Almaty: almaty flags, the admin sees the pair and merges."""
    s1, s2 = await api.schedule(), await api.schedule()
    aktobe, almaty = api.as_("coordinator", "aktobe"), api.as_("coordinator", "almaty")
    admin = api.as_("admin", subject="admin-7")
    old = await api.register(
        s1, person("Dana Abenova", "aktobe", email="dana@mail.kz", organisation="NGO"), aktobe
    )
    new = await api.register(s2, person("Дана Абенова", email="dana@mail.kz"), almaty)
    assert old.status_code == new.status_code == 201
    old_pid, new_pid = old.json()["participant_id"], new.json()["participant_id"]
    assert old_pid != new_pid

    # A coordinator flags their own participant; another region's coordinator cannot.
    note = {"note": "says she took the first training in Aktobe"}
    url = f"/participants/{new_pid}/duplicate-flags"
    assert (await api.client.post(url, json=note, headers=aktobe)).status_code == 404
    flag = await api.client.post(url, json=note, headers=almaty)
    assert flag.status_code == 201, flag.text
    assert (flag.json()["participant_id"], flag.json()["status"]) == (new_pid, "open")
    naming = await api.client.post(
        f"/participants/{old_pid}/duplicate-flags",
        json={**note, "possible_duplicate_of": new_pid},
        headers=aktobe,
    )
    assert naming.status_code == 404, naming.text
    assert naming.json()["field"] == "possible_duplicate_of"
    bad_note = await api.client.post(url, json={"note": "a\u202eb"}, headers=almaty)
    assert bad_note.status_code == 422
    flags = "/participants/duplicate-flags"
    assert (await api.client.get(flags, headers=aktobe)).json()["total"] == 0
    assert (await api.client.get(flags, headers=almaty)).json()["total"] == 1

    # Review and merge are the admin's.
    merge_body = {"keep": new_pid, "merge": old_pid, "reason": "same person, moved to Almaty"}
    for coordinator in (aktobe, almaty):
        for method, path in (
            ("GET", "/participants/duplicate-candidates"),
            ("GET", "/participants/merges"),
            ("POST", "/participants/merges"),
        ):
            r = await api.client.request(
                method,
                path,
                json=merge_body if method == "POST" else None,
                headers=coordinator,
            )
            assert r.status_code == 403, (method, path, r.text)
    candidates = (await api.client.get("/participants/duplicate-candidates", headers=admin)).json()
    assert [
        (g["reason"], {p["participant_id"] for p in g["participants"]})
        for g in candidates["groups"]
    ] == [("email", {old_pid, new_pid})]
    assert [f["participant"]["full_name"] for f in candidates["flags"]] == ["Дана Абенова"]

    merged = await api.client.post("/participants/merges", json=merge_body, headers=admin)
    assert merged.status_code == 201, merged.text
    audit = merged.json()
    assert {k: audit[k] for k in audit if k not in ("merge_id", "merged_at")} == {
        "kept_participant_id": new_pid,
        "merged_participant_id": old_pid,
        "kept_city": "almaty",
        "merged_city": "aktobe",
        "reason": "same person, moved to Almaty",
        "merged_by": "admin-7",
        "merged_by_role": "admin",
        "merged_by_region": None,
        "registrations_moved": 1,
        "flags_resolved": 1,
    }
    listed = (await api.client.get("/participants/merges", headers=admin)).json()
    assert [m["merge_id"] for m in listed["items"]] == [audit["merge_id"]]
    again = await api.client.post("/participants/merges", json=merge_body, headers=admin)
    assert again.status_code == 409

    # The merge reaches the REGISTRATION stream once, as pseudonyms and categories only.
    async def merge_published() -> list[ParticipantsMerged] | None:
        found = [e for e in await api.registration_events() if isinstance(e, ParticipantsMerged)]
        return found or None

    published = await eventually(merge_published)
    assert published is not None and len(published) == 1
    event = published[0]
    assert (str(event.merge_id), str(event.kept_participant_id)) == (audit["merge_id"], new_pid)
    assert str(event.merged_participant_id) == old_pid
    assert (event.profile.city, event.actor) == ("almaty", "admin-7")
    wire = encode_event(event).decode()
    for personal in ("Dana", "Дана", "dana@mail.kz", "NGO", "moved to Almaty"):
        assert personal not in wire

    # The registration moved with the person: almaty's now, aktobe's no longer.
    moved_id = old.json()["id"]
    assert (await api.client.get(f"/registrations/{moved_id}", headers=aktobe)).status_code == 404
    moved = await api.client.get(f"/registrations/{moved_id}", headers=almaty)
    assert moved.status_code == 200
    assert (moved.json()["participant_id"], moved.json()["city"]) == (new_pid, "almaty")
    assert moved.json()["participant"]["organisation"] == "NGO"  # the gap was filled
    assert (await api.client.get(flags, headers=almaty)).json()["items"][0]["status"] == "resolved"
    after = (await api.client.get("/participants/duplicate-candidates", headers=admin)).json()
    assert after["groups"] == [] and after["flags"] == []
    # The merged participant is gone for flags; the person is almaty's for matching.
    gone = await api.client.post(
        f"/participants/{old_pid}/duplicate-flags", json=note, headers=api.as_("admin")
    )
    assert gone.status_code == 404
    dup = await api.register(s1, person("Dana A", email="dana@mail.kz"), almaty)
    assert dup.status_code == 409, dup.text
    assert dup.json()["registration_id"] == moved_id


async def test_refused_merges(api: Api) -> None:
    session_id = await api.schedule()
    admin = api.as_("admin")
    a = await api.register(session_id, person("Aliya One", email="a1@mail.kz"), admin)
    b = await api.register(session_id, person("Aliya Two", "aktobe", email="a2@mail.kz"), admin)
    a_pid, b_pid = a.json()["participant_id"], b.json()["participant_id"]
    both_live = await api.client.post(
        "/participants/merges", json={"keep": a_pid, "merge": b_pid, "reason": "x"}, headers=admin
    )
    assert both_live.status_code == 409, both_live.text
    assert str(session_id) in both_live.json()["detail"]
    unknown = await api.client.post(
        "/participants/merges",
        json={"keep": a_pid, "merge": str(uuid.uuid4()), "reason": "x"},
        headers=admin,
    )
    assert (unknown.status_code, unknown.json()["field"]) == (404, "merge")
    itself = await api.client.post(
        "/participants/merges", json={"keep": a_pid, "merge": a_pid, "reason": "x"}, headers=admin
    )
    assert itself.status_code == 422
    no_reason = await api.client.post(
        "/participants/merges", json={"keep": a_pid, "merge": b_pid, "reason": " "}, headers=admin
    )
    assert (no_reason.status_code, no_reason.json()["field"]) == (422, "reason")
    for role in ("reporting", "programme_staff"):
        r = await api.client.get("/participants/duplicate-flags", headers=api.as_(role))
        assert r.status_code == 403


async def test_registrations_racing_a_merge_never_link_to_the_merged_row(api: Api) -> None:
    """Registrations of one person into several sessions at once, one of them racing the merge
    that folds that person away: every registration ends up with a live participant of its own
    city, and concurrent contact fill-ins on one person neither fail nor deadlock."""
    sessions = [await api.schedule() for _ in range(6)]
    aktobe, almaty = api.as_("coordinator", "aktobe"), api.as_("coordinator", "almaty")
    admin = api.as_("admin")
    old = await api.register(sessions[0], person("Dana Abenova", "aktobe", email="d@m.kz"), aktobe)
    new = await api.register(sessions[1], person("Dana Abenova", email="d@m.kz"), almaty)
    old_pid, new_pid = old.json()["participant_id"], new.json()["participant_id"]

    async def merge() -> Any:
        return await api.client.post(
            "/participants/merges",
            json={"keep": new_pid, "merge": old_pid, "reason": "moved"},
            headers=admin,
        )

    racing = [
        api.register(sid, person("Dana Abenova", "aktobe", email="d@m.kz", phone=phone), aktobe)
        for sid, phone in zip(
            sessions[2:], ("87010000001", "87010000002", "87010000003", ""), strict=True
        )
    ]
    replies = await asyncio.gather(merge(), *racing)
    assert [r.status_code for r in replies] == [201] * len(replies), [r.text for r in replies]

    listed = await api.client.get("/registrations", params={"limit": 100}, headers=admin)
    items = listed.json()["items"]
    assert len(items) == 6
    assert all(i["participant_id"] != old_pid for i in items)
    assert all(i["participant"]["city"] == i["city"] for i in items)
