"""What a participant is told about their registration, in their language, and when to retry.

Pure: the facts of one message in, its subject, plain text, HTML and calendar invitation out.
Times are shown on the wall clock of the session's time zone (the city the person goes to, or
the online session's own), with the offset, because the participant reads them there. The
invitation's ``UID`` is fixed per registration and session, so every later change of the same
session (a higher ``SEQUENCE``) updates the one calendar entry instead of adding another.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trainops_registration.domain.change_texts import CHANGE_TEXTS
from trainops_registration.domain.checkin import (
    CARRIES_CHECKIN,
    CHECKIN_TEXTS,
    QR_CONTENT_ID,
    qr_png,
)
from trainops_shared.console.labels import label
from trainops_shared.events.vocabulary import Language
from trainops_shared.ical import escape_text, format_utc, render_calendar

MessageKind = Literal["confirmed", "waitlisted", "promoted", "rescheduled", "cancellation"]
MESSAGE_KINDS: Final[tuple[MessageKind, ...]] = (
    "confirmed",
    "waitlisted",
    "promoted",
    "rescheduled",
    "cancellation",
)


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Everything one message says; read when it is sent, so it shows the session as it is."""

    kind: MessageKind
    language: Language
    full_name: str
    email: str
    registration_id: uuid.UUID
    session_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    timezone: str
    mode: str
    city: str
    waitlist_position: int | None
    sequence: int
    organizer: str
    """The from-address: an invitation names who sends its updates."""
    link: str | None = None
    """The participant's own link (cancel, or confirm/decline a new time), if the kind has one."""
    alternative: AlternativeSession | None = None
    """The session a coordinator offers instead of a cancelled one."""
    checkin_url: str | None = None
    """The participant's check-in address (an online session's join link), shown as a QR
    code and as a link by the kinds that give a seat."""
    consents_url: str | None = None
    """The participant's consent page, linked from the foot of every mail they get."""


@dataclass(frozen=True, slots=True)
class AlternativeSession:
    starts_at: datetime
    ends_at: datetime
    timezone: str
    mode: str
    city: str


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    calendar: bytes | None
    """The ``.ics`` (METHOD:REQUEST) for a held seat; none for a place on the waiting list."""
    calendar_method: str = "REQUEST"
    """``REQUEST`` (add or update the entry) or ``CANCEL`` (the session is off)."""
    qr: bytes | None = None
    """The PNG of the check-in QR code the HTML shows by its Content-ID, if it shows one."""


_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "hello": "Hello, {name}!",
        "confirmed.subject": "Your place is confirmed: training on {day}",
        "confirmed.lead": "Your registration for the training session is confirmed.",
        "waitlisted.subject": "You are on the waiting list (place {position})",
        "waitlisted.lead": (
            "The training session is full, and you are number {position} on its waiting "
            "list. We will write to you as soon as a seat is free for you."
        ),
        "promoted.subject": "A seat is free: your place is confirmed for {day}",
        "promoted.lead": (
            "A seat has become free, and your registration for the training session is now "
            "confirmed."
        ),
        "when": "When",
        "where": "Where",
        "online": "online",
        "local": "local time",
        "invitation": "The calendar invitation is attached.",
        "cannot": (
            "If you cannot come, please tell your coordinator, so that your seat goes to the "
            "next person on the waiting list."
        ),
        "number": "Registration number",
        "summary": "Training session",
    },
    "ru": {
        "hello": "Здравствуйте, {name}!",
        "confirmed.subject": "Ваше участие подтверждено: тренинг {day}",
        "confirmed.lead": "Ваша регистрация на тренинг подтверждена.",
        "waitlisted.subject": "Вы в листе ожидания (место {position})",
        "waitlisted.lead": (
            "Все места на тренинг заняты, вы под номером {position} в листе ожидания. "
            "Мы напишем вам, как только для вас освободится место."
        ),
        "promoted.subject": "Освободилось место: ваше участие {day} подтверждено",
        "promoted.lead": ("Освободилось место, и ваша регистрация на тренинг теперь подтверждена."),
        "when": "Когда",
        "where": "Где",
        "online": "онлайн",
        "local": "местное время",
        "invitation": "Приглашение для календаря — во вложении.",
        "cannot": (
            "Если вы не сможете прийти, пожалуйста, сообщите координатору, чтобы ваше место "
            "получил следующий человек из листа ожидания."
        ),
        "number": "Номер регистрации",
        "summary": "Тренинг",
    },
    "kk": {
        "hello": "Сәлеметсіз бе, {name}!",
        "confirmed.subject": "Қатысуыңыз расталды: {day} өтетін тренинг",
        "confirmed.lead": "Тренингке тіркелуіңіз расталды.",
        "waitlisted.subject": "Сіз күту тізіміндесіз ({position}-орын)",
        "waitlisted.lead": (
            "Тренингтегі барлық орын толды, сіз күту тізімінде {position}-орындасыз. "
            "Сізге орын босай салысымен хабарлаймыз."
        ),
        "promoted.subject": "Орын босады: {day} өтетін тренингке қатысуыңыз расталды",
        "promoted.lead": "Орын босап, тренингке тіркелуіңіз енді расталды.",
        "when": "Қашан",
        "where": "Қайда",
        "online": "онлайн",
        "local": "жергілікті уақыт",
        "invitation": "Күнтізбеге арналған шақыру хатқа тіркелген.",
        "cannot": (
            "Келе алмасаңыз, орныңыз күту тізіміндегі келесі адамға берілуі үшін "
            "үйлестірушіге хабарлаңыз."
        ),
        "number": "Тіркеу нөмірі",
        "summary": "Тренинг",
    },
}


