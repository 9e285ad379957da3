"""The participant's join link of an online session, ``/join/{code}``: public, the code is the
credential.

Opening the link records nothing: mail scanners and link previews fetch every address in a
message, and a fetch must not mark anyone present. ``GET`` shows a small page in the
participant's language with a "Join the session" button (submitted at once by a few lines of
script when the browser runs it); the ``POST`` records presence, idempotently, and answers 303
to the meeting address. The form carries its own double-submit value, as the ``/r/{token}``
page's does (participants have no session): a ``SameSite=Strict`` cookie scoped to ``/join/``
repeated in a hidden field. The page's policy names no ``form-action``, because the form's
answer is a redirect to the meeting's own site, which a ``form-action 'self'`` would block.
"""

from __future__ import annotations

import re
import secrets
import uuid
from functools import partial
from typing import Any, Final

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Redirect, Template

from trainops_registration.api.console_texts import TEXTS
from trainops_registration.handlers.checkin import JoinView, join, read_join
from trainops_shared.auth import CSRF_FIELD, csrf_matches
from trainops_shared.console.pages import page_language
from trainops_shared.errors import AppError, NotFound
from trainops_shared.events.vocabulary import Language
from trainops_shared.languages import normalise_language
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ServiceRuntime

JOIN_CSRF_COOKIE: Final = "trainops_join_csrf"
_CSRF_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{32}")

JOIN_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "kk": {
        "title": "Сабаққа қосылу",
        "lead": (
            "Бұл — онлайн сабаққа арналған жеке сілтемеңіз. Қосылу үшін батырманы басыңыз: "
            "қатысқаныңыз белгіленеді."
        ),
        "button": "Сабаққа қосылу",
        "forbidden": "Бет ескірді. Батырманы қайта басыңыз.",
    },
    "ru": {
        "title": "Подключиться к занятию",
        "lead": (
            "Это ваша личная ссылка на онлайн-занятие. Нажмите кнопку, чтобы подключиться: "
            "ваше участие будет отмечено."
        ),
        "button": "Подключиться к занятию",
        "forbidden": "Страница устарела. Нажмите кнопку ещё раз.",
    },
    "en": {
        "title": "Join the session",
        "lead": (
            "This is your personal link to the online session. Press the button to join: "
            "your presence is recorded."
        ),
        "button": "Join the session",
        "forbidden": "The page had expired. Press the button again.",
    },
}


def _language(request: Request[Any, Any, Any], view: JoinView | None, given: str = "") -> Language:
    """The form's or the page's ``?lang=``, else the registration's language, else the
    browser's."""
    for value in (given, request.query_params.get("lang") or ""):
        picked = normalise_language(value)
        if picked is not None:
            return picked
    registered = normalise_language(view.language) if view is not None else None
    return registered or page_language(request)


def _page(
    request: Request[Any, Any, Any],
    code: str,
    lang: Language,
    *,
    offer: bool,
    submit: bool = False,
    message: str = "",
    status: int = 200,
) -> Template:
    """The page: the button when ``offer``, pressed by script when ``submit`` too."""
    held = request.cookies.get(JOIN_CSRF_COOKIE) or ""
    csrf = held if _CSRF_SHAPE.fullmatch(held) else secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(18)
    secure = bool(getattr(request.app.state.runtime.settings, "cookie_secure", False))
    return Template(
        template_name="registration/join.html",
        context={
            "lang": lang,
            "w": JOIN_TEXTS[lang],
            "action": f"/join/{code}",
            "csrf": csrf,
            "offer": offer,
            "submit": offer and submit,
            "nonce": nonce,
            "message": message,
        },
        status_code=status,
        media_type=MediaType.HTML,
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'self'; script-src 'nonce-{nonce}'; "
                "frame-ancestors 'none'; base-uri 'none'"
            ),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
        cookies=[
            Cookie(
                key=JOIN_CSRF_COOKIE,
                value=csrf,
                path="/join/",
                max_age=3600,
                httponly=True,
                samesite="strict",
                secure=secure,
            )
        ],
    )


def _unknown(request: Request[Any, Any, Any], code: str, given: str = "") -> Template:
    lang = _language(request, None, given)
    return _page(
        request, code, lang, offer=False, message=TEXTS[lang]["join_not_found"], status=404
    )


@get(
    "/join/{code:str}",
    tags=["participant pages"],
    summary="A participant's join link of an online session: the page with the join button",
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(404, 409, media_type=MediaType.HTML, limited=False),
    opt={"any_query": True},
)
async def join_page(
    request: Request[Any, Any, Any], runtime: NamedDependency[ServiceRuntime], code: FromPath[str]
) -> Template:
    """The button that joins; records nothing. 404 for an unknown link, 409 (the page saying
    so, no button) while it cannot be used: no meeting address yet, the registration or
    session no longer on."""
    try:
        view = await runtime.read(partial(read_join, code=code))
    except NotFound:
        return _unknown(request, code)
    lang = _language(request, view)
    if view.problem is not None:
        words = TEXTS[lang]
        return _page(request, code, lang, offer=False, message=words["join_not_now"], status=409)
    return _page(request, code, lang, offer=True, submit=True)


@post(
    "/join/{code:str}",
    tags=["participant pages"],
    summary="Join an online session: records presence, then redirects to the meeting (303)",
    status_code=303,
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(403, 404, 409, 413, media_type=MediaType.HTML, limited=False),
    opt={"any_query": True},
)
async def join_submit(
    request: Request[Any, Any, Any], runtime: NamedDependency[ServiceRuntime], code: FromPath[str]
) -> Redirect | Template:
    """303 to the meeting address, presence recorded the first time; 403 without the page's
    CSRF value (the page again, its button not pressed by script), 404 an unknown link, 409
    a link that cannot be used now. A refusal records nothing."""
    form = await request.form()
    given = str(form.get("lang") or "")
    if not csrf_matches(request.cookies.get(JOIN_CSRF_COOKIE), str(form.get(CSRF_FIELD) or "")):
        try:
            view = await runtime.read(partial(read_join, code=code))
        except NotFound:
            return _unknown(request, code, given)
        lang = _language(request, view, given)
        words = JOIN_TEXTS[lang]
        return _page(request, code, lang, offer=True, message=words["forbidden"], status=403)
    try:
        address, _ = await runtime.write(partial(join, code=code, correlation_id=uuid.uuid4()))
    except NotFound:
        return _unknown(request, code, given)
    except AppError as exc:
        view = await runtime.read(partial(read_join, code=code))
        lang = _language(request, view, given)
        message = TEXTS[lang]["join_not_now"]
        return _page(request, code, lang, offer=False, message=message, status=exc.status)
    return Redirect(address, status_code=303)


JOIN_PAGES: Final = [join_page, join_submit]
