"""Participants told of a changed session, end to end: the four services as processes, the
development mail catcher as their SMTP server, scheduling driven through its public API.

register → confirmations; reschedule (with the SMTP server down, and registration killed with
SIGKILL while the updates wait) → after both come back, one update per confirmed person, same
UID, SEQUENCE + 1; a decline through the update's link → the next person promoted and told;
cancel with an alternative → METHOD:CANCEL to everyone still registered or waiting. Every
message exactly once (one resend with the same Message-ID is what a kill between the server's
250 and the relay's mark may cause, and the catcher recognises it).
"""

from __future__ import annotations

import re
import sqlite3
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import pytest

from trainops_cli.api_client import ServiceUrls, TokenIssuer, TrainopsClient, poll
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = pytest.mark.e2e

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_-]{43})")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def parsed(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def calendar(message: EmailMessage) -> str:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return str(part.get_content()).replace("\r\n ", "")
    raise AssertionError(f"no calendar in {message['Subject']}")


def field(text: str, name: str) -> str:
    found = re.search(rf"^{name}:(.*)$", text, re.MULTILINE)
    assert found, f"no {name}"
    return found.group(1).strip()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def outbox_rows(database: Path, kind: str) -> list[tuple[str, int]]:
    """``(status, attempts)`` of registration's queued messages of ``kind`` (read-only)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT status, attempts FROM message_outbox WHERE kind = ?", (kind,)
        ).fetchall()
    return [(str(s), int(a)) for s, a in rows]


def test_reschedule_decline_and_cancel_reach_everyone_once_through_an_outage_and_a_kill(
    service_processes: ServiceHarness, fresh_nats_server: Any
) -> None:
    catcher = service_processes.mail_catcher()
    processes = service_processes.start(
        nats_url=fresh_nats_server.url,
        extra_env={"MAIL_FROM": "Programme <no-reply@example.org>", "SMTP_TIMEOUT_MS": "2000"},
    )
    urls = ServiceUrls.from_mapping({name: p.url for name, p in processes.items()})
    client = TrainopsClient(urls, TokenIssuer(service_processes.signing_key))
    registration = processes["registration"]
    database = service_processes.data_dir / "registration.db"

    def mails(count: int, what: str) -> list[EmailMessage]:
        poll(
            lambda: True if len(catcher.files()) >= count else None,
            timeout=120,
            what=what,
        )
        return [parsed(p) for p in catcher.files()]

    training = client.define_training("e2e-mail-change", {"en": "Changes"}, ["media"])["id"]

    def schedule(day: int) -> str:
        return str(
            client.schedule_session(
                {
                    "training_id": training,
                    "mode": "in_person",
                    "cities": ["almaty"],
                    "starts_at": f"2031-05-{day:02d}T10:00",
                    "ends_at": f"2031-05-{day:02d}T13:00",
                    "capacity": 2,
                    "language": "kk",
                }
            )["id"]
        )

    session, alternative = schedule(20), schedule(27)
    people = {"dana": "Дана", "erzhan": "Ержан", "aigul": "Айгүл"}
    for key, name in people.items():
        client.register(
            session,
            {
                "full_name": name,
                "sector": "media",
                "city": "almaty",
                "language": "kk",
                "email": f"{key}@example.org",
            },
        )
    first = mails(3, "the confirmations and the waiting-list message")
    confirmation = next(m for m in first if "dana@" in str(m["To"]))
    sequence = int(field(calendar(confirmation), "SEQUENCE"))
    uid = field(calendar(confirmation), "UID")

    # The SMTP server goes away; the session moves; registration is killed while the two
    # updates wait for the server; both come back.
    catcher.stop()
    moved = client.request(
        "POST",
        f"{urls.scheduling}/sessions/{session}/reschedule",
        role="programme_staff",
        json={"starts_at": "2031-05-20T12:00", "ends_at": "2031-05-20T15:00"},
    )
    assert moved.status_code == 200, moved.text
    poll(
        lambda: (
            True
            if sorted(outbox_rows(database, "rescheduled")) == [("pending", 1), ("pending", 1)]
            else None
        ),
        timeout=60,
        what="both updates tried once against the absent server",
    )
    registration.kill()
    catcher.start()
    registration.restart(timeout=60)
    after = mails(5, "the two updates after the outage and the kill")
    updates = [m for m in after if "Тренингіңіздің жаңа уақыты" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in updates) == [
        "Дана <dana@example.org>",
        "Ержан <erzhan@example.org>",
    ]
    dana_update = next(m for m in updates if "dana@" in str(m["To"]))
    assert field(calendar(dana_update), "UID") == uid
    assert int(field(calendar(dana_update), "SEQUENCE")) == sequence + 1
    assert field(calendar(dana_update), "METHOD") == "REQUEST"
    assert "20.05.2031 12:00–15:00 UTC+5" in text_of(dana_update)

    # Dana declines the new time through the update's link: Айгүл is promoted and told.
    found = LINK.search(text_of(dana_update))
    assert found, text_of(dana_update)
    with httpx.Client(timeout=30) as browser:
        page = browser.get(found.group(1))
        assert page.status_code == 200, page.text
        token = CSRF.search(page.text)
        assert token
        declined = browser.post(
            found.group(1), data={"answer": "declined", "csrf_token": token.group(1)}
        )
        assert declined.status_code == 200, declined.text
    promoted = mails(6, "the promotion of the next person")
    assert [str(m["To"]) for m in promoted if "Орын босады" in str(m["Subject"])] == [
        "Айгүл <aigul@example.org>"
    ]

    # Cancelled, offering the session a week later: METHOD:CANCEL to both still registered.
    off = client.request(
        "POST",
        f"{urls.scheduling}/sessions/{session}/cancel",
        role="programme_staff",
        json={"reason": "The trainer is ill", "alternative_session_id": alternative},
    )
    assert off.status_code == 200, off.text
    final = mails(8, "the cancellations")
    cancellations = [m for m in final if "Тренинг тоқтатылды" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in cancellations) == [
        "Айгүл <aigul@example.org>",
        "Ержан <erzhan@example.org>",
    ]
    for message in cancellations:
        assert field(calendar(message), "METHOD") == "CANCEL"
        assert int(field(calendar(message), "SEQUENCE")) == sequence + 2
        assert "27.05.2031 10:00–13:00 UTC+5" in text_of(message)
    assert len(catcher.files()) == 8
    assert catcher.duplicates <= 1 and catcher.received == 8 + catcher.duplicates
    client.close()
