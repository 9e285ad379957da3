"""The words of the messages about a changed session and of the participant's own link.

Kept apart from the confirmation texts so each kind of message is one block per language;
:mod:`.messages` merges them into its table.
"""

from __future__ import annotations

from typing import Final

from trainops_shared.events.vocabulary import Language

CHANGE_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "rescheduled.subject": "New time for your training: {day}",
        "rescheduled.lead": (
            "The training session you are registered for has moved to a new time. Please "
            "confirm that you will come, or decline so that your seat goes to the next person "
            "on the waiting list."
        ),
        "cancellation.subject": "Training session cancelled: {day}",
        "cancellation.lead": (
            "The training session you were registered for has been cancelled, and your "
            "registration with it. We are sorry."
        ),
        "alternative": (
            "Instead, the coordinator suggests this session: {span} ({local}), {place}. "
            "Tell your coordinator if you would like a place there."
        ),
        "cancelled_calendar": "The attached calendar update removes the entry.",
        "link.cancel": "To cancel your registration yourself, open: {link}",
        "link.rescheduled": "Confirm or decline the new time here: {link}",
        "previous": "Previously",
    },
    "ru": {
        "rescheduled.subject": "Новое время вашего тренинга: {day}",
        "rescheduled.lead": (
            "Тренинг, на который вы зарегистрированы, перенесён на новое время. Пожалуйста, "
            "подтвердите, что придёте, или откажитесь, чтобы ваше место получил следующий "
            "человек из листа ожидания."
        ),
        "cancellation.subject": "Тренинг отменён: {day}",
        "cancellation.lead": (
            "Тренинг, на который вы были зарегистрированы, отменён, а вместе с ним и ваша "
            "регистрация. Приносим извинения."
        ),
        "alternative": (
            "Вместо него координатор предлагает этот тренинг: {span} ({local}), {place}. "
            "Сообщите координатору, если хотите получить там место."
        ),
        "cancelled_calendar": "Вложенное обновление календаря удалит запись.",
        "link.cancel": "Чтобы самостоятельно отменить регистрацию, откройте: {link}",
        "link.rescheduled": "Подтвердите новое время или откажитесь здесь: {link}",
        "previous": "Раньше",
    },
    "kk": {
        "rescheduled.subject": "Тренингіңіздің жаңа уақыты: {day}",
        "rescheduled.lead": (
            "Сіз тіркелген тренинг жаңа уақытқа ауыстырылды. Келетініңізді растаңыз немесе "
            "орныңыз күту тізіміндегі келесі адамға берілуі үшін бас тартыңыз."
        ),
        "cancellation.subject": "Тренинг тоқтатылды: {day}",
        "cancellation.lead": (
            "Сіз тіркелген тренинг тоқтатылды, онымен бірге тіркелуіңіз де тоқтатылды. "
            "Кешірім сұраймыз."
        ),
        "alternative": (
            "Оның орнына үйлестіруші мына тренингті ұсынады: {span} ({local}), {place}. "
            "Онда орын алғыңыз келсе, үйлестірушіге хабарлаңыз."
        ),
        "cancelled_calendar": "Тіркелген күнтізбе жаңартуы жазбаны өшіреді.",
        "link.cancel": "Тіркелуіңізді өзіңіз тоқтату үшін ашыңыз: {link}",
        "link.rescheduled": "Жаңа уақытты растаңыз немесе бас тартыңыз: {link}",
        "previous": "Бұрын",
    },
}
