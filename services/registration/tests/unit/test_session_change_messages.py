"""Messages about a changed session and the participant's own link: words in each language,
the calendar update (same UID, the session's version as SEQUENCE, REQUEST or CANCEL), the
alternative session, and the link's token and verdict rules."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from test_messages import NOW, RID, SID, facts

from trainops_registration.domain.change_texts import CHANGE_TEXTS
from trainops_registration.domain.links import (
    LinkState,
    link_verdict,
    message_link_tokens,
)
from trainops_registration.domain.messages import (
    AlternativeSession,
    invitation_uid,
    render_message,
)
from trainops_shared.events.vocabulary import Language
from trainops_shared.link_tokens import hash_token, looks_like_token

pytestmark = pytest.mark.unit

LINK = "https://registration.example.org/r/" + "A" * 43
SUBJECTS: dict[Language, tuple[str, str]] = {
    "kk": ("Тренингіңіздің жаңа уақыты: 12.03.2027", "Тренинг тоқтатылды: 12.03.2027"),
    "ru": ("Новое время вашего тренинга: 12.03.2027", "Тренинг отменён: 12.03.2027"),
    "en": ("New time for your training: 12.03.2027", "Training session cancelled: 12.03.2027"),
}


def week_later(mode: str = "in_person") -> AlternativeSession:
    return AlternativeSession(
        starts_at=datetime(2027, 3, 19, 4, 30, tzinfo=UTC),
        ends_at=datetime(2027, 3, 19, 8, 0, tzinfo=UTC),
        timezone="Asia/Almaty",
        mode=mode,
        city="almaty",
    )


def unfolded(calendar: bytes | None) -> str:
    assert calendar is not None
    return calendar.decode("utf-8").replace("\r\n ", "")


def test_every_language_has_the_same_change_words() -> None:
    keys = {language: set(words) for language, words in CHANGE_TEXTS.items()}
    assert keys["kk"] == keys["ru"] == keys["en"]


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_a_reschedule_updates_the_invitation_and_carries_the_link(language: Language) -> None:
    message = render_message(facts("rescheduled", language, sequence=4, link=LINK), NOW)
    assert message.subject == SUBJECTS[language][0]
    assert "12.03.2027 09:30–13:00 UTC+5" in message.text
    assert LINK in message.text and LINK in message.html
    assert CHANGE_TEXTS[language]["link.rescheduled"].format(link=LINK) in message.text
    calendar = unfolded(message.calendar)
    assert message.calendar_method == "REQUEST" and "METHOD:REQUEST" in calendar
    assert f"UID:{invitation_uid(RID, SID)}" in calendar and "SEQUENCE:4" in calendar
    assert "STATUS:CONFIRMED" in calendar and "DTSTART:20270312T043000Z" in calendar


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_a_cancellation_removes_the_entry_and_names_the_alternative(language: Language) -> None:
    message = render_message(
        facts("cancellation", language, sequence=5, alternative=week_later()), NOW
    )
    assert message.subject == SUBJECTS[language][1]
    assert "19.03.2027 09:30–13:00 UTC+5" in message.text  # the alternative, local time
    assert "19.03.2027 09:30–13:00 UTC+5" in message.html
    calendar = unfolded(message.calendar)
    assert message.calendar_method == "CANCEL" and "METHOD:CANCEL" in calendar
    assert "STATUS:CANCELLED" in calendar and "SEQUENCE:5" in calendar
    assert f"UID:{invitation_uid(RID, SID)}" in calendar
    # A cancelled session offers no link: there is nothing left to cancel or confirm.
    assert "/r/" not in message.text


def test_a_cancellation_without_alternative_says_none_and_an_online_one_says_online() -> None:
    plain = render_message(facts("cancellation", "en"), NOW)
    assert "suggests" not in plain.text
    online = week_later("online")
    assert "), online." in render_message(facts("cancellation", "en", alternative=online), NOW).text


def test_the_confirmation_carries_the_cancel_link_and_the_waiting_list_message_too() -> None:
    for kind in ("confirmed", "waitlisted", "promoted"):
        message = render_message(facts(kind, "ru", link=LINK), NOW)
        assert CHANGE_TEXTS["ru"]["link.cancel"].format(link=LINK) in message.text
    assert "/r/" not in render_message(facts("confirmed", "ru"), NOW).text


def test_a_link_token_is_derived_per_purpose_and_message_and_keeps_its_key_private() -> None:
    secret = "k" * 16 + "0123456789abcdef"
    tokens = message_link_tokens(secret)
    message = uuid.UUID(int=42)
    token = tokens["cancel"].token(str(message))
    assert looks_like_token(token) and token == tokens["cancel"].token(str(message))
    assert token != tokens["reschedule"].token(str(message))
    assert token != tokens["cancel"].token(str(uuid.UUID(int=43)))
    other = message_link_tokens("another key of enough length!!!!")
    assert token != other["cancel"].token(str(message))
    assert len(hash_token(token)) == 64 and token not in hash_token(token)
    assert "k" * 16 not in repr(tokens)
    assert not looks_like_token("../../etc") and not looks_like_token("a" * 200)
    with pytest.raises(ValueError, match="non-empty"):
        message_link_tokens("")


def test_links_already_mailed_keep_working() -> None:
    """The derivation is the one links were always mailed with: a changed formula would turn
    every link in every inbox into a 404."""
    secret = "k" * 16 + "0123456789abcdef"
    message = uuid.UUID(int=42)
    key = hmac.new(secret.encode(), b"trainops-registration-link-key", hashlib.sha256).digest()
    digest = hmac.new(key, f"reschedule:{message}".encode(), hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    assert message_link_tokens(secret)["reschedule"].token(str(message)) == expected


START = datetime(2027, 3, 12, 4, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("purpose", "registration", "answer", "session", "now", "verdict"),
    [
        ("cancel", "confirmed", None, "scheduled", START - timedelta(days=1), "open"),
        ("cancel", "waitlisted", None, "scheduled", START - timedelta(days=1), "open"),
        ("cancel", "confirmed", "cancelled", "scheduled", START - timedelta(days=1), "used"),
        ("cancel", "confirmed", None, "scheduled", START, "expired"),
        ("cancel", "cancelled", None, "scheduled", START - timedelta(days=1), "closed"),
        ("cancel", "confirmed", None, "cancelled", START - timedelta(days=1), "closed"),
        ("reschedule", "confirmed", None, "scheduled", START - timedelta(days=1), "open"),
        ("reschedule", "waitlisted", None, "scheduled", START - timedelta(days=1), "closed"),
        ("reschedule", "confirmed", "confirmed", "scheduled", START - timedelta(days=1), "used"),
    ],
)
def test_link_verdicts(
    purpose: str, registration: str, answer: str | None, session: str, now: datetime, verdict: str
) -> None:
    state = LinkState(purpose, registration, answer, START, session)  # type: ignore[arg-type]
    assert link_verdict(state, now) == verdict
