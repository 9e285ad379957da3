"""Every word of the registration console's pages, in Kazakh, Russian and English."""

from __future__ import annotations

from typing import Final

from trainops_shared.events.vocabulary import Language

TEXTS: Final[dict[Language, dict[str, str]]] = {
    "kk": {
        "home_title": "Тіркеу: сессиялар",
        "upcoming": "Алдағы сессиялар",
        "past": "Өткен сессиялар",
        "none": "Сессиялар жоқ.",
        "training": "Тренинг",
        "cities": "Қалалар",
        "starts": "Басталуы (жергілікті уақыт)",
        "capacity": "Орын саны",
        "seats_left": "Бос орын",
        "waiting": "Күту тізімі",
        "status": "Күйі",
        "region": "Өңір",
        "all_regions": "Барлық өңірлер",
        "show": "Көрсету",
        "not_registrar": "Бұл бет тек үйлестірушілер мен әкімшілерге арналған.",
    },
    "ru": {
        "home_title": "Регистрация: сессии",
        "upcoming": "Предстоящие сессии",
        "past": "Прошедшие сессии",
        "none": "Сессий нет.",
        "training": "Тренинг",
        "cities": "Города",
        "starts": "Начало (местное время)",
        "capacity": "Мест",
        "seats_left": "Свободно",
        "waiting": "Лист ожидания",
        "status": "Статус",
        "region": "Регион",
        "all_regions": "Все регионы",
        "show": "Показать",
        "not_registrar": "Эта страница только для координаторов и администраторов.",
    },
    "en": {
        "home_title": "Registration: sessions",
        "upcoming": "Upcoming sessions",
        "past": "Past sessions",
        "none": "No sessions.",
        "training": "Training",
        "cities": "Cities",
        "starts": "Starts (local time)",
        "capacity": "Capacity",
        "seats_left": "Seats left",
        "waiting": "Waiting list",
        "status": "Status",
        "region": "Region",
        "all_regions": "All regions",
        "show": "Show",
        "not_registrar": "This page is for coordinators and admins only.",
    },
}
