"""The participant's own-link page ``/r/{token}``: public, the token is the credential.

No session is needed (participants do not sign in), so the shared CSRF check of signed-in
requests does not apply; the form has its own double-submit value instead: the page sets it
in a ``SameSite=Strict`` cookie scoped to ``/r/`` and repeats it in a hidden field, and a
change is accepted only when both agree, which a form on another site cannot arrange. The page
is sent not cached and without a ``Referer``, so the token does not leak from it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from functools import partial
from typing import Any, Final
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Template

from trainops_registration.api.own_link_texts import OWN_LINK_TEXTS
from trainops_registration.domain.links import ANSWERS_OF_PURPOSE
from trainops_registration.handlers.own_links import LinkView, answer_own_link, read_own_link
from trainops_shared.auth import CSRF_FIELD, csrf_matches
from trainops_shared.console.pages import LANGUAGE_NAMES, TEXTS
from trainops_shared.errors import AppError
from trainops_shared.events.vocabulary import LANGUAGES, Language
from trainops_shared.languages import normalise_language
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ServiceRuntime
from trainops_shared.timeutil import utc_now

OWN_LINK_PATHS: Final = ["^/r/"]
"""Public: the link's token is the credential."""
LINK_CSRF_COOKIE: Final = "trainops_link_csrf"
PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_CSRF_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{32}")
_ERROR_TEXT: Final = {404: "not_found", 403: "forbidden", 422: "bad_answer"}


def _language(request: Request[Any, Any, Any], view: LinkView | None, given: str = "") -> Language:
    """The page's ``?lang=`` (or the form's), else the registration's language, else Russian."""
    for value in (given, request.query_params.get("lang") or ""):
        picked = normalise_language(value)
        if picked is not None:
            return picked
    registered = normalise_language(view.language) if view is not None else None
    return registered or "ru"


def link_csrf(request: Request[Any, Any, Any]) -> tuple[str, Cookie]:
    """The double-submit value of the participant pages under ``/r/`` and the cookie that
    carries it. The browser's value is kept while it has one, so two open tabs both work."""
    held = request.cookies.get(LINK_CSRF_COOKIE) or ""
    csrf = held if _CSRF_SHAPE.fullmatch(held) else secrets.token_urlsafe(24)
    secure = bool(getattr(request.app.state.runtime.settings, "cookie_secure", False))
    cookie = Cookie(
        key=LINK_CSRF_COOKIE,
        value=csrf,
        path="/r/",
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return csrf, cookie


def link_csrf_matches(request: Request[Any, Any, Any], given: str) -> bool:
    return csrf_matches(request.cookies.get(LINK_CSRF_COOKIE), given)


def language_links(lang: Language) -> list[dict[str, object]]:
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES[code],
            "href": "?" + urlencode({"lang": code}),
            "current": code == lang,
        }
        for code in LANGUAGES
    ]


def _page(
    request: Request[Any, Any, Any],
    token: str,
    view: LinkView | None,
    *,
    lang: Language,
    status: int = 200,
    message: str = "",
    problem: bool = False,
) -> Template:
    words = OWN_LINK_TEXTS[lang]
    answers = ANSWERS_OF_PURPOSE[view.purpose] if view and view.verdict == "open" else ()
    csrf, cookie = link_csrf(request)
    if view is not None and not message and view.verdict != "open":
        message = words[view.verdict]
    return Template(
        template_name="registration/own_link.html",
        context={
            "lang": lang,
            "w": words,
            "view": view,
            "answers": answers,
            "action": f"/r/{token}",
            "csrf": csrf,
            "message": message,
            "problem": problem,
            "languages": language_links(lang),
            "language_label": TEXTS[lang]["language"],
        },
        status_code=status,
        media_type=MediaType.HTML,
        headers=dict(PAGE_HEADERS),
        cookies=[cookie],
    )


@get(
    "/r/{token:str}",
    tags=["participant pages"],
    summary="A participant's own link: cancel, or confirm/decline a new time (HTML)",
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(404, media_type=MediaType.HTML, limited=False),
    opt={"any_query": True},
)
async def own_link_page(
    token: FromPath[str], request: Request[Any, Any, Any], runtime: NamedDependency[ServiceRuntime]
) -> Template:
    """The session the link is about and what it may still do; 404 for no such link."""
    view = await runtime.read(partial(read_own_link, token=token, now=utc_now()))
    lang = _language(request, view)
    if view is None:
        return _page(
            request, token, None, lang=lang, status=404, message=OWN_LINK_TEXTS[lang]["not_found"]
        )
    return _page(request, token, view, lang=lang)


@post(
    "/r/{token:str}",
    tags=["participant pages"],
    summary="Answer a participant's own link (urlencoded form; HTML answer)",
    status_code=200,
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(403, 404, 409, 413, 422, media_type=MediaType.HTML, limited=False),
    opt={"any_query": True},
)
async def answer_own_link_page(
    token: FromPath[str], request: Request[Any, Any, Any], runtime: NamedDependency[ServiceRuntime]
) -> Template:
    """``answer`` = ``cancelled`` | ``confirmed`` | ``declined`` with the page's CSRF value;
    403 without it, 404 no link, 409 used or expired, 422 an answer the link does not offer.
    A refusal changes nothing and re-shows the page with the reason."""
    form = await request.form()
    now = utc_now()
    given_lang = str(form.get("lang") or "")
    if not link_csrf_matches(request, str(form.get(CSRF_FIELD) or "")):
        view = await runtime.read(partial(read_own_link, token=token, now=now))
        lang = _language(request, view, given_lang)
        if view is None:  # no such link: nothing to protect, and "not found" says more
            words = OWN_LINK_TEXTS[lang]
            return _page(request, token, None, lang=lang, status=404, message=words["not_found"])
        return _page(
            request,
            token,
            view,
            lang=lang,
            status=403,
            message=OWN_LINK_TEXTS[lang]["forbidden"],
            problem=True,
        )
    answer = str(form.get("answer") or "")
    try:
        done = await runtime.write(
            partial(
                answer_own_link, token=token, answer=answer, now=now, correlation_id=uuid.uuid4()
            )
        )
    except AppError as exc:
        view = await runtime.read(partial(read_own_link, token=token, now=now))
        lang = _language(request, view, given_lang)
        words = OWN_LINK_TEXTS[lang]
        key = _ERROR_TEXT.get(exc.status, "used")
        if exc.status == 409 and view is not None and view.verdict != "open":
            key = view.verdict
        return _page(
            request, token, view, lang=lang, status=exc.status, message=words[key], problem=True
        )
    lang = _language(request, done, given_lang)
    return _page(request, token, done, lang=lang, message=OWN_LINK_TEXTS[lang][f"done.{answer}"])


OWN_LINK_PAGES: Final = [own_link_page, answer_own_link_page]
