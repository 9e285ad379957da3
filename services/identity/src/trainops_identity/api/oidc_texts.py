"""Texts of organisation sign-in (the button, the pending and refusal pages) in kk/ru/en."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from trainops_identity.api.texts import Language

OIDC_TEXTS: Final[Mapping[Language, Mapping[str, str]]] = {
    "en": {
        "pending_people_title": "Waiting for access after signing in with {organisation}",
        "no_pending": "Nobody is waiting.",
        "not_configured": "Organisation sign-in is not configured (OIDC_ISSUER).",
        "first_seen": "first sign-in",
        "give_access": "Give access",
        "assigned": "{{username}} can now sign in.",
        "accounts_link": "All accounts",
        "sign_in_with": "Sign in with {organisation}",
        "or": "or",
        "refused_title": "Sign-in with {organisation} did not work",
        "refused_hint": "Nothing was changed. Start again from the sign-in page.",
        "pending_title": "{organisation} confirmed who you are",
        "pending_hint": (
            "An administrator still has to give you a role. Sign in again once they have told "
            "you it is done."
        ),
        "unavailable_title": "{organisation} cannot be reached right now",
        "unavailable_hint": "Please try again in a minute.",
        "back": "Back to the sign-in page",
    },
    "ru": {
        "pending_people_title": "Ожидают доступа после входа через {organisation}",
        "no_pending": "Никто не ожидает.",
        "not_configured": "Вход через организацию не настроен (OIDC_ISSUER).",
        "first_seen": "первый вход",
        "give_access": "Дать доступ",
        "assigned": "{{username}} теперь может войти.",
        "accounts_link": "Все учётные записи",
        "sign_in_with": "Войти через {organisation}",
        "or": "или",
        "refused_title": "Вход через {organisation} не удался",
        "refused_hint": "Ничего не изменено. Начните заново со страницы входа.",
        "pending_title": "{organisation} подтвердил(а), кто вы",
        "pending_hint": (
            "Администратор ещё должен назначить вам роль. Войдите снова, когда он сообщит, "
            "что это сделано."
        ),
        "unavailable_title": "{organisation} сейчас недоступен",
        "unavailable_hint": "Попробуйте ещё раз через минуту.",
        "back": "Вернуться на страницу входа",
    },
    "kk": {
        "pending_people_title": "{organisation} арқылы кіргеннен кейін рұқсат күтуде",
        "no_pending": "Ешкім күтпейді.",
        "not_configured": "Ұйым арқылы кіру бапталмаған (OIDC_ISSUER).",
        "first_seen": "алғашқы кіру",
        "give_access": "Рұқсат беру",
        "assigned": "{{username}} енді кіре алады.",
        "accounts_link": "Барлық есептік жазбалар",
        "sign_in_with": "{organisation} арқылы кіру",
        "or": "немесе",
        "refused_title": "{organisation} арқылы кіру сәтсіз аяқталды",
        "refused_hint": "Ештеңе өзгертілмеді. Кіру бетінен қайта бастаңыз.",
        "pending_title": "{organisation} сіздің кім екеніңізді растады",
        "pending_hint": (
            "Әкімші сізге әлі рөл беруі керек. Ол дайын екенін айтқанда қайта кіріңіз."
        ),
        "unavailable_title": "{organisation} қазір қолжетімсіз",
        "unavailable_hint": "Бір минуттан кейін қайталап көріңіз.",
        "back": "Кіру бетіне оралу",
    },
}


def oidc_texts(lang: Language, organisation: str) -> dict[str, str]:
    """The texts of ``lang`` with the organisation's name filled in (the template escapes it)."""
    return {key: value.format(organisation=organisation) for key, value in OIDC_TEXTS[lang].items()}
