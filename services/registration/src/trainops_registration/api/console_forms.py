"""What the registration console's form pages share: how they are routed and documented, how a
submitted form is read, and how a domain error becomes a message next to its field.

A refusal the coordinator can act on (bad input, a state conflict, another region's city)
re-renders the page with the message in the page's language; the rest answer as the API does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from litestar import Request, get, post
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template

from trainops_registration.api.console_texts import TEXTS
from trainops_registration.domain import ParticipantInput
from trainops_registration.domain.participant import (
    normalise_phone,
    validate_age_band,
    validate_city,
    validate_email,
    validate_full_name,
    validate_language,
    validate_organisation,
    validate_sector,
    validate_sex,
)
from trainops_shared.auth import Principal, requires
from trainops_shared.console.pages import page_language, render_console
from trainops_shared.errors import AppError
from trainops_shared.events.vocabulary import Language
from trainops_shared.openapi_docs import error_responses

UNDISCLOSED_WHEN_BLANK: Final = frozenset({"sex", "age_band"})
"""Optional categories: a blank choice means the person did not say."""
PAGE_OPT: Final = {"any_query": True}
"""Pages take ``?lang=`` and whatever a browser appends."""
REGISTRAR_GUARDS: Final = [requires("admin", "coordinator")]
PERSON_FIELDS: Final = (
    "full_name",
    "email",
    "phone",
    "organisation",
    "sector",
    "sex",
    "age_band",
    "city",
    "language",
)
_CHECKS: Final[dict[str, Callable[[str, str], object]]] = {
    "full_name": validate_full_name,
    "email": validate_email,
    "phone": normalise_phone,
    "organisation": validate_organisation,
    "sector": validate_sector,
    "sex": validate_sex,
    "age_band": validate_age_band,
    "city": validate_city,
    "language": validate_language,
}


def page_get(path: str, *, of_one: bool = False) -> HTTPRouteHandler:
    """A registrar's page: 401 without a session, 403 to other roles; the page of one thing
    (``of_one``) answers a "not found" page (404) for what the reader may not see."""
    not_found = error_responses(404, media_type=MediaType.HTML, limited=False) if of_one else {}
    return get(
        path,
        tags=["pages"],
        opt=PAGE_OPT,
        guards=REGISTRAR_GUARDS,
        media_type=MediaType.HTML,
        responses={**error_responses(401, 403), **not_found},
    )


def form_post(path: str, *, page_errors: Sequence[int] = (403, 404, 409, 422)) -> HTTPRouteHandler:
    """A page's form target; the refusals in ``page_errors`` re-render the page."""
    return post(
        path,
        tags=["pages"],
        opt=PAGE_OPT,
        guards=REGISTRAR_GUARDS,
        status_code=200,
        media_type=MediaType.HTML,
        responses={
            **error_responses(401, 413),
            **error_responses(*page_errors, media_type=MediaType.HTML, limited=False),
        },
    )


async def form_values(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    """Every field of an url-encoded form body, each with all its values (checkbox lists)."""
    form = await request.form()
    return {key: [str(v) for v in form.getall(key)] for key in form}


def first(values: Mapping[str, list[str]], name: str) -> str:
    found = values.get(name)
    return found[0] if found else ""


def texts_of(request: Request[Any, Any, Any]) -> tuple[Language, dict[str, str]]:
    lang = page_language(request)
    return lang, TEXTS[lang]


def person_problems(values: Mapping[str, str], texts: Mapping[str, str]) -> dict[str, str]:
    """Every field the participant validation refuses, with the page's message for it."""
    problems: dict[str, str] = {}
    for name, check in _CHECKS.items():
        if name not in values:
            continue
        value = values[name]
        if name in UNDISCLOSED_WHEN_BLANK and not value:
            value = "undisclosed"
        try:
            check(value, name)
        except ValueError:
            problems[name] = texts[f"err_{name}"]
    return problems


def participant_input(values: Mapping[str, str]) -> ParticipantInput:
    return ParticipantInput(
        full_name=values["full_name"],
        sector=values["sector"],
        city=values["city"],
        language=values["language"],
        sex=values["sex"] or "undisclosed",
        age_band=values["age_band"] or "undisclosed",
        email=values["email"] or None,
        phone=values["phone"] or None,
        organisation=values["organisation"] or None,
    )


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def field_of(error: AppError) -> str:
    """The form field a domain error is about (``participant.email`` is the form's ``email``)."""
    return (error.field or "").removeprefix("participant.")


def error_message(error: AppError, texts: Mapping[str, str]) -> str:
    """The page's own sentence for a refusal it knows, else the error's own (English) one."""
    field = field_of(error)
    if error.status == 403 and field == "city":
        return texts["err_city_region"]
    if error.status == 422 and field == "city" and "session takes" in error.detail:
        return texts["err_city_session"]
    if error.status == 422 and f"err_{field}" in texts:
        return texts[f"err_{field}"]
    if error.status == 409:
        known = {
            "participant": "err_already_registered",
            "session.status": "err_session_state",
            "status": "err_registration_state",
            "email": "err_contact_taken",
            "phone": "err_contact_taken",
        }
        if field == "participant" and "already registered" not in error.detail:
            return str(getattr(error, "message", error.detail))
        if field in known:
            return texts[known[field]]
    return str(getattr(error, "message", error.detail))


def not_found_page(
    request: Request[Any, Any, Any], principal: Principal, error: AppError
) -> Template:
    """Another region's, or a missing, thing: a page saying so (404), nothing about it."""
    _, texts = texts_of(request)
    return render_console(
        request,
        principal,
        "registration/not_found.html",
        {"r": texts, "detail": error.detail},
        title=texts["error_title"],
        active="registration",
        status=404,
    )
