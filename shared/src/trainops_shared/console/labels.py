"""The words for the programme's category codes in Kazakh, Russian and English.

Events and APIs carry codes (:mod:`trainops_shared.events.vocabulary`); people read words. One
table for every page, import template and export, so a sector is called the same everywhere
and an import can read back any of the words a template or a person wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from trainops_shared.events.vocabulary import Language

Words = Mapping[str, Mapping[Language, str]]


def _w(kk: str, ru: str, en: str) -> Mapping[Language, str]:
    return {"kk": kk, "ru": ru, "en": en}


LABELS: Final[Mapping[str, Words]] = {
    "sector": {
        "media": _w("БАҚ", "СМИ", "Media"),
        "blogger": _w("Блогер", "Блогер", "Blogger"),
        "ngo": _w("ҮЕҰ", "НКО", "NGO"),
        "akimat": _w("Әкімдік", "Акимат", "Akimat"),
        "other": _w("Басқа", "Другое", "Other"),
    },
    "sex": {
        "female": _w("Әйел", "Женский", "Female"),
        "male": _w("Ер", "Мужской", "Male"),
        "other": _w("Басқа", "Другой", "Other"),
        "undisclosed": _w("Көрсетілмеген", "Не указан", "Not stated"),
    },
    "age_band": {
        "18-24": _w("18–24", "18–24", "18–24"),
        "25-34": _w("25–34", "25–34", "25–34"),
        "35-44": _w("35–44", "35–44", "35–44"),
        "45-54": _w("45–54", "45–54", "45–54"),
        "55+": _w("55+", "55+", "55+"),
        "undisclosed": _w("Көрсетілмеген", "Не указан", "Not stated"),
    },
    "language": {
        "kk": _w("Қазақша", "Казахский", "Kazakh"),
        "ru": _w("Орысша", "Русский", "Russian"),
        "en": _w("Ағылшынша", "Английский", "English"),
    },
    "mode": {
        "online": _w("Онлайн", "Онлайн", "Online"),
        "in_person": _w("Бетпе-бет", "Очно", "In person"),
    },
    "role": {
        "admin": _w("Әкімші", "Администратор", "Administrator"),
        "programme_staff": _w("Бағдарлама қызметкері", "Сотрудник программы", "Programme staff"),
        "coordinator": _w("Өңірлік үйлестіруші", "Региональный координатор", "Coordinator"),
        "reporting": _w("Есептілік", "Отчётность", "Reporting"),
    },
    "status": {
        "confirmed": _w("Расталды", "Подтверждено", "Confirmed"),
        "waitlisted": _w("Күту тізімінде", "В листе ожидания", "Waitlisted"),
        "cancelled": _w("Болдырылмады", "Отменено", "Cancelled"),
        "attended": _w("Қатысты", "Присутствовал(а)", "Attended"),
        "scheduled": _w("Жоспарланған", "Запланировано", "Scheduled"),
        "completed": _w("Өтті", "Проведено", "Completed"),
    },
    "city": {
        "almaty": _w("Алматы", "Алматы", "Almaty"),
        "astana": _w("Астана", "Астана", "Astana"),
        "shymkent": _w("Шымкент", "Шымкент", "Shymkent"),
        "oskemen": _w("Өскемен", "Усть-Каменогорск", "Oskemen"),
        "almaty_region": _w("Алматы облысы", "Алматинская область", "Almaty Region"),
        "aktobe": _w("Ақтөбе", "Актобе", "Aktobe"),
        "aktau": _w("Ақтау", "Актау", "Aktau"),
        "kostanay": _w("Қостанай", "Костанай", "Kostanay"),
    },
}
"""Kinds → code → language → word; the order of each kind is the order lists show."""


def label(kind: str, code: str, lang: Language) -> str:
    """The word for ``code``; a code nobody named yet (a new city) is shown as itself."""
    words = LABELS.get(kind, {}).get(code)
    return words[lang] if words else code


def choices(kind: str, lang: Language) -> list[tuple[str, str]]:
    """``(code, word)`` pairs for a ``<select>``, in the table's order."""
    return [(code, words[lang]) for code, words in LABELS.get(kind, {}).items()]


def code_for(kind: str, text: str) -> str | None:
    """The code a person meant by ``text``: the code itself or its word in any language
    (case and surrounding spaces ignored), else ``None``."""
    wanted = text.strip().casefold()
    for code, words in LABELS.get(kind, {}).items():
        if wanted == code.casefold() or any(wanted == w.casefold() for w in words.values()):
            return code
    return None
