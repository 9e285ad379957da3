"""Words of the reporting console's evidence page, in Kazakh, Russian and English.

``{k}`` stands for the minimum published count.
"""

from __future__ import annotations

from typing import Final

from trainops_shared.events.vocabulary import Language

EVIDENCE_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "kk": {
        "title": "Есептер: білім, сауалнама сұрақтары, пікірлер",
        "show": "Көрсету",
        "period": "Кезең",
        "training": "Тренинг",
        "all_trainings": "Барлық тренингтер",
        "gain": "Білімнің өсуі (тренингке дейінгі және кейінгі тест)",
        "pairs": "Екі тестті де тапсырғандар",
        "mean_pre": "Тренингке дейін, орташа (% ең жоғары баллдан)",
        "mean_post": "Тренингтен кейін, орташа (%)",
        "mean_gain": "Орташа өсу (пайыздық тармақ)",
        "share_improved": "Нәтижесі жақсарғандар үлесі",
        "items": "Сауалнаманың әр сұрағы",
        "item": "Сұрақ",
        "respondents": "Жауап бергендер",
        "mean": "Орташа (1–5)",
        "distribution": "Жауаптар бөлінісі",
        "comments": "Пікірлер",
        "comments_note": "Пікірлер авторы көрсетілмей, мәтін бойынша ретпен беріледі, тек "
        "кемінде {k} жауап беруші мен {k} пікір болған топ үшін.",
        "comments_hidden": "Бұл топта пікірлер көрсету үшін тым аз.",
        "none": "Әзірге деректер жоқ.",
        "hidden_note": "Құпиялылық үшін {k}-ден аз сандар көрсетілмейді (<{k}).",
        "hidden": "жасырын",
        "err_period": "Бұл кезеңді таңдау мүмкін емес.",
        "err_training_id": "Мұндай тренинг жоқ.",
        "err_other": "Сұрауды орындау мүмкін болмады.",
    },
    "ru": {
        "title": "Отчёты: знания, вопросы анкеты, комментарии",
        "show": "Показать",
        "period": "Период",
        "training": "Тренинг",
        "all_trainings": "Все тренинги",
        "gain": "Прирост знаний (тест до и после тренинга)",
        "pairs": "Прошли оба теста",
        "mean_pre": "До тренинга, в среднем (% от максимума)",
        "mean_post": "После тренинга, в среднем (%)",
        "mean_gain": "Средний прирост (процентные пункты)",
        "share_improved": "Доля улучшивших результат",
        "items": "Каждый вопрос анкеты",
        "item": "Вопрос",
        "respondents": "Ответили",
        "mean": "Среднее (1–5)",
        "distribution": "Распределение ответов",
        "comments": "Комментарии",
        "comments_note": "Комментарии показаны без авторов, по алфавиту, и только для группы "
        "не меньше чем из {k} ответивших и {k} комментариев.",
        "comments_hidden": "В этой группе слишком мало комментариев, чтобы их показать.",
        "none": "Данных пока нет.",
        "hidden_note": "Ради конфиденциальности числа меньше {k} не показываются (<{k}).",
        "hidden": "скрыто",
        "err_period": "Этот период выбрать нельзя.",
        "err_training_id": "Такого тренинга нет.",
        "err_other": "Запрос не удалось выполнить.",
    },
    "en": {
        "title": "Reports: knowledge, survey items, comments",
        "show": "Show",
        "period": "Period",
        "training": "Training",
        "all_trainings": "All trainings",
        "gain": "Knowledge gain (tests before and after the training)",
        "pairs": "Took both tests",
        "mean_pre": "Before, mean (% of the maximum)",
        "mean_post": "After, mean (%)",
        "mean_gain": "Mean gain (percentage points)",
        "share_improved": "Share who improved",
        "items": "Every survey item",
        "item": "Item",
        "respondents": "Respondents",
        "mean": "Mean (1–5)",
        "distribution": "Distribution of answers",
        "comments": "Comments",
        "comments_note": "Comments are shown without their authors, in text order, and only "
        "for a group of at least {k} respondents and {k} comments.",
        "comments_hidden": "Too few comments in this group to show them.",
        "none": "No data yet.",
        "hidden_note": "For confidentiality, counts below {k} are not shown (<{k}).",
        "hidden": "hidden",
        "err_period": "This period cannot be chosen.",
        "err_training_id": "There is no such training.",
        "err_other": "The request could not be run.",
    },
}
