"""The programme staff's console: server-rendered pages over the same use cases as the JSON API.

The sessions list and the calendar, the trainings and the trainers; the session forms are in
:mod:`trainops_scheduling.api.console_sessions`, what the pages share in
:mod:`trainops_scheduling.api.console_forms`. Sessions hold no personal data, so every role
reads the pages; only planners change things.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from litestar.response import Template
from litestar.template import TemplateConfig

from trainops_scheduling.api.console_forms import (
    BOARD_LIMIT,
    Actor,
    AnyRequest,
    Catalogue,
    FormRefused,
    Runtime,
    View,
    convert,
    form_field,
    form_target,
    list_value,
    now_utc,
    page,
    run,
    text_value,
    training_title,
)
from trainops_scheduling.api.console_sessions import (
    new_session_page,
    new_session_submit,
    session_change,
    session_page,
)
from trainops_scheduling.api.schemas import (
    DefineTrainingIn,
    RegisterTrainerIn,
    Status,
)
from trainops_scheduling.domain.calendar import Period, calendar_entries
from trainops_scheduling.domain.records import SessionFilter
from trainops_scheduling.domain.session import STATUSES
from trainops_scheduling.handlers import commands, planning, queries
from trainops_shared.console.pages import console_engine
from trainops_shared.errors import AppError
from trainops_shared.service import ServiceRuntime
from trainops_shared.validation import check_text

TEMPLATE_CONFIG: Final = TemplateConfig(
    instance=console_engine(Path(__file__).with_name("templates"))
)
UPCOMING_SHOWN: Final = 500
PAST_SHOWN: Final = 100


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
) -> Template:
    """Every session, upcoming first, each in its city's local time; filter by ``?city=``,
    ``?training_id=`` and ``?status=``. A page's query is read, not declared (like ``?lang=``):
    a filter value that names nothing known is ignored, never an error page."""
    view = View(request, principal, catalogue)
    query = request.query_params
    city, training_id, status = query.get("city"), query.get("training_id"), query.get("status")
    picked_city = city if city in catalogue else None
    picked_status: Status | None = status if status in STATUSES else None
    picked_training = _parse_uuid(training_id)
    flt = SessionFilter(city=picked_city, training_id=picked_training, status=picked_status)
    board, upcoming, past = await runtime.read(
        partial(
            planning.read_home, flt=flt, now=now_utc(), upcoming=UPCOMING_SHOWN, past=PAST_SHOWN
        )
    )
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


@page("/calendar")
async def calendar_page(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
) -> Template:
    """A week (cities × days, ``?view=week``, the default) or month (``?view=month``, weeks ×
    days) of sessions, in each city's local time.

    ``?date=`` picks the period (any day of it, default today in the first city's zone); an
    unreadable date shows today rather than an error page, a bookmark outliving its format.
    """
    shown = "month" if request.query_params.get("view") == "month" else "week"
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
