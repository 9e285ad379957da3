"""Participants' mail end to end: outbox rows written with registrations, sent through a real
SMTP server (aiosmtpd on a free port), once each, across outages, 5xx answers and a relay that
dies between the server's acknowledgement and its own record of it. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import nats
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from litestar.testing import AsyncTestClient
from registration_support import ADMIN, Harness, person

from trainops_devtools.mail_catcher import MailCatcher
from trainops_devtools.testing.events import session_scheduled
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.ports import free_port
from trainops_devtools.testing.tokens import in_process_settings
from trainops_registration.adapters.lifecycle import erase_person
from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_registration.adapters.outbox import message_outbox
from trainops_registration.adapters.outbox_relay import MailRelay
from trainops_registration.adapters.tables import consents
from trainops_registration.app import build_spec
from trainops_registration.domain.messages import retry_delay
from trainops_registration.domain.participant import ParticipantInput
from trainops_registration.handlers import registering
from trainops_registration.handlers.events import on_session_scheduled
from trainops_registration.handlers.registrations import cancel_registration
from trainops_shared.auth import Principal
from trainops_shared.mail import SmtpMailer
from trainops_shared.service import create_app
from trainops_shared.settings import MailSettings, SmtpServer
from trainops_shared.storage import Database, open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

ADMIN_PRINCIPAL = Principal("admin-1", "admin")
SENDER = "Programme <no-reply@example.org>"
START = datetime(2031, 5, 20, 4, 0, tzinfo=UTC)


class Clock:
    """The relay's clock, moved by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = datetime(2031, 5, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    await database.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    try:
        yield database
    finally:
        await database.close()


async def scheduled(db: Database, capacity: int = 1) -> uuid.UUID:
    event = session_scheduled(capacity=capacity, mode="in_person", starts_at=START, hours=3)
    await db.write(lambda c: on_session_scheduled(c, event))
    return event.session_id


async def register(db: Database, session_id: uuid.UUID, n: int, **extra: Any) -> uuid.UUID:
    values: dict[str, Any] = {
        "full_name": f"Айгүл Нұрланқызы {n}",
        "sector": "ngo",
        "city": "almaty",
        "language": "kk",
        "email": f"person{n}@example.org",
    }
    values.update(extra)
    command = registering.RegisterParticipant(session_id, ParticipantInput(**values))
    done = await db.write(
        lambda c: registering.register_participant(c, command, ADMIN_PRINCIPAL, render=lambda r: {})
    )
    assert isinstance(done, registering.Registration)
    return done.registration_id


async def rows(db: Database) -> list[dict[str, Any]]:
    def read(conn: Any) -> list[dict[str, Any]]:
        found = conn.execute(sa.select(message_outbox).order_by(message_outbox.c.created_at))
        return [dict(r) for r in found.mappings().all()]

    return await db.read(read)


def relay_to(db: Database, port: int, clock: Clock, **kwargs: Any) -> MailRelay:
    server = SmtpServer(host="127.0.0.1", port=port, security="plain")
    return MailRelay(
        db, SmtpMailer(server, timeout=5), MailSettings(server, SENDER), clock=clock, **kwargs
    )


