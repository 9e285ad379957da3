"""The planners' session pages: a new session, and one session with its changes, each
previewed (trainer clashes, people affected) before it is saved."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection

from trainops_scheduling.api.console_forms import (
    SESSION_ACTIONS,
    WRITERS,
    Actor,
    AnyRequest,
    Catalogue,
    FormRefused,
    MaxCapacity,
    Runtime,
    View,
    confirmed,
    convert,
    form_target,
    list_value,
    now_utc,
    page,
    run,
    text_value,
    training_title,
)
from trainops_scheduling.api.controllers import Travel
from trainops_scheduling.api.schemas import (
    CancelIn,
    CapacityIn,
    RescheduleIn,
    ScheduleSessionIn,
)
from trainops_scheduling.domain import InvalidField, Session, TravelTimes
from trainops_scheduling.domain.quotas import parse_quota_text
from trainops_scheduling.domain.records import SessionFilter
from trainops_scheduling.handlers import commands, planning
from trainops_shared.console.labels import label
from trainops_shared.console.pages import local_time
from trainops_shared.errors import AppError
from trainops_shared.events import SeatQuota
from trainops_shared.service import ServiceRuntime
from trainops_shared.validation import check_text

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


@form_target("/programme/sessions/new", redirects=True)
async def new_session_submit(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
    max_capacity: MaxCapacity,
    travel: Travel,
) -> Template | Redirect:
    """Preview the session (its trainer clashes), or with ``confirm=1`` schedule it."""
    view = View(request, principal, catalogue)
    form = await request.form()
    values: dict[str, Any] = {name: text_value(form, name) for name in SESSION_TEXT_FIELDS}
    values["venue"] = text_value(form, "venue")
    values["quotas"] = text_value(form, "quotas")
    values["cities"] = list_value(form, "cities")
    values["trainer_ids"] = list_value(form, "trainer_ids")
    try:
        data = convert(
            {
                **{k: v for k, v in values.items() if v not in ("", []) and k != "quotas"},
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
            "travel": travel,
            "quotas": _quotas(values["quotas"], data.cities),
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
    session = board.sessions[0]
    alternatives = (
        await runtime.read(partial(planning.cancel_alternatives, session=session, now=now_utc()))
        if session.status == "scheduled"
        else []
    )
    context.setdefault("values", {})
    context.setdefault("errors", {})
    context.setdefault("preview", None)
    context.setdefault("action", "")
    return view.render(
        "scheduling/session.html",
        "session_title",
        status,
        board=board,
        session=session,
        alternative_options=[(str(s.id), _session_label(view, s)) for s in alternatives],
        **context,
    )


def _session_label(view: View, session: Session) -> str:
    """An alternative as a planner tells sessions of one training apart: when, where, how."""
    cities = ", ".join(view.catalogue.display_name(c, view.lang) for c in session.cities)
    mode = label("mode", session.mode, view.lang)
    return f"{local_time(session.starts_at, session.timezone, view.lang)} — {cities} ({mode})"


@page("/programme/sessions/{session_id:uuid}", not_found=True)
async def session_page(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
    session_id: FromPath[uuid.UUID],
) -> Template:
    """One session in each of its cities' local time; planners get the change forms
    (``?saved=1``, where a change lands, says it was saved)."""
    view = View(request, principal, catalogue)
    saved = request.query_params.get("saved") == "1"
    return await _session_page(
        view, runtime, session_id, notice=view.texts["saved"] if saved else ""
    )


def _quotas(text: str, cities: list[str]) -> list[SeatQuota]:
    """The quota field's one line read as the API's list (422 on the field otherwise)."""
    try:
        return parse_quota_text(text, cities)
    except InvalidField as exc:
        raise FormRefused(exc.status, "quotas", exc.message) from None


def _preview_step(
    action: str,
    session: Session,
    form: FormMultiDict,
    max_capacity: int,
    travel: TravelTimes,
    required: str,
) -> tuple[dict[str, str], Callable[[Connection], planning.Preview], Callable[..., Session]]:
    """For one change: the form's values, its preview and its use case (arguments bound)."""
    session_id = session.id
    if action == "reschedule":
        values = {name: text_value(form, name) for name in ("starts_at", "ends_at")}
        moved = convert(values, RescheduleIn, required)
        starts, ends = moved.starts_at, moved.ends_at
        return (
            values,
            partial(
                planning.preview_reschedule,
                session_id=session_id,
                starts_at=starts,
                ends_at=ends,
                travel=travel,
            ),
            partial(
                commands.reschedule_session,
                session_id=session_id,
                starts_at=starts,
                ends_at=ends,
                travel=travel,
            ),
        )
    if action == "capacity":
        values = {"capacity": text_value(form, "capacity"), "quotas": text_value(form, "quotas")}
        seats = convert({"capacity": values["capacity"]}, CapacityIn, required).capacity
        quotas = _quotas(values["quotas"], list(session.cities))
        return (
            values,
            partial(
                planning.preview_capacity,
                session_id=session_id,
                capacity=seats,
                max_capacity=max_capacity,
                quotas=quotas,
            ),
            partial(
                commands.change_capacity,
                session_id=session_id,
                capacity=seats,
                max_capacity=max_capacity,
                quotas=quotas,
            ),
        )
    if action == "cancel":
        values = {
            "reason": text_value(form, "reason"),
            "alternative_session_id": text_value(form, "alternative_session_id"),
        }
        cancel = convert({k: v for k, v in values.items() if v}, CancelIn, required)
        try:
            check_text(cancel.reason, "reason", multiline=True)
        except AppError as exc:
            raise FormRefused(exc.status, "reason", exc.detail) from None
        reason, alternative = cancel.reason, cancel.alternative_session_id
        return (
            values,
            partial(
                planning.preview_cancel,
                session_id=session_id,
                reason=reason,
                alternative_session_id=alternative,
                now=now_utc(),
            ),
            partial(
                commands.cancel_session,
                session_id=session_id,
                reason=reason,
                alternative_session_id=alternative,
            ),
        )
    if action == "complete":
        return (
            {},
            partial(planning.preview_complete, session_id=session_id),
            partial(commands.complete_session, session_id=session_id),
        )
    raise FormRefused(422, "", f"action: one of {', '.join(SESSION_ACTIONS)}")


@form_target("/programme/sessions/{session_id:uuid}", of_one=True, redirects=True)
async def session_change(
    request: AnyRequest,
    principal: Actor,
    runtime: Runtime,
    catalogue: Catalogue,
    max_capacity: MaxCapacity,
    travel: Travel,
    session_id: FromPath[uuid.UUID],
) -> Template | Redirect:
    """Reschedule, change the capacity of, cancel or complete a session: first the preview
    (the trainer clash, the change spelled out), then with ``confirm=1`` the change."""
    view = View(request, principal, catalogue)
    # 404 for a session that does not exist, before anything of the form is looked at.
    board = await runtime.read(partial(planning.read_session, session_id=session_id))
    form = await request.form()
    action = text_value(form, "action")
    values: dict[str, str] = {}
    try:
        values, preview_fn, change_fn = _preview_step(
            action, board.sessions[0], form, max_capacity, travel, view.texts["required"]
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
