"""Sending mail: the :class:`Mailer` port, its SMTP adapter, and the one way a message is built.

A service decides *what* to say; this module only hands finished RFC 5322 messages to a server.
Failures come back as two kinds, because the caller must act differently on them:
:class:`MailTemporarilyFailed` (no connection, a 4xx answer, a timeout: try again later) and
:class:`MailPermanentlyFailed` (a 5xx answer: the same message will never be accepted, so it is
recorded instead of retried). Their text carries the SMTP code and the kind of failure only,
never an address or the server's own words (which quote addresses), so it may be logged and
stored.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Protocol

import aiosmtplib

from trainops_shared.settings import SmtpServer


class MailFailed(Exception):
    """The message was not accepted; ``str()`` is safe to log (no address, no server text)."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(f"SMTP {code}: {reason}" if code is not None else reason)
        self.code = code


class MailTemporarilyFailed(MailFailed):
    """Worth retrying: the server was unreachable, busy, or answered 4xx."""


class MailPermanentlyFailed(MailFailed):
    """Never worth retrying as it is: the server answered 5xx (unknown mailbox, refused)."""


class Mailer(Protocol):
    """Hands one finished message to the mail system; raises :class:`MailFailed` if not taken."""

    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    """``maintype/subtype`` plus parameters, e.g. ``text/calendar; method=REQUEST``."""
    data: bytes


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image the HTML part shows by ``src="cid:<content_id>"`` (a QR code): carried in the
    message itself, because mail clients block images fetched from elsewhere."""

    content_id: str
    """Without the angle brackets: ``checkin-qr@trainops``."""
    content_type: str
    data: bytes
    filename: str


def compose(
    *,
    sender: str,
    to: str,
    to_name: str | None,
    reply_to: str | None,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
    calendar: Attachment | None = None,
    attachments: Sequence[Attachment] = (),
    inline: Sequence[InlineImage] = (),
) -> EmailMessage:
    """A ``multipart/alternative`` message (plain text, HTML) with ``calendar`` both as the
    alternative calendar part and as an ``.ics`` attachment: mail clients differ in which one
    they offer as an invitation, and every one opens the attachment. ``attachments`` (a
    certificate's PDF) follow as plain attachments; ``inline`` images go with the HTML part
    (``multipart/related``), which refers to them by Content-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((to_name or "", parseaddr(to)[1]))
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    if inline:
        html_part = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
        for image in inline:
            maintype, _, subtype = image.content_type.partition("/")
            html_part.add_related(
                image.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{image.content_id}>",
                filename=image.filename,
                disposition="inline",
            )
    if calendar is not None:
        maintype, _, rest = calendar.content_type.partition("/")
        subtype, *params = (p.strip() for p in rest.split(";"))
        message.make_mixed()
        message.add_attachment(
            calendar.data,
            maintype=maintype,
            subtype=subtype,
            filename=calendar.filename,
            params=dict(p.split("=", 1) for p in params if "=" in p),
        )
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.make_mixed()
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def message_id_for(key: str, sender: str) -> str:
    """``<key@domain>`` with the sender's domain: the same key always gives the same id, so a
    message sent again after a crash is recognisable as the same message."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{key}@{domain}>"


SMTP_TIMEOUT_S = 30.0
"""Longest one delivery may take end to end; a hung server is then an outage, not a hang."""


class SmtpMailer:
    """:class:`Mailer` through ``server`` with aiosmtplib: one connection per message (a relay
    sends few messages, and a fresh connection never inherits a half-broken session)."""

    def __init__(self, server: SmtpServer, timeout: float = SMTP_TIMEOUT_S) -> None:
        self.server = server
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.security == "tls",
                start_tls=server.security == "starttls",
                tls_context=ssl.create_default_context() if server.security != "plain" else None,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            raise _by_code(min(codes) if codes else 550, "recipient refused") from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our configuration, not this message: every message would fail alike, and all go
            # once SMTP_URL is fixed, so nothing is given up on.
            raise MailTemporarilyFailed(
                "authentication failed (check SMTP_URL)", exc.code
            ) from None
        except aiosmtplib.SMTPSenderRefused as exc:
            raise MailTemporarilyFailed("sender refused (check MAIL_FROM)", exc.code) from None
        except aiosmtplib.SMTPDataError as exc:
            raise _by_code(exc.code, "message refused") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, "refused") from None
        except (aiosmtplib.SMTPTimeoutError, TimeoutError):
            raise MailTemporarilyFailed("timed out") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailTemporarilyFailed(f"unreachable ({type(exc).__name__})") from None


def _by_code(code: int, what: str) -> MailFailed:
    if 500 <= code < 600:
        return MailPermanentlyFailed(what, code)
    return MailTemporarilyFailed(what, code)
