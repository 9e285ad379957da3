"""The programme staff's console: server-rendered pages over the same use cases as the JSON API.

Every form is a plain POST. A change is shown first (``confirm`` absent): the session as it
would be and any trainer it would double-book, computed by the domain without writing; only
the repeated POST with ``confirm=1`` runs the use case, which checks everything again under
its locks. Refusals re-render the form with the message at the field and change nothing.
Sessions hold no personal data, so every role reads the pages; only planners change things.
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig
from sqlalchemy.engine import Connection

from trainops_scheduling.api.console_texts import TEXTS
from trainops_scheduling.api.schemas import (
    CancelIn,
    CapacityIn,
    DefineTrainingIn,
    RegisterTrainerIn,
    RescheduleIn,
    ScheduleSessionIn,
    Status,
)
from trainops_scheduling.domain import CityCatalogue, Session
from trainops_scheduling.domain.cities import load_zone
from trainops_scheduling.domain.records import SessionFilter
from trainops_scheduling.domain.session import STATUSES
from trainops_scheduling.handlers import commands, planning, queries
from trainops_shared.auth import Principal, requires
from trainops_shared.console.labels import choices
from trainops_shared.console.pages import console_engine, page_language, render_console
from trainops_shared.errors import AppError
from trainops_shared.events.vocabulary import Language
from trainops_shared.openapi_docs import error_responses
from trainops_shared.service import ServiceRuntime
from trainops_shared.validation import check_text

TEMPLATE_CONFIG: Final = TemplateConfig(
    instance=console_engine(Path(__file__).with_name("templates"))
)
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


def page(path: str, *, guards: list[Any] | None = None) -> HTTPRouteHandler:
    """A signed-in page: HTML, any query (``?lang=``), 401/403 as the API answers them."""
    return get(
        path,
        tags=["pages"],
        opt=PAGE_OPT,
        guards=guards or [],
        media_type=MediaType.HTML,
        responses=error_responses(401, 403),
    )


def form_target(path: str) -> HTTPRouteHandler:
    """A page's form target, planners only; refusals re-render the page with the message."""
    return post(
        path,
        tags=["pages"],
        opt=PAGE_OPT,
        guards=WRITERS,
        status_code=200,
        media_type=MediaType.HTML,
        responses={
            **error_responses(401, 403, 413),
            **error_responses(404, 409, 422, media_type=MediaType.HTML, limited=False),
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
    "reason": "reason",
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


# ------------------------------------------------------------------------------------------
# Sessions list and calendar
# ------------------------------------------------------------------------------------------


def _parse_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@page("/")
async def home(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
    city: FromQuery[str | None] = None,
    training_id: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
) -> Template:
    """Every session, upcoming first, each in its city's local time; filter by city, training
    and status. A filter value that names nothing known is ignored, never an error page."""
    view = View(request, principal, catalogue)
    picked_city = city if city in catalogue else None
    picked_status: Status | None = status if status in STATUSES else None  # type: ignore[assignment]
    picked_training = _parse_uuid(training_id)
    flt = SessionFilter(
        city=picked_city, training_id=picked_training, status=picked_status, limit=BOARD_LIMIT
    )
    board = await runtime.read(partial(planning.read_board, flt=flt))
    upcoming, past = planning.upcoming_and_past(board.sessions, now_utc())
    return view.render(
        "scheduling/home.html",
        "home_title",
        board=board,
        upcoming=upcoming,
        past=past,
        filters={
            "city": picked_city or "",
            "training_id": str(picked_training or ""),
            "status": picked_status or "",
        },
        training_choices=[
            (str(t.id), training_title(t, view.lang)) for t in board.trainings.values()
        ],
    )


@dataclass(frozen=True)
class Period:
    """The days a calendar page shows and the links to the periods around it."""

    view: str
    first: date
    days: list[date]
    previous: date
    next: date

    @classmethod
    def of(cls, view: str, day: date) -> Period:
        if view == "month":
            first = day.replace(day=1)
            _, length = calendar.monthrange(first.year, first.month)
            last = first + timedelta(days=length - 1)
            grid_start = first - timedelta(days=first.weekday())
            grid_end = last + timedelta(days=6 - last.weekday())
            days = [grid_start + timedelta(days=i) for i in range((grid_end - grid_start).days + 1)]
            previous = (first - timedelta(days=1)).replace(day=1)
            following = last + timedelta(days=1)
            return cls("month", first, days, previous, following)
        first = day - timedelta(days=day.weekday())
        days = [first + timedelta(days=i) for i in range(7)]
        return cls("week", first, days, first - timedelta(days=7), first + timedelta(days=7))

    @property
    def weeks(self) -> list[list[date]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]


@dataclass(frozen=True)
class Entry:
    """One session on one city's local day."""

    session: Session
    city: str
    starts: datetime
    ends: datetime


def calendar_entries(
    found: list[Session], catalogue: CityCatalogue, days: list[date]
) -> dict[tuple[str, date], list[Entry]]:
    """``{(city, local day): entries}``: a session appears under each of its cities, on the
    day it starts in that city's own zone."""
    shown = set(days)
    cells: dict[tuple[str, date], list[Entry]] = {}
    for session in found:
        for city in session.cities:
            zone = catalogue.zone_of(city) if city in catalogue else UTC
            starts = session.starts_at.astimezone(zone)
            if starts.date() in shown:
                entry = Entry(session, city, starts, session.ends_at.astimezone(zone))
                cells.setdefault((city, starts.date()), []).append(entry)
    return cells


@page("/calendar")
async def calendar_page(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
    view: FromQuery[str | None] = None,
) -> Template:
    """A week (cities × days) or month (weeks × days) of sessions, in each city's local time.

    ``?date=`` picks the period (any day of it, default today in the first city's zone); an
    unreadable date shows today rather than an error page, a bookmark outliving its format.
    """
    shown = "month" if view == "month" else "week"
    raw = request.query_params.get("date")
    today = now_utc().astimezone(catalogue.zone_of(catalogue.codes[0])).date()
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        day = today
    period = Period.of(shown, day)
    # A day late and early in UTC: every zone's local days are inside the query.
    start = datetime.combine(period.days[0], datetime.min.time(), UTC) - timedelta(days=1)
    end = datetime.combine(period.days[-1], datetime.min.time(), UTC) + timedelta(days=2)
    flt = SessionFilter(starts_from=start, starts_before=end, limit=BOARD_LIMIT)
    board = await runtime.read(partial(planning.read_board, flt=flt))
    cells = calendar_entries(board.sessions, catalogue, period.days)

    def link(target_view: str, target: date) -> str:
        return "/calendar?" + urlencode({"view": target_view, "date": target.isoformat()})

    return View(request, principal, catalogue).render(
        "scheduling/calendar.html",
        "calendar_title",
        board=board,
        period=period,
        cells=cells,
        today=today,
        cities=[c.code for c in catalogue],
        links={
            "previous": link(shown, period.previous),
            "next": link(shown, period.next),
            "today": link(shown, today),
            "week": link("week", day),
            "month": link("month", day),
        },
    )


# ------------------------------------------------------------------------------------------
# Trainings and trainers
# ------------------------------------------------------------------------------------------


async def _trainings_page(
    view: View, runtime: ServiceRuntime, status: int = 200, **context: Any
) -> Template:
    found = await runtime.read(queries.list_trainings)
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return view.render(
        "scheduling/trainings.html", "trainings_title", status, trainings=found, **context
    )


@page("/programme/trainings")
async def trainings_page(
    request: AnyRequest, principal: Actor, runtime: Runtime, catalogue: Catalogue
) -> Template:
    """Every training by code; planners also get the form to add one."""
    return await _trainings_page(View(request, principal, catalogue), runtime)


@form_target("/programme/trainings")
async def trainings_add(
    request: AnyRequest, principal: Actor, runtime: Runtime, catalogue: Catalogue
) -> Template:
    """Add a training from the page (the use case of ``POST /trainings``)."""
    view = View(request, principal, catalogue)
    form = await request.form()
    values = {name: text_value(form, name) for name in ("code", "title_kk", "title_ru", "title_en")}
    sectors = list_value(form, "target_sectors")
    try:
        title = {
            lang: values[f"title_{lang}"] for lang in ("en", "ru", "kk") if values[f"title_{lang}"]
        }
        data = convert(
            {"code": values["code"], "title": title, "target_sectors": sectors},
            DefineTrainingIn,
            view.texts["required"],
        )
        for lang, text in data.title.as_dict().items():
            try:
                check_text(text, f"title.{lang}")
            except AppError as exc:
                raise FormRefused(exc.status, form_field(exc.field), exc.detail) from None
        await run(
            lambda: runtime.write(
                partial(
                    commands.define_training,
                    actor=principal,
                    code=data.code,
                    title=data.title.as_dict(),
                    target_sectors=data.target_sectors,
                )
            )
        )
    except FormRefused as refused:
        return await _trainings_page(
            view,
            runtime,
            refused.status,
            values={**values, "target_sectors": sectors},
            errors={refused.field or "code": refused.message},
        )
    return await _trainings_page(view, runtime, notice=view.texts["saved"])


async def _trainers_page(
    view: View, runtime: ServiceRuntime, status: int = 200, **context: Any
) -> Template:
    found = await runtime.read(queries.list_trainers)
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return view.render(
        "scheduling/trainers.html", "trainers_title", status, trainers=found, **context
    )


@page("/programme/trainers")
async def trainers_page(
    request: AnyRequest, principal: Actor, runtime: Runtime, catalogue: Catalogue
) -> Template:
    """Every trainer by name; planners also get the form to add one."""
    return await _trainers_page(View(request, principal, catalogue), runtime)


@form_target("/programme/trainers")
async def trainers_add(
    request: AnyRequest, principal: Actor, runtime: Runtime, catalogue: Catalogue
) -> Template:
    """Add a trainer from the page (the use case of ``POST /trainers``)."""
    view = View(request, principal, catalogue)
    form = await request.form()
    values = {name: text_value(form, name) for name in ("name", "home_city")}
    try:
        data = convert(values, RegisterTrainerIn, view.texts["required"])
        for name in ("name", "home_city"):
            try:
                check_text(getattr(data, name), name)
            except AppError as exc:
                raise FormRefused(exc.status, name, exc.detail) from None
        await run(
            lambda: runtime.write(
                partial(
                    commands.register_trainer,
                    actor=principal,
                    name=data.name,
                    home_city=data.home_city,
                )
            )
        )
    except FormRefused as refused:
        return await _trainers_page(
            view,
            runtime,
            refused.status,
            values=values,
            errors={refused.field or "name": refused.message},
        )
    return await _trainers_page(view, runtime, notice=view.texts["saved"])


# ------------------------------------------------------------------------------------------
# A new session
# ------------------------------------------------------------------------------------------


async def _new_page(
    view: View, runtime: ServiceRuntime, status: int = 200, **context: Any
) -> Template:
    board = await runtime.read(partial(planning.read_board, flt=SessionFilter(limit=1)))
    context.setdefault("values", {"cities": [], "trainer_ids": [], "mode": "in_person"})
    context.setdefault("errors", {})
    context.setdefault("preview", None)
    context.setdefault("action", "")
    return view.render(
        "scheduling/new.html",
        "new_title",
        status,
        training_options=[
            (str(t.id), training_title(t, view.lang)) for t in board.trainings.values()
        ],
        trainer_options=[(str(t.id), f"{t.name} ({t.home_city})") for t in board.trainers.values()],
        **context,
    )


@page("/programme/sessions/new", guards=WRITERS)
async def new_session_page(
    request: AnyRequest, principal: Actor, runtime: Runtime, catalogue: Catalogue
) -> Template:
    """The form to schedule a session: training, mode, cities, local times, seats, trainers."""
    return await _new_page(View(request, principal, catalogue), runtime)


SESSION_TEXT_FIELDS: Final = ("training_id", "mode", "starts_at", "ends_at", "capacity", "language")


@form_target("/programme/sessions/new")
async def new_session_submit(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
    max_capacity: MaxCapacity,
) -> Template | Redirect:
    """Preview the session (its trainer clashes), or with ``confirm=1`` schedule it."""
    view = View(request, principal, catalogue)
    form = await request.form()
    values: dict[str, Any] = {name: text_value(form, name) for name in SESSION_TEXT_FIELDS}
    values["venue"] = text_value(form, "venue")
    values["cities"] = list_value(form, "cities")
    values["trainer_ids"] = list_value(form, "trainer_ids")
    try:
        data = convert(
            {
                **{k: v for k, v in values.items() if v not in ("", [])},
                "cities": values["cities"],
                "trainer_ids": values["trainer_ids"],
            },
            ScheduleSessionIn,
            view.texts["required"],
        )
        if data.venue is not None:
            try:
                check_text(data.venue, "venue")
            except AppError as exc:
                raise FormRefused(exc.status, "venue", exc.detail) from None
        arguments: dict[str, Any] = {
            "catalogue": catalogue,
            "training_id": data.training_id,
            "mode": data.mode,
            "cities": data.cities,
            "starts_at": data.starts_at,
            "ends_at": data.ends_at,
            "capacity": data.capacity,
            "language": data.language,
            "trainer_ids": data.trainer_ids,
            "venue": data.venue,
            "max_capacity": max_capacity,
        }
        preview = await run(lambda: runtime.read(partial(planning.preview_schedule, **arguments)))
        if preview.clashes:
            return await _new_page(
                view,
                runtime,
                409,
                values=values,
                preview=preview,
                errors={"trainer_ids": view.texts["clash"]},
            )
        if not confirmed(form):
            return await _new_page(view, runtime, values=values, preview=preview)
        session = await run(
            lambda: runtime.write(
                partial(
                    commands.schedule_session,
                    actor=principal,
                    timezone=catalogue.timezone_of(data.cities[0]),
                    **arguments,
                )
            )
        )
    except FormRefused as refused:
        return await _new_page(
            view,
            runtime,
            refused.status,
            values=values,
            errors={refused.field or "training_id": refused.message},
        )
    return Redirect(f"/programme/sessions/{session.id}?saved=1", status_code=303)


# ------------------------------------------------------------------------------------------
# One session and its changes
# ------------------------------------------------------------------------------------------


async def _session_page(
    view: View, runtime: ServiceRuntime, session_id: uuid.UUID, status: int = 200, **context: Any
) -> Template:
    board = await runtime.read(partial(planning.read_session, session_id=session_id))
    context.setdefault("values", {})
    context.setdefault("errors", {})
    context.setdefault("preview", None)
    context.setdefault("action", "")
    return view.render(
        "scheduling/session.html",
        "session_title",
        status,
        board=board,
        session=board.sessions[0],
        **context,
    )


@page("/programme/sessions/{session_id:uuid}")
async def session_page(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
    session_id: FromPath[uuid.UUID],
    saved: FromQuery[str | None] = None,
) -> Template:
    """One session in each of its cities' local time; planners get the change forms."""
    view = View(request, principal, catalogue)
    return await _session_page(
        view, runtime, session_id, notice=view.texts["saved"] if saved else ""
    )


def _local_input(instant: datetime, zone: str) -> str:
    return instant.astimezone(load_zone(zone)).strftime("%Y-%m-%d %H:%M")


def _preview_step(
    action: str, session_id: uuid.UUID, form: FormMultiDict, max_capacity: int, required: str
) -> tuple[dict[str, str], Callable[[Connection], planning.Preview], Callable[..., Session]]:
    """For one change: the form's values, its preview and its use case (arguments bound)."""
    if action == "reschedule":
        values = {name: text_value(form, name) for name in ("starts_at", "ends_at")}
        moved = convert(values, RescheduleIn, required)
        starts, ends = moved.starts_at, moved.ends_at
        return (
            values,
            partial(
                planning.preview_reschedule, session_id=session_id, starts_at=starts, ends_at=ends
            ),
            partial(
                commands.reschedule_session, session_id=session_id, starts_at=starts, ends_at=ends
            ),
        )
    if action == "capacity":
        values = {"capacity": text_value(form, "capacity")}
        seats = convert(values, CapacityIn, required).capacity
        return (
            values,
            partial(
                planning.preview_capacity,
                session_id=session_id,
                capacity=seats,
                max_capacity=max_capacity,
            ),
            partial(
                commands.change_capacity,
                session_id=session_id,
                capacity=seats,
                max_capacity=max_capacity,
            ),
        )
    if action == "cancel":
        values = {"reason": text_value(form, "reason")}
        reason = convert(values, CancelIn, required).reason
        try:
            check_text(reason, "reason", multiline=True)
        except AppError as exc:
            raise FormRefused(exc.status, "reason", exc.detail) from None
        return (
            values,
            partial(planning.preview_cancel, session_id=session_id, reason=reason),
            partial(commands.cancel_session, session_id=session_id, reason=reason),
        )
    if action == "complete":
        return (
            {},
            partial(planning.preview_complete, session_id=session_id),
            partial(commands.complete_session, session_id=session_id),
        )
    raise FormRefused(422, "", f"action: one of {', '.join(SESSION_ACTIONS)}")


@form_target("/programme/sessions/{session_id:uuid}")
async def session_change(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
    max_capacity: MaxCapacity,
    session_id: FromPath[uuid.UUID],
) -> Template | Redirect:
    """Reschedule, change the capacity of, cancel or complete a session: first the preview
    (the trainer clash, the change spelled out), then with ``confirm=1`` the change."""
    view = View(request, principal, catalogue)
    # 404 for a session that does not exist, before anything of the form is looked at.
    await runtime.read(partial(planning.read_session, session_id=session_id))
    form = await request.form()
    action = text_value(form, "action")
    values: dict[str, str] = {}
    try:
        values, preview_fn, change_fn = _preview_step(
            action, session_id, form, max_capacity, view.texts["required"]
        )
        preview = await run(lambda: runtime.read(preview_fn))
        if preview.clashes:
            return await _session_page(
                view,
                runtime,
                session_id,
                409,
                action=action,
                values=values,
                preview=preview,
                errors={"starts_at": view.texts["clash"]},
            )
        if not confirmed(form):
            return await _session_page(
                view, runtime, session_id, action=action, values=values, preview=preview
            )
        await run(lambda: runtime.write(partial(change_fn, actor=principal)))
    except FormRefused as refused:
        return await _session_page(
            view,
            runtime,
            session_id,
            refused.status,
            action=action,
            values=values,
            errors={refused.field or "action": refused.message},
        )
    return Redirect(f"/programme/sessions/{session_id}?saved=1", status_code=303)


CONSOLE_ROUTES = [
    home,
    calendar_page,
    trainings_page,
    trainings_add,
    trainers_page,
    trainers_add,
    new_session_page,
    new_session_submit,
    session_page,
    session_change,
]
