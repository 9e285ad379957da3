"""A session's follow-ups end to end: the four services as processes, the development mail
catcher, driven only over HTTP.

Complete + attendance → one invitation each, whose mailed link opens the participant's form
(the token never appears in a service's log); the reminder after the delay only to the one
who did not answer, at most the configured number of times; the certificate (the training
asks for the answer) only to those who attended and answered, with a public verification
page; every message exactly once, also across a SIGKILL of the registration service.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest

from trainops_cli.api_client import poll

pytestmark = pytest.mark.e2e

REMINDER_DELAY_S = 12
ANSWERS = {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 4}
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/f/[A-Za-z0-9_-]{43})")
VERIFY = re.compile(r"(http://127\.0\.0\.1:\d+/certificates/[A-Za-z0-9_-]+)")


def parsed(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return "" if part is None else str(part.get_content())


def has_pdf(message: EmailMessage) -> bool:
    return any(p.get_content_type() == "application/pdf" for p in message.iter_attachments())


def kind_of(message: EmailMessage) -> str:
    """What a caught message is, from what it carries (the subjects are in three languages)."""
    if has_pdf(message):
        return "certificate"
    if LINK.search(text_of(message)):
        subject = str(message["Subject"])
        reminded = any(w in subject for w in ("Reminder", "Напоминание", "Еске салу"))
        return "reminder" if reminded else "invitation"
    return "registration"


def inbox(directory: Path) -> list[tuple[str, str, EmailMessage]]:
    """``(recipient, kind, message)`` of every caught message, oldest first."""
    found = []
    for path in sorted(directory.glob("*.eml")):
        message = parsed(path)
        to = str(message["To"]).rsplit("<", 1)[-1].rstrip(">")
        found.append((to, kind_of(message), message))
    return found


def test_invitations_reminders_and_certificates_exactly_once(start_system, service_processes):
    catcher = service_processes.mail_catcher()
    suffix = uuid.uuid4().hex[:8]
    code = f"e2e-cert-{suffix}"
    system = start_system(
        report_env={
            "REPORT_MIN_CELL": "1",
            "FEEDBACK_REMINDER_DELAY_S": str(REMINDER_DELAY_S),
            "FEEDBACK_REMINDER_MAX": "1",
            "CERTIFICATE_REQUIRES_FEEDBACK": code,
        }
    )
    client = system.client
    training = client.define_training(
        code, {"kk": "Этикалық жариялау", "ru": "Этичное освещение", "en": "Ethics"}, ["media"]
    )["id"]
    session = client.schedule_session(
        {
            "training_id": training,
            "mode": "in_person",
            "cities": ["almaty"],
            "starts_at": "2021-04-01T10:00",
            "ends_at": "2021-04-01T16:00",
            "capacity": 10,
            "language": "ru",
            "trainer_ids": [],
        }
    )["id"]
    people = {
        "answers": ("Айгүл Серікқызы", "kk"),
        "silent": ("Иван Петров", "ru"),
        "absent": ("Dana Smith", "en"),
    }
    regs = {}
    for key, (name, language) in people.items():
        body = client.register(
            session,
            {
                "full_name": name,
                "sector": "media",
                "city": "almaty",
                "language": language,
                "email": f"{key}-{suffix}@example.org",
            },
        )
        regs[key] = body["id"]
    address = {key: f"{key}-{suffix}@example.org" for key in people}
    client.record_attendance(regs["answers"], True)
    client.complete_session(session)
    client.record_attendance(regs["silent"], True)
    client.record_attendance(regs["absent"], False)

    def mails(kind: str) -> dict[str, list[EmailMessage]]:
        found: dict[str, list[EmailMessage]] = {}
        for to, what, message in inbox(catcher.directory):
            if what == kind:
                found.setdefault(to, []).append(message)
        return found

    invited = poll(
        lambda: m if len(m := mails("invitation")) == 2 else None,
        timeout=90,
        what="two feedback invitations",
        last=lambda: f"{sorted(mails('invitation'))}\n{system.logs()}",
    )
    assert set(invited) == {address["answers"], address["silent"]}
    kk_text = text_of(invited[address["answers"]][0])
    assert "Сәлеметсіз бе" in kk_text and "Этикалық жариялау" in kk_text
    links = {}
    for key in ("answers", "silent"):
        match = LINK.search(text_of(invited[address[key]][0]))
        assert match is not None
        links[key] = match.group(1)
        assert links[key].startswith(system.urls.feedback + "/f/")

    # The mailed link opens the participant's form once feedback has the hash.
    def form_opens() -> bool | None:
        response = httpx.get(links["answers"], timeout=10)
        return True if response.status_code == 200 else None

    poll(form_opens, timeout=60, what="the mailed link to open the feedback form")

    # One answers at once (well within the reminder delay); then the sender crashes after the
    # invitations went out, and sends nothing twice when it is back.
    client.submit_response(links["answers"].rsplit("/f/", 1)[1], ANSWERS)
    system.processes["registration"].kill()
    system.processes["registration"].restart(timeout=90)

    certified = poll(
        lambda: m if address["answers"] in (m := mails("certificate")) else None,
        timeout=90,
        what="the respondent's certificate",
        last=lambda: f"{sorted(mails('certificate'))}\n{system.logs()}",
    )
    reminded = poll(
        lambda: m if address["silent"] in (m := mails("reminder")) else None,
        timeout=90,
        what="the reminder to the one who did not answer",
        last=lambda: f"{sorted(mails('reminder'))}\n{system.logs()}",
    )
    assert links["silent"] in text_of(reminded[address["silent"]][0])
    assert address["silent"] not in certified  # the training asks for the answer first

    verify = VERIFY.search(text_of(certified[address["answers"]][0]))
    assert verify is not None and verify.group(1).startswith(system.urls.registration)
    page = httpx.get(verify.group(1), params={"lang": "kk"}, timeout=10)
    assert page.status_code == 200 and "Бұл сертификат түпнұсқа." in page.text
    assert "Айгүл" not in page.text and address["answers"] not in page.text
    forged = httpx.get(f"{system.urls.registration}/certificates/{'A' * 22}", timeout=10)
    assert forged.status_code == 404

    # The silent one answers after the reminder: their certificate follows, nothing else.
    client.submit_response(links["silent"].rsplit("/f/", 1)[1], ANSWERS)
    poll(
        lambda: True if address["silent"] in mails("certificate") else None,
        timeout=90,
        what="the second respondent's certificate",
    )
    # For another reminder delay: still one reminder, only to the silent one, nothing twice.
    want = {
        (address["answers"], "invitation"): 1,
        (address["silent"], "invitation"): 1,
        (address["silent"], "reminder"): 1,
        (address["answers"], "certificate"): 1,
        (address["silent"], "certificate"): 1,
    }
    settle = time.monotonic() + REMINDER_DELAY_S + 3
    while True:
        counts = Counter(
            (to, what) for to, what, _ in inbox(catcher.directory) if what != "registration"
        )
        assert counts == want
        if time.monotonic() >= settle:
            break
        time.sleep(0.5)
    assert catcher.duplicates == 0
    for key in ("answers", "silent"):
        secret = links[key].rsplit("/f/", 1)[1]
        for name, process in system.processes.items():
            assert secret not in process.log_path.read_text(errors="replace"), name
