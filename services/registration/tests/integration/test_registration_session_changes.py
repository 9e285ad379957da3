"""A session that changes after people registered: each is told once, on SQLite and PostgreSQL.

The registration service runs in-process on a real nats-server with the development mail
catcher as its SMTP server; scheduling's events are published to JetStream as scheduling
publishes them. Reschedule → one update per confirmed person (same UID, higher SEQUENCE) with
a link; declining through that link frees the seat and the next person is promoted and told;
a redelivered event tells nobody again; cancel → METHOD:CANCEL to everyone registered or
waiting, naming the alternative session.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import nats
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from registration_support import ADMIN, Harness, person
from test_registration_mail import calendar_of, parsed

from trainops_devtools.mail_catcher import MailCatcher
from trainops_devtools.testing.events import session_scheduled
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import in_process_settings
from trainops_registration.adapters.links import registration_links
from trainops_registration.app import build_spec
from trainops_registration.domain.checkin import QR_CONTENT_ID
from trainops_shared.events import SessionCancelled, SessionRescheduled, encode_event
from trainops_shared.service import create_app
from trainops_shared.storage import open_database

pytestmark = pytest.mark.integration

SENDER = "Programme <no-reply@example.org>"
START = datetime(2031, 5, 20, 4, 0, tzinfo=UTC)
LINK = re.compile(r"http://[^\s/]+(/r/[A-Za-z0-9_-]{43})")
CHECKIN = re.compile(r"/checkin/[A-Za-z0-9_-]{43}")


class Mailed:
    """The running service, its catcher and its NATS connection."""

    def __init__(self, harness: Harness, catcher: MailCatcher, database_url: str) -> None:
        self.harness = harness
        self.catcher = catcher
        self.database_url = database_url

    def messages(self) -> list[EmailMessage]:
        return [parsed(path) for path in self.catcher.files()]

    async def wait_for(self, count: int) -> list[EmailMessage]:
        async def arrived() -> bool:
            return len(self.catcher.files()) >= count

        await eventually(arrived, timeout=30)
        return self.messages()


@pytest.fixture
async def mailed(
    database_url: str, fresh_nats_server: Any, tmp_path: Path
) -> AsyncIterator[Mailed]:
    with MailCatcher(tmp_path / "mail") as catcher:
        settings = in_process_settings(
            "registration",
            nats_url=fresh_nats_server.url,
            database_url=database_url,
            data_dir=tmp_path,
            extra={"SMTP_URL": catcher.url, "MAIL_FROM": SENDER},
        )
        app = create_app(build_spec(settings), settings)
        nc = await nats.connect(fresh_nats_server.url)
        try:
            async with AsyncTestClient(app) as client:
                yield Mailed(Harness(client, nc), catcher, database_url)
        finally:
            await nc.close()


async def schedule(harness: Harness, capacity: int) -> uuid.UUID:
    event = session_scheduled(
        capacity=capacity, mode="in_person", cities=("almaty",), starts_at=START, hours=3
    )
    await harness.publish(event)

    async def known() -> bool:
        probe = await harness.client.post(
            "/registrations",
            json={"session_id": str(event.session_id), "participant": person("Probe", "zz")},
            headers=ADMIN,
        )
        return probe.status_code == 422

    await eventually(known)
    return event.session_id


def to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if address in str(m["To"])]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def field(calendar: str, name: str) -> str:
    found = re.search(rf"^{name}:(.*)$", calendar, re.MULTILINE)
    assert found, f"no {name} in {calendar}"
    return found.group(1).strip()


async def test_reschedule_decline_and_cancel_each_tell_everyone_once(mailed: Mailed) -> None:
    harness = mailed.harness
    session_id = await schedule(harness, capacity=2)
    people = [("Дана", "dana@example.org"), ("Ержан", "erzhan@example.org")]
    people += [("Айгүл", "aigul@example.org")]
    ids = []
    for name, email in people:
        answer = await harness.register(session_id, person(name, email=email), ADMIN)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    first = await mailed.wait_for(3)
    (dana_confirmed,) = to(first, "dana@")
    first_calendar = calendar_of(dana_confirmed)
    assert first_calendar is not None
    assert LINK.search(text_of(dana_confirmed)), "the confirmation carries the cancel link"

    # Two hours later, version 2; delivered twice (a redelivery): told once.
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
    await harness.js.publish(moved.subject, encode_event(moved))  # no Msg-Id: stored twice
    after = await mailed.wait_for(5)
    updates = [m for m in after if "Тренингіңіздің жаңа уақыты" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in updates) == [
        "Дана <dana@example.org>",
        "Ержан <erzhan@example.org>",
    ], "one update per confirmed person, none to the waiting one"
    dana_update = to(updates, "dana@")[0]
    update_calendar = calendar_of(dana_update)
    assert update_calendar is not None
    assert field(update_calendar, "UID") == field(first_calendar, "UID")
    assert int(field(update_calendar, "SEQUENCE")) == int(field(first_calendar, "SEQUENCE")) + 1
    assert field(update_calendar, "METHOD") == "REQUEST"
    assert field(update_calendar, "DTSTART") == "20310520T060000Z"
    assert "20.05.2031 11:00–14:00 UTC+5" in text_of(dana_update)
    # The update hands over the same check-in code as the confirmation, as text and QR.
    code = CHECKIN.search(text_of(dana_confirmed))
    assert code is not None and CHECKIN.findall(text_of(dana_update)) == [code.group(0)]
    html_part = dana_update.get_body(("html",))
    assert html_part is not None and f"cid:{QR_CONTENT_ID}" in str(html_part.get_content())
    assert any(part.get_content_type() == "image/png" for part in dana_update.walk())

    # Dana declines through the link of the update: Айгүл is promoted and told.
    found = LINK.search(text_of(dana_update))
    assert found
    path = found.group(1)
    page = await harness.client.get(path)
    assert page.status_code == 200 and 'id="answer-declined"' in page.text
    assert "Дана" not in page.text and "dana@" not in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    refused = await harness.client.post(path, data={"answer": "declined", "csrf_token": "x"})
    assert refused.status_code == 403
    declined = await harness.client.post(
        path, data={"answer": "declined", "csrf_token": csrf.group(1)}
    )
    assert declined.status_code == 200, declined.text
    assert 'id="outcome"' in declined.text
    again = await harness.client.post(
        path, data={"answer": "declined", "csrf_token": csrf.group(1)}
    )
    assert again.status_code == 409
    dana = await harness.get(ids[0])
    aigul = await harness.get(ids[2])
    assert dana.json()["status"] == "cancelled" and aigul.json()["status"] == "confirmed"
    promoted = await mailed.wait_for(6)
    (aigul_promoted,) = [m for m in to(promoted, "aigul@") if "Орын босады" in str(m["Subject"])]
    assert calendar_of(aigul_promoted) is not None

    # Cancelled, offering another session: everyone still registered gets METHOD:CANCEL.
    alternative = await schedule(harness, capacity=5)
    off = SessionCancelled(
        aggregate_id=session_id,
        aggregate_version=3,
        session_id=session_id,
        reason="The trainer is ill",
        alternative_session_id=alternative,
    )
    await harness.publish(off)
    final = await mailed.wait_for(8)
    cancellations = [m for m in final if "Тренинг тоқтатылды" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in cancellations) == [
        "Айгүл <aigul@example.org>",
        "Ержан <erzhan@example.org>",
    ]
    for message in cancellations:
        calendar = calendar_of(message)
        assert calendar is not None and field(calendar, "METHOD") == "CANCEL"
        assert field(calendar, "STATUS") == "CANCELLED"
        assert int(field(calendar, "SEQUENCE")) == 3
        assert "20.05.2031 09:00–12:00 UTC+5" in text_of(message)  # the alternative's time
    assert mailed.catcher.duplicates == 0
    assert len(mailed.catcher.files()) == 8

    def hashes(conn: Any) -> list[str]:
        return [str(h) for h in conn.execute(sa.select(registration_links.c.token_hash)).scalars()]

    db = open_database(mailed.database_url)  # the service's own runs on the app's loop
    await db.start([])
    try:
        stored = await db.read(hashes)
    finally:
        await db.close()
    assert path.removeprefix("/r/") not in stored and stored, "only hashes are stored"
