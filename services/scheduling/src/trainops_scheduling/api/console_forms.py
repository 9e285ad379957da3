"""What the programme staff's pages share: how a page and a form target are routed, how form
values pass the JSON API's own schemas and use cases, and how a refusal finds its field.

Every form is a plain POST. A change is shown first (``confirm`` absent): the session as it
would be and any trainer it would double-book, computed by the domain without writing; only
the repeated POST with ``confirm=1`` runs the use case, which checks everything again under
its locks. Refusals re-render the form with the message at the field and change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import msgspec
from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.response import Template

from trainops_scheduling.api.console_texts import TEXTS
from trainops_scheduling.domain import CityCatalogue
from trainops_scheduling.domain.cities import load_zone
from trainops_scheduling.domain.quotas import quota_text
from trainops_scheduling.domain.session import STATUSES
from trainops_shared.auth import Principal, requires
from trainops_shared.console.labels import choices
from trainops_shared.console.pages import page_language, render_console
from trainops_shared.errors import AppError
from trainops_shared.events.vocabulary import Language
from trainops_shared.openapi_docs import error_responses
from trainops_shared.service import ServiceRuntime

PLANNERS: Final = frozenset({"admin", "programme_staff"})
WRITERS: Final = [requires("programme_staff", "admin")]
PAGE_OPT: Final = {"any_query": True}
BOARD_LIMIT: Final = 1000
SESSION_ACTIONS: Final = ("reschedule", "capacity", "cancel", "complete")

Runtime = NamedDependency[ServiceRuntime]
Actor = NamedDependency[Principal]
Catalogue = NamedDependency[CityCatalogue]
MaxCapacity = NamedDependency[int]
AnyRequest = Request[Any, Any, Any]
T = TypeVar("T")


def page(
    path: str, *, guards: list[Any] | None = None, not_found: bool = False
) -> HTTPRouteHandler:
    """A signed-in page: HTML, any query (``?lang=``), 401/403 (and, for a page of one thing,
    404) as the API answers them."""
    return get(
        path,
        tags=["pages"],
        opt=PAGE_OPT,
        guards=guards or [],
        media_type=MediaType.HTML,
        responses=error_responses(401, 403, *((404,) if not_found else ())),
    )


def form_target(path: str, *, of_one: bool = False, redirects: bool = False) -> HTTPRouteHandler:
    """A page's form target, planners only: refusals (409, 422) re-render the page with the
    message; a target of one thing (``of_one``) answers 404 as the API does; one that
    ``redirects`` sends the browser on (303) to the page of what it saved."""
    saved = {303: ResponseSpec(None, description="Saved: see the page it names")}
    return post(
        path,
        tags=["pages"],
        opt=PAGE_OPT,
        guards=WRITERS,
        status_code=200,
        media_type=MediaType.HTML,
        responses={
            **(saved if redirects else {}),
            **error_responses(401, 403, 413, *((404,) if of_one else ())),
            **error_responses(409, 422, media_type=MediaType.HTML, limited=False),
        },
    )


# ------------------------------------------------------------------------------------------
# Form values and their errors
# ------------------------------------------------------------------------------------------


class FormRefused(Exception):
    """A form value the JSON schema or the domain refused, with the form field it belongs to."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


FORM_FIELDS: Final = {
    "training_id": "training_id",
    "mode": "mode",
    "cities": "cities",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "capacity": "capacity",
    "language": "language",
    "trainer_ids": "trainer_ids",
    "venue": "venue",
    "quotas": "quotas",
    "reason": "reason",
    "alternative_session_id": "alternative_session_id",
    "code": "code",
    "title": "title_en",
    "title.en": "title_en",
    "title.ru": "title_ru",
    "title.kk": "title_kk",
    "target_sectors": "target_sectors",
    "name": "name",
    "home_city": "home_city",
    "interval": "ends_at",
}


MISSING_FIELD: Final = re.compile(r"missing required field `([^`]+)`")


def form_field(api_field: str | None) -> str:
    """The form control an API field name (``cities[0]``, ``title.ru``) belongs to; ``""``
    for a refusal about the whole thing (a session's status)."""
    if not api_field:
        return ""
    if api_field in FORM_FIELDS:
        return FORM_FIELDS[api_field]
    return FORM_FIELDS.get(api_field.split("[", 1)[0].split(".", 1)[0], "")


def convert(data: Mapping[str, Any], schema: type[T], required: str) -> T:
    """The form's values through the JSON API's own body schema (same limits, same names)."""
    try:
        return msgspec.convert(data, schema, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        at = text.rsplit(" - at `$.", 1)
        path = at[1].rstrip("`") if len(at) == 2 else ""
        missing = MISSING_FIELD.search(text)
        if missing is not None:
            inner = f"{path}.{missing.group(1)}" if path else missing.group(1)
            raise FormRefused(422, form_field(inner), required) from None
        raise FormRefused(422, form_field(path), at[0]) from None


async def run(step: Callable[[], Any]) -> Any:
    """Await one use case, turning its refusal into a :class:`FormRefused`."""
    try:
        return await step()
    except AppError as exc:
        message = getattr(exc, "message", exc.detail)
        raise FormRefused(exc.status, form_field(exc.field), message) from None


def text_value(form: FormMultiDict, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def list_value(form: FormMultiDict, name: str) -> list[str]:
    return [v.strip() for v in form.getall(name, []) if isinstance(v, str) and v.strip()]


def confirmed(form: FormMultiDict) -> bool:
    return text_value(form, "confirm") == "1"


# ------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """What every page of this console shares: language, words, who may change things."""

    request: AnyRequest
    principal: Principal
    catalogue: CityCatalogue

    @property
    def lang(self) -> Language:
        return page_language(self.request)

    @property
    def texts(self) -> dict[str, str]:
        return TEXTS[self.lang]

    def render(self, template: str, title_key: str, status: int = 200, **context: Any) -> Template:
        lang = self.lang
        base = {
            "r": self.texts,
            "planner": self.principal.role in PLANNERS,
            "city_choices": [(c.code, c.display_name(lang)) for c in self.catalogue],
            "city_name": lambda code: (
                self.catalogue.display_name(code, lang) if code in self.catalogue else code
            ),
            "city_zone": lambda code: (
                self.catalogue.timezone_of(code) if code in self.catalogue else "UTC"
            ),
            "mode_choices": choices("mode", lang),
            "language_choices": choices("language", lang),
            "status_choices": [(s, w) for s, w in choices("status", lang) if s in STATUSES],
            "sector_choices": choices("sector", lang),
            "training_title": training_title,
            "local_input": _local_input,
            "quota_text": quota_text,
        }
        return render_console(
            self.request,
            self.principal,
            template,
            {**base, **context},
            title=self.texts[title_key],
            active="scheduling",
            status=status,
        )


def training_title(training: Any, lang: str) -> str:
    """A training's title in ``lang``, else English, else its code."""
    if training is None:
        return ""
    title: dict[str, str] = training.title
    return title.get(lang) or title.get("en") or training.code


def now_utc() -> datetime:
    return datetime.now(UTC)


def _local_input(instant: datetime, zone: str) -> str:
    return instant.astimezone(load_zone(zone)).strftime("%Y-%m-%d %H:%M")
