"""Which of the page languages (kk/ru/en) a browser gets, decided the same way by every service.

The order: the language the person picked (``?lang=``), else the one they picked before (the
``trainops_lang`` cookie: host-wide, so a choice made on the sign-in page holds on every service
of the host), else the first of the browser's ``Accept-Language`` that we have, else Russian,
the language every participant of the programme reads. People type codes that are not ISO 639-1
(``kz`` is the country, ``rus`` the three-letter code), so those are understood too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from trainops_shared.events.vocabulary import LANGUAGES, Language

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANG_COOKIE",
    "choose_language",
    "from_accept_language",
    "normalise_language",
]

DEFAULT_LANGUAGE: Final[Language] = "ru"
LANG_COOKIE: Final = "trainops_lang"

_ALIASES: Final[Mapping[str, Language]] = {
    "kz": "kk",
    "qq": "kk",
    "kaz": "kk",
    "rus": "ru",
    "eng": "en",
}


def normalise_language(value: str | None) -> Language | None:
    """``"RU"``, ``"ru-RU"``, ``"kz"`` → a supported code; anything else → ``None``."""
    if not value:
        return None
    code = value.strip().lower()[:8].replace("_", "-").split("-", 1)[0]
    code = _ALIASES.get(code, code)
    return next((language for language in LANGUAGES if language == code), None)


def from_accept_language(header: str) -> Language | None:
    """The first of the browser's languages (by q, then by order) that we have."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, index, tag))
    for negative_q, _, tag in sorted(weighted):
        language = normalise_language(tag)
        if language is not None and negative_q < 0:
            return language
    return None


def choose_language(requested: str | None, cookie: str | None, accept_language: str) -> Language:
    return (
        normalise_language(requested)
        or normalise_language(cookie)
        or from_accept_language(accept_language)
        or DEFAULT_LANGUAGE
    )
