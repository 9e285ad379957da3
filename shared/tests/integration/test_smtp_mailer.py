"""The SMTP adapter against a real server (aiosmtpd): credentials from SMTP_URL, and every
failure sorted into retry-later or give-up, with a text that names no address."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from trainops_devtools.testing.ports import free_port
from trainops_shared.mail import MailPermanentlyFailed, MailTemporarilyFailed, SmtpMailer
from trainops_shared.settings import parse_smtp_url

pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self, answer: str = "250 OK") -> None:
        self.answer = answer
        self.messages: list[bytes] = []
        self.authenticated: list[bool] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.answer.startswith("250"):
            self.messages.append(envelope.original_content or b"")
            self.authenticated.append(bool(session.authenticated))
        return self.answer


def only_mailer(user: str, password: str) -> Any:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok)

    return authenticate


def message() -> EmailMessage:
    m = EmailMessage()
    m["From"] = "no-reply@example.org"
    m["To"] = "someone.private@example.org"
    m["Subject"] = "test"
    m["Message-ID"] = "<x@example.org>"
    m.set_content("hello")
    return m


@pytest.fixture
def server():
    controllers: list[Controller] = []

    def start(handler: Inbox, **smtp: Any) -> int:
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp)
        controller.start()
        controllers.append(controller)
        return int(controller.port)

    yield start
    for controller in controllers:
        controller.stop()


async def test_credentials_of_the_url_are_used(server):
    inbox = Inbox()
    port = server(
        inbox,
        authenticator=only_mailer("mailer", "p@ss word"),
        auth_require_tls=False,
    )
    good = parse_smtp_url(f"smtp://mailer:p%40ss%20word@127.0.0.1:{port}")
    await SmtpMailer(good, timeout=5).send(message())
    assert inbox.authenticated == [True]
    # Without credentials the server (which does not insist) sees an anonymous client.
    await SmtpMailer(parse_smtp_url(f"smtp://127.0.0.1:{port}"), timeout=5).send(message())
    assert inbox.authenticated == [True, False]


@pytest.mark.parametrize(
    ("answer", "kind", "text"),
    [
        ("452 4.3.1 insufficient storage", MailTemporarilyFailed, "SMTP 452: message refused"),
        ("554 5.7.1 rejected as spam", MailPermanentlyFailed, "SMTP 554: message refused"),
    ],
)
async def test_answers_are_sorted_into_retry_or_give_up(server, answer, kind, text):
    port = server(Inbox(answer))
    with pytest.raises(kind) as caught:
        await SmtpMailer(parse_smtp_url(f"smtp://127.0.0.1:{port}"), timeout=5).send(message())
    assert str(caught.value) == text


async def test_no_server_is_a_temporary_failure_naming_no_address():
    mailer = SmtpMailer(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), timeout=5)
    with pytest.raises(MailTemporarilyFailed) as caught:
        await mailer.send(message())
    assert "unreachable" in str(caught.value) and "@" not in str(caught.value)