for _language, _words in CHANGE_TEXTS.items():
    _TEXTS[_language].update(_words)
for _language, _words in CHECKIN_TEXTS.items():
    _TEXTS[_language].update(_words)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _offset(local: datetime) -> str:
    delta = local.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_span(starts_at: datetime, ends_at: datetime, timezone: str) -> tuple[str, str]:
    """``("12.03.2027", "12.03.2027 10:00–13:00 UTC+5")`` on the wall clock of ``timezone``
    (UTC if the zone is unknown here, and then said so by the offset)."""
    zone = _zone(timezone) or ZoneInfo("UTC")
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    day = f"{start:%d.%m.%Y}"
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%d.%m.%Y %H:%M}"
    return day, f"{day} {start:%H:%M}–{until} {_offset(start)}"


def _place(facts: MessageFacts, words: dict[str, str]) -> str:
    if facts.mode == "online":
        return words["online"]
    return label("city", facts.city, facts.language)


def render_message(facts: MessageFacts, now: datetime) -> RenderedMessage:
    """The message of ``facts`` in the participant's language (plain text and HTML alike)."""
    words = _TEXTS[facts.language]
    day, span = local_span(facts.starts_at, facts.ends_at, facts.timezone)
    values = {"name": facts.full_name, "day": day, "position": str(facts.waitlist_position or 0)}
    subject = words[f"{facts.kind}.subject"].format(**values)
    holds_seat = facts.kind not in ("waitlisted", "cancellation")
    rows = [
        (words["when"], f"{span} ({words['local']})"),
        (words["where"], _place(facts, words)),
        (words["number"], str(facts.registration_id)),
    ]
    paragraphs = [words["hello"].format(**values), words[f"{facts.kind}.lead"].format(**values)]
    after = [words["invitation"], words["cannot"]] if holds_seat else []
    after = [*_change_paragraphs(facts, words), *after]
    listed = "\n".join(f"{name}: {value}" for name, value in rows)
    e = html.escape
    checkin_text, checkin_html, qr = _checkin_part(facts, words)
    text = "\n\n".join([*paragraphs, listed, *checkin_text, *after])
    table = "".join(
        f'<tr><th scope="row" style="text-align:left;padding-right:1em">{e(name)}</th>'
        f"<td>{e(value)}</td></tr>"
        for name, value in rows
    )
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs) + f"<table>{table}</table>"
    body += checkin_html + "".join(f"<p>{e(p)}</p>" for p in after)
    document = (
        f'<!DOCTYPE html><html lang="{facts.language}"><head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head><body>{body}</body></html>"
    )
    method = "CANCEL" if facts.kind == "cancellation" else "REQUEST"
    calendar = calendar_invitation(facts, now, method) if holds_seat or method == "CANCEL" else None
    return RenderedMessage(subject, text + "\n", document, calendar, calendar_method=method, qr=qr)


