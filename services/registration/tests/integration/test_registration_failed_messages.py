"""The console's page of messages that did not go, on SQLite and PostgreSQL: a coordinator sees
and sends again only their own region's; an admin sees every region's; a message that is not
stuck is not sent again."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from registration_support import ADMIN, Harness, coordinator, person
from test_registration_session_changes import schedule

from trainops_registration.adapters import outbox
from trainops_registration.adapters.outbox import message_outbox
from trainops_shared.storage import open_database

pytestmark = pytest.mark.integration


async def stuck_message(database_url: str, registration_id: str, status: str) -> uuid.UUID:
    """What the relay leaves after a 5xx (``failed``) or for a person without an address."""
    db = open_database(database_url)
    await db.start([])
    try:

        def fail(conn: Any) -> uuid.UUID:
            m = message_outbox.c
            message_id = conn.execute(
                sa.select(m.message_id).where(m.registration_id == uuid.UUID(registration_id))
            ).scalar_one()
            if status == "failed":
                outbox.mark_failed(conn, message_id, "SMTP 550: recipient refused")
            else:
                outbox.mark_no_address(conn, message_id)
            return uuid.UUID(str(message_id))

        return await db.write(fail)
    finally:
        await db.close()


async def message_status(database_url: str, message_id: uuid.UUID) -> tuple[str, int]:
    db = open_database(database_url)
    await db.start([])
    try:
        m = message_outbox.c
        row = await db.read(
            lambda c: c.execute(
                sa.select(m.status, m.attempts).where(m.message_id == message_id)
            ).one()
        )
        return str(row.status), int(row.attempts)
    finally:
        await db.close()


async def test_stuck_messages_are_shown_per_region_and_sent_again(
    harness: Harness, database_url: str
) -> None:
    session_id = await harness.schedule(capacity=5)
    almaty = await harness.register(
        session_id, person("Дана", email="dana@example.org"), coordinator("almaty")
    )
    astana = await harness.register(
        session_id, person("Ерлан", "astana", email="erlan@example.org"), coordinator("astana")
    )
    assert almaty.status_code == astana.status_code == 201
    failed = await stuck_message(database_url, almaty.json()["id"], "failed")
    other = await stuck_message(database_url, astana.json()["id"], "no_address")

    page = await harness.client.get("/messages", headers=coordinator("almaty"))
    assert page.status_code == 200
    assert f'id="message-{failed}"' in page.text and "SMTP 550" in page.text
    assert str(other) not in page.text and "Дана" not in page.text  # no name, no address
    everything = await harness.client.get("/messages", headers=ADMIN)
    assert str(failed) in everything.text and str(other) in everything.text

    form = {"message_id": str(failed)}
    refused = await harness.client.post("/messages/retry", data=form, headers=coordinator("astana"))
    assert refused.status_code == 404
    assert await message_status(database_url, failed) == ("failed", 0)
    done = await harness.client.post("/messages/retry", data=form, headers=coordinator("almaty"))
    assert done.status_code == 200, done.text
    assert f'id="message-{failed}"' not in done.text
    assert await message_status(database_url, failed) == ("pending", 0)
    again = await harness.client.post("/messages/retry", data=form, headers=coordinator("almaty"))
    assert again.status_code == 409
    bad = await harness.client.post(
        "/messages/retry", data={"message_id": "x"}, headers=coordinator("almaty")
    )
    assert bad.status_code == 404


async def test_the_session_page_moves_the_people_of_a_full_session(harness: Harness) -> None:
    """The console's move form (as a coordinator's browser posts it, here with a bearer
    token): the ticked people of a full session go to the chosen one; another region's
    coordinator does not even see the session."""
    full = await schedule(harness, capacity=1)
    target = await schedule(harness, capacity=5)
    ids = []
    for name in ("Дана", "Ержан"):
        answer = await harness.register(session_id=full, participant=person(name), headers=ADMIN)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    page = await harness.client.get(f"/sessions/{full}", headers=coordinator("almaty"))
    assert page.status_code == 200 and 'id="move-form"' in page.text
    assert f'value="{target}"' in page.text
    outsider = await harness.client.post(
        f"/sessions/{full}/move-people",
        data={"registration_id": ids, "to_session_id": str(target)},
        headers=coordinator("aktobe"),
    )
    assert outsider.status_code == 404
    empty = await harness.client.post(
        f"/sessions/{full}/move-people",
        data={"to_session_id": str(target)},
        headers=coordinator("almaty"),
    )
    assert empty.status_code == 422
    moved = await harness.client.post(
        f"/sessions/{full}/move-people",
        data={"registration_id": ids, "to_session_id": str(target)},
        headers=coordinator("almaty"),
    )
    assert moved.status_code == 200, moved.text
    assert 'id="notice"' in moved.text
    statuses = [(await harness.get(i)).json()["status"] for i in ids]
    assert statuses == ["cancelled", "cancelled"]
    listed = await harness.client.get(
        "/registrations", params={"session_id": str(target)}, headers=ADMIN
    )
    assert sorted(r["status"] for r in listed.json()["items"]) == ["confirmed", "confirmed"]
