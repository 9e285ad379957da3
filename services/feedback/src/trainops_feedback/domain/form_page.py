"""HTML of the feedback pages, rendered as plain strings.

Participants open the link from a messenger on a phone, often on a weak mobile connection, so
each page is one self-contained document: inline CSS, no scripts, no fonts or images to fetch,
large tap targets. Everything interpolated goes through :func:`html.escape`; training titles
are typed by staff and must never be able to inject markup.

Stable hooks for browser tests and for the HTTP layer: ``form#feedback-form``,
``input[name=<item>][value="1".."5"]``, ``textarea#comment``, ``button[type=submit]#submit``,
``#error-<item>`` / ``#error-summary`` on the 422 page, ``#thanks``, ``#already-submitted``,
``#not-found``, and ``#lang-switch a#lang-<code>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from html import escape
from typing import Final
from urllib.parse import quote

import msgspec

from trainops_feedback.domain.errors import FieldError, InvalidAnswers
from trainops_feedback.domain.i18n import (
    LANGUAGE_NAMES,
    LANGUAGES,
    TEXTS,
    PageTexts,
    resolve_language,
)
from trainops_feedback.domain.survey import (
    COMMENT_FIELD,
    LANG_FIELD,
    LIKERT_SCALE,
    POST_TRAINING_V1,
    SurveyDefinition,
)

CONTENT_TYPE: Final = "text/html; charset=utf-8"


class HtmlPage(msgspec.Struct, frozen=True, kw_only=True):
    """A rendered page and the HTTP status it must be sent with."""

    status: int
    body: str
    language: str
    content_type: str = CONTENT_TYPE


_CSS: Final = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
color:#1b1b1b;background:#f4f6f8}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0}
h2{font-size:1.1rem;margin:.25rem 0 .75rem;color:#1cabe2}
nav{display:flex;gap:.5rem;justify-content:flex-end;flex-wrap:wrap}
nav a{padding:.4rem .7rem;border:1px solid #1cabe2;border-radius:1rem;color:#0b6a8f;
text-decoration:none}
nav a[aria-current]{background:#1cabe2;color:#fff}
.card{background:#fff;border-radius:.75rem;padding:1rem;margin:.75rem 0;
box-shadow:0 1px 3px rgba(0,0,0,.1)}
fieldset{border:1px solid #d0d7de;border-radius:.75rem;background:#fff;margin:1rem 0;
padding:.75rem}
fieldset.invalid{border:2px solid #b00020}
legend{font-weight:600;padding:0 .25rem}
.req{color:#b00020}
.opt{display:flex;align-items:center;gap:.75rem;min-height:3rem;margin:.4rem 0;
padding:.5rem .75rem;border:1px solid #d0d7de;border-radius:.6rem;cursor:pointer}
.opt input{width:1.6rem;height:1.6rem;margin:0;flex:none;accent-color:#1cabe2}
.opt:has(input:checked){border-color:#1cabe2;background:#e8f6fc}
.num{font-weight:700;min-width:1.2rem}
.error,#error-summary{color:#b00020;font-weight:600}
#error-summary{background:#fdecee;border-radius:.6rem;padding:.75rem}
label[for=comment]{display:block;font-weight:600;margin:1rem 0 .4rem}
textarea{width:100%;min-height:8rem;padding:.6rem;font:inherit;border:1px solid #d0d7de;
border-radius:.6rem}
.hint{color:#555;font-size:.9rem;margin:.25rem 0}
button{width:100%;min-height:3.25rem;margin:1rem 0 2rem;font:inherit;font-weight:700;
color:#fff;background:#1cabe2;border:0;border-radius:.75rem;cursor:pointer}
""".strip()


def _a(value: object) -> str:
    """Escape for text and for double-quoted attributes alike."""
    return escape(str(value), quote=True)


def _format_date(value: date | datetime) -> tuple[str, str]:
    """(machine ``YYYY-MM-DD``, the ``DD.MM.YYYY`` people in Kazakhstan write)."""
    day = value.date() if isinstance(value, datetime) else value
    return day.isoformat(), day.strftime("%d.%m.%Y")


