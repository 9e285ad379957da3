"""Check-in pages: the printable attendance list with each confirmed person's QR code, and the
page a scanned code opens on the coordinator's phone, whose button records attendance; for an
online session, each person's join link instead (``api/join_page.py``), which records presence
and leads on to the meeting.

Scanning needs nothing but the phone's camera: the QR holds the address of the check-in page,
which the phone opens in the browser the coordinator is signed in with. The button (a CSRF-
protected form) records; merely opening the page changes nothing. A join link is the
participant's own (no account): pressing its page's button is what "I am here" means online.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import segno
from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from markupsafe import Markup

from trainops_registration.api.console_forms import (
    error_message,
    form_post,
    form_values,
    not_found_page,
    page_get,
    texts_of,
)
from trainops_registration.handlers.checkin import (
    CHECKIN_PATH,
    JOIN_PATH,
    CheckIn,
    check_in,
    checkin_tokens,
    read_attendance_sheet,
    read_checkin,
    set_meeting,
)
from trainops_shared.auth import Principal
from trainops_shared.console.pages import render_console
from trainops_shared.errors import AppError, NotFound
from trainops_shared.events import uuid7
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


CHECKIN_PAGES = [attendance_sheet, meeting_submit, checkin_page, checkin_submit]
