"""QR check-in through the real app, on SQLite and PostgreSQL: the printable attendance list
shows a QR code per confirmed person (and nobody of another region), the code it holds opens the
person's check-in page for a coordinator of their region only (404 for another region, and for
junk), opening changes nothing, and the button records attendance once, as the checklist would
(one AttendanceRecorded event, however often the code is scanned)."""

from __future__ import annotations

from pathlib import Path

import pytest
from registration_support import ADMIN, Harness, coordinator, join_through_page, person

from trainops_devtools.testing.polling import eventually
from trainops_registration.handlers.checkin import checkin_tokens
from trainops_shared.credentials import REGISTRATION_LINK_KEY_FILE, SECRETS_DIRNAME
from trainops_shared.events import AttendanceRecorded

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
AKTOBE = coordinator("aktobe")


def code_of(data_dir: Path, registration_id: str) -> str:
    key = (data_dir / SECRETS_DIRNAME / REGISTRATION_LINK_KEY_FILE).read_text().strip()
    return checkin_tokens(key).token(registration_id)


async def test_the_sheet_codes_open_check_in_for_the_region_only(
    harness: Harness, tmp_path: Path
) -> None:
    h = harness
    session_id = await h.schedule(capacity=2, cities=("almaty", "aktobe"), mode="in_person")
    seat = (await h.register(session_id, person("Aigerim Seitova"), ALMATY)).json()
    theirs = (await h.register(session_id, person("Yerlan Abenov", "aktobe"), AKTOBE)).json()
    waiting = (await h.register(session_id, person("Dana Nurlanova"), ALMATY)).json()
    assert (seat["status"], theirs["status"], waiting["status"]) == (
        "confirmed",
        "confirmed",
        "waitlisted",
    )
    code = code_of(tmp_path, seat["id"])
    # Before any sheet or message showed it, a code opens nothing: only shown codes are stored.
    early = await h.client.get(f"/checkin/{code}", headers=ALMATY)
    assert early.status_code == 404

    sheet = await h.client.get(
        f"/sessions/{session_id}/attendance-sheet", params={"lang": "en"}, headers=ALMATY
    )
    assert sheet.status_code == 200, sheet.text
    assert "Aigerim Seitova" in sheet.text and sheet.text.count('class="segno"') == 1
    assert "<title>Check-in QR code</title>" in sheet.text
    assert "Yerlan" not in sheet.text and "Dana" not in sheet.text  # other region; waiting
    assert code not in sheet.text  # the code is inside the QR's picture, not in the page text
    other = await h.client.get(f"/sessions/{session_id}/attendance-sheet", headers=AKTOBE)
    assert "Yerlan Abenov" in other.text and "Aigerim" not in other.text
    shown = await h.client.get(f"/sessions/{session_id}/attendance-sheet", headers=ALMATY)
    assert shown.status_code == 200  # shown again: the same codes, stored once

    page = await h.client.get(f"/checkin/{code}", params={"lang": "en"}, headers=ALMATY)
    assert page.status_code == 200, page.text
    assert "Aigerim Seitova" in page.text and 'id="checkin-submit"' in page.text
    assert (await h.get(seat["id"])).json()["attended"] is None  # opening records nothing
    for wrong, headers in ((code, AKTOBE), ("not-a-code", ALMATY), ("A" * 43, ALMATY)):
        refused = await h.client.get(f"/checkin/{wrong}", headers=headers)
        assert refused.status_code == 404, refused.text
        assert "Aigerim" not in refused.text
    stranger = await h.client.post(f"/checkin/{code}", headers=AKTOBE)
    assert stranger.status_code == 404
    assert (await h.get(seat["id"])).json()["attended"] is None

    done = await h.client.post(f"/checkin/{code}", params={"lang": "en"}, headers=ALMATY)
    assert done.status_code == 200, done.text
    assert "Checked in." in done.text and 'id="checkin-submit"' not in done.text
    again = await h.client.post(f"/checkin/{code}", headers=ADMIN)
    assert again.status_code == 200, again.text
    assert (await h.get(seat["id"])).json()["attended"] is True

    async def recorded() -> list[AttendanceRecorded]:
        return [
            e
            for e in await h.registration_events()
            if isinstance(e, AttendanceRecorded) and str(e.registration_id) == seat["id"]
        ]

    events = await eventually(recorded, what="the attendance event")
    assert [e.attended for e in events] == [True]


