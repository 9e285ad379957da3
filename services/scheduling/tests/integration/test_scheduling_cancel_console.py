"""The cancel form's alternative-session picker through the real app: what it offers, what it
refuses at the field, and the choice reaching the cancellation event in the stream."""

from __future__ import annotations

import re
import uuid
from typing import Any

import nats
import nats.js.errors
import pytest
from litestar.testing import AsyncTestClient
from test_scheduling_console import STAFF, api, client, setup

from trainops_devtools.testing.polling import eventually
from trainops_shared.events import SessionCancelled, decode_event
from trainops_shared.events.streams import SCHEDULING

pytestmark = pytest.mark.integration
# The app fixture is imported to be requested by name, not called.
__all__ = ["client"]


async def last_cancellation(nats_url: str) -> SessionCancelled | None:
    """The last cancellation the service's relay put into its stream (``None`` before it does)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        try:
            message = await js.get_last_msg(SCHEDULING.name, SessionCancelled.type_name())
        except nats.js.errors.NotFoundError:
            return None
        event = decode_event(message.data or b"")
        return event if isinstance(event, SessionCancelled) else None
    finally:
        await nc.close()


async def test_cancel_offers_the_same_trainings_other_sessions(
    client: AsyncTestClient[Any], nats_url: str
) -> None:
    """The cancel form lists the training's other coming sessions (those in one of its cities
    first), refuses one that is not among them, and passes the chosen one to the command."""
    training_id, trainer_id, session_id = await setup(client)
    other = await api(
        client,
        "/trainings",
        {"code": f"other-{uuid.uuid4().hex[:6]}", "title": {"en": "Other"}},
    )

    async def scheduled(training: str, cities: list[str], day: str) -> str:
        body = {
            "training_id": training,
            "mode": "online",
            "cities": cities,
            "starts_at": f"{day}T10:00",
            "ends_at": f"{day}T12:00",
            "capacity": 10,
            "language": "ru",
            "trainer_ids": [trainer_id],
        }
        return str((await api(client, "/sessions", body))["id"])

    almaty = await scheduled(training_id, ["almaty"], "2027-02-05")
    aktobe = await scheduled(training_id, ["aktobe", "almaty"], "2027-02-09")
    unrelated = await scheduled(other["id"], ["aktobe"], "2027-02-06")
    gone = await scheduled(training_id, ["aktobe"], "2027-02-07")
    cancelled = await client.post(
        f"/sessions/{gone}/cancel", json={"reason": "No room"}, headers=STAFF
    )
    assert cancelled.status_code == 200, cancelled.text

    path = f"/programme/sessions/{session_id}"
    page = await client.get(path, params={"lang": "en"}, headers=STAFF)
    picker = page.text.split('id="f-alternative_session_id"', 1)[1].split("</select>", 1)[0]
    offered = re.findall(r'<option value="([^"]*)"', picker)
    # No alternative first; the Aktobe one before the earlier Almaty one; nothing else.
    assert offered == ["", aktobe, almaty]
    assert '<label for="f-alternative_session_id">Session offered instead' in page.text
    assert "09.02.2027 10:00 UTC+5 — Aktobe, Almaty (Online)" in picker

    for wrong in (unrelated, gone, session_id, "not-an-id"):
        refused = await client.post(
            path,
            data={"action": "cancel", "reason": "Flood", "alternative_session_id": wrong},
            params={"lang": "en"},
            headers=STAFF,
        )
        assert refused.status_code == 422, (wrong, refused.text[:300])
        assert 'id="f-alternative_session_id-error"' in refused.text
        assert 'id="confirm"' not in refused.text

    choice = {"action": "cancel", "reason": "Flood", "alternative_session_id": aktobe}
    preview = await client.post(path, data=choice, params={"lang": "ru"}, headers=STAFF)
    assert preview.status_code == 200, preview.text
    shown = preview.text.split('id="preview-alternative">', 1)[1].split("</p>", 1)[0]
    assert "Участникам предложат взамен:" in shown
    assert f'href="/programme/sessions/{aktobe}"' in shown
    confirm = preview.text.split('id="confirm-form"', 1)[1].split("</form>", 1)[0]
    assert f'name="alternative_session_id" value="{aktobe}"' in confirm
    assert (await client.get(f"/sessions/{session_id}", headers=STAFF)).json()["version"] == 1

    done = await client.post(
        path, data={**choice, "confirm": "1"}, headers=STAFF, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    assert (await client.get(f"/sessions/{session_id}", headers=STAFF)).json()["status"] == (
        "cancelled"
    )

    async def published() -> SessionCancelled | None:
        event = await last_cancellation(nats_url)
        return event if event is not None and str(event.session_id) == session_id else None

    event = await eventually(published, what="the cancellation in the stream")
    assert str(event.alternative_session_id) == aktobe
    # Once cancelled, the page offers no cancel form and so no picker.
    after = await client.get(path, headers=STAFF)
    assert 'id="f-alternative_session_id"' not in after.text


async def test_cancel_without_an_alternative(client: AsyncTestClient[Any], nats_url: str) -> None:
    """A training with no other session says so in the form; left blank, none is passed."""
    _, _, session_id = await setup(client)
    path = f"/programme/sessions/{session_id}"
    page = await client.get(path, params={"lang": "kk"}, headers=STAFF)
    assert 'id="no-alternatives"' in page.text
    assert "Бұл тренингтің басқа жоспарланған сессиясы жоқ" in page.text
    choice = {"action": "cancel", "reason": "Flood", "alternative_session_id": ""}
    preview = await client.post(path, data=choice, params={"lang": "en"}, headers=STAFF)
    assert preview.status_code == 200, preview.text
    assert 'id="preview-alternative">No alternative session</p>' in preview.text
    done = await client.post(
        path, data={**choice, "confirm": "1"}, headers=STAFF, follow_redirects=False
    )
    assert done.status_code == 303, done.text

    async def published() -> SessionCancelled | None:
        event = await last_cancellation(nats_url)
        return event if event is not None and str(event.session_id) == session_id else None

    event = await eventually(published, what="the cancellation in the stream")
    assert event.alternative_session_id is None
