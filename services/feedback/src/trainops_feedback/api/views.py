"""The participant pages as Jinja templates (``api/templates``) and what each one shows.

Each ``render_*`` decides the page's status, language and template context; the controllers
hand the result to Litestar as a :class:`~litestar.response.Template`, rendered by the app's
template engine (:data:`TEMPLATE_CONFIG`), and tests render the very same engine directly
(:attr:`HtmlPage.body`). Autoescape is on for every template: training titles are typed by
staff and echoed answers by anyone, and neither may ever become markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig

from trainops_feedback.api.knowledge_texts import TEST_TEXTS
from trainops_feedback.api.texts import LANGUAGE_NAMES, TEXTS, TRANSPORT_ERRORS, PageTexts
from trainops_feedback.domain.errors import FieldError, InvalidAnswers
from trainops_feedback.domain.language import LANGUAGES, resolve_language
from trainops_feedback.domain.survey import (
    COMMENT_FIELD,
    LANG_FIELD,
    LIKERT_SCALE,
    POST_TRAINING_V1,
    SurveyDefinition,
)

TEMPLATE_DIR: Final = Path(__file__).with_name("templates")

TEMPLATES: Final = JinjaTemplateEngine.from_environment(
    Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
)
"""One engine for the app and the tests; a misspelt context name fails loudly (strict)."""

TEMPLATE_CONFIG: Final = TemplateConfig(instance=TEMPLATES)

CONTENT_TYPE: Final = "text/html; charset=utf-8"


class HtmlPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page to send: its template and context, the HTTP status and the page language."""

    status: int
    language: str
    template: str
    context: Mapping[str, Any]
    content_type: str = CONTENT_TYPE

    @property
    def body(self) -> str:
        """The page as the app's template engine renders it."""
        return TEMPLATES.get_template(self.template).render(self.context)


def language_switch(current: str, texts: PageTexts) -> dict[str, Any]:
    return {
        "label": texts.language_label,
        "field": LANG_FIELD,
        "links": [
            {"code": code, "name": LANGUAGE_NAMES[code], "current": code == current}
            for code in LANGUAGES
        ],
    }


def _format_date(value: date | datetime) -> dict[str, str]:
    """Machine ``YYYY-MM-DD`` and the ``DD.MM.YYYY`` people in Kazakhstan write."""
    day = value.date() if isinstance(value, datetime) else value
    return {"machine": day.isoformat(), "human": day.strftime("%d.%m.%Y")}


def _field_errors(errors: InvalidAnswers | Iterable[FieldError] | None) -> dict[str, FieldError]:
    """The first error of each item (what the page marks), whichever way they were given."""
    if errors is None:
        return {}
    if isinstance(errors, InvalidAnswers):
        return errors.by_item()
    out: dict[str, FieldError] = {}
    for error in errors:
        out.setdefault(error.item, error)
    return out


def _summary(
    by_item: Mapping[str, FieldError], texts: PageTexts, survey: SurveyDefinition
) -> list[dict[str, str]]:
    """One row per wrong answer, each a link to the question it is about."""
    rows = []
    for item_key, error in by_item.items():
        if item_key == COMMENT_FIELD:
            label, target = texts.comment_label, "comment"
        elif survey.item(item_key) is not None:
            label, target = texts.item(item_key), f"item-{item_key}"
        else:  # an unknown item has no element on the page to jump to
            label, target = item_key, "feedback-form"
        rows.append({"target": target, "label": label, "message": texts.error(error.code)})
    return rows


def render_form(
    *,
    token: str,
    training_title: str,
    session_date: date | None,
    lang: str | None,
    participant_language: str | None = None,
    survey: SurveyDefinition = POST_TRAINING_V1,
    values: Mapping[str, object] | None = None,
    errors: InvalidAnswers | Iterable[FieldError] | None = None,
) -> HtmlPage:
    """The survey form (200), or the form again with per-field errors (422) when ``errors``.

    ``values`` is the submitted form or the link's saved draft, so a participant who forgot
    one question, reloaded or lost the connection does not have to re-tap the others. The
    form posts urlencoded to ``/f/{token}`` with a hidden ``lang`` so the answer page comes
    back in the language the participant was reading.
    """
    language = resolve_language(lang, participant_language)
    texts = TEXTS[language]
    values = values or {}
    by_item = _field_errors(errors)
    items = []
    for item in survey.items:
        chosen = str(values.get(item.key, "")).strip()
        error = by_item.get(item.key)
        items.append(
            {
                "key": item.key,
                "legend": texts.item(item.key),
                "required": item.required,
                "error": texts.error(error.code) if error is not None else "",
                "options": [
                    {"value": value, "label": label, "checked": chosen == str(value)}
                    for value, label in zip(LIKERT_SCALE, texts.scale, strict=True)
                ],
            }
        )
    comment_error = by_item.get(COMMENT_FIELD)
    title = f"{texts.page_title} — {training_title}" if training_title else texts.page_title
    context = {
        "lang": language,
        "title": title,
        "texts": texts,
        "switch": language_switch(language, texts),
        "training_title": training_title,
        "session_date": _format_date(session_date) if session_date is not None else None,
        "summary": _summary(by_item, texts, survey),
        "action": f"/f/{quote(token, safe='')}",
        "lang_field": LANG_FIELD,
        # The answer-keeping script's words are the same on every participant page.
        "keeping": TEST_TEXTS[language],
        "items": items,
        "comment": {
            "field": COMMENT_FIELD,
            "max_length": survey.comment_max_length,
            "value": str(values.get(COMMENT_FIELD, "")),
            "error": texts.error(comment_error.code) if comment_error is not None else "",
        },
    }
    return HtmlPage(
        status=422 if by_item else 200, language=language, template="form.html", context=context
    )


