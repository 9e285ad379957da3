"""The follow-up rules and mails, without a database: who is owed an invitation, a reminder,
a certificate; what the mails say in each language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from trainops_registration.domain.followup_messages import (
    FollowupFacts,
    render_followup,
    training_name,
)
from trainops_registration.domain.followups import (
    certificate_due,
    feedback_due,
    followup_kind,
    needs_feedback,
    reminder_due,
    reminder_kind,
)
from trainops_registration.handlers.followups import FollowupPolicy, followup_interval
from trainops_shared.settings import SettingsError, load_mail_settings

pytestmark = pytest.mark.unit

NOW = datetime(2031, 5, 21, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_an_invitation_is_owed_to_confirmed_attendees_of_completed_sessions_only() -> None:
    assert feedback_due("completed", "confirmed", True)
    assert not feedback_due("scheduled", "confirmed", True)
    assert not feedback_due("completed", "confirmed", False)
    assert not feedback_due("completed", "confirmed", None)
    assert not feedback_due("completed", "cancelled", True)
    assert not feedback_due("cancelled", "confirmed", True)


def test_a_certificate_waits_for_the_answer_only_where_the_training_asks() -> None:
    args = ("completed", "confirmed", True)
    assert certificate_due(*args, answered=False, feedback_required=False)
    assert not certificate_due(*args, answered=False, feedback_required=True)
    assert certificate_due(*args, answered=True, feedback_required=True)
    assert not certificate_due(
        "completed", "confirmed", False, answered=True, feedback_required=False
    )
    assert needs_feedback("ethics", frozenset({"ethics"}))
    assert not needs_feedback("media", frozenset({"ethics"}))
    assert needs_feedback(None, frozenset({"*"}))
    assert not needs_feedback(None, frozenset({"ethics"}))


def test_reminders_after_the_delay_since_the_last_mail_sent_at_most_the_limit() -> None:
    def due(**kw: object) -> bool:
        values: dict[str, object] = {
            "invited_at": NOW,
            "reminders_sent": 0,
            "last_sent_at": NOW,
            "answered": False,
            "limit": 2,
            "delay": 3 * DAY,
            "now": NOW + 3 * DAY,
        }
        values.update(kw)
        return reminder_due(**values)  # type: ignore[arg-type]

    assert due()
    assert not due(now=NOW + 3 * DAY - timedelta(seconds=1))
    assert not due(answered=True)
    assert not due(reminders_sent=2)
    assert not due(invited_at=None)
    assert not due(last_sent_at=None)  # the previous reminder still waits on the server
    assert due(reminders_sent=1, last_sent_at=NOW + DAY, now=NOW + 4 * DAY)
    assert not due(limit=0)


def test_kinds_are_told_apart_and_fit_the_outbox_column() -> None:
    assert reminder_kind(1) == "reminder.1"
    with pytest.raises(ValueError):
        reminder_kind(0)
    assert followup_kind("reminder.10") == "reminder"
    assert followup_kind("feedback_invite") == "feedback_invite"
    assert followup_kind("certificate") == "certificate"
    assert followup_kind("reminder.x") is None
    assert followup_kind("confirmed") is None
    assert all(len(k) <= 16 for k in ("feedback_invite", "certificate", reminder_kind(10)))


def facts(kind: str, language: str, **kw: object) -> FollowupFacts:
    values: dict[str, object] = {
        "kind": kind,
        "language": language,
        "full_name": "Әсел <Қайратқызы>",
        "training_title": {"kk": "Әдеп", "ru": "Этика", "en": "Ethics"},
        "starts_at": datetime(2031, 5, 20, 4, 0, tzinfo=UTC),
        "ends_at": datetime(2031, 5, 20, 7, 0, tzinfo=UTC),
        "timezone": "Asia/Almaty",
        "mode": "in_person",
        "city": "shymkent",
    }
    values.update(kw)
    return FollowupFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "hello", "title", "city"),
    [
        ("kk", "Сәлеметсіз бе", "Әдеп", "Шымкент"),
        ("ru", "Здравствуйте", "Этика", "Шымкент"),
        ("en", "Hello", "Ethics", "Shymkent"),
    ],
)
def test_invitation_in_the_participants_language_with_local_time_and_the_link(
    language: str, hello: str, title: str, city: str
) -> None:
    url = "https://feedback.example.org/f/" + "A" * 43
    mail = render_followup(facts("feedback_invite", language, feedback_url=url))
    assert hello in mail.text and title in mail.text and city in mail.text
    assert "20.05.2031 09:00–12:00 UTC+5" in mail.text
    assert url in mail.text and f'href="{url}"' in mail.html
    assert "&lt;Қайратқызы&gt;" in mail.html  # escaped in the HTML part
    reminder = render_followup(facts("reminder", language, feedback_url=url, reminder_number=1))
    assert url in reminder.text and reminder.subject != mail.subject


def test_certificate_mail_carries_the_verification_url() -> None:
    verify = "https://registration.example.org/certificates/abcdefghijklmnopqrstuv"
    mail = render_followup(
        facts("certificate", "ru", certificate_id=uuid.uuid4(), verify_url=verify)
    )
    assert verify in mail.text and "Этика" in mail.subject
    assert "/f/" not in mail.text


def test_training_name_falls_back_and_never_is_empty() -> None:
    assert training_name({"ru": "Этика"}, "kk") == "Этика"
    assert training_name({"de": "Ethik"}, "en") == "Ethik"
    assert training_name({}, "kk") == "Тренинг"


def test_settings_of_reminders_and_certificates() -> None:
    mail = load_mail_settings(
        {
            "FEEDBACK_REMINDER_DELAY_S": "60",
            "FEEDBACK_REMINDER_MAX": "3",
            "CERTIFICATE_REQUIRES_FEEDBACK": " ethics, media ,",
        },
        "development",
    )
    policy = FollowupPolicy.of(mail)
    assert policy.reminder_delay == timedelta(seconds=60)
    assert policy.reminder_limit == 3
    assert policy.needs_feedback == frozenset({"ethics", "media"})
    assert followup_interval(policy) == 5.0
    default = FollowupPolicy.of(None)
    assert default.reminder_limit == 2 and default.needs_feedback == frozenset()
    with pytest.raises(SettingsError, match="FEEDBACK_REMINDER_MAX"):
        load_mail_settings({"FEEDBACK_REMINDER_MAX": "11"}, "development")
    with pytest.raises(SettingsError, match="FEEDBACK_REMINDER_DELAY_S"):
        load_mail_settings({"FEEDBACK_REMINDER_DELAY_S": "0"}, "development")


@pytest.mark.parametrize(
    ("language", "title", "words"),
    [
        ("kk", "Қатысушы сертификаты", "төмендегі тренингке қатысқанын растайды"),
        ("ru", "Сертификат участника", "принял(а) участие в тренинге"),
        ("en", "Certificate of participation", "took part in the training"),
    ],
)
def test_certificate_pdf_text_in_the_participants_language(
    language: str, title: str, words: str
) -> None:
    import pypdfium2 as pdfium

    from trainops_registration.adapters.certificate_pdf import certificate_pdf

    number = uuid.uuid4()
    verify = "https://registration.example.org/certificates/abcdefghijklmnopqrstuv"
    data = certificate_pdf(
        facts(
            "certificate",
            language,
            full_name="Әсел Қайратқызы Нұрланова",
            certificate_id=number,
            verify_url=verify,
        ),
        "21.05.2031",
    )
    document = pdfium.PdfDocument(data)
    assert len(document) == 1
    text = document[0].get_textpage().get_text_range().replace("\r\n", "\n")
    flat = " ".join(text.split())
    for expected in (title, words, "Әсел Қайратқызы Нұрланова", str(number), verify):
        assert expected in flat, expected
