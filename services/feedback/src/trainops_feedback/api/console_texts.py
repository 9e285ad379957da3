"""Every word of the feedback staff pages, in Kazakh, Russian and English."""

from __future__ import annotations

from typing import Final

from trainops_shared.events.vocabulary import Language

TEXTS: Final[dict[Language, dict[str, str]]] = {
    "kk": {
        "home_title": "Кері байланыс: аяқталған сессиялар",
        "intro": (
            "Аяқталған сессиялар: сессияға қатысқан қанша адам пікір қалдыруға шақырылды "
            "және қаншасы жауап берді."
        ),
        "region_note": "Тек сіздің өңіріңіздің қатысушылары саналады:",
        "date": "Күні (жергілікті уақыт)",
        "day": "Күні",
        "training": "Тренинг",
        "invited": "Шақырылды",
        "answered": "Жауап берді",
        "rate": "Жауап беру үлесі",
        "no_rate": "шақыру жоқ",
        "open": "Шақыруларды ашу",
        "none": "Аяқталған сессиялар әзірге жоқ.",
        "surveys_link": "Сауалнамалар мен білім тесттері: жасау, өңдеу, жариялау",
        "not_inviter": (
            "Бұл бет үйлестірушілерге, бағдарлама қызметкерлеріне және әкімшілерге арналған."
        ),
        "session_title": "Кері байланыс: сессия шақырулары",
        "back": "Барлық аяқталған сессиялар",
        "status": "Күйі",
        "summary": "Жалпы",
        "participant": "Қатысушы (коды)",
        "pseudonyms": (
            "Қатысушылар қысқа бүркеншік кодпен көрсетіледі: кері байланыс қызметінде "
            "аты-жөн сақталмайды."
        ),
        "language": "Тіл",
        "answered_col": "Жауап берді ме",
        "yes": "Иә",
        "no": "Жоқ",
        "valid_until": "Сілтеме жарамды",
        "expired": "Мерзімі өтті",
        "link": "Жіберуге арналған сілтеме",
        "link_for": "Қатысушыға арналған сілтеме",
        "no_link": "Қажет емес",
        "link_warning": (
            "Әр сілтеме бір адамның сауалнамасын ашады: оны тек сол қатысушыға жіберіңіз, "
            "басқаларға бермеңіз және жарияламаңыз."
        ),
        "no_links": (
            "Бұл сессиядан әзірге ешкім шақырылмады (қатысу әлі белгіленбеген болуы мүмкін)."
        ),
        "not_found_title": "Сессия табылмады",
        "not_found": "Мұндай сессия жоқ немесе онда сіздің өңіріңіздің қатысушылары жоқ.",
    },
    "ru": {
        "home_title": "Обратная связь: завершённые сессии",
        "intro": (
            "Завершённые сессии: сколько посетивших их участников приглашены оставить отзыв "
            "и сколько из них ответили."
        ),
        "region_note": "Учитываются только участники вашего региона:",
        "date": "Дата (местное время)",
        "day": "Дата",
        "training": "Тренинг",
        "invited": "Приглашено",
        "answered": "Ответили",
        "rate": "Доля ответов",
        "no_rate": "нет приглашений",
        "open": "Открыть приглашения",
        "none": "Завершённых сессий пока нет.",
        "surveys_link": "Анкеты и тесты знаний: создать, править, опубликовать",
        "not_inviter": ("Эта страница для координаторов, сотрудников программы и администраторов."),
        "session_title": "Обратная связь: приглашения сессии",
        "back": "Все завершённые сессии",
        "status": "Статус",
        "summary": "Итого",
        "participant": "Участник (код)",
        "pseudonyms": (
            "Участники показаны коротким псевдонимным кодом: в сервисе обратной связи нет имён."
        ),
        "language": "Язык",
        "answered_col": "Ответил(а)",
        "yes": "Да",
        "no": "Нет",
        "valid_until": "Ссылка действует до",
        "expired": "Срок истёк",
        "link": "Ссылка для отправки",
        "link_for": "Ссылка для участника",
        "no_link": "Не нужна",
        "link_warning": (
            "Каждая ссылка открывает анкету одного человека: отправляйте её только этому "
            "участнику, не пересылайте и не публикуйте."
        ),
        "no_links": (
            "Из этой сессии пока никто не приглашён (возможно, посещаемость ещё не отмечена)."
        ),
        "not_found_title": "Сессия не найдена",
        "not_found": "Такой сессии нет, или в ней нет участников вашего региона.",
    },
    "en": {
        "home_title": "Feedback: completed sessions",
        "intro": (
            "Sessions that have ended: how many of the participants who attended were invited "
            "to give feedback, and how many of them answered."
        ),
        "region_note": "Only participants of your region are counted:",
        "date": "Date (local time)",
        "day": "Date",
        "training": "Training",
        "invited": "Invited",
        "answered": "Answered",
        "rate": "Response rate",
        "no_rate": "no invitations",
        "open": "Open the invitations",
        "none": "No completed sessions yet.",
        "surveys_link": "Surveys and knowledge tests: create, edit, publish",
        "not_inviter": "This page is for coordinators, programme staff and admins.",
        "session_title": "Feedback: session invitations",
        "back": "All completed sessions",
        "status": "Status",
        "summary": "In total",
        "participant": "Participant (code)",
        "pseudonyms": (
            "Participants are shown by a short pseudonymous code: the feedback service holds "
            "no names."
        ),
        "language": "Language",
        "answered_col": "Answered",
        "yes": "Yes",
        "no": "No",
        "valid_until": "Link valid until",
        "expired": "Expired",
        "link": "Link to send",
        "link_for": "Link for participant",
        "no_link": "Not needed",
        "link_warning": (
            "Each link opens one person's form: send it only to that participant; do not "
            "forward or publish it."
        ),
        "no_links": (
            "No one from this session has been invited yet (attendance may not be recorded)."
        ),
        "not_found_title": "Session not found",
        "not_found": "There is no such session, or it has no participants of your region.",
    },
}