def render_form_with_errors(
    *,
    token: str,
    training_title: str,
    session_date: date | None,
    lang: str | None,
    error: InvalidAnswers,
    values: Mapping[str, object],
    participant_language: str | None = None,
    survey: SurveyDefinition = POST_TRAINING_V1,
) -> HtmlPage:
    """The 422 page: the form again, each wrong question marked, earlier choices kept."""
    return render_form(
        token=token,
        training_title=training_title,
        session_date=session_date,
        lang=lang,
        participant_language=participant_language,
        survey=survey,
        values=values,
        errors=error,
    )


def _message_page(
    *,
    status: int,
    element_id: str,
    lang: str | None,
    participant_language: str | None,
    pick: Callable[[PageTexts], tuple[str, str]],
    training_title: str | None,
    with_switch: bool,
    answers_done: str | None = None,
) -> HtmlPage:
    language = resolve_language(lang, participant_language)
    texts = TEXTS[language]
    title, body = pick(texts)
    context: dict[str, Any] = {
        "lang": language,
        "title": title,
        "body": body,
        "element_id": element_id,
        "training_title": training_title,
        "switch": language_switch(language, texts) if with_switch else None,
    }
    if answers_done is not None:
        context["answers_done"] = answers_done
    return HtmlPage(status=status, language=language, template="message.html", context=context)


def render_thanks(
    lang: str | None,
    *,
    participant_language: str | None = None,
    training_title: str | None = None,
    token: str | None = None,
) -> HtmlPage:
    """The thank-you page after a successful submission (200; ``#thanks``).

    No language switch here: its links would GET the link again, which by then answers
    "already submitted" and would read as an error to the participant. With ``token`` the
    page tells the answer-keeping script to drop that form's copy kept in the browser.
    """
    return _message_page(
        status=200,
        element_id="thanks",
        lang=lang,
        participant_language=participant_language,
        pick=lambda t: (t.thanks_title, t.thanks_body),
        training_title=training_title,
        with_switch=False,
        answers_done=f"/f/{quote(token, safe='')}" if token is not None else None,
    )


def render_already_submitted(
    lang: str | None,
    *,
    participant_language: str | None = None,
    training_title: str | None = None,
) -> HtmlPage:
    """The link was used already (409; ``#already-submitted``)."""
    return _message_page(
        status=409,
        element_id="already-submitted",
        lang=lang,
        participant_language=participant_language,
        pick=lambda t: (t.already_title, t.already_body),
        training_title=training_title,
        with_switch=True,
    )


def render_not_found(lang: str | None, *, participant_language: str | None = None) -> HtmlPage:
    """Unknown or expired link (404; ``#not-found``); the two cases look the same on purpose,
    so the page reveals nothing about which tokens ever existed."""
    return _message_page(
        status=404,
        element_id="not-found",
        lang=lang,
        participant_language=participant_language,
        pick=lambda t: (t.not_found_title, t.not_found_body),
        training_title=None,
        with_switch=True,
    )


def render_error(status: int, lang: str | None) -> HtmlPage:
    """A small page for a request the form itself can never produce (``#error``).

    The survey pages above cover what a participant can do; this covers transport-level faults
    (oversized, non-UTF-8 or non-form bodies) so a participant still gets a page, not JSON.
    """
    language = resolve_language(lang)
    texts = TRANSPORT_ERRORS[language]
    title, body = texts.get(status, texts[400])
    context = {"lang": language, "title": title, "body": body}
    return HtmlPage(status=status, language=language, template="error.html", context=context)
