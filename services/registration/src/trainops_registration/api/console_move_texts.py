"""The words of the session page's "move people" form (kk/ru/en)."""

from __future__ import annotations

from typing import Final

from trainops_shared.events.vocabulary import Language

MOVE_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "kk": {
        "title": "Адамдарды басқа сессияға ауыстыру",
        "lead": "Белгіленген адамдар таңдалған сессияға тіркеледі; әрқайсысына бір хат барады.",
        "to": "Қай сессияға",
        "move": "Белгіленгендерді ауыстыру",
        "moved": "Ауыстырылды: {count}.",
        "choose": "Кемінде бір адамды және сессияны таңдаңыз.",
        "no_target": "Ауыстыратын басқа алдағы сессия жоқ.",
    },
    "ru": {
        "title": "Перенести людей в другую сессию",
        "lead": "Отмеченные люди будут зарегистрированы на выбранную сессию; каждый получит "
        "одно письмо.",
        "to": "В какую сессию",
        "move": "Перенести отмеченных",
        "moved": "Перенесено: {count}.",
        "choose": "Выберите хотя бы одного человека и сессию.",
        "no_target": "Нет другой предстоящей сессии, куда можно перенести.",
    },
    "en": {
        "title": "Move people to another session",
        "lead": "The ticked people are registered for the chosen session; each gets one message.",
        "to": "To session",
        "move": "Move the ticked people",
        "moved": "Moved: {count}.",
        "choose": "Choose at least one person and a session.",
        "no_target": "There is no other coming session to move them to.",
    },
}