def _language_switch(current: str, texts: PageTexts) -> str:
    links = []
    for code in LANGUAGES:
        current_attr = ' aria-current="true"' if code == current else ""
        links.append(
            f'<a id="lang-{code}" href="?{LANG_FIELD}={code}" hreflang="{code}" lang="{code}"'
            f"{current_attr}>{_a(LANGUAGE_NAMES[code])}</a>"
        )
    return f'<nav id="lang-switch" aria-label="{_a(texts.language_label)}">{"".join(links)}</nav>'


def _document(*, lang: str, title: str, content: str) -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="{_a(lang)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # The token in the URL is the credential: keep it out of search engines and Referer.
        '<meta name="robots" content="noindex, nofollow">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{_a(title)}</title>\n"
        f"<style>\n{_CSS}\n</style>\n"
        "</head>\n"
        "<body>\n"
        f"<main>\n{content}\n</main>\n"
        "</body>\n"
        "</html>\n"
    )


def _field_errors(errors: InvalidAnswers | Iterable[FieldError] | None) -> dict[str, FieldError]:
    if errors is None:
        return {}
    items = errors.errors if isinstance(errors, InvalidAnswers) else tuple(errors)
    out: dict[str, FieldError] = {}
    for error in items:
        out.setdefault(error.item, error)
    return out


def _likert_fieldset(
    key: str, required: bool, texts: PageTexts, chosen: str, error: FieldError | None
) -> str:
    legend = _a(texts.item(key))
    if required:
        legend += ' <span class="req" aria-hidden="true">*</span>'
    else:
        legend += f' <span class="hint">{_a(texts.optional_marker)}</span>'
    attrs = f'id="item-{_a(key)}" class="item{" invalid" if error else ""}"'
    error_html = ""
    if error is not None:
        attrs += f' aria-describedby="error-{_a(key)}"'
        error_html = f'<p class="error" id="error-{_a(key)}">{_a(texts.error(error.code))}</p>\n'
    options = []
    for value, label in zip(LIKERT_SCALE, texts.scale, strict=True):
        input_id = f"{key}-{value}"
        checked = " checked" if chosen == str(value) else ""
        req = " required" if required else ""
        options.append(
            f'<label class="opt" for="{_a(input_id)}">'
            f'<input type="radio" id="{_a(input_id)}" name="{_a(key)}" value="{value}"'
            f"{req}{checked}>"
            f'<span class="num">{value}</span><span class="txt">{_a(label)}</span></label>'
        )
    return (
        f"<fieldset {attrs}>\n<legend>{legend}</legend>\n{error_html}"
        + "\n".join(options)
        + "\n</fieldset>"
    )


def _heading(texts: PageTexts, training_title: str | None, session_date: date | None) -> str:
    parts = [f"<h1>{_a(texts.page_title)}</h1>"]
    if training_title:
        parts.append(f'<h2 id="training-title">{_a(training_title)}</h2>')
    if session_date is not None:
        machine, human = _format_date(session_date)
        parts.append(
            f'<p id="session-date">{_a(texts.date_label)}: '
            f'<time datetime="{machine}">{human}</time></p>'
        )
    return "\n".join(parts)


