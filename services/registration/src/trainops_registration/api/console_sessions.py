"""The console's page of one session: who holds a seat, the waiting list in its order, and the
attendance checklist (many people marked at once, or un-marked again).

A coordinator sees a session that takes people of their region, and in it only their region's
registrations; a session of other regions only does not exist for them (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from trainops_registration.api.console_forms import (
    error_message,
    form_post,
    form_values,
    not_found_page,
    page_get,
    parse_uuid,
    texts_of,
)
from trainops_registration.api.console_move_texts import MOVE_TEXTS
from trainops_registration.handlers.moving import move_registrations, read_move_choices
from trainops_registration.handlers.sessions import read_session_roster, record_session_attendance
from trainops_shared.auth import Principal
from trainops_shared.console.pages import render_console
from trainops_shared.errors import AppError, NotFound
from trainops_shared.events import uuid7
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]
Caller = NamedDependency[Principal]
SessionId = FromPath[uuid.UUID]
ATTENDED = {"true": True, "false": False}


async def _session_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    session_id: uuid.UUID,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> Template:
    lang, texts = texts_of(request)
    try:
        roster = await runtime.read(
            partial(read_session_roster, session_id=session_id, principal=principal)
        )
        moving = await runtime.read(
            partial(
                read_move_choices,
                session_id=session_id,
                principal=principal,
                now=datetime.now(UTC),
            )
        )
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    return render_console(
        request,
        principal,
        "registration/session.html",
        {
            "r": texts,
            "roster": roster,
            "notice": notice,
            "problem": problem,
            "moving": moving,
            "mv": MOVE_TEXTS[lang],
        },
        title=texts["session_title"],
        active="registration",
        status=status,
    )


@page_get("/sessions/{session_id:uuid}", of_one=True)
async def session_page(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    session_id: SessionId,
) -> Template:
    """The session's confirmed people with the attendance checklist, and its waiting list."""
    return await _session_page(request, principal, runtime, session_id)


def _ticked(submitted: dict[str, list[str]]) -> list[uuid.UUID] | None:
    """The ticked registrations; ``None`` when none is, or one is not an id."""
    chosen = [parse_uuid(v) for v in submitted.get("registration_id", [])]
    ids = [c for c in chosen if c is not None]
    return ids if ids and len(ids) == len(chosen) else None


async def _change_then_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    session_id: uuid.UUID,
    change: Callable[[Any], Sequence[object]],
    notice: str,
) -> Template:
    """Run ``change`` (one transaction) and show the session again: with ``notice`` (its
    ``{count}`` the number changed), the refusal next to the form, or the "not found" page."""
    _, texts = texts_of(request)
    try:
        done = await runtime.write(change)
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    except AppError as exc:
        return await _session_page(
            request,
            principal,
            runtime,
            session_id,
            problem=error_message(exc, texts),
            status=exc.status,
        )
    return await _session_page(
        request, principal, runtime, session_id, notice=notice.format(count=len(done))
    )


@form_post("/sessions/{session_id:uuid}/attendance")
async def mark_attendance(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    session_id: SessionId,
) -> Template:
    """Record attended (or not attended, to undo) for every ticked person, all or none."""
    _, texts = texts_of(request)
    submitted = await form_values(request)
    ids = _ticked(submitted)
    answer = ATTENDED.get((submitted.get("attended") or [""])[0])
    if ids is None or answer is None:
        return await _session_page(
            request,
            principal,
            runtime,
            session_id,
            problem=texts["choose_someone"],
            status=422,
        )
    change = partial(
        record_session_attendance,
        session_id=session_id,
        registration_ids=ids,
        attended=answer,
        principal=principal,
        correlation_id=uuid7(),
    )
    return await _change_then_page(
        request, principal, runtime, session_id, change, texts["attendance_saved"]
    )


@form_post("/sessions/{session_id:uuid}/move-people")
async def move_people_form(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    session_id: SessionId,
) -> Template:
    """Move the ticked people of this cancelled or full session to the chosen one."""
    lang, _ = texts_of(request)
    submitted = await form_values(request)
    ids = _ticked(submitted)
    target = parse_uuid((submitted.get("to_session_id") or [""])[0])
    if ids is None or target is None:
        return await _session_page(
            request, principal, runtime, session_id, problem=MOVE_TEXTS[lang]["choose"], status=422
        )
    change = partial(
        move_registrations,
        from_session_id=session_id,
        to_session_id=target,
        registration_ids=ids,
        principal=principal,
        correlation_id=uuid7(),
    )
    return await _change_then_page(
        request, principal, runtime, session_id, change, MOVE_TEXTS[lang]["moved"]
    )


SESSION_PAGES = [session_page, mark_attendance, move_people_form]