async def test_a_join_link_records_presence_and_leads_to_the_meeting(
    harness: Harness, tmp_path: Path
) -> None:
    h = harness
    session_id = await h.schedule(capacity=3, cities=("almaty", "aktobe"))  # online
    joiner = (await h.register(session_id, person("Aigerim Seitova"), ALMATY)).json()
    leaver = (await h.register(session_id, person("Dana Nurlanova"), ALMATY)).json()
    code, gone = code_of(tmp_path, joiner["id"]), code_of(tmp_path, leaver["id"])
    sheet = await h.client.get(
        f"/sessions/{session_id}/attendance-sheet", params={"lang": "en"}, headers=ALMATY
    )
    assert sheet.status_code == 200, sheet.text
    assert f"/join/{code}" in sheet.text and 'id="meeting-form"' in sheet.text
    assert "Personal join link" in sheet.text

    not_yet = await h.client.get(f"/join/{code}", params={"lang": "en"})
    assert not_yet.status_code == 409, not_yet.text
    assert "does not work at the moment" in not_yet.text and "join-submit" not in not_yet.text
    bad = await h.client.post(
        f"/sessions/{session_id}/meeting",
        data={"meeting_url": "javascript:alert(1)"},
        headers=ALMATY,
    )
    assert bad.status_code == 422, bad.text
    stranger = await h.client.post(
        f"/sessions/{session_id}/meeting",
        data={"meeting_url": "https://evil.example/"},
        headers=coordinator("shymkent"),
    )
    assert stranger.status_code == 404
    meeting = "https://zoom.example/j/123?pwd=abc"
    saved = await h.client.post(
        f"/sessions/{session_id}/meeting",
        data={"meeting_url": meeting},
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert saved.status_code == 200, saved.text
    assert "Meeting address saved." in saved.text

    # Opening the link (a mail scanner, a link preview) records nothing and reveals no address.
    for _ in range(2):
        page = await h.client.get(f"/join/{code}", params={"lang": "en"}, follow_redirects=False)
        assert page.status_code == 200, page.text
        assert 'id="join-submit"' in page.text and "Join the session" in page.text
        assert "zoom.example" not in page.text
    assert (await h.get(joiner["id"])).json()["attended"] is None
    forged = await h.client.post(f"/join/{code}", data={"csrf_token": "x" * 32})
    assert forged.status_code == 403 and 'id="join-submit"' in forged.text
    assert (await h.get(joiner["id"])).json()["attended"] is None

    for _ in range(2):  # a second press leads on again and records nothing new
        went = await join_through_page(h.client, code)
        assert went.status_code == 303, went.text
        assert went.headers["location"] == meeting
    assert (await h.get(joiner["id"])).json()["attended"] is True
    assert (
        await h.client.post(f"/registrations/{leaver['id']}/cancel", headers=ALMATY)
    ).status_code == 200
    closed = await h.client.get(f"/join/{gone}", follow_redirects=False)
    assert closed.status_code == 409, closed.text
    held = h.client.cookies.get("trainops_join_csrf")
    assert held
    refused = await h.client.post(f"/join/{gone}", data={"csrf_token": held})
    assert refused.status_code == 409 and (await h.get(leaver["id"])).json()["attended"] is None
    for junk in ("not-a-code", "B" * 43):
        assert (await h.client.get(f"/join/{junk}", follow_redirects=False)).status_code == 404
        posted = await h.client.post(f"/join/{junk}", data={"csrf_token": held})
        assert posted.status_code == 404

    async def recorded() -> list[AttendanceRecorded]:
        return [
            e
            for e in await h.registration_events()
            if isinstance(e, AttendanceRecorded) and str(e.registration_id) == joiner["id"]
        ]

    events = await eventually(recorded, what="the attendance event")
    assert [(e.attended, e.actor) for e in events] == [(True, "join-link")]


async def test_an_in_person_sessions_code_is_no_join_link(harness: Harness, tmp_path: Path) -> None:
    h = harness
    session_id = await h.schedule(capacity=1, cities=("almaty",), mode="in_person")
    await h.client.post(
        f"/sessions/{session_id}/meeting", data={"meeting_url": "https://x.example/"}, headers=ADMIN
    )
    seat = (await h.register(session_id, person("Aigerim Seitova"), ALMATY)).json()
    assert (
        await h.client.get(f"/sessions/{session_id}/attendance-sheet", headers=ALMATY)
    ).status_code == 200
    code = code_of(tmp_path, seat["id"])
    assert (await h.client.get(f"/join/{code}", follow_redirects=False)).status_code == 404
    posted = await h.client.post(f"/join/{code}", data={"csrf_token": "x" * 32})
    assert posted.status_code in (403, 404)
    assert (await h.get(seat["id"])).json()["attended"] is None
