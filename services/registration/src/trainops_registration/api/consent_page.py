"""The participant's consent page ``/r/consents/{token}``: public, the token is the credential.

Linked from the foot of every mail a participant gets. One form per purpose, each with the
double-submit CSRF value of the other participant pages under ``/r/``
(:func:`~trainops_registration.api.own_link_page.link_csrf`); a refusal changes nothing and
re-shows the page with the reason.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Template

from trainops_registration.api.consent_page_texts import CONSENT_PAGE_TEXTS
from trainops_registration.api.own_link_page import (
    PAGE_HEADERS,
    language_links,
    link_csrf,
    link_csrf_matches,
)
from trainops_registration.domain.consent import PURPOSE_TEXTS, TAKING_PART, configured_purposes
from trainops_registration.handlers.consent_page import (
    ConsentPage,
    change_consent,
    read_consent_page,
)
from trainops_shared.auth import CSRF_FIELD
from trainops_shared.console.pages import TEXTS
from trainops_shared.errors import AppError
from trainops_shared.events.vocabulary import Language
from trainops_shared.languages import normalise_language
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ServiceRuntime
from trainops_shared.timeutil import utc_now

_ERROR_TEXT: Final = {404: "not_found", 409: "conflict", 422: "invalid"}


def _language(request: Request[Any, Any, Any], page: ConsentPage | None, given: str) -> Language:
    """The form's or the page's ``?lang=``, else the person's language, else Russian."""
    for value in (given, request.query_params.get("lang") or ""):
        picked = normalise_language(value)
        if picked is not None:
            return picked
    return (normalise_language(page.language) if page is not None else None) or "ru"


def _offered(runtime: ServiceRuntime) -> tuple[str, ...]:
    return configured_purposes(getattr(runtime.settings, "consent_purposes", None))


def _render(
    request: Request[Any, Any, Any],
    token: str,
    page: ConsentPage | None,
    *,
    lang: Language,
    status: int = 200,
    message: str = "",
    problem: bool = False,
) -> Template:
    words = CONSENT_PAGE_TEXTS[lang]
    csrf, cookie = link_csrf(request)
    if page is None and not message:
        message = words["not_found"]
    elif page is not None and page.erased and not message:
        message = words["erased"]
    choices = [
        {
            "choice": c,
            "text": PURPOSE_TEXTS.get(c.purpose, {}).get(lang, c.purpose),
            "erases": c.purpose == TAKING_PART and c.action == "withdraw",
        }
        for c in (page.choices if page is not None else [])
    ]
    return Template(
        template_name="registration/consents.html",
        context={
            "lang": lang,
            "w": words,
            "page": page,
            "choices": choices,
            "action": f"/r/consents/{token}",
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
    "/r/consents/{token:str}",
    tags=["participant pages"],
    summary="A participant's consents: each purpose, agreed or not (HTML)",
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(404, media_type=MediaType.HTML, limited=False),
    opt={"any_query": True},
)
async def consent_page(
    token: FromPath[str], request: Request[Any, Any, Any], runtime: NamedDependency[ServiceRuntime]
) -> Template:
    """The person's consents and a form for each; 404 for no such link."""
    page = await runtime.read(partial(read_consent_page, token=token, offered=_offered(runtime)))
    lang = _language(request, page, "")
    return _render(request, token, page, lang=lang, status=200 if page else 404)


@post(
    "/r/consents/{token:str}",
    tags=["participant pages"],
    summary="Withdraw or give one consent (urlencoded form; HTML answer)",
    status_code=200,
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(403, 404, 409, 413, 422, media_type=MediaType.HTML, limited=False),
    opt={"any_query": True},
)
async def change_consent_page(
    token: FromPath[str], request: Request[Any, Any, Any], runtime: NamedDependency[ServiceRuntime]
) -> Template:
    """``purpose`` and ``action`` (``withdraw`` | ``give``) with the page's CSRF value, and
    ``confirm`` to withdraw taking part (which erases the person's details). 403 without the
    CSRF value, 404 no link, 409 already changed, 422 an unknown purpose or action or a
    missing confirmation."""
    form = await request.form()
    offered = _offered(runtime)
    given_lang = str(form.get("lang") or "")
    if not link_csrf_matches(request, str(form.get(CSRF_FIELD) or "")):
        page = await runtime.read(partial(read_consent_page, token=token, offered=offered))
        lang = _language(request, page, given_lang)
        if page is None:  # no such link: nothing to protect, and "not found" says more
            return _render(request, token, None, lang=lang, status=404)
        words = CONSENT_PAGE_TEXTS[lang]
        return _render(
            request, token, page, lang=lang, status=403, message=words["forbidden"], problem=True
        )
    purpose, action = str(form.get("purpose") or ""), str(form.get("action") or "")
    try:
        page = await runtime.write(
            partial(
                change_consent,
                token=token,
                purpose=purpose,
                action=action,
                offered=offered,
                now=utc_now(),
                confirmed=form.get("confirm") == "yes",
            )
        )
    except AppError as exc:
        page = await runtime.read(partial(read_consent_page, token=token, offered=offered))
        lang = _language(request, page, given_lang)
        words = CONSENT_PAGE_TEXTS[lang]
        key = "confirm_needed" if exc.field == "confirm" else _ERROR_TEXT.get(exc.status, "invalid")
        if page is None:
            return _render(request, token, None, lang=lang, status=404)
        return _render(
            request, token, page, lang=lang, status=exc.status, message=words[key], problem=True
        )
    lang = _language(request, page, given_lang)
    done = "done.erased" if page.erased else f"done.{action}"
    return _render(request, token, page, lang=lang, message=CONSENT_PAGE_TEXTS[lang][done])


CONSENT_PAGES: Final = [consent_page, change_consent_page]
