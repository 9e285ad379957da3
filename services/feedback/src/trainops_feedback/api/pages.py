"""HTTP glue of the participant pages: safe headers, bounded form decoding, page inputs.

The page markup comes from the templates (:mod:`trainops_feedback.api.views`); this module
sends it with headers that make a browser treat it as inert: no scripts, no foreign resources,
no framing, not cached, no ``Referer`` carrying the token to another site.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Request
from litestar.enums import MediaType
from litestar.response import Template

from trainops_feedback.api.views import HtmlPage
from trainops_feedback.domain.invitation import InvitationView
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

SCRIPTED_PAGE_HEADERS: Final[Mapping[str, str]] = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        "style-src 'unsafe-inline'; form-action 'self'"
    ),
}
"""A page that loads the service's own answer-keeping script (and nothing else)."""

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


def html_response(page: HtmlPage, status: int | None = None) -> Template:
    """``page`` rendered by the app's template engine, with the participant-page headers."""
    return Template(
        template_name=page.template,
        context=dict(page.context),
        status_code=status if status is not None else page.status,
        media_type=MediaType.HTML,
        headers=dict(PAGE_HEADERS),
    )


def scripted_response(page: HtmlPage, status: int | None = None) -> Template:
    """``page`` as :func:`html_response`, allowed to run the service's own answer-keeping
    script and to send its draft back (:data:`SCRIPTED_PAGE_HEADERS`)."""
    response = html_response(page, status)
    response.headers.update(SCRIPTED_PAGE_HEADERS)
    return response


async def read_form(
    request: Request[Any, Any, Any],
    *,
    max_bytes: int = FORM_MAX_BYTES,
    max_fields: int = FORM_MAX_FIELDS,
) -> dict[str, list[str]]:
    """The urlencoded body of a page's form, every value of every name; :class:`MalformedForm`
    415 for another content type, 413 for a body declared or found too large (refused before
    reading when declared: it never reaches memory), 400 for one that does not decode."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise MalformedForm(415, f"form expected, got {content_type[:40]!r}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise MalformedForm(413, f"form body larger than {max_bytes} bytes")
    return parse_urlencoded_lists(await request.body(), max_bytes=max_bytes, max_fields=max_fields)


def first_values(form: Mapping[str, list[str]]) -> dict[str, str]:
    """The first value of each name (a radio group sends one)."""
    return {name: values[0] for name, values in form.items()}


def parse_urlencoded(body: bytes) -> dict[str, str]:
    """Decode an ``application/x-www-form-urlencoded`` body into ``{name: value}``.

    The first value of a repeated name wins (a radio group sends one). Raises
    :class:`MalformedForm` (413 too large, 400 not UTF-8 or too many fields).
    """
    return first_values(parse_urlencoded_lists(body))


def parse_urlencoded_lists(
    body: bytes, *, max_bytes: int = FORM_MAX_BYTES, max_fields: int = FORM_MAX_FIELDS
) -> dict[str, list[str]]:
    """Every value of every name, in order (a group of checkboxes sends several)."""
    if len(body) > max_bytes:
        raise MalformedForm(413, f"form body larger than {max_bytes} bytes")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=max_fields,
        )
    except UnicodeDecodeError:
        raise MalformedForm(400, "form body is not valid UTF-8") from None
    except ValueError as exc:  # max_num_fields exceeded
        raise MalformedForm(400, str(exc)) from None
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
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
