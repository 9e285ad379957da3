"""Consent per purpose: what a person agreed their data may be used for.

Registering is taking part, so ``taking_part`` is always recorded with a registration (a
request that names no consent at all agrees to that alone, which is what every registration
before consent was asked meant). Further purposes (being contacted about future trainings,
...) are only ever recorded when the person ticked them; an installation offers the ones it
names in ``REGISTRATION_CONSENT_PURPOSES``. Every purpose except taking part can be withdrawn
at any time; withdrawing taking part itself is a request for erasure.

Each message kind serves one purpose (:data:`MESSAGE_PURPOSES`): the mail relay sends nothing
for a purpose the person has not agreed to, or has withdrawn.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from trainops_registration.domain.errors import Conflict, Invalid

TAKING_PART: Final = "taking_part"
FUTURE_TRAININGS: Final = "future_trainings"

PURPOSE_TEXTS: Final[Mapping[str, Mapping[str, str]]] = {
    TAKING_PART: {
        "en": "Taking part: my details are used to register me, keep my seat and tell me "
        "about this training.",
        "ru": "Участие: мои данные используются для регистрации, брони места и сообщений об "
        "этом тренинге.",
        "kk": "Қатысу: деректерім тіркеу, орынды сақтау және осы тренинг туралы хабарлау үшін "
        "пайдаланылады.",
    },
    FUTURE_TRAININGS: {
        "en": "Future trainings: I may be contacted about other trainings of the programme.",
        "ru": "Будущие тренинги: со мной могут связаться о других тренингах программы.",
        "kk": "Алдағы тренингтер: бағдарламаның басқа тренингтері туралы маған хабарласуға болады.",
    },
}
"""Every purpose this service knows, with what the person is shown, in each language."""

DEFAULT_PURPOSES: Final[tuple[str, ...]] = (TAKING_PART, FUTURE_TRAININGS)

MESSAGE_PURPOSES: Final[Mapping[str, str]] = {
    "confirmed": TAKING_PART,
    "waitlisted": TAKING_PART,
    "promoted": TAKING_PART,
}
"""The purpose each message kind serves; a kind not listed serves taking part."""


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One purpose as recorded for a person: agreed when, withdrawn when, by whom last."""

    purpose: str
    granted_at: datetime
    withdrawn_at: datetime | None
    source: str


def purpose_of_message(kind: str) -> str:
    return MESSAGE_PURPOSES.get(kind, TAKING_PART)


def configured_purposes(raw: str | None) -> tuple[str, ...]:
    """The purposes an installation offers, from ``REGISTRATION_CONSENT_PURPOSES`` (comma
    separated; taking part is always among them). An unknown name is a start-up error."""
    if raw is None or not raw.strip():
        return DEFAULT_PURPOSES
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in PURPOSE_TEXTS]
    if unknown:
        raise ValueError(
            f"REGISTRATION_CONSENT_PURPOSES: unknown purpose {unknown[0]!r}; "
            f"known: {', '.join(PURPOSE_TEXTS)}"
        )
    return tuple(dict.fromkeys([TAKING_PART, *names]))


def validate_consents(
    requested: Sequence[str] | None, offered: Iterable[str], field: str = "consents"
) -> tuple[str, ...]:
    """The purposes a registration records: ``None`` means taking part only; otherwise every
    name must be offered, and taking part must be among them (one cannot register without)."""
    if requested is None:
        return (TAKING_PART,)
    allowed = tuple(offered)
    for n, name in enumerate(requested):
        if name not in allowed:
            raise Invalid(
                f"{field}[{n}]",
                f"{name!r} is not a consent this installation asks for; one of: "
                f"{', '.join(allowed)}",
            )
    if TAKING_PART not in requested:
        raise Invalid(
            field,
            f"registering needs the consent {TAKING_PART!r} (the other purposes are optional)",
        )
    return tuple(dict.fromkeys(requested))


def ensure_withdrawable(purpose: str, offered: Iterable[str]) -> None:
    if purpose not in tuple(offered):
        raise Invalid("purpose", f"{purpose!r} is not a consent this installation asks for")
    if purpose == TAKING_PART:
        raise Conflict(
            "purpose",
            "taking part cannot be withdrawn while registered: ask for erasure instead "
            "(DELETE /participants/{participant_id})",
        )


CONSENT_LINK_PURPOSE: Final = "consents"
"""The link-key purpose of a person's consent link (its subject: the pseudonymous id)."""

ConsentAction = Literal["withdraw", "give"]


@dataclass(frozen=True, slots=True)
class ConsentChoice:
    """One purpose on the participant's consent page: agreed or not, since when, and what
    they may do about it (``None``: nothing, taking part once withdrawn)."""

    purpose: str
    agreed: bool
    since: datetime | None
    action: ConsentAction | None


def consent_choices(
    records: Iterable[ConsentRecord], offered: Iterable[str]
) -> list[ConsentChoice]:
    """The offered purposes in their order, each with its state. A purpose never agreed or
    withdrawn may be given (again); taking part is only ever withdrawn, since registering is
    how it is given."""
    by_purpose = {record.purpose: record for record in records}
    choices = []
    for purpose in offered:
        record = by_purpose.get(purpose)
        agreed = record is not None and record.withdrawn_at is None
        since = None if record is None else (record.withdrawn_at or record.granted_at)
        action: ConsentAction | None = "withdraw" if agreed else "give"
        if purpose == TAKING_PART and not agreed:
            action = None
        choices.append(ConsentChoice(purpose, agreed, since, action))
    return choices


def ensure_self_change(
    purpose: str, action: str, choices: Sequence[ConsentChoice], *, confirmed: bool
) -> None:
    """What a participant asks on their page must be a purpose offered and the action it
    currently allows (422 otherwise; 409 when it was already done, e.g. a second tab).
    Withdrawing taking part erases the person, so it needs their explicit ``confirm``."""
    choice = next((c for c in choices if c.purpose == purpose), None)
    if choice is None:
        raise Invalid("purpose", f"{purpose!r} is not a consent this installation asks for")
    if action not in ("withdraw", "give"):
        raise Invalid("action", "action must be withdraw or give")
    if choice.action != action:
        raise Conflict("action", f"the consent {purpose!r} cannot be changed that way now")
    if purpose == TAKING_PART and not confirmed:
        raise Invalid("confirm", "withdrawing taking part erases your details: confirm it")


FOOTER_TEXTS: Final[Mapping[str, str]] = {
    "en": "What your details may be used for, and withdrawing a consent: {url}",
    "ru": "Для чего могут использоваться ваши данные и как отозвать согласие: {url}",
    "kk": "Деректеріңіз не үшін пайдаланылатыны және келісімді қайтарып алу: {url}",
}


def consent_footer(language: str, url: str) -> tuple[str, str]:
    """The closing line of every mail to a participant: plain text and HTML, in their
    language (Russian for a language this code does not know)."""
    words = FOOTER_TEXTS.get(language, FOOTER_TEXTS["ru"])
    e = html.escape
    lead, _, _ = words.partition("{url}")
    text = "\n-- \n" + words.format(url=url)
    markup = f'<hr><p style="font-size:small">{e(lead)}<a href="{e(url)}">{e(url)}</a></p>'
    return text, markup
