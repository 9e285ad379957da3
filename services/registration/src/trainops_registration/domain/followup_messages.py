"""The mails that follow a session — feedback invitation, reminder, certificate — and the
certificate's own wording, in the participant's language (kk/ru/en).

Pure: facts in, subject, plain text and HTML out. The feedback link appears only in the body
of the message addressed to its holder; nothing here logs.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from trainops_registration.domain.followups import FollowupKind
from trainops_registration.domain.messages import local_span
from trainops_shared.console.labels import label
from trainops_shared.events.vocabulary import Language


@dataclass(frozen=True, slots=True)
class FollowupFacts:
    kind: FollowupKind
    language: Language
    full_name: str
    training_title: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    timezone: str
    mode: str
    city: str
    feedback_url: str | None = None
    reminder_number: int = 0
    certificate_id: uuid.UUID | None = None
    verify_url: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedFollowup:
    subject: str
    text: str
    html: str


_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "hello": "Hello, {name}!",
        "feedback_invite.subject": "How was the training on {day}? Your feedback",
        "feedback_invite.lead": (
            "Thank you for taking part in the training “{training}”. Please tell us how it "
            "went: the form takes a few minutes and is anonymous to the trainers."
        ),
        "reminder.subject": "Reminder: your feedback on the training of {day}",
        "reminder.lead": (
            "We recently asked you about the training “{training}”. If you have a few minutes, "
            "your answers help us improve the next sessions."
        ),
        "certificate.subject": "Your certificate: {training}",
        "certificate.lead": (
            "Thank you for taking part in the training “{training}”. Your certificate is "
            "attached (PDF)."
        ),
        "link": "Your personal link (please do not forward it)",
        "verify": "Anyone can check that the certificate is genuine",
        "when": "When",
        "where": "Where",
        "online": "online",
        "local": "local time",
        "cert.title": "Certificate of participation",
        "cert.certifies": "This certifies that",
        "cert.completed": "took part in the training",
        "cert.number": "Certificate number",
        "cert.issued": "Issued",
        "cert.verify": "Check that this certificate is genuine",
    },
    "ru": {
        "hello": "Здравствуйте, {name}!",
        "feedback_invite.subject": "Как прошёл тренинг {day}? Ваш отзыв",
        "feedback_invite.lead": (
            "Спасибо за участие в тренинге «{training}». Пожалуйста, расскажите, как он "
            "прошёл: анкета займёт несколько минут, тренеры не увидят, кто что ответил."
        ),
        "reminder.subject": "Напоминание: ваш отзыв о тренинге {day}",
        "reminder.lead": (
            "Недавно мы спросили вас о тренинге «{training}». Если у вас есть несколько "
            "минут, ваши ответы помогут сделать следующие занятия лучше."
        ),
        "certificate.subject": "Ваш сертификат: {training}",
        "certificate.lead": (
            "Спасибо за участие в тренинге «{training}». Ваш сертификат — во вложении (PDF)."
        ),
        "link": "Ваша личная ссылка (пожалуйста, не пересылайте её)",
        "verify": "Любой может проверить подлинность сертификата",
        "when": "Когда",
        "where": "Где",
        "online": "онлайн",
        "local": "местное время",
        "cert.title": "Сертификат участника",
        "cert.certifies": "Настоящим подтверждается, что",
        "cert.completed": "принял(а) участие в тренинге",
        "cert.number": "Номер сертификата",
        "cert.issued": "Выдан",
        "cert.verify": "Проверить подлинность сертификата",
    },
    "kk": {
        "hello": "Сәлеметсіз бе, {name}!",
        "feedback_invite.subject": "{day} өткен тренинг қалай болды? Пікіріңіз",
        "feedback_invite.lead": (
            "«{training}» тренингіне қатысқаныңызға рахмет. Тренинг қалай өткенін айтып "
            "беріңізші: сауалнама бірнеше минут алады, кім не жауап бергенін тренерлер "
            "көрмейді."
        ),
        "reminder.subject": "Еске салу: {day} өткен тренинг туралы пікіріңіз",
        "reminder.lead": (
            "Жақында біз сізден «{training}» тренингі туралы сұрадық. Бірнеше минутыңыз "
            "болса, жауаптарыңыз келесі сабақтарды жақсартуға көмектеседі."
        ),
        "certificate.subject": "Сіздің сертификатыңыз: {training}",
        "certificate.lead": (
            "«{training}» тренингіне қатысқаныңызға рахмет. Сертификатыңыз хатқа тіркелген (PDF)."
        ),
        "link": "Жеке сілтемеңіз (оны басқаға жібермеңіз)",
        "verify": "Сертификаттың түпнұсқалығын кез келген адам тексере алады",
        "when": "Қашан",
        "where": "Қайда",
        "online": "онлайн",
        "local": "жергілікті уақыт",
        "cert.title": "Қатысушы сертификаты",
        "cert.certifies": "Осы сертификат",
        "cert.completed": "төмендегі тренингке қатысқанын растайды:",
        "cert.number": "Сертификат нөмірі",
        "cert.issued": "Берілген күні",
        "cert.verify": "Сертификаттың түпнұсқалығын тексеру",
    },
}


def words(language: Language) -> dict[str, str]:
    return _TEXTS[language]


def training_name(title: dict[str, str], language: Language) -> str:
    """The title in ``language``, else in Russian or English, else any (a title is required by
    scheduling, but a training never defined here has none: a neutral word then)."""
    for key in (language, "ru", "en", *sorted(title)):
        if title.get(key):
            return title[key]
    return {"en": "Training", "ru": "Тренинг", "kk": "Тренинг"}[language]


def place(facts: FollowupFacts) -> str:
    if facts.mode == "online":
        return words(facts.language)["online"]
    return label("city", facts.city, facts.language)


def render_followup(facts: FollowupFacts) -> RenderedFollowup:
    """The mail of ``facts`` in the participant's language (plain text and HTML alike)."""
    w = words(facts.language)
    day, span = local_span(facts.starts_at, facts.ends_at, facts.timezone)
    training = training_name(facts.training_title, facts.language)
    values = {"name": facts.full_name, "day": day, "training": training}
    subject = w[f"{facts.kind}.subject"].format(**values)
    paragraphs = [w["hello"].format(**values), w[f"{facts.kind}.lead"].format(**values)]
    rows = [(w["when"], f"{span} ({w['local']})"), (w["where"], place(facts))]
    link: tuple[str, str] | None = None
    if facts.kind in ("feedback_invite", "reminder") and facts.feedback_url:
        link = (w["link"], facts.feedback_url)
    elif facts.kind == "certificate" and facts.verify_url:
        link = (w["verify"], facts.verify_url)
    text_parts = [*paragraphs]
    if link is not None:
        text_parts.append(f"{link[0]}:\n{link[1]}")
    text_parts.append("\n".join(f"{name}: {value}" for name, value in rows))
    e = html.escape
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    if link is not None:
        body += f'<p>{e(link[0])}:<br><a href="{e(link[1])}">{e(link[1])}</a></p>'
    body += "<table>" + "".join(
        f'<tr><th scope="row" style="text-align:left;padding-right:1em">{e(name)}</th>'
        f"<td>{e(value)}</td></tr>"
        for name, value in rows
    )
    body += "</table>"
    document = (
        f'<!DOCTYPE html><html lang="{facts.language}"><head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head><body>{body}</body></html>"
    )
    return RenderedFollowup(subject=subject, text="\n\n".join(text_parts) + "\n", html=document)
