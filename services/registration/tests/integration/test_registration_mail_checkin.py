"""The check-in code from the confirmation mail alone, through the running service's relay and
the development mail catcher, on SQLite and PostgreSQL: the message shows the code as an inline
QR image (the HTML refers to it by Content-ID) and as a link in the plain text, and that code
records attendance once via ``POST /checkin/{code}``, with no attendance sheet ever printed; an
online session's message carries the personal join link instead. The code is in no event
and no log line."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image
from registration_support import (
    ADMIN,
    Harness,
    coordinator,
    join_through_page,
    person,
    running_harness,
)

from trainops_devtools.mail_catcher import MailCatcher
from trainops_devtools.testing.polling import eventually
from trainops_registration.domain.checkin import QR_CONTENT_ID
from trainops_shared.events import AttendanceRecorded

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
SENDER = "Programme <no-reply@example.org>"
LINK = re.compile(r"https?://\S+/(checkin|join)/([A-Za-z0-9_-]{43})")


@pytest.fixture
async def mailing(
    database_url: str, fresh_nats_server: Any, tmp_path: Path
) -> AsyncIterator[tuple[Harness, MailCatcher]]:
    with MailCatcher(tmp_path / "mail") as catcher:
        extra = {"SMTP_URL": catcher.url, "MAIL_FROM": SENDER}
        async for running in running_harness(database_url, fresh_nats_server, tmp_path, extra):
            yield running, catcher


async def the_message(catcher: MailCatcher, address: str) -> EmailMessage:
    async def arrived() -> list[Path]:
        return [f for f in catcher.files() if address.encode() in f.read_bytes()]

    (path,) = await eventually(arrived, what=f"the message to {address}")
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def qr_image(message: EmailMessage) -> bytes:
    """The inline image the HTML part shows by its Content-ID."""
    html = message.get_body(("html",))
    assert html is not None
    assert f'src="cid:{QR_CONTENT_ID}"' in str(html.get_content())
    images = [
        part
        for part in message.walk()
        if part.get_content_type() == "image/png" and part["Content-ID"] == f"<{QR_CONTENT_ID}>"
    ]
    assert len(images) == 1
    data = images[0].get_content()
    assert isinstance(data, bytes)
    return data


def shows_symbol_of(png: bytes, url: str) -> bool:
    """Whether the picture is, module by module, the QR symbol of ``url``."""
    matrix = [[bool(bit) for bit in row] for row in segno.make(url, error="m").matrix]
    image = Image.open(io.BytesIO(png)).convert("L")
    scale = image.size[0] // (len(matrix) + 8)
    seen = [
        [
            image.getpixel(((4 + x) * scale + scale // 2, (4 + y) * scale + scale // 2)) < 128
            for x in range(len(matrix))
        ]
        for y in range(len(matrix))
    ]
    return seen == matrix


async def test_the_code_in_the_confirmation_records_attendance_once(mailing, capsys) -> None:
    h, catcher = mailing
    session_id = await h.schedule(capacity=1, cities=("almaty",), mode="in_person")
    seat = await h.register(
        session_id, person("Aigerim Seitova", email="aigerim@example.org", language="ru"), ALMATY
    )
    assert seat.status_code == 201, seat.text
    registration_id = seat.json()["id"]
    message = await the_message(catcher, "aigerim@example.org")
    text = message.get_body(("plain",))
    assert text is not None
    found = LINK.search(str(text.get_content()))
    assert found is not None and found.group(1) == "checkin"
    url, code = found.group(0), found.group(2)
    assert "покажите его на входе" in str(text.get_content())
    assert shows_symbol_of(qr_image(message), url)

    # No attendance sheet was shown: the code works because the mail stored its hash.
    page = await h.client.get(f"/checkin/{code}", params={"lang": "en"}, headers=ALMATY)
    assert page.status_code == 200, page.text
    assert "Aigerim Seitova" in page.text
    assert (await h.client.get(f"/checkin/{code}", headers=coordinator("aktobe"))).status_code == (
        404
    )
    for _ in range(2):
        done = await h.client.post(f"/checkin/{code}", headers=ADMIN)
        assert done.status_code == 200, done.text
    assert (await h.get(registration_id)).json()["attended"] is True

    async def recorded() -> list[AttendanceRecorded]:
        return [
            e
            for e in await h.registration_events()
            if isinstance(e, AttendanceRecorded) and str(e.registration_id) == registration_id
        ]

    events = await eventually(recorded, what="the attendance event")
    assert [e.attended for e in events] == [True]
    assert all(code not in repr(e) for e in await h.registration_events())
    logged = capsys.readouterr()
    assert "mail_sent" in logged.out and code not in logged.out + logged.err


async def test_an_online_confirmation_carries_the_join_link(mailing) -> None:
    h, catcher = mailing
    session_id = await h.schedule(capacity=1, cities=("almaty",))  # online
    seat = await h.register(
        session_id, person("Dana Nurlanova", email="dana@example.org", language="en"), ALMATY
    )
    assert seat.status_code == 201, seat.text
    message = await the_message(catcher, "dana@example.org")
    text = message.get_body(("plain",))
    assert text is not None
    found = LINK.search(str(text.get_content()))
    assert found is not None and found.group(1) == "join"
    assert "personal join link" in str(text.get_content())
    assert shows_symbol_of(qr_image(message), found.group(0))
    meeting = "https://meet.example/j/42"
    saved = await h.client.post(
        f"/sessions/{session_id}/meeting", data={"meeting_url": meeting}, headers=ALMATY
    )
    assert saved.status_code == 200, saved.text
    went = await join_through_page(h.client, found.group(2))
    assert went.status_code == 303 and went.headers["location"] == meeting
    assert (await h.get(seat.json()["id"])).json()["attended"] is True