def _checkin_part(
    facts: MessageFacts, words: dict[str, str]
) -> tuple[list[str], str, bytes | None]:
    """The check-in code of a message that gives a seat: a paragraph with the link for the
    plain text, and for the HTML the same words, the QR image (by Content-ID) and the link."""
    url = facts.checkin_url
    if url is None or facts.kind not in CARRIES_CHECKIN:
        return [], "", None
    e = html.escape
    sentence = words["checkin.online" if facts.mode == "online" else "checkin.in_person"]
    png, width = qr_png(url)
    image = (
        f'<img src="cid:{QR_CONTENT_ID}" alt="{e(words["checkin.qr"])}" '
        f'width="{width}" height="{width}" style="display:block;max-width:100%;height:auto">'
    )
    part = f'<p>{e(sentence)}</p><p>{image}</p><p><a href="{e(url)}">{e(url)}</a></p>'
    return [f"{sentence}\n{url}"], part, png


def _change_paragraphs(facts: MessageFacts, words: dict[str, str]) -> list[str]:
    """The alternative session of a cancelled one, then the participant's own link."""
    out: list[str] = []
    alternative = facts.alternative
    if facts.kind == "cancellation":
        if alternative is not None:
            _, span = local_span(alternative.starts_at, alternative.ends_at, alternative.timezone)
            place = (
                words["online"]
                if alternative.mode == "online"
                else label("city", alternative.city, facts.language)
            )
            out.append(words["alternative"].format(span=span, local=words["local"], place=place))
        out.append(words["cancelled_calendar"])
    if facts.link is not None:
        key = "link.rescheduled" if facts.kind == "rescheduled" else "link.cancel"
        out.append(words[key].format(link=facts.link))
    return out


_PRODID: Final = "-//trainops//registration//EN"


def invitation_uid(registration_id: uuid.UUID, session_id: uuid.UUID) -> str:
    """Stable per registration and session: later updates of the session replace the entry."""
    return f"registration-{registration_id}-session-{session_id}@trainops"


def _ics_param(value: str) -> str:
    """A parameter value (``CN=``): quoted, without the characters a quoted value cannot hold."""
    cleaned = "".join(c for c in value if c not in '"\r\n')
    return f'"{cleaned}"'


def calendar_invitation(facts: MessageFacts, now: datetime, method: str = "REQUEST") -> bytes:
    """A ``VCALENDAR`` with one ``VEVENT`` for the held seat (UTC times): METHOD:REQUEST adds
    or updates the entry, METHOD:CANCEL (same UID, higher SEQUENCE) removes it."""
    words = _TEXTS[facts.language]
    place = _place(facts, words)
    _, span = local_span(facts.starts_at, facts.ends_at, facts.timezone)
    event = [
        "BEGIN:VEVENT",
        f"UID:{invitation_uid(facts.registration_id, facts.session_id)}",
        f"SEQUENCE:{facts.sequence}",
        f"DTSTAMP:{format_utc(now)}",
        f"DTSTART:{format_utc(facts.starts_at)}",
        f"DTEND:{format_utc(facts.ends_at)}",
        f"SUMMARY:{escape_text(words['summary'] + ' — ' + place)}",
        f"LOCATION:{escape_text(place)}",
        f"DESCRIPTION:{escape_text(span + ' (' + words['local'] + ')')}",
        f"ORGANIZER:mailto:{_bare(facts.organizer)}",
        f"ATTENDEE;CN={_ics_param(facts.full_name)};ROLE=REQ-PARTICIPANT;"
        f"PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{facts.email}",
        "STATUS:CANCELLED" if method == "CANCEL" else "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]
    return render_calendar(_PRODID, [event], method=method).encode("utf-8")


def _bare(address: str) -> str:
    """``user@host`` of ``Name <user@host>``."""
    start, end = address.rfind("<"), address.rfind(">")
    return address[start + 1 : end] if 0 <= start < end else address.strip()


FIRST_RETRY: Final = timedelta(seconds=30)
LONGEST_RETRY: Final = timedelta(hours=1)
MAX_ATTEMPTS: Final = 40
"""Temporary failures in a row before a message is given up as failed: with the delays below
about a day and a half of outage, after which the news is stale and a person must step in."""


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 30 s, doubling, at most an hour
    (a recovering server is not flooded, a long outage still ends within the hour)."""
    if attempts < 1:
        return timedelta(0)
    delay: timedelta = FIRST_RETRY * (2 ** min(attempts - 1, 20))
    return min(delay, LONGEST_RETRY)
