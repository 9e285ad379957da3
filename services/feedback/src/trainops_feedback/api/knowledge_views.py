"""The knowledge-test page: what each question shows in the page's language.

Question and option texts come from the version answered; a value kept from the draft or the
submitted form is shown checked again, so a reload or a wrong answer loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from trainops_feedback.api.knowledge_texts import TEST_TEXTS
from trainops_feedback.api.texts import TEXTS
from trainops_feedback.api.views import HtmlPage, language_switch
from trainops_feedback.domain.definitions import SHORT_TEXT_MAX, Definition, Item, Phase
from trainops_feedback.domain.errors import FieldError, InvalidAnswers
from trainops_feedback.domain.language import Language, resolve_language
from trainops_feedback.domain.survey import LIKERT_SCALE


def _text(texts: Mapping[str, str], language: str) -> str:
    return texts.get(language) or texts.get("ru") or next(iter(texts.values()), "")


def _chosen(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _options(item: Item, language: Language, chosen: list[str]) -> list[dict[str, Any]]:
    if item.kind == "likert":
        scale = TEXTS[language].scale
        return [
            {"value": str(v), "label": label, "checked": str(v) in chosen}
            for v, label in zip(LIKERT_SCALE, scale, strict=True)
        ]
    return [
        {"value": o.key, "label": _text(o.text, language), "checked": o.key in chosen}
        for o in item.options
    ]


def render_test(
    *,
    token: str,
    phase: Phase,
    definition: Definition,
    training_title: str,
    lang: str | None,
    participant_language: str | None,
    values: Mapping[str, object],
    errors: InvalidAnswers | None = None,
) -> HtmlPage:
    """The test (200), or again with each wrong answer marked (422)."""
    language = resolve_language(lang, participant_language)
    texts = TEST_TEXTS[language]
    by_item: dict[str, FieldError] = errors.by_item() if errors is not None else {}
    items = []
    for item in definition.items:
        chosen = _chosen(values.get(item.key))
        error = by_item.get(item.key)
        items.append(
            {
                "key": item.key,
                "kind": item.kind,
                "legend": _text(item.text, language),
                "required": item.required,
                "error": texts.error(error.code) if error is not None else "",
                "options": [] if item.kind == "text" else _options(item, language, chosen),
                "text": chosen[0] if item.kind == "text" and chosen else "",
            }
        )
    summary = [
        {"key": key, "label": _text(found.text, language), "message": texts.error(e.code)}
        for key, e in by_item.items()
        if (found := definition.item(key)) is not None
    ]
    heading = texts.pre_title if phase == "pre" else texts.post_title
    context = {
        "lang": language,
        "title": f"{heading} — {training_title}" if training_title else heading,
        "heading": heading,
        "intro": texts.intro,
        "texts": texts,
        "switch": language_switch(language, TEXTS[language]),
        "training_title": training_title,
        "summary": summary,
        "action": f"/t/{quote(token, safe='')}",
        "items": items,
        "text_max": SHORT_TEXT_MAX,
    }
    status = 422 if by_item else 200
    return HtmlPage(status=status, language=language, template="knowledge.html", context=context)


def render_test_done(*, token: str, lang: str, training_title: str) -> HtmlPage:
    texts = TEST_TEXTS[resolve_language(lang)]
    context = {
        "lang": lang,
        "title": texts.thanks_title,
        "body": texts.thanks_body,
        "element_id": "thanks",
        "training_title": training_title,
        "switch": None,
        "answers_done": f"/t/{quote(token, safe='')}",
    }
    return HtmlPage(status=201, language=lang, template="message.html", context=context)


def render_test_used(lang: str | None, participant_language: str | None) -> HtmlPage:
    language = resolve_language(lang, participant_language)
    texts = TEST_TEXTS[language]
    context = {
        "lang": language,
        "title": texts.already_title,
        "body": texts.already_body,
        "element_id": "already-submitted",
        "training_title": None,
        "switch": None,
    }
    return HtmlPage(status=409, language=language, template="message.html", context=context)
