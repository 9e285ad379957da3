"""Participants' messages: each language, local times, the calendar invitation, the retry delays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from trainops_registration.domain.messages import (
    MAX_ATTEMPTS,
    MessageFacts,
    MessageKind,
    invitation_uid,
    local_span,
    render_message,
    retry_delay,
)
from trainops_shared.events.vocabulary import Language

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
RID, SID = uuid.UUID(int=7), uuid.UUID(int=8)


def facts(
    kind: MessageKind = "confirmed", language: Language = "kk", **extra: object
) -> MessageFacts:
    values: dict[str, object] = {
        "kind": kind,
        "language": language,
        "full_name": 'Әйгерім Сейітова, PhD; "Алматы"',
        "email": "aigerim@example.org",
        "registration_id": RID,
        "session_id": SID,
        # 04:30 UTC is 09:30 on Almaty's clock (UTC+5).
        "starts_at": datetime(2027, 3, 12, 4, 30, tzinfo=UTC),
        "ends_at": datetime(2027, 3, 12, 8, 0, tzinfo=UTC),
        "timezone": "Asia/Almaty",
        "mode": "in_person",
        "city": "almaty",
        "waitlist_position": 3 if kind == "waitlisted" else None,
        "sequence": 2,
        "organizer": "Programme <no-reply@example.org>",
    }
    values.update(extra)
    return MessageFacts(**values)  # type: ignore[arg-type]


WORDS: dict[Language, dict[MessageKind, tuple[str, str]]] = {
    "kk": {
        "confirmed": ("Қатысуыңыз расталды: 12.03.2027", "Сәлеметсіз бе"),
        "waitlisted": ("Сіз күту тізіміндесіз (3-орын)", "күту тізімінде 3-орындасыз"),
        "promoted": ("Орын босады", "енді расталды"),
    },
    "ru": {
        "confirmed": ("Ваше участие подтверждено: тренинг 12.03.2027", "Здравствуйте"),
        "waitlisted": ("Вы в листе ожидания (место 3)", "под номером 3 в листе ожидания"),
        "promoted": ("Освободилось место", "теперь подтверждена"),
    },
    "en": {
        "confirmed": ("Your place is confirmed: training on 12.03.2027", "Hello"),
        "waitlisted": ("You are on the waiting list (place 3)", "number 3 on its waiting list"),
        "promoted": ("A seat is free", "now confirmed"),
    },
}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("kind", ["confirmed", "waitlisted", "promoted"])
def test_each_message_in_each_language(language: Language, kind: MessageKind) -> None:
    message = render_message(facts(kind, language), NOW)
    subject_start, phrase = WORDS[language][kind]
    assert message.subject.startswith(subject_start)
    assert phrase in message.text
    # The session's own wall clock with its offset, in text and HTML alike.
    assert "12.03.2027 09:30–13:00 UTC+5" in message.text
    assert "12.03.2027 09:30–13:00 UTC+5" in message.html
    assert f'lang="{language}"' in message.html
    # Names are text, never markup.
    assert "&quot;Алматы&quot;" in message.html and '"Алматы"' not in message.html
    assert (message.calendar is None) == (kind == "waitlisted")
    for other in {"kk", "ru", "en"} - {language}:
        assert WORDS[other][kind][1] not in message.text  # type: ignore[index]


def test_city_and_online_places_are_named_in_the_language() -> None:
    assert "Алматы" in render_message(facts(language="ru"), NOW).text
    online = render_message(facts(language="ru", mode="online"), NOW)
    assert "Где: онлайн" in online.text


def unfold(ics: bytes) -> dict[str, str]:
    text = ics.decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    lines: list[str] = []
    for raw in text.split("\r\n"):
        if raw.startswith(" "):
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return {line.split(":", 1)[0].split(";", 1)[0]: line for line in lines}


def test_the_invitation_is_a_request_with_a_stable_uid_and_the_sequence() -> None:
    ics = render_message(facts(), NOW).calendar
    assert ics is not None
    for line in ics.split(b"\r\n"):
        assert len(line) <= 75
    props = unfold(ics)
    assert props["METHOD"] == "METHOD:REQUEST"
    assert props["UID"] == f"UID:{invitation_uid(RID, SID)}"
    assert props["SEQUENCE"] == "SEQUENCE:2"
    assert props["DTSTART"] == "DTSTART:20270312T043000Z"
    assert props["DTEND"] == "DTEND:20270312T080000Z"
    assert props["DTSTAMP"] == "DTSTAMP:20270301T090000Z"
    assert props["ORGANIZER"] == "ORGANIZER:mailto:no-reply@example.org"
    assert props["ATTENDEE"].endswith(":mailto:aigerim@example.org")
    # A quote in a name cannot end the quoted CN parameter early.
    assert 'CN="Әйгерім Сейітова, PhD; Алматы"' in props["ATTENDEE"]
    assert props["SUMMARY"] == "SUMMARY:Тренинг — Алматы"
    assert props["LOCATION"] == "LOCATION:Алматы"
    assert props["DESCRIPTION"].endswith("UTC+5 (жергілікті уақыт)")
    later = render_message(facts(sequence=3), NOW + timedelta(days=1)).calendar
    assert later is not None and unfold(later)["UID"] == props["UID"]
    assert unfold(later)["SEQUENCE"] == "SEQUENCE:3"


def test_folding_never_splits_a_character() -> None:
    name = "Тренинг " * 30
    ics = render_message(facts(full_name=name), NOW).calendar
    assert ics is not None
    for part in ics.split(b"\r\n"):
        assert len(part) <= 75
        part.decode("utf-8")  # every part is whole UTF-8
    assert f'CN="{name}"' in ics.decode("utf-8").replace("\r\n ", "")


def test_unknown_zone_is_shown_as_utc() -> None:
    _, span = local_span(
        datetime(2027, 1, 1, 4, tzinfo=UTC), datetime(2027, 1, 1, 5, tzinfo=UTC), "Nowhere/City"
    )
    assert span == "01.01.2027 04:00–05:00 UTC+0"


def test_retry_delays_double_from_30_seconds_up_to_an_hour() -> None:
    delays = [retry_delay(n) for n in range(1, 10)]
    assert [d.total_seconds() for d in delays] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay(10_000) == timedelta(hours=1)
    total = sum((retry_delay(n) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert timedelta(hours=24) < total < timedelta(hours=48)


def test_calendar_text_is_escaped() -> None:
    ics = render_message(facts(city="new, city; two"), NOW).calendar
    assert ics is not None
    assert unfold(ics)["LOCATION"] == "LOCATION:new\\, city\\; two"
