"""The words of the participant's consent page (kk/ru/en); the purposes' own descriptions
are :data:`~trainops_registration.domain.consent.PURPOSE_TEXTS`."""

from __future__ import annotations

from typing import Final

from trainops_shared.events.vocabulary import Language

CONSENT_PAGE_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "kk": {
        "title": "Сіздің келісімдеріңіз",
        "lead": "Деректеріңізді не үшін пайдалануға келістіңіз. Кез келгенін осында қайтарып "
        "ала аласыз.",
        "agreed": "Келісім берілді",
        "not_agreed": "Келісім жоқ",
        "since": "күні",
        "do.withdraw": "Келісімді қайтарып алу",
        "do.give": "Келісім беру",
        "taking_part.warning": "Қатысуға келісімді қайтарып алсаңыз, атыңыз бен байланыс "
        "деректеріңіз біржола өшіріледі. Бұдан кейін сізге ешқандай хат келмейді және "
        "тіркелуіңізді осы сілтеме арқылы өзгерте алмайсыз. Бұл әрекетті болдырмау мүмкін емес.",
        "taking_part.confirm": "Түсіндім: деректерімді өшіріңіз",
        "done.withdraw": "Келісім қайтарылды. Бұл мақсатта сізге енді хат жіберілмейді.",
        "done.give": "Рахмет, келісіміңіз жазылды.",
        "done.erased": "Келісім қайтарылды. Жеке деректеріңіз өшірілді.",
        "erased": "Бұл адамның жеке деректері өшірілген: келісім сұралмайды.",
        "not_found": "Сілтеме табылмады.",
        "forbidden": "Бетті қайта ашып, әрекетті қайталаңыз.",
        "confirm_needed": "Өшіруді растау үшін белгіні қойыңыз.",
        "invalid": "Мұндай келісім жоқ.",
        "conflict": "Бұл келісім бұрын өзгертілген.",
    },
    "ru": {
        "title": "Ваши согласия",
        "lead": "Для чего вы разрешили использовать ваши данные. Любое согласие можно "
        "отозвать здесь.",
        "agreed": "Согласие дано",
        "not_agreed": "Согласия нет",
        "since": "с",
        "do.withdraw": "Отозвать согласие",
        "do.give": "Дать согласие",
        "taking_part.warning": "Если вы отзовёте согласие на участие, ваше имя и контакты "
        "будут безвозвратно удалены. После этого мы не сможем написать вам, а изменить "
        "регистрацию по этой ссылке будет нельзя. Отменить это действие невозможно.",
        "taking_part.confirm": "Я понимаю: удалите мои данные",
        "done.withdraw": "Согласие отозвано. Писем с этой целью вы больше не получите.",
        "done.give": "Спасибо, ваше согласие записано.",
        "done.erased": "Согласие отозвано. Ваши персональные данные удалены.",
        "erased": "Персональные данные этого человека удалены: согласия больше не нужны.",
        "not_found": "Ссылка не найдена.",
        "forbidden": "Откройте страницу заново и повторите действие.",
        "confirm_needed": "Чтобы подтвердить удаление, отметьте флажок.",
        "invalid": "Такого согласия нет.",
        "conflict": "Это согласие уже было изменено.",
    },
    "en": {
        "title": "Your consents",
        "lead": "What you agreed your details may be used for. You can withdraw any of them here.",
        "agreed": "Agreed",
        "not_agreed": "Not agreed",
        "since": "since",
        "do.withdraw": "Withdraw consent",
        "do.give": "Give consent",
        "taking_part.warning": "If you withdraw your consent to taking part, your name and "
        "contact details are erased for good. We can then no longer write to you, and your "
        "registration can no longer be changed through this link. This cannot be undone.",
        "taking_part.confirm": "I understand: erase my details",
        "done.withdraw": "The consent was withdrawn. You will get no more mail for it.",
        "done.give": "Thank you, your consent was recorded.",
        "done.erased": "The consent was withdrawn. Your personal details were erased.",
        "erased": "This person's personal details were erased: no consent is asked any more.",
        "not_found": "Link not found.",
        "forbidden": "Please open the page again and repeat what you did.",
        "confirm_needed": "Tick the box to confirm the erasure.",
        "invalid": "There is no such consent.",
        "conflict": "This consent was changed already.",
    },
}
