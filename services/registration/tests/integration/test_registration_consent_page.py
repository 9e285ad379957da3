"""A participant changes their consents from the link at the foot of their mail, without
signing in: the running registration service (in-process, real nats-server, the development
mail catcher as its SMTP server), SQLite and PostgreSQL.

Withdrawing a purpose and giving it again, the CSRF refusal, and withdrawing taking part: the
page explains the erasure, asks for a confirmation, then erases through the one erasure path;
the mail about a later change of the session is then not sent. Every change is audited with
ids and purposes only."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from registration_support import ADMIN, person
from test_registration_session_changes import START, Mailed, mailed, schedule, text_of

from trainops_devtools.testing.polling import eventually
from trainops_registration.adapters.consent_links import consent_links
from trainops_registration.adapters.outbox import message_outbox
from trainops_shared.events import SessionRescheduled
from trainops_shared.storage import open_database

__all__ = ["mailed"]

CONSENTS_LINK = re.compile(r"http://[^\s/]+(/r/consents/[A-Za-z0-9_-]{43})")
CSRF = re.compile(r'name="csrf_token" value="([A-Za-z0-9_-]+)"')


def form(page: str, purpose: str, action: str, **extra: str) -> dict[str, str]:
    found = CSRF.search(page)
    assert found, page
    sent = {"csrf_token": found.group(1), "purpose": purpose, "action": action, "lang": "en"}
    return {**sent, **extra}


async def outbox_rows(database_url: str, participant_id: str) -> list[dict[str, Any]]:
    db = open_database(database_url)
    await db.start([])
    try:
        query = sa.select(message_outbox.c.kind, message_outbox.c.status).where(
            message_outbox.c.participant_id == uuid.UUID(participant_id)
        )
        return await db.read(lambda c: [dict(r) for r in c.execute(query).mappings()])
    finally:
        await db.close()


async def test_a_participant_withdraws_and_gives_consent_then_withdraws_taking_part(
    mailed: Mailed,
) -> None:
    harness = mailed.harness
    client = harness.client
    session_id = await schedule(harness, capacity=3)
    made = await client.post(
        "/registrations",
        json={
            "session_id": str(session_id),
            "participant": person("Дана Серікқызы", email="dana@example.org"),
            "consents": ["taking_part", "future_trainings"],
        },
        headers=ADMIN,
    )
    assert made.status_code == 201, made.text
    pid = made.json()["participant_id"]
    (confirmation,) = await mailed.wait_for(1)
    text = text_of(confirmation)
    found = CONSENTS_LINK.search(text)
    assert found, text
    path = found.group(1)
    assert "Деректеріңіз не үшін пайдаланылатыны" in text  # the footer, in Kazakh
    html_part = confirmation.get_body(("html",))
    assert html_part is not None and path in str(html_part.get_content())

    # Only the token's hash is stored.
    async def stored_hashes() -> list[str]:
        db = open_database(mailed.database_url)
        await db.start([])
        try:
            query = sa.select(consent_links.c.token_hash)
            return await db.read(lambda c: list(c.execute(query).scalars()))
        finally:
            await db.close()

    token = path.rsplit("/", 1)[1]
    assert token not in (await stored_hashes()) and len(await stored_hashes()) == 1

    page = await client.get(path, params={"lang": "en"})
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert 'id="form-future_trainings"' in page.text and 'id="form-taking_part"' in page.text
    assert "erased for good" in page.text  # the consequence, before anything is asked

    refused = await client.post(
        path, data={**form(page.text, "future_trainings", "withdraw"), "csrf_token": "x" * 32}
    )
    assert refused.status_code == 403, refused.text

    async def consents() -> dict[str, Any]:
        got = await client.get(f"/participants/{pid}/consents", headers=ADMIN)
        assert got.status_code == 200, got.text
        return {c["purpose"]: c["withdrawn_at"] for c in got.json()["consents"]}

    assert (await consents())["future_trainings"] is None
    withdrawn = await client.post(path, data=form(page.text, "future_trainings", "withdraw"))
    assert withdrawn.status_code == 200, withdrawn.text
    assert "You will get no more mail for it." in withdrawn.text
    assert (await consents())["future_trainings"] is not None
    again = await client.post(path, data=form(page.text, "future_trainings", "withdraw"))
    assert again.status_code == 409, again.text
    given = await client.post(path, data=form(page.text, "future_trainings", "give"))
    assert given.status_code == 200, given.text
    assert (await consents())["future_trainings"] is None

    unconfirmed = await client.post(path, data=form(page.text, "taking_part", "withdraw"))
    assert unconfirmed.status_code == 422, unconfirmed.text
    assert "Tick the box" in unconfirmed.text
    assert (await client.get(f"/participants/{pid}/export", headers=ADMIN)).status_code == 200
    gone = await client.post(
        path, data=form(page.text, "taking_part", "withdraw", confirm="yes", lang="ru")
    )
    assert gone.status_code == 200, gone.text
    assert "Ваши персональные данные удалены." in gone.text
    assert 'id="form-' not in gone.text
    assert (await client.get(f"/participants/{pid}/export", headers=ADMIN)).status_code == 404
    assert (
        await client.post(path, data=form(page.text, "future_trainings", "withdraw"))
    ).status_code == 404

    audit = await client.get("/audit", headers=ADMIN, params={"limit": 200})
    assert audit.status_code == 200, audit.text
    entries = [(e["action"], e["detail"]) for e in audit.json()["entries"] if e["record_id"] == pid]
    assert ("participant.consent_given", {"purpose": "future_trainings"}) in entries
    assert ("participant.erased", {"reason": "consent_withdrawn"}) in entries
    assert [a for a, d in entries if a == "participant.consent_withdrawn"] == [
        "participant.consent_withdrawn"
    ] * 2
    assert "dana@" not in audit.text and "Дана" not in audit.text

    # A later change of the session is not mailed to the person who withdrew taking part.
    moved = SessionRescheduled(
        aggregate_id=session_id,
        aggregate_version=2,
        session_id=session_id,
        starts_at=START + timedelta(hours=2),
        ends_at=START + timedelta(hours=5),
        previous_starts_at=START,
        previous_ends_at=START + timedelta(hours=3),
    )
    await harness.publish(moved)

    async def decided() -> bool:
        rows = await outbox_rows(mailed.database_url, pid)
        return any(r["kind"] == "rescheduled" and r["status"] != "pending" for r in rows)

    await eventually(decided, timeout=30)
    rows = await outbox_rows(mailed.database_url, pid)
    assert {r["kind"]: r["status"] for r in rows}["rescheduled"] == "no_consent"
    assert len(mailed.catcher.files()) == 1
