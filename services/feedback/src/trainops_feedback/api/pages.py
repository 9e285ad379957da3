"""HTTP glue of the participant pages: safe headers, bounded form decoding, page inputs.

The page markup itself comes from :mod:`trainops_feedback.domain.form_page` (every value
escaped there); this module only wraps it in a response with headers that make a browser treat
it as inert: no scripts, no foreign resources, no framing, not cached, no ``Referer`` carrying
the token to another site.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from html import escape
from typing import Final
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Response
from litestar.enums import MediaType

from trainops_feedback.adapters.repository import InvitationView
from trainops_feedback.domain.form_page import HtmlPage
from trainops_feedback.domain.i18n import resolve_language
from trainops_feedback.domain.survey import COMMENT_FIELD, LANG_FIELD, POST_TRAINING_V1

CONTENT_SECURITY_POLICY: Final = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"

PAGE_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
"""Headers of every participant page (and of ``/responses`` answers: never cache a token)."""

FORM_MAX_BYTES: Final = 16 * 1024
"""A filled form is ~2 KiB of comment plus a few short fields; anything far larger is not a
participant's answer and is refused before parsing."""

FORM_MAX_FIELDS: Final = 32
TITLE_MAX_CHARS: Final = 300
"""Bounds what a page echoes back, so no input can make a page arbitrarily large."""

_ECHOED_FIELDS: Final = frozenset({*POST_TRAINING_V1.item_keys, COMMENT_FIELD, LANG_FIELD})


class MalformedForm(ValueError):
    """The body is not a urlencoded UTF-8 form of a sane size."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def html_response(page: HtmlPage, status: int | None = None) -> Response[str]:
    return Response(
        content=page.body,
        status_code=status if status is not None else page.status,
        media_type=MediaType.HTML,
        headers=dict(PAGE_HEADERS),
    )


def parse_urlencoded(body: bytes) -> dict[str, str]:
    """Decode an ``application/x-www-form-urlencoded`` body into ``{name: value}``.

    The first value of a repeated name wins (a radio group sends one). Raises
    :class:`MalformedForm` (413 too large, 400 not UTF-8 or too many fields).
    """
    if len(body) > FORM_MAX_BYTES:
        raise MalformedForm(413, f"form body larger than {FORM_MAX_BYTES} bytes")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=FORM_MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise MalformedForm(400, "form body is not valid UTF-8") from None
    except ValueError as exc:  # max_num_fields exceeded
        raise MalformedForm(400, str(exc)) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def echoed_values(form: Mapping[str, str]) -> dict[str, str]:
    """The submitted values a re-shown form may echo (known fields only, bounded length)."""
    limit = 2 * POST_TRAINING_V1.comment_max_length
    return {k: v[:limit] for k, v in form.items() if k in _ECHOED_FIELDS}


def training_title(view: InvitationView | None, language: str) -> str:
    """The training title in ``language``, else Russian, English, Kazakh, else any."""
    if view is None or not view.training_title:
        return ""
    titles = view.training_title
    for code in (language, "ru", "en", "kk"):
        if titles.get(code):
            return titles[code][:TITLE_MAX_CHARS]
    return next(iter(titles.values()), "")[:TITLE_MAX_CHARS]


def session_date(view: InvitationView | None) -> date | None:
    """The day the session began, in the session's own time zone (what participants saw)."""
    if view is None:
        return None
    try:
        zone = ZoneInfo(view.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return view.starts_at.date()
    try:
        return view.starts_at.astimezone(zone).date()
    except OverflowError:
        # A start at the very edge of the calendar (year 9999) has no local date past it.
        return view.starts_at.date()


_ERROR_TEXTS: Final[Mapping[str, Mapping[int, tuple[str, str]]]] = {
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


def render_error(status: int, lang: str | None) -> HtmlPage:
    """A small page for a request the form itself can never produce (``#error``).

    The domain renders the survey's own pages; this covers transport-level faults (oversized,
    non-UTF-8 or non-form bodies) so a participant still gets a page, not JSON.
    """
    language = resolve_language(lang)
    texts = _ERROR_TEXTS[language]
    title, body = texts.get(status, texts[400])
    html = (
        "<!doctype html>\n"
        f'<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n"
        f'<main><section id="error"><h1>{escape(title)}</h1><p>{escape(body)}</p></section>'
        "</main>\n</body>\n</html>\n"
    )
    return HtmlPage(status=status, body=html, language=language)