def parsed(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def calendar_of(message: EmailMessage) -> str | None:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            # Unfolded (RFC 5545 folds lines longer than 75 octets).
            return str(part.get_content()).replace("\r\n ", "")
    return None


async def test_register_waitlist_and_promotion_each_send_one_message(db, tmp_path):
    session_id = await scheduled(db, capacity=1)
    first = await register(db, session_id, 1)
    second = await register(db, session_id, 2, language="ru")
    await register(db, session_id, 3, email=None, phone="+77011234567")
    await db.write(lambda c: cancel_registration(c, first, ADMIN_PRINCIPAL, uuid.uuid4()))
    kinds = sorted((r["kind"], r["registration_id"] == second) for r in await rows(db))
    assert kinds == [
        ("confirmed", False),
        ("promoted", True),
        ("waitlisted", False),
        ("waitlisted", True),
    ]
    clock = Clock()
    with MailCatcher(tmp_path / "mail") as catcher:
        relay = relay_to(db, catcher.port, clock)
        assert await relay.send_due() == 4
        assert await relay.send_due() == 0
        files = catcher.files()
    assert len(files) == 3 and catcher.duplicates == 0
    statuses = sorted(r["status"] for r in await rows(db))
    assert statuses == ["no_address", "sent", "sent", "sent"]
    messages = {str(m["To"]): m for m in map(parsed, files)}
    confirmed = messages["Айгүл Нұрланқызы 1 <person1@example.org>"]
    assert str(confirmed["Subject"]).startswith("Қатысуыңыз расталды: 20.05.2031")
    assert "20.05.2031 09:00–12:00 UTC+5" in confirmed.get_body(("plain",)).get_content()
    invitation = calendar_of(confirmed)
    assert invitation is not None and "METHOD:REQUEST" in invitation
    assert f"UID:registration-{first}-session-{session_id}@trainops" in invitation
    # The second person (Russian) was told twice: waitlisted (no invitation), then promoted.
    to_second = [m for m in map(parsed, files) if "person2@" in str(m["To"])]
    subjects = sorted(str(m["Subject"]) for m in to_second)
    assert subjects[0].startswith("Вы в листе ожидания (место 1)")
    assert subjects[1].startswith("Освободилось место")
    assert [calendar_of(m) is None for m in to_second if "ожидания" in str(m["Subject"])] == [True]
    ids = {str(m["Message-ID"]) for m in map(parsed, files)}
    assert len(ids) == 3 and all(i.endswith("@example.org>") for i in ids)


async def test_smtp_outage_is_retried_with_backoff_and_delivered_once(db, tmp_path):
    session_id = await scheduled(db)
    await register(db, session_id, 1)
    clock = Clock()
    port = free_port()
    relay = relay_to(db, port, clock)
    # Nobody listens: a temporary failure, the row waits for its retry time.
    assert await relay.send_due() == 1
    (row,) = await rows(db)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["next_attempt_at"] == clock.now + retry_delay(1)
    assert "unreachable" in row["last_error"] and "@" not in row["last_error"]
    assert await relay.send_due() == 0  # not due yet
    clock.now += retry_delay(1)
    assert await relay.send_due() == 1  # still down: the second delay is longer
    (row,) = await rows(db)
    assert row["attempts"] == 2 and row["next_attempt_at"] == clock.now + retry_delay(2)
    with MailCatcher(tmp_path / "mail", port=port) as catcher:
        clock.now += retry_delay(2)
        assert await relay.send_due() == 1
        clock.now += timedelta(hours=2)
        assert await relay.send_due() == 0
        assert len(catcher.files()) == 1 and catcher.received == 1
    (row,) = await rows(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)


class Refusing:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return "550 5.1.1 <" + address + ">: no such mailbox"


class Busy:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "451 4.3.0 try again later"


async def test_a_4xx_answer_is_retried_later(db):
    session_id = await scheduled(db)
    await register(db, session_id, 1)
    controller = Controller(Busy(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        clock = Clock()
        assert await relay_to(db, controller.port, clock).send_due() == 1
    finally:
        controller.stop()
    (row,) = await rows(db)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "SMTP 451: message refused"
    assert row["next_attempt_at"] == clock.now + retry_delay(1)


async def test_a_5xx_answer_is_recorded_and_never_retried(db):
    session_id = await scheduled(db)
    await register(db, session_id, 1)
    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        clock = Clock()
        relay = relay_to(db, controller.port, clock)
        assert await relay.send_due() == 1
        clock.now += timedelta(days=3)
        assert await relay.send_due() == 0
    finally:
        controller.stop()
    (row,) = await rows(db)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert (
        row["last_error"] == "SMTP 550: recipient refused"
    )  # the server's text quotes the address


class DiesAfterDelivery(SmtpMailer):
    """Delivers, then the process is gone before the relay records it."""

    async def send(self, message: EmailMessage) -> None:
        await super().send(message)
        raise asyncio.CancelledError


async def test_a_relay_killed_between_send_and_mark_resends_the_same_message_id(db, tmp_path):
    session_id = await scheduled(db)
    await register(db, session_id, 1)
    clock = Clock()
    with MailCatcher(tmp_path / "mail") as catcher:
        server = SmtpServer(host="127.0.0.1", port=catcher.port, security="plain")
        dying = MailRelay(db, DiesAfterDelivery(server), MailSettings(server, SENDER), clock=clock)
        with pytest.raises(asyncio.CancelledError):
            await dying.send_due()
        (row,) = await rows(db)
        assert row["status"] == "pending" and row["claimed_until"] > clock.now
        restarted = relay_to(db, catcher.port, clock)
        assert await restarted.send_due() == 0  # the dead relay's lease still holds the row
        clock.now = row["claimed_until"] + timedelta(seconds=1)
        assert await restarted.send_due() == 1
        # Sent again (the at-least-once window), recognised by its Message-ID, kept once.
        assert catcher.received == 2 and catcher.duplicates == 1
        assert len(catcher.files()) == 1
    (row,) = await rows(db)
    assert row["status"] == "sent"


async def test_two_relays_never_send_the_same_row(db, tmp_path):
    session_id = await scheduled(db, capacity=10)
    for n in range(6):
        await register(db, session_id, n)
    clock = Clock()
    with MailCatcher(tmp_path / "mail") as catcher:
        a, b = relay_to(db, catcher.port, clock), relay_to(db, catcher.port, clock)
        counts = await asyncio.gather(a.send_due(), b.send_due(), a.send_due(), b.send_due())
        assert sum(counts) == 6
        assert catcher.received == 6 and len(catcher.files()) == 6


# --------------------------------------------------------------------------------------------
# The service itself: its relay starts with it and mails what the API decided.


async def test_the_running_service_mails_a_registration_once(
    database_url, fresh_nats_server, tmp_path
):
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
                harness = Harness(client, nc)
                session_id = await harness.schedule(capacity=1)
                answer = await harness.register(
                    session_id, person("Дана Ержанқызы", email="dana@example.org"), ADMIN
                )
                assert answer.status_code == 201, answer.text

                async def delivered() -> bool:
                    return len(catcher.files()) == 1

                await eventually(delivered)
        finally:
            await nc.close()
    (message,) = [parsed(f) for f in catcher.files()]
    assert str(message["To"]) == "Дана Ержанқызы <dana@example.org>"
    assert str(message["Subject"]).startswith("Қатысуыңыз расталды")
    assert calendar_of(message) is not None
    assert catcher.duplicates == 0


async def test_a_row_that_cannot_be_rendered_is_recorded_not_retried(db, tmp_path):
    session_id = await scheduled(db)
    await register(db, session_id, 1)
    await db.write(lambda c: c.execute(message_outbox.update().values(language="xx")))
    clock = Clock()
    with MailCatcher(tmp_path / "mail") as catcher:
        relay = relay_to(db, catcher.port, clock)
        assert await relay.send_due() == 1
        clock.now += timedelta(hours=1)
        assert await relay.send_due() == 0
        assert catcher.received == 0
    (row,) = await rows(db)
    assert (row["status"], row["last_error"]) == ("failed", "cannot be rendered (KeyError)")


class Slow:
    """Takes a second to accept each message, and says when one is being handed over."""

    def __init__(self) -> None:
        self.receiving = threading.Event()
        self.accepted = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.receiving.set()
        await asyncio.sleep(1)
        self.accepted += 1
        return "250 OK"


async def test_stopping_lets_the_message_being_sent_finish_and_be_marked(db):
    session_id = await scheduled(db, capacity=5)
    for n in range(3):
        await register(db, session_id, n)
    handler = Slow()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        server = SmtpServer(host="127.0.0.1", port=controller.port, security="plain")
        relay = MailRelay(db, SmtpMailer(server, timeout=5), MailSettings(server, SENDER))
        await relay.start()
        assert await asyncio.to_thread(handler.receiving.wait, 10)
        await relay.stop()
    finally:
        controller.stop()
    # The one in flight finished and was recorded; the others wait for the next start.
    statuses = sorted(r["status"] for r in await rows(db))
    assert handler.accepted == 1 and statuses == ["pending", "pending", "sent"]
    assert all(r["claimed_until"] is None for r in await rows(db))


async def test_no_message_goes_out_without_consent_or_after_erasure(db, tmp_path):
    """The relay checks the purpose a message serves against the person's consents: one whose
    consent is gone is marked ``no_consent`` and never sent; an erased person's message cannot
    be addressed any more (``no_address``)."""
    session_id = await scheduled(db, capacity=3)
    await register(db, session_id, 1)
    await register(db, session_id, 2)
    first, second = await rows(db)

    def withdraw_taking_part(conn: Any) -> None:
        conn.execute(
            consents.update()
            .where(consents.c.participant_id == first["participant_id"])
            .values(withdrawn_at=START)
        )

    await db.write(withdraw_taking_part)
    await db.write(lambda c: erase_person(c, second["participant_id"], START))
    clock = Clock()
    with MailCatcher(tmp_path / "mail") as catcher:
        relay = relay_to(db, catcher.port, clock)
        assert await relay.send_due() == 2
        assert catcher.received == 0
    by_id = {r["message_id"]: r for r in await rows(db)}
    assert by_id[first["message_id"]]["status"] == "no_consent"
    assert by_id[first["message_id"]]["last_error"] == "no consent to taking_part"
    assert by_id[second["message_id"]]["status"] == "no_address"
