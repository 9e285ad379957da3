"""Texts of the knowledge-test page in Kazakh, Russian and English.

Question and option texts come from the test version itself (staff write them in all three
languages); these are the page's own words around them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec

from trainops_feedback.domain.language import Language


class KnowledgeTexts(msgspec.Struct, frozen=True, kw_only=True):
    pre_title: str
    post_title: str
    intro: str
    required_note: str
    optional_marker: str
    submit: str
    error_summary: str
    errors: Mapping[str, str]
    saved_here: str
    offline: str
    sending: str
    thanks_title: str
    thanks_body: str
    already_title: str
    already_body: str

    def error(self, code: str) -> str:
        return self.errors.get(code, self.errors["invalid"])


KK: Final = KnowledgeTexts(
    pre_title="Тренингке дейінгі білім тесті",
    post_title="Тренингтен кейінгі білім тесті",
    intro=(
        "Бұл тест сіздің емес, тренингтің нәтижесін бағалайды: жауаптарыңыз тек жалпы "
        "қорытындыда ескеріледі. Жауаптарыңыз жазған сайын сақталады."
    ),
    required_note="* белгісі бар сұрақтарға жауап беру міндетті.",
    optional_marker="(міндетті емес)",
    submit="Жауаптарды жіберу",
    error_summary="Белгіленген жауаптарды тексеріп, қайта жіберіңіз.",
    errors={
        "required": "Жауап беріңіз.",
        "not_integer": "1-ден 5-ке дейінгі санды таңдаңыз.",
        "out_of_range": "Тек 1-ден 5-ке дейінгі мәндерді таңдауға болады.",
        "unknown_item": "Тестте мұндай сұрақ жоқ.",
        "unknown_option": "Мұндай жауап нұсқасы жоқ.",
        "too_long": "Жауап тым ұзын.",
        "invalid": "Бұл жауап жарамсыз.",
    },
    saved_here="Жауаптарыңыз осы құрылғыда сақталды.",
    offline=(
        "Байланыс жоқ. Жауаптарыңыз осы құрылғыда сақталды және байланыс қалпына келгенде "
        "автоматты түрде жіберіледі."
    ),
    sending="Жіберілуде…",
    thanks_title="Рахмет!",
    thanks_body="Жауаптарыңыз қабылданды.",
    already_title="Тест бұрын жіберілген",
    already_body="Осы сілтеме арқылы тест бұрын жіберілген. Рахмет!",
)

RU: Final = KnowledgeTexts(
    pre_title="Тест знаний перед тренингом",
    post_title="Тест знаний после тренинга",
    intro=(
        "Этот тест оценивает тренинг, а не вас: ваши ответы учитываются только в общих "
        "итогах. Ответы сохраняются по мере заполнения."
    ),
    required_note="Вопросы, отмеченные *, обязательны.",
    optional_marker="(необязательно)",
    submit="Отправить ответы",
    error_summary="Пожалуйста, проверьте отмеченные ответы и отправьте ещё раз.",
    errors={
        "required": "Пожалуйста, ответьте на вопрос.",
        "not_integer": "Выберите число от 1 до 5.",
        "out_of_range": "Допустимы только значения от 1 до 5.",
        "unknown_item": "В тесте нет такого вопроса.",
        "unknown_option": "Такого варианта ответа нет.",
        "too_long": "Ответ слишком длинный.",
        "invalid": "Этот ответ недопустим.",
    },
    saved_here="Ответы сохранены на этом устройстве.",
    offline=(
        "Нет связи. Ответы сохранены на этом устройстве и будут отправлены автоматически, "
        "когда связь восстановится."
    ),
    sending="Отправка…",
    thanks_title="Спасибо!",
    thanks_body="Ваши ответы получены.",
    already_title="Тест уже отправлен",
    already_body="По этой ссылке тест уже был отправлен. Спасибо!",
)

EN: Final = KnowledgeTexts(
    pre_title="Knowledge test before the training",
    post_title="Knowledge test after the training",
    intro=(
        "This test measures the training, not you: your answers count only in overall "
        "results. Your answers are saved as you go."
    ),
    required_note="Questions marked * are required.",
    optional_marker="(optional)",
    submit="Send answers",
    error_summary="Please check the highlighted answers and send again.",
    errors={
        "required": "Please answer this question.",
        "not_integer": "Please choose a number from 1 to 5.",
        "out_of_range": "Only values from 1 to 5 are allowed.",
        "unknown_item": "This question is not part of the test.",
        "unknown_option": "There is no such option.",
        "too_long": "The answer is too long.",
        "invalid": "This answer is not valid.",
    },
    saved_here="Your answers are saved on this device.",
    offline=(
        "No connection. Your answers are saved on this device and will be sent automatically "
        "when the connection is back."
    ),
    sending="Sending…",
    thanks_title="Thank you!",
    thanks_body="Your answers have been received.",
    already_title="Test already submitted",
    already_body="This test has already been sent with this link. Thank you!",
)

TEST_TEXTS: Final[Mapping[Language, KnowledgeTexts]] = {"kk": KK, "ru": RU, "en": EN}