def render_form(
    *,
    token: str,
    training_title: str,
    session_date: date | None,
    lang: str | None,
    participant_language: str | None = None,
    survey: SurveyDefinition = POST_TRAINING_V1,
    values: Mapping[str, str] | None = None,
    errors: InvalidAnswers | Iterable[FieldError] | None = None,
) -> HtmlPage:
    """The survey form (200), or the form again with per-field errors (422) when ``errors``.

    ``values`` is the submitted form, so a participant who forgot one question does not have
    to re-tap the other four. The form posts urlencoded to ``/f/{token}`` with a hidden
    ``lang`` so the answer page comes back in the language the participant was reading.
    """
    language = resolve_language(lang, participant_language)
    texts = TEXTS[language]
    values = values or {}
    by_item = _field_errors(errors)
    action = f"/f/{quote(token, safe='')}"

    blocks = [_language_switch(language, texts), _heading(texts, training_title, session_date)]
    blocks.append(f'<p class="intro">{_a(texts.intro)}</p>')
    if by_item:
        rows = []
        for item_key, error in by_item.items():
            if item_key == COMMENT_FIELD:
                label, target = texts.comment_label, "comment"
            elif survey.item(item_key) is not None:
                label, target = texts.item(item_key), f"item-{item_key}"
            else:  # an unknown item has no element on the page to jump to
                label, target = item_key, "feedback-form"
            rows.append(
                f'<li><a href="#{_a(target)}">{_a(label)}</a>: {_a(texts.error(error.code))}</li>'
            )
        blocks.append(
            f'<div id="error-summary" role="alert"><p>{_a(texts.error_summary)}</p>'
            f"<ul>{''.join(rows)}</ul></div>"
        )
    blocks.append(f'<p class="hint">{_a(texts.required_note)}</p>')

    form = [
        f'<form id="feedback-form" method="post" action="{_a(action)}" '
        'enctype="application/x-www-form-urlencoded" accept-charset="utf-8">',
        f'<input type="hidden" name="{LANG_FIELD}" value="{_a(language)}">',
    ]
    for item in survey.items:
        form.append(
            _likert_fieldset(
                item.key,
                item.required,
                texts,
                values.get(item.key, "").strip(),
                by_item.get(item.key),
            )
        )
    comment_error = by_item.get(COMMENT_FIELD)
    described = "comment-hint"
    if comment_error is not None:
        described += f" error-{COMMENT_FIELD}"
    form.append(
        f'<label for="comment">{_a(texts.comment_label)} '
        f'<span class="hint">{_a(texts.optional_marker)}</span></label>'
    )
    if comment_error is not None:
        form.append(
            f'<p class="error" id="error-{COMMENT_FIELD}">{_a(texts.error(comment_error.code))}</p>'
        )
    form.append(
        f'<textarea id="comment" name="{COMMENT_FIELD}" maxlength="{survey.comment_max_length}" '
        f'rows="5" aria-describedby="{described}">{_a(values.get(COMMENT_FIELD, ""))}</textarea>'
    )
    form.append(f'<p class="hint" id="comment-hint">{_a(texts.comment_hint)}</p>')
    form.append(f'<button type="submit" id="submit">{_a(texts.submit)}</button>')
    form.append("</form>")
    blocks.append("\n".join(form))

    title = f"{texts.page_title} — {training_title}" if training_title else texts.page_title
    return HtmlPage(
        status=422 if by_item else 200,
        body=_document(lang=language, title=title, content="\n".join(blocks)),
        language=language,
    )


def render_form_with_errors(
    *,
    token: str,
    training_title: str,
    session_date: date | None,
    lang: str | None,
    error: InvalidAnswers,
    values: Mapping[str, str],
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
) -> HtmlPage:
    language = resolve_language(lang, participant_language)
    texts = TEXTS[language]
    title, body = pick(texts)
    blocks = [_language_switch(language, texts)] if with_switch else []
    blocks.append(
        f'<section id="{element_id}" class="card">\n<h1>{_a(title)}</h1>\n'
        + (f'<h2 id="training-title">{_a(training_title)}</h2>\n' if training_title else "")
        + f"<p>{_a(body)}</p>\n</section>"
    )
    return HtmlPage(
        status=status,
        body=_document(lang=language, title=title, content="\n".join(blocks)),
        language=language,
    )


def render_thanks(
    lang: str | None,
    *,
    participant_language: str | None = None,
    training_title: str | None = None,
) -> HtmlPage:
    """The thank-you page after a successful submission (200; ``#thanks``).

    No language switch here: its links would GET the link again, which by then answers
    "already submitted" and would read as an error to the participant.
    """
    return _message_page(
        status=200,
        element_id="thanks",
        lang=lang,
        participant_language=participant_language,
        pick=lambda t: (t.thanks_title, t.thanks_body),
        training_title=training_title,
        with_switch=False,
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
