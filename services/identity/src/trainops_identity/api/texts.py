"""Every text of the identity pages in Kazakh, Russian and English, and the language choice.

Language: the ``?lang=`` just picked, else the ``trainops_lang`` cookie (remembered), else the
browser's ``Accept-Language``, else Russian.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from trainops_shared.events.vocabulary import LANGUAGES, Language

__all__ = ["DEFAULT", "LANGUAGES", "LANG_COOKIE", "NAMES", "TEXTS", "Language", "choose"]

DEFAULT: Final[Language] = "ru"
LANG_COOKIE: Final = "trainops_lang"
NAMES: Final[Mapping[Language, str]] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

TEXTS: Final[Mapping[Language, Mapping[str, str]]] = {
    "en": {
        "sign_in_title": "Sign in to trainops",
        "username": "Username",
        "password": "Password",
        "sign_in": "Sign in",
        "failed": "Wrong username or password.",
        "too_many": "Too many failed attempts. Try again in {minutes} minute(s).",
        "ended": "Your session has ended. Please sign in again.",
        "signed_out": "You have signed out on every service.",
        "bad_form": "The form expired. Please try again.",
        "language": "Language",
        "account_title": "Your account",
        "signed_in_as": "Signed in as",
        "role": "Role",
        "region": "Region",
        "sign_out": "Sign out everywhere",
        "change_password": "Change your password",
        "current_password": "Current password",
        "new_password": "New password (at least 12 characters)",
        "save": "Save",
        "password_changed": "Your password was changed.",
        "tokens": "Personal API tokens",
        "token_name": "Token name",
        "token_days": "Valid for (days, at most 365)",
        "create_token": "Create token",
        "token_once": "Copy this token now: it is shown only once.",
        "revoke": "Revoke",
        "revoked": "revoked",
        "expires": "expires",
        "no_tokens": "No tokens yet.",
        "accounts_title": "Accounts",
        "add_account": "Add an account",
        "disabled": "disabled",
        "active": "active",
        "disable": "Disable",
        "enable": "Enable",
        "set_role": "Set role",
        "set_password": "Set password",
        "done": "Done.",
        "manage_accounts": "Manage accounts",
    },
    "ru": {
        "sign_in_title": "Вход в trainops",
        "username": "Имя пользователя",
        "password": "Пароль",
        "sign_in": "Войти",
        "failed": "Неверное имя пользователя или пароль.",
        "too_many": "Слишком много неудачных попыток. Повторите через {minutes} мин.",
        "ended": "Сеанс завершён. Войдите снова.",
        "signed_out": "Вы вышли из всех сервисов.",
        "bad_form": "Форма устарела. Попробуйте ещё раз.",
        "language": "Язык",
        "account_title": "Ваша учётная запись",
        "signed_in_as": "Вы вошли как",
        "role": "Роль",
        "region": "Регион",
        "sign_out": "Выйти везде",
        "change_password": "Сменить пароль",
        "current_password": "Текущий пароль",
        "new_password": "Новый пароль (не короче 12 символов)",
        "save": "Сохранить",
        "password_changed": "Пароль изменён.",
        "tokens": "Личные API-токены",
        "token_name": "Название токена",
        "token_days": "Срок действия (дней, не больше 365)",
        "create_token": "Создать токен",
        "token_once": "Скопируйте токен сейчас: он показывается только один раз.",
        "revoke": "Отозвать",
        "revoked": "отозван",
        "expires": "истекает",
        "no_tokens": "Токенов пока нет.",
        "accounts_title": "Учётные записи",
        "add_account": "Добавить учётную запись",
        "disabled": "отключена",
        "active": "активна",
        "disable": "Отключить",
        "enable": "Включить",
        "set_role": "Назначить роль",
        "set_password": "Задать пароль",
        "done": "Готово.",
        "manage_accounts": "Управление учётными записями",
    },
    "kk": {
        "sign_in_title": "trainops жүйесіне кіру",
        "username": "Пайдаланушы аты",
        "password": "Құпиясөз",
        "sign_in": "Кіру",
        "failed": "Пайдаланушы аты немесе құпиясөз қате.",
        "too_many": "Сәтсіз әрекеттер тым көп. {minutes} минуттан кейін қайталаңыз.",
        "ended": "Сеанс аяқталды. Қайта кіріңіз.",
        "signed_out": "Сіз барлық қызметтерден шықтыңыз.",
        "bad_form": "Форманың мерзімі өтті. Қайталап көріңіз.",
        "language": "Тіл",
        "account_title": "Сіздің тіркелгіңіз",
        "signed_in_as": "Сіз кірдіңіз:",
        "role": "Рөл",
        "region": "Өңір",
        "sign_out": "Барлық жерден шығу",
        "change_password": "Құпиясөзді өзгерту",
        "current_password": "Қазіргі құпиясөз",
        "new_password": "Жаңа құпиясөз (кемінде 12 таңба)",
        "save": "Сақтау",
        "password_changed": "Құпиясөз өзгертілді.",
        "tokens": "Жеке API токендері",
        "token_name": "Токен атауы",
        "token_days": "Жарамдылық мерзімі (күн, 365-тен аспайды)",
        "create_token": "Токен жасау",
        "token_once": "Токенді қазір көшіріп алыңыз: ол тек бір рет көрсетіледі.",
        "revoke": "Кері қайтару",
        "revoked": "кері қайтарылды",
        "expires": "мерзімі бітеді",
        "no_tokens": "Әзірге токен жоқ.",
        "accounts_title": "Тіркелгілер",
        "add_account": "Тіркелгі қосу",
        "disabled": "өшірілген",
        "active": "белсенді",
        "disable": "Өшіру",
        "enable": "Қосу",
        "set_role": "Рөл тағайындау",
        "set_password": "Құпиясөз орнату",
        "done": "Дайын.",
        "manage_accounts": "Тіркелгілерді басқару",
    },
}


def normalise(value: str | None) -> Language | None:
    code = (value or "").strip().lower()[:8].split("-")[0]
    code = {"kz": "kk", "kaz": "kk", "rus": "ru", "eng": "en"}.get(code, code)
    return next((lang for lang in LANGUAGES if lang == code), None)


def from_accept_language(header: str) -> Language | None:
    """The first of the browser's languages (by q) that we have."""
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
        lang = normalise(tag)
        if lang is not None and negative_q < 0:
            return lang
    return None


def choose(requested: str | None, cookie: str | None, accept_language: str) -> Language:
    return (
        normalise(requested)
        or normalise(cookie)
        or from_accept_language(accept_language)
        or DEFAULT
    )
