"""The mail relay: sends the message outbox's due rows, one by one, until the service stops.

Each row goes through claim → render → send → mark, each database step its own short
transaction (an SMTP conversation never holds a database transaction open):

1. **claim** (commit): the row is leased to this relay and the attempt counted;
2. **send**: the message, with a ``Message-ID`` made from the row's id, is handed to the server;
3. **mark** (commit): ``sent`` once the server answered 250; on a 4xx or an outage the row is
   released with its next attempt after :func:`~trainops_registration.domain.messages.
   retry_delay`; on a 5xx it is ``failed`` with the code, and never retried.

The mark is committed *after* the server's acknowledgement and before anything else happens to
the row, so the only window in which a message can go twice is between that 250 and the mark's
commit (the process killed, the database lost just then). The row is then still ``pending``
and its lease runs out, and the message is sent again, *with the same Message-ID*: a receiving
system (and the development catcher) recognises it as the message it already has. Marking
before sending instead would turn that window into messages silently never sent, which is
worse for a confirmation someone waits for. Outside the window every row is sent exactly once:
the claim's lease keeps a second relay (another replica) off a row being sent.

No address, name or message text is ever logged: log lines carry the row id, the kind and the
failure's code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.engine import Connection

from trainops_registration.adapters import checkin, consent_links, links, outbox
from trainops_registration.adapters.followup_mail import (
    FollowupLinks,
    Rendered,
    followup_facts,
    is_followup,
    render_followup_mail,
)
from trainops_registration.adapters.followups import withdraw
from trainops_registration.domain.checkin import (
    CARRIES_CHECKIN,
    QR_CONTENT_ID,
    QR_FILENAME,
    checkin_tokens,
    checkin_url,
)
from trainops_registration.domain.consent import CONSENT_LINK_PURPOSE, consent_footer
from trainops_registration.domain.links import (
    LINK_PURPOSE_OF_KIND,
    LinkPurpose,
    message_link_tokens,
)
from trainops_registration.domain.messages import (
    MAX_ATTEMPTS,
    MessageFacts,
    render_message,
    retry_delay,
)
from trainops_shared.link_tokens import LinkTokens, hash_token
from trainops_shared.logging import get_logger
from trainops_shared.mail import (
    Attachment,
    InlineImage,
    Mailer,
    MailFailed,
    MailPermanentlyFailed,
    SmtpMailer,
    compose,
    message_id_for,
)
from trainops_shared.settings import MailSettings, Settings
from trainops_shared.storage import Database
from trainops_shared.timeutil import utc_now

log = get_logger(__name__)

Clock = Callable[[], datetime]


def lease_for(mail: MailSettings) -> timedelta:
    """How long a claim keeps other senders off a row: twice the longest a delivery may take
    (``SMTP_TIMEOUT_MS``) and a margin, so a live sender is never overtaken; it is also how
    long a row claimed by a sender that died waits before another takes it."""
    return timedelta(seconds=2 * mail.timeout + 5)


STOP_GRACE_S = 10.0
"""How long a stopping service waits for the message being handed over (within the service's
own shutdown bound of 15 s per step)."""


@dataclass(frozen=True, slots=True)
class LinkIssuer:
    """What the relay needs to put a participant's own link in a message: the link key and
    the public address of this service's pages (``TRAINOPS_PUBLIC_URL``)."""

    tokens: Mapping[LinkPurpose, LinkTokens]
    public_url: str
    checkin: LinkTokens | None = None
    """The check-in code deriver (same key, its own purpose), when codes go in the mail."""
    consents: LinkTokens | None = None
    """The consent link deriver (same key, its own purpose): the foot of every mail."""

    @classmethod
    def of(cls, key: str, public_url: str) -> LinkIssuer:
        return cls(
            message_link_tokens(key),
            public_url,
            checkin_tokens(key),
            LinkTokens(key, CONSENT_LINK_PURPOSE),
        )

    def url(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/r/{token}"


class MailRelay:
    def __init__(
        self,
        db: Database,
        mailer: Mailer,
        mail: MailSettings,
        *,
        clock: Clock = utc_now,
        poll_interval: float = 1.0,
        batch_size: int = 20,
        lease: timedelta | None = None,
        links: LinkIssuer | None = None,
        followups: FollowupLinks | None = None,
    ) -> None:
        self._links = links
        self._followups = followups
        self._db = db
        self._mailer = mailer
        self._mail = mail
        self._clock = clock
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._lease = lease or lease_for(mail)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="mail-relay")

    async def stop(self, grace: float = STOP_GRACE_S) -> None:
        """Let the message being handed over finish (so a stop never causes a resend), then
        end; a delivery still hanging after ``grace`` seconds is cut off (and, not marked, sent
        again later with the same Message-ID)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: the rows wait, the loop goes on
                log.warning("mail_relay_retry", error_type=type(exc).__name__)
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._poll_interval)

    async def send_due(self) -> int:
        """Send due rows, up to a batch; how many were handled (sent or not).

        Rows are claimed one at a time, right before each is sent: a relay that dies holds
        back one message (until its lease ends), not a batch."""
        handled = 0
        while handled < self._batch_size and not self._stopping.is_set():
            claimed = await self._db.write(self._claim_one)
            if not claimed:
                break
            await self._deliver(claimed[0])
            handled += 1
        return handled

    def _claim_one(self, conn: Connection) -> list[outbox.ClaimedMessage]:
        return outbox.claim_due(conn, self._clock(), self._lease, 1)

    async def _deliver(self, row: outbox.ClaimedMessage) -> None:
        mail = self._mail
        withheld = await self._db.read(lambda c: outbox.purpose_withheld(c, row.message_id))
        if withheld is not None:
            await self._db.write(lambda c: outbox.mark_no_consent(c, row.message_id, withheld))
            log.info("mail_not_sent", message_id=str(row.message_id), reason="no_consent")
            return
        facts = await self._db.read(lambda c: outbox.message_facts(c, row.message_id, mail.sender))
        if facts is None:
            await self._db.write(lambda c: outbox.mark_no_address(c, row.message_id))
            log.info("mail_not_sent", message_id=str(row.message_id), reason="no_address")
            return
        now = self._clock()
        facts = await self._with_link(row, facts, now)
        facts = await self._with_consents_link(row, facts, now)
        try:
            message = await self._message(row, facts, now)
        except (KeyError, ValueError, TypeError) as exc:
            # A row this code cannot render (a language or zone it does not know) would fail the
            # same way on every attempt: recorded, not retried every lease.
            reason = f"cannot be rendered ({type(exc).__name__})"
            await self._db.write(lambda c: outbox.mark_failed(c, row.message_id, reason))
            log.error("mail_failed", message_id=str(row.message_id), error=reason)
            return
        if message is None:
            await self._db.write(lambda c: withdraw(c, row.message_id))
            log.info("mail_not_sent", message_id=str(row.message_id), reason="withdrawn")
            return
        try:
            await self._mailer.send(message)
        except MailFailed as exc:
            await self._failed(row, exc)
            return
        sent_at = self._clock()
        await self._db.write(lambda c: outbox.mark_sent(c, row.message_id, sent_at))
        self.sent += 1
        log.info("mail_sent", message_id=str(row.message_id), kind=facts.kind)

    async def _message(
        self, row: outbox.ClaimedMessage, facts: MessageFacts, now: datetime
    ) -> EmailMessage | None:
        """The registration messages here; the follow-ups of a session from their module
        (``None``: a follow-up no longer owed, e.g. a reminder to someone who answered since)."""
        if not is_followup(facts.kind):
            return self._compose(row, facts, now)
        links = self._followups
        if links is None:
            raise ValueError("no public addresses for the follow-up links")
        found = await self._db.read(lambda c: followup_facts(c, row.message_id, facts, links))
        if found is None:
            raise ValueError("its feedback link or certificate is missing")
        if not found.owed:
            return None
        rendered, attachments = render_followup_mail(found, now)
        return self._envelope(row, facts, rendered, now, attachments=attachments)

    async def _with_link(
        self, row: outbox.ClaimedMessage, facts: MessageFacts, now: datetime
    ) -> MessageFacts:
        """``facts`` with the participant's own link, its hash stored first (so the link works
        once the message arrives); none for a kind without one or a session already begun."""
        facts = await self._with_checkin(facts, now)
        purpose = LINK_PURPOSE_OF_KIND.get(facts.kind)
        issuer = self._links
        if purpose is None or issuer is None or now >= facts.starts_at:
            return facts
        token = issuer.tokens[purpose].token(str(row.message_id))
        await self._db.write(
            lambda c: links.ensure_link(
                c,
                token_hash=hash_token(token),
                message_id=row.message_id,
                purpose=purpose,
                expires_at=facts.starts_at,
                now=now,
            )
        )
        return dataclasses.replace(facts, link=issuer.url(token))

    async def _with_consents_link(
        self, row: outbox.ClaimedMessage, facts: MessageFacts, now: datetime
    ) -> MessageFacts:
        """``facts`` with the person's consent page, its hash stored first (one link per
        person, the same in every mail)."""
        issuer = self._links
        if issuer is None or issuer.consents is None:
            return facts
        tokens = issuer.consents
        pid = await self._db.read(lambda c: consent_links.participant_of_message(c, row.message_id))
        if pid is None:
            return facts
        token = tokens.token(str(pid))
        await self._db.write(
            lambda c: consent_links.ensure_consent_link(c, pid, hash_token(token), now)
        )
        url = f"{issuer.public_url.rstrip('/')}/r/consents/{token}"
        return dataclasses.replace(facts, consents_url=url)

    async def _with_checkin(self, facts: MessageFacts, now: datetime) -> MessageFacts:
        """``facts`` with the check-in code of a message that gives a seat, its hash stored
        first, so the code works from the message alone (before any attendance sheet is
        printed). Like the sheet's, the code does not expire: attendance may be recorded
        after the session too."""
        issuer = self._links
        if facts.kind not in CARRIES_CHECKIN or issuer is None or issuer.checkin is None:
            return facts
        tokens, rid = issuer.checkin, facts.registration_id
        code = tokens.token(str(rid))
        await self._db.write(lambda c: checkin.ensure_codes(c, {rid: hash_token(code)}, now))
        url = checkin_url(issuer.public_url, tokens, rid, online=facts.mode == "online")
        return dataclasses.replace(facts, checkin_url=url)

    def _compose(
        self, row: outbox.ClaimedMessage, facts: MessageFacts, now: datetime
    ) -> EmailMessage:
        """The finished message of ``row``; its Message-ID is the row's, on every attempt."""
        rendered = render_message(facts, now)
        calendar = None
        if rendered.calendar is not None:
            calendar = Attachment(
                "invitation.ics",
                f"text/calendar; method={rendered.calendar_method}",
                rendered.calendar,
            )
        inline: tuple[InlineImage, ...] = ()
        if rendered.qr is not None:
            inline = (InlineImage(QR_CONTENT_ID, "image/png", rendered.qr, QR_FILENAME),)
        return self._envelope(row, facts, rendered, now, calendar=calendar, inline=inline)

    def _envelope(
        self,
        row: outbox.ClaimedMessage,
        facts: MessageFacts,
        rendered: Rendered,
        now: datetime,
        *,
        calendar: Attachment | None = None,
        attachments: Sequence[Attachment] = (),
        inline: Sequence[InlineImage] = (),
    ) -> EmailMessage:
        """``rendered`` addressed to the participant, with the row's Message-ID and, at its
        foot, the link to their consent page."""
        mail = self._mail
        text, markup = rendered.text, rendered.html
        if facts.consents_url is not None:
            foot_text, foot_html = consent_footer(facts.language, facts.consents_url)
            text = text.rstrip("\n") + "\n" + foot_text + "\n"
            head, end, tail = markup.rpartition("</body>")
            markup = head + foot_html + end + tail if end else markup + foot_html
        return compose(
            sender=mail.sender,
            to=facts.email,
            to_name=facts.full_name,
            reply_to=mail.reply_to,
            subject=rendered.subject,
            text=text,
            html=markup,
            message_id=message_id_for(f"{row.message_id}.registration", mail.sender),
            date=now,
            calendar=calendar,
            attachments=attachments,
            inline=inline,
        )

    async def _failed(self, row: outbox.ClaimedMessage, failure: MailFailed) -> None:
        """A 5xx, or too many temporary failures: recorded for good; else tried again later."""
        reason = str(failure)
        if not isinstance(failure, MailPermanentlyFailed) and row.attempts < MAX_ATTEMPTS:
            at = self._clock() + retry_delay(row.attempts)
            await self._db.write(lambda c: outbox.retry_later(c, row.message_id, at, reason))
            log.info(
                "mail_retry",
                message_id=str(row.message_id),
                attempts=row.attempts,
                retry_at=at.isoformat(),
                error=reason,
            )
            return
        if not isinstance(failure, MailPermanentlyFailed):
            reason = f"gave up after {row.attempts} attempts: {reason}"
        await self._db.write(lambda c: outbox.mark_failed(c, row.message_id, reason))
        log.warning("mail_failed", message_id=str(row.message_id), error=reason)


class MailDelivery:
    """The relay's place in the service's lifespan: started with it when an SMTP server is
    configured; without one, rows wait in the outbox (and are sent once one is)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.relay: MailRelay | None = None

    async def start(self, db: Database) -> None:
        mail = self.settings.mail
        if mail is None or mail.server is None:
            pending = await db.read(outbox.message_counts)
            log.warning("mail_not_configured", pending=pending.get("pending", 0))
            return
        issuer = None
        if self.settings.registration_link_key:
            issuer = LinkIssuer.of(self.settings.registration_link_key, self.settings.public_url)
        self.relay = MailRelay(
            db,
            SmtpMailer(mail.server, timeout=mail.timeout),
            mail,
            links=issuer,
            followups=FollowupLinks.of(self.settings),
        )
        await self.relay.start()
        log.info("mail_relay_started", smtp=mail.server.url_redacted)

    async def stop(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
