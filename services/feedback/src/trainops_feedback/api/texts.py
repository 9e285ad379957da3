"""Every participant-facing text of the survey pages, in Kazakh, Russian and English.

Texts live in one table per language (not scattered through the templates) so a native speaker
can review a language in one place, and a test can check that every language has every key.
Which language a page is in is a rule of the domain (:mod:`trainops_feedback.domain.language`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec

from trainops_feedback.domain.language import Language, resolve_language

LANGUAGE_NAMES: Final[Mapping[Language, str]] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
"""Each language named in itself, as the language switcher shows it."""


class PageTexts(msgspec.Struct, frozen=True, kw_only=True):
    """All texts of the feedback pages in one language."""

    page_title: str
    intro: str
    date_label: str
    language_label: str
    required_note: str
    optional_marker: str
    items: Mapping[str, str]
    scale: tuple[str, str, str, str, str]
    comment_label: str
    comment_hint: str
    submit: str
    error_summary: str
    errors: Mapping[str, str]
    thanks_title: str
    thanks_body: str
    already_title: str
    already_body: str
    not_found_title: str
    not_found_body: str

    def item(self, key: str) -> str:
        """Question text of ``key``; the key itself if untranslated (a new item never breaks
        the page, it just shows its key until the texts catch up)."""
        return self.items.get(key, key)

    def error(self, code: str) -> str:
        """Error text for a :class:`~trainops_feedback.domain.errors.FieldError` code."""
        return self.errors.get(code, self.errors["invalid"])


KK: Final = PageTexts(
    page_title="Тренинг туралы пікір",
    intro=(
        "Тренингке қатысқаныңыз үшін рахмет! Сіздің жауаптарыңыз келесі тренингтерді "
        "жақсартуға көмектеседі. Сауалнама шамамен екі минут алады."
    ),
    date_label="Күні",
    language_label="Тіл",
    required_note="* белгісі бар сұрақтарға жауап беру міндетті.",
    optional_marker="(міндетті емес)",
    items={
        "overall": "Жалпы алғанда тренингке қаншалықты көңіліңіз толды?",
        "relevance": "Тренингтің жұмысыңыз үшін өзектілігіне қаншалықты көңіліңіз толды?",
        "trainer": "Тренердің жұмысына қаншалықты көңіліңіз толды?",
        "knowledge_gain": "Алған жаңа білім мен дағдыларыңызға қаншалықты көңіліңіз толды?",
        "materials": "Оқу материалдарына қаншалықты көңіліңіз толды?",
    },
    scale=(
        "Мүлдем көңілім толмады",
        "Онша көңілім толмады",
        "Бейтарап",
        "Көңілім толды",
        "Толығымен көңілім толды",
    ),
    comment_label="Бізге тағы не айтқыңыз келеді? Ұсыныстарыңыз бен ескертпелеріңіз",
    comment_hint="2000 таңбаға дейін.",
    submit="Пікірді жіберу",
    error_summary="Белгіленген жауаптарды тексеріп, қайта жіберіңіз.",
    errors={
        "required": "Жауаптардың бірін таңдаңыз.",
        "not_integer": "1-ден 5-ке дейінгі санды таңдаңыз.",
        "out_of_range": "Тек 1-ден 5-ке дейінгі мәндерді таңдауға болады.",
        "unknown_item": "Сауалнамада мұндай сұрақ жоқ.",
        "too_long": "Пікір тым ұзын: 2000 таңбадан аспауы керек.",
        "invalid": "Бұл жауап жарамсыз.",
    },
    thanks_title="Рахмет!",
    thanks_body="Пікіріңіз қабылданды. Ол келесі тренингтерді жақсартуға көмектеседі.",
    already_title="Пікір бұрын жіберілген",
    already_body="Осы сілтеме арқылы тренинг туралы пікір бұрын жіберілген. Рахмет!",
    not_found_title="Сілтеме табылмады немесе мерзімі өтіп кеткен",
    not_found_body=(
        "Бұл сілтеме жарамсыз немесе оның қолданылу мерзімі аяқталған. Қате деп ойласаңыз, "
        "тренинг ұйымдастырушыларына хабарласыңыз."
    ),
)

RU: Final = PageTexts(
    page_title="Отзыв о тренинге",
    intro=(
        "Спасибо за участие в тренинге! Ваши ответы помогут нам сделать следующие тренинги "
        "лучше. Анкета займёт около двух минут."
    ),
    date_label="Дата",
    language_label="Язык",
    required_note="Вопросы, отмеченные *, обязательны.",
    optional_marker="(необязательно)",
    items={
        "overall": "Насколько вы в целом удовлетворены тренингом?",
        "relevance": "Насколько вы удовлетворены актуальностью тренинга для вашей работы?",
        "trainer": "Насколько вы удовлетворены работой тренера?",
        "knowledge_gain": "Насколько вы удовлетворены полученными знаниями и навыками?",
        "materials": "Насколько вы удовлетворены учебными материалами?",
    },
    scale=(
        "Совсем не удовлетворён(а)",
        "Скорее не удовлетворён(а)",
        "Нейтрально",
        "Скорее удовлетворён(а)",
        "Полностью удовлетворён(а)",
    ),
    comment_label="Что ещё вы хотели бы нам сказать? Пожелания и замечания",
    comment_hint="До 2000 символов.",
    submit="Отправить отзыв",
    error_summary="Пожалуйста, проверьте отмеченные ответы и отправьте ещё раз.",
    errors={
        "required": "Пожалуйста, выберите один из ответов.",
        "not_integer": "Выберите число от 1 до 5.",
        "out_of_range": "Допустимы только значения от 1 до 5.",
        "unknown_item": "В анкете нет такого вопроса.",
        "too_long": "Комментарий слишком длинный: не более 2000 символов.",
        "invalid": "Этот ответ недопустим.",
    },
    thanks_title="Спасибо!",
    thanks_body="Ваш отзыв получен. Он поможет нам сделать следующие тренинги лучше.",
    already_title="Отзыв уже отправлен",
    already_body="По этой ссылке отзыв о тренинге уже был отправлен. Спасибо!",
    not_found_title="Ссылка не найдена или срок её действия истёк",
    not_found_body=(
        "Эта ссылка недействительна или срок её действия истёк. Если вы считаете, что это "
        "ошибка, свяжитесь с организаторами тренинга."
    ),
)

EN: Final = PageTexts(
    page_title="Training feedback",
    intro=(
        "Thank you for taking part in the training! Your answers will help us make future "
        "trainings better. The survey takes about two minutes."
    ),
    date_label="Date",
    language_label="Language",
    required_note="Questions marked * are required.",
    optional_marker="(optional)",
    items={
        "overall": "Overall, how satisfied are you with the training?",
        "relevance": "How satisfied are you with how relevant the training was to your work?",
        "trainer": "How satisfied are you with the trainer?",
        "knowledge_gain": "How satisfied are you with the knowledge and skills you gained?",
        "materials": "How satisfied are you with the training materials?",
    },
    scale=(
        "Very dissatisfied",
        "Dissatisfied",
        "Neither satisfied nor dissatisfied",
        "Satisfied",
        "Very satisfied",
    ),
    comment_label="Is there anything else you would like to tell us? Suggestions and remarks",
    comment_hint="Up to 2000 characters.",
    submit="Send feedback",
    error_summary="Please check the highlighted answers and send again.",
    errors={
        "required": "Please choose one of the answers.",
        "not_integer": "Please choose a number from 1 to 5.",
        "out_of_range": "Only values from 1 to 5 are allowed.",
        "unknown_item": "This question is not part of the survey.",
        "too_long": "The comment is too long: at most 2000 characters.",
        "invalid": "This answer is not valid.",
    },
    thanks_title="Thank you!",
    thanks_body="Your feedback has been received. It will help us make future trainings better.",
    already_title="Feedback already submitted",
    already_body="Feedback on this training has already been sent with this link. Thank you!",
    not_found_title="Link not found or expired",
    not_found_body=(
        "This link is not valid or has expired. If you think this is a mistake, please "
        "contact the training organisers."
    ),
)

TEXTS: Final[Mapping[Language, PageTexts]] = {"kk": KK, "ru": RU, "en": EN}


def texts_for(language: str | None) -> PageTexts:
    """The text table of ``language`` (unsupported or missing → Russian)."""
    return TEXTS[resolve_language(language)]


TRANSPORT_ERRORS: Final[Mapping[Language, Mapping[int, tuple[str, str]]]] = {
    "kk": {
        400: ("Форманы оқу мүмкін болмады", "Бетті жаңартып, жауаптарыңызды қайта жіберіңіз."),
        413: ("Жауап тым үлкен", "Пікіріңізді қысқартып, қайта жіберіңіз."),
        415: ("Форманы оқу мүмкін болмады", "Бетті жаңартып, жауаптарыңызды қайта жіберіңіз."),
    },
    "ru": {
        400: ("Не удалось прочитать форму", "Обновите страницу и отправьте ответы ещё раз."),
        413: ("Слишком длинный ответ", "Сократите комментарий и отправьте ещё раз."),
        415: ("Не удалось прочитать форму", "Обновите страницу и отправьте ответы ещё раз."),
    },
    "en": {
        400: ("The form could not be read", "Reload the page and send your answers again."),
        413: ("The answer is too long", "Shorten your comment and send it again."),
        415: ("The form could not be read", "Reload the page and send your answers again."),
    },
}
"""(title, body) of the pages for bodies the form itself never sends (oversized, non-UTF-8,
not a form), so a participant still gets a page in their language rather than JSON."""
