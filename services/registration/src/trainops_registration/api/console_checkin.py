"""Check-in pages: the printable attendance list with each confirmed person's QR code, and the
page a scanned code opens on the coordinator's phone, whose button records attendance; for an
online session, each person's join link instead, which records presence and leads on to the
meeting.

Scanning needs nothing but the phone's camera: the QR holds the address of the check-in page,
which the phone opens in the browser the coordinator is signed in with. The button (a CSRF-
protected form) records; merely opening the page changes nothing. A join link is the
participant's own (no account): following it is what "I am here" means online.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import segno
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup, escape

from trainops_registration.api.console_forms import (
    error_message,
    form_post,
    form_values,
    not_found_page,
    page_get,
    texts_of,
)
from trainops_registration.api.console_texts import TEXTS
from trainops_registration.handlers.checkin import (
    CHECKIN_PATH,
    JOIN_PATH,
    CheckIn,
    check_in,
    checkin_tokens,
    join,
    read_attendance_sheet,
    read_checkin,
    set_meeting,
)
from trainops_shared.auth import Principal
from trainops_shared.console.pages import page_language, render_console
from trainops_shared.errors import AppError, NotFound
from trainops_shared.events import uuid7
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]
Caller = NamedDependency[Principal]


def qr_svg(url: str, title: str) -> Markup:
    """The QR code of ``url`` as inline SVG (no image file, no script), titled for readers."""
    return Markup(segno.make(url, error="m").svg_inline(scale=3, title=title))


async def _sheet_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    session_id: uuid.UUID,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> Template:
    _, texts = texts_of(request)
    tokens = checkin_tokens(runtime.settings.registration_link_key)
    try:
        sheet = await runtime.write(
            partial(
                read_attendance_sheet,
                session_id=session_id,
                principal=principal,
                tokens=tokens,
                now=datetime.now(UTC),
            )
        )
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    public = runtime.settings.public_url
    online = sheet.roster.session.mode == "online"
    path = JOIN_PATH if online else CHECKIN_PATH
    links = {rid: f"{public}{path}{code}" for rid, code in sheet.codes.items()}
    title = texts["join_qr"] if online else texts["checkin_qr"]
    return render_console(
        request,
        principal,
        "registration/attendance_sheet.html",
        {
            "r": texts,
            "roster": sheet.roster,
            "online": online,
            "links": links,
            "codes": {rid: qr_svg(link, title) for rid, link in links.items()},
            "meeting_url": sheet.meeting_url,
            "notice": notice,
            "problem": problem,
        },
        title=texts["sheet_title"],
        active="registration",
        status=status,
    )


@page_get("/sessions/{session_id:uuid}/attendance-sheet", of_one=True)
async def attendance_sheet(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    session_id: FromPath[uuid.UUID],
) -> Template:
    """The printable attendance list: each confirmed person with their check-in QR code (an
    online session: their personal join link, and the form of the meeting address)."""
    return await _sheet_page(request, principal, runtime, session_id)


@form_post("/sessions/{session_id:uuid}/meeting")
async def meeting_submit(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    session_id: FromPath[uuid.UUID],
) -> Template:
    """Set the meeting address an online session's join links lead to."""
    _, texts = texts_of(request)
    url = (((await form_values(request)).get("meeting_url")) or [""])[0]
    try:
        await runtime.write(
            partial(
                set_meeting,
                session_id=session_id,
                url=url,
                principal=principal,
                now=datetime.now(UTC),
            )
        )
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    except AppError as exc:
        return await _sheet_page(
            request,
            principal,
            runtime,
            session_id,
            problem=error_message(exc, texts),
            status=exc.status,
        )
    return await _sheet_page(request, principal, runtime, session_id, notice=texts["meeting_saved"])


def _checkin_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    found: CheckIn,
    code: str,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> Template:
    _, texts = texts_of(request)
    return render_console(
        request,
        principal,
        "registration/checkin.html",
        {"r": texts, "found": found, "code": code, "notice": notice, "problem": problem},
        title=texts["checkin_title"],
        active="registration",
        status=status,
    )


@page_get("/checkin/{code:str}", of_one=True)
async def checkin_page(
    request: Request[Any, Any, Any], principal: Caller, runtime: Runtime, code: FromPath[str]
) -> Template:
    """What a scanned code opens: who it is, for which session, and the check-in button."""
    try:
        found = await runtime.read(partial(read_checkin, code=code, principal=principal))
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    return _checkin_page(request, principal, found, code)


@form_post("/checkin/{code:str}")
async def checkin_submit(
    request: Request[Any, Any, Any], principal: Caller, runtime: Runtime, code: FromPath[str]
) -> Template:
    """Record the person as attended (once: a second scan records nothing new)."""
    _, texts = texts_of(request)
    try:
        found = await runtime.write(
            partial(check_in, code=code, principal=principal, correlation_id=uuid7())
        )
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    except AppError as exc:
        current = await runtime.read(partial(read_checkin, code=code, principal=principal))
        return _checkin_page(
            request,
            principal,
            current,
            code,
            problem=error_message(exc, texts),
            status=exc.status,
        )
    return _checkin_page(request, principal, found, code, notice=texts["checked_in"])


def _join_problem(request: Request[Any, Any, Any], key: str, status: int) -> Response[str]:
    """A participant's page without the console (they have no account): one sentence."""
    lang = page_language(request)
    sentence = escape(TEXTS[lang][key])
    return Response(
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{sentence}</title></head><body><main><p>{sentence}</p></main></body></html>",
        status_code=status,
        media_type=MediaType.HTML,
    )


@get(
    "/join/{code:str}",
    tags=["participant pages"],
    summary="A participant's join link of an online session: records presence, then redirects",
    media_type=MediaType.HTML,
    status_code=303,
    operation_class=operation_class(public=True),
    responses=error_responses(404, 409, media_type=MediaType.HTML),
    opt={"any_query": True},
)
async def join_link(
    request: Request[Any, Any, Any], runtime: Runtime, code: FromPath[str]
) -> Redirect | Response[str]:
    """303 to the meeting address, the participant's presence recorded the first time; 404
    for an unknown link, 409 while the link cannot be used (no meeting address yet, the
    registration or session no longer on)."""
    try:
        address, _ = await runtime.write(partial(join, code=code, correlation_id=uuid7()))
    except NotFound:
        return _join_problem(request, "join_not_found", 404)
    except AppError as exc:
        return _join_problem(request, "join_not_now", exc.status)
    return Redirect(address, status_code=303)


CHECKIN_PAGES = [attendance_sheet, meeting_submit, checkin_page, checkin_submit, join_link]
