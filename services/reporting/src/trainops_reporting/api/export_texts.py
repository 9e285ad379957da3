"""The words of the report downloads (CSV headings aside) in kk/ru/en: titles, parameter names,
column headings and the disclosure note. Category values take their words from the shared
labels (:mod:`trainops_shared.console.labels`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from trainops_shared.events.vocabulary import Language

EXPORT_TEXTS: Final[Mapping[Language, Mapping[str, str]]] = {
    "kk": {
        "donor_title": "Донорлық есеп",
        "summary_title": "Бағдарлама қорытындысы",
        "evidence_title": "Оқу нәтижелері",
        "period": "Кезең",
        "all_periods": "Барлық кезеңдер",
        "training": "Тренинг",
        "all_trainings": "Барлық тренингтер",
        "by": "Топтау",
        "no_by": "Жоқ (тек жиынтық)",
        "k": "Ұяшықтың ең аз мөлшері (k)",
        "generated": "Жасалған уақыты",
        "unit": "Есеп бірлігі",
        "unit_value": "тіркелулер (бір сессиядағы бір адам)",
        "total": "Барлығы",
        "figure": "Көрсеткіш",
        "value": "Мәні",
        "page": "Бет",
        "city": "Қала",
        "sector": "Сала",
        "sex": "Жынысы",
        "age_band": "Жас тобы",
        "language": "Тілі",
        "mode": "Формат",
        "registered": "Тіркелген",
        "attended": "Қатысқан",
        "feedback_responses": "Пікірлер",
        "satisfaction_mean": "Орташа қанағаттану (1–5)",
        "attendance_rate": "Қатысу үлесі",
        "feedback_completion": "Пікір толтыру үлесі",
        "share_of_women": "Әйелдер үлесі",
        "sessions_scheduled": "Жоспарланған сессиялар",
        "sessions_delivered": "Өткізілген сессиялар",
        "cities_reached": "Қамтылған қалалар",
        "note": (
            "Шағын ұяшықтарды жасыру (k = {k}): 1 мен {k1} аралығындағы сан жасырылып, "
            "«<{k}» деп белгіленеді; «x» — жарияланған сандардан ешбір шағын санды есептеп "
            "шығаруға болмауы үшін жасырылған, {k} немесе одан көп сан. Орташа қанағаттану "
            "пікірлер санымен бірге жасырылады. Барлық сандар — тіркелулер (бір сессиядағы "
            "бір адам)."
        ),
    },
    "ru": {
        "donor_title": "Отчёт для донора",
        "summary_title": "Сводка программы",
        "evidence_title": "Результаты обучения",
        "period": "Период",
        "all_periods": "Все периоды",
        "training": "Тренинг",
        "all_trainings": "Все тренинги",
        "by": "Разбивка",
        "no_by": "Нет (только итоги)",
        "k": "Минимальный размер ячейки (k)",
        "generated": "Сформирован",
        "unit": "Единица счёта",
        "unit_value": "регистрации (один человек на одной сессии)",
        "total": "Итого",
        "figure": "Показатель",
        "value": "Значение",
        "page": "Стр.",
        "city": "Город",
        "sector": "Сектор",
        "sex": "Пол",
        "age_band": "Возрастная группа",
        "language": "Язык",
        "mode": "Формат",
        "registered": "Зарегистрировано",
        "attended": "Присутствовали",
        "feedback_responses": "Отзывы",
        "satisfaction_mean": "Средняя удовлетворённость (1–5)",
        "attendance_rate": "Явка",
        "feedback_completion": "Доля отзывов",
        "share_of_women": "Доля женщин",
        "sessions_scheduled": "Запланировано сессий",
        "sessions_delivered": "Проведено сессий",
        "cities_reached": "Охвачено городов",
        "note": (
            "Подавление малых ячеек (k = {k}): число от 1 до {k1} скрыто и обозначено «<{k}»; "
            "«x» — число {k} или больше, скрытое, чтобы ни одно малое число нельзя было "
            "вычислить по опубликованным. Средняя удовлетворённость скрыта вместе с числом "
            "отзывов. Все числа — регистрации (один человек на одной сессии)."
        ),
    },
    "en": {
        "donor_title": "Donor report",
        "summary_title": "Programme summary",
        "evidence_title": "Learning evidence",
        "period": "Period",
        "all_periods": "All periods",
        "training": "Training",
        "all_trainings": "All trainings",
        "by": "Breakdown",
        "no_by": "None (totals only)",
        "k": "Minimum cell size (k)",
        "generated": "Generated",
        "unit": "Unit",
        "unit_value": "registrations (one person in one session)",
        "total": "Total",
        "figure": "Figure",
        "value": "Value",
        "page": "Page",
        "city": "City",
        "sector": "Sector",
        "sex": "Sex",
        "age_band": "Age band",
        "language": "Language",
        "mode": "Mode",
        "registered": "Registered",
        "attended": "Attended",
        "feedback_responses": "Feedback responses",
        "satisfaction_mean": "Mean satisfaction (1–5)",
        "attendance_rate": "Attendance rate",
        "feedback_completion": "Feedback completion",
        "share_of_women": "Share of women",
        "sessions_scheduled": "Sessions scheduled",
        "sessions_delivered": "Sessions delivered",
        "cities_reached": "Cities reached",
        "note": (
            "Small-cell suppression (k = {k}): a count from 1 to {k1} is hidden and marked "
            "<{k}; x marks a count of {k} or more, hidden so that no small count can be "
            "derived from the published ones. A mean satisfaction is hidden with its "
            "responses. Every count is of registrations (one person in one session)."
        ),
    },
}
"""Headings per language; the category values' words come from the shared labels."""
