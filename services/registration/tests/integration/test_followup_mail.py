"""A session's follow-ups end to end on a real database (SQLite and PostgreSQL) and a real SMTP
server (the development catcher): completion and attendance → one invitation each, whose link
the feedback service can recognise by the published hash alone; reminders after the delay to
non-respondents only, at most N; certificates only to those who qualify; each exactly once."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
import test_registration_mail as mail_tests

from trainops_devtools.mail_catcher import MailCatcher
from trainops_devtools.testing.events import session_scheduled
from trainops_registration.adapters.followup_mail import FollowupLinks
from trainops_registration.adapters.followups import certificates
from trainops_registration.adapters.outbox import message_outbox
from trainops_registration.adapters.outbox_relay import MailRelay
from trainops_registration.domain.participant import ParticipantInput
from trainops_registration.handlers import registering
from trainops_registration.handlers.certificates import verify_certificate
from trainops_registration.handlers.events import (
    on_session_completed,
    on_session_scheduled,
    on_training_defined,
)
from trainops_registration.handlers.followups import (
    FollowupPolicy,
    followup_pass,
    on_feedback_submitted,
)
from trainops_registration.handlers.registrations import record_attendance
from trainops_shared.auth import Principal
from trainops_shared.events import (
    FeedbackSubmitted,
    SessionCompleted,
    TrainingDefined,
    decode_event,
)
from trainops_shared.mail import SmtpMailer
from trainops_shared.settings import MailSettings, SmtpServer
from trainops_shared.storage import Database
from trainops_shared.tables import outbox as event_outbox

pytestmark = pytest.mark.integration

ADMIN = Principal("admin-1", "admin")
SENDER = "Programme <no-reply@example.org>"
START = datetime(2031, 5, 20, 4, 0, tzinfo=UTC)
LINKS = FollowupLinks(feedback_url="http://feedback.test", verify_url="http://registration.test")
LINK = re.compile(r"http://feedback\.test/f/([A-Za-z0-9_-]{43})")
VERIFY = re.compile(r"http://registration\.test/certificates/([A-Za-z0-9_-]+)")
DELAY = timedelta(days=3)


# The database, the relay's clock and the message parser of the registration mail tests.
db = mail_tests.db
Clock = mail_tests.Clock
parsed = mail_tests.parsed


async def session_of_training(db: Database, code: str) -> uuid.UUID:
    event = session_scheduled(capacity=10, mode="in_person", starts_at=START, hours=3)
    training = TrainingDefined(
        aggregate_id=event.training_id,
        aggregate_version=1,
        training_id=event.training_id,
        code=code,
        title={"kk": "Балалар тақырыбын этикалық жариялау", "ru": "Этичное освещение"},
    )
    await db.write(lambda c: on_training_defined(c, training))
    await db.write(lambda c: on_session_scheduled(c, event))
    return event.session_id


async def register(db: Database, session_id: uuid.UUID, n: int, language: str) -> uuid.UUID:
    person = ParticipantInput(
        full_name=f"Әсел Қайратқызы {n}",
        sector="ngo",
        city="almaty",
        language=language,
        email=f"person{n}@example.org",
    )
    command = registering.RegisterParticipant(session_id, person)
    done = await db.write(
        lambda c: registering.register_participant(c, command, ADMIN, render=lambda r: {})
    )
    assert isinstance(done, registering.Registration)
    return done.registration_id


async def attend(db: Database, registration_id: uuid.UUID, attended: bool = True) -> None:
    await db.write(lambda c: record_attendance(c, registration_id, attended, ADMIN, uuid.uuid4()))


async def complete(db: Database, session_id: uuid.UUID) -> None:
    event = SessionCompleted(aggregate_id=session_id, aggregate_version=2, session_id=session_id)
    await db.write(lambda c: on_session_completed(c, event))


async def answered(db: Database, registration_id: uuid.UUID, session_id: uuid.UUID) -> None:
    event = FeedbackSubmitted(
        aggregate_id=uuid.uuid4(),
        aggregate_version=1,
        response_id=uuid.uuid4(),
        survey_id=uuid.uuid4(),
        session_id=session_id,
        registration_id=registration_id,
        participant_id=uuid.uuid4(),
        answers={"q1": 5},
        language="ru",
    )
    await db.write(lambda c: on_feedback_submitted(c, event))


async def kinds(db: Database) -> list[tuple[str, uuid.UUID]]:
    def read(conn: Any) -> list[tuple[str, uuid.UUID]]:
        m = message_outbox.c
        found = conn.execute(sa.select(m.kind, m.registration_id).order_by(m.created_at, m.kind))
        return [(str(k), r) for k, r in found.all()]

    return sorted(await db.read(read), key=str)


async def published_payloads(db: Database) -> list[bytes]:
    def read(conn: Any) -> list[bytes]:
        return [bytes(p) for p in conn.execute(sa.select(event_outbox.c.payload)).scalars()]

    return await db.read(read)


def relay(db: Database, port: int, clock: Clock) -> MailRelay:
    server = SmtpServer(host="127.0.0.1", port=port, security="plain")
    mail = MailSettings(server, SENDER)
    return MailRelay(db, SmtpMailer(server, timeout=5), mail, clock=clock, followups=LINKS)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def pdf_of(message: EmailMessage) -> bytes | None:
    for part in message.iter_attachments():
        if part.get_content_type() == "application/pdf":
            return bytes(part.get_content())
    return None


def policy(limit: int = 2, needs: frozenset[str] = frozenset()) -> FollowupPolicy:
    return FollowupPolicy(reminder_delay=DELAY, reminder_limit=limit, needs_feedback=needs)


async def test_invitations_reminders_and_certificates_each_once(db, tmp_path):
    session_id = await session_of_training(db, "ethics")
    kk = await register(db, session_id, 1, "kk")
    ru = await register(db, session_id, 2, "ru")
    absent = await register(db, session_id, 3, "en")
    # Attendance taken on the day, before the session is marked completed: nothing owed yet.
    await attend(db, kk)
    await attend(db, absent, attended=False)
    assert [k for k, _ in await kinds(db) if k != "confirmed"] == []
    await complete(db, session_id)
    await attend(db, ru)  # recorded after completion: owed at once
    await attend(db, ru)  # recorded again: still one invitation
    await complete(db, session_id)  # a redelivered completion: nothing more
    invites = [r for k, r in await kinds(db) if k == "feedback_invite"]
    assert sorted(invites) == sorted([kk, ru])

    # What travels: the hash of each link, never the token (checked against the mails below).
    issued = [
        e
        for e in (decode_event(p) for p in await published_payloads(db))
        if type(e).__name__ == "FeedbackLinkIssued"
    ]
    hashes = {e.registration_id: e.token_hash for e in issued}
    assert set(hashes) == {kk, ru}

    clock = Clock()
    with MailCatcher(tmp_path / "mail") as catcher:
        sender = relay(db, catcher.port, clock)
        await sender.send_due()
        mails = [parsed(p) for p in catcher.files()]
        invitations = [m for m in mails if "f/" in body_of(m)]
        assert len(invitations) == 2
        by_address = {str(m["To"]).split("<")[-1].rstrip(">"): m for m in invitations}
        kk_mail = by_address["person1@example.org"]
        assert "Балалар тақырыбын этикалық жариялау" in body_of(kk_mail)
        assert "Сәлеметсіз бе" in body_of(kk_mail)
        assert "Здравствуйте" in body_of(by_address["person2@example.org"])
        tokens = {}
        for address, registration in (("person1@example.org", kk), ("person2@example.org", ru)):
            match = LINK.search(body_of(by_address[address]))
            assert match is not None
            token = match.group(1)
            tokens[registration] = token
            assert hashlib.sha256(token.encode()).hexdigest() == hashes[registration]
        for payload in await published_payloads(db):
            for token in tokens.values():
                assert token.encode() not in payload

        # The kk participant answers; three days on only the ru one is reminded.
        await answered(db, kk, session_id)
        assert await db.write(lambda c: followup_pass(c, clock.now, policy=policy())) == 2
        certified = await db.read(
            lambda c: list(c.execute(sa.select(certificates.c.registration_id)).scalars())
        )
        assert sorted(certified) == sorted([kk, ru])  # no training requires the answer here
        clock.now += DELAY - timedelta(minutes=1)
        assert await db.write(lambda c: followup_pass(c, clock.now, policy=policy())) == 0
        clock.now += timedelta(minutes=2)
        assert await db.write(lambda c: followup_pass(c, clock.now, policy=policy())) == 1
        assert await db.write(lambda c: followup_pass(c, clock.now, policy=policy())) == 0
        await sender.send_due()
        clock.now += DELAY + timedelta(minutes=1)
        assert await db.write(lambda c: followup_pass(c, clock.now, policy=policy())) == 1
        await sender.send_due()
        clock.now += DELAY * 5
        assert await db.write(lambda c: followup_pass(c, clock.now, policy=policy())) == 0
        reminders = [(k, r) for k, r in await kinds(db) if k.startswith("reminder.")]
        assert sorted(reminders, key=str) == [("reminder.1", ru), ("reminder.2", ru)]
        mails = [parsed(p) for p in catcher.files()]
        reminder_mails = [m for m in mails if "Напоминание" in str(m["Subject"])]
        assert len(reminder_mails) == 2
        assert all(tokens[ru] in body_of(m) for m in reminder_mails)
        certificate_mails = [m for m in mails if pdf_of(m) is not None]
        assert len(certificate_mails) == 2
        for mail in certificate_mails:
            assert (pdf_of(mail) or b"").startswith(b"%PDF")
            match = VERIFY.search(body_of(mail))
            assert match is not None
            code = match.group(1)
            found = await db.read(partial(verify_certificate, code=code))
            assert found is not None and found.session_id == session_id
        assert len(catcher.files()) == 3 + 2 + 2 + 2  # confirmations, invitations, ...
        assert catcher.duplicates == 0


async def test_a_training_that_asks_for_feedback_certifies_respondents_only(db):
    session_id = await session_of_training(db, "ethics")
    other_session = await session_of_training(db, "media")
    one = await register(db, session_id, 1, "ru")
    two = await register(db, session_id, 2, "ru")
    three = await register(db, other_session, 3, "ru")
    for registration in (one, two, three):
        await attend(db, registration)
    await complete(db, session_id)
    await complete(db, other_session)
    now = datetime(2031, 6, 1, tzinfo=UTC)
    rule = policy(needs=frozenset({"ethics"}))
    assert await db.write(lambda c: followup_pass(c, now, policy=rule)) == 1  # "media": free
    await answered(db, two, session_id)
    await answered(db, two, session_id)  # a redelivered answer changes nothing
    assert await db.write(lambda c: followup_pass(c, now, policy=rule)) == 1
    assert await db.write(lambda c: followup_pass(c, now, policy=rule)) == 0
    certificate_kinds = sorted(r for k, r in await kinds(db) if k == "certificate")
    assert certificate_kinds == sorted([two, three])
    everyone = policy(needs=frozenset({"*"}))
    assert await db.write(lambda c: followup_pass(c, now, policy=everyone)) == 0


async def test_withdrawn_attendance_is_never_reminded_and_unknown_codes_are_not_genuine(db):
    session_id = await session_of_training(db, "ethics")
    one = await register(db, session_id, 1, "ru")
    await complete(db, session_id)
    await attend(db, one)
    await attend(db, one, attended=False)
    later = datetime(2031, 7, 1, tzinfo=UTC)
    assert await db.write(lambda c: followup_pass(c, later, policy=policy())) == 0
    assert await db.read(lambda c: verify_certificate(c, "x" * 22)) is None
    assert await db.read(lambda c: verify_certificate(c, "../../etc/passwd")) is None


async def test_a_reminder_queued_before_the_answer_arrived_is_withdrawn(db, tmp_path):
    session_id = await session_of_training(db, "ethics")
    one = await register(db, session_id, 1, "ru")
    await complete(db, session_id)
    await attend(db, one)
    clock = Clock()
    with MailCatcher(tmp_path / "mail") as catcher:
        sender = relay(db, catcher.port, clock)
        await sender.send_due()
        clock.now += DELAY
        rule = policy(needs=frozenset({"*"}))  # no certificate before the answer
        assert await db.write(lambda c: followup_pass(c, clock.now, policy=rule)) == 1
        await answered(db, one, session_id)  # arrives before the relay takes the reminder
        await sender.send_due()
        statuses = await db.read(
            lambda c: dict(
                c.execute(sa.select(message_outbox.c.kind, message_outbox.c.status)).all()
            )
        )
        assert statuses["reminder.1"] == "withdrawn"
        assert statuses["feedback_invite"] == "sent"
        assert not any("Напоминание" in str(parsed(p)["Subject"]) for p in catcher.files())
