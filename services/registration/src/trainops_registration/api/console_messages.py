"""The console's page of participants' messages that did not go: the coordinator's region's
(an admin: every region's), each with its reason and a button to send it again."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.response import Template

from trainops_registration.api.console_forms import (
    error_message,
    first,
    form_post,
    form_values,
    not_found_page,
    page_get,
    parse_uuid,
    texts_of,
)
from trainops_registration.api.console_messages_texts import MESSAGES_TEXTS
from trainops_registration.handlers.failed_messages import read_stuck_messages, retry_message
from trainops_shared.auth import Principal
from trainops_shared.console.pages import render_console
from trainops_shared.errors import AppError, NotFound
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]
Caller = NamedDependency[Principal]


async def _messages_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    *,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> Template:
    lang, texts = texts_of(request)
    words = MESSAGES_TEXTS[lang]
    stuck = await runtime.read(partial(read_stuck_messages, principal=principal))
    return render_console(
        request,
        principal,
        "registration/messages.html",
        {"r": texts, "m": words, "stuck": stuck, "notice": notice, "problem": problem},
        title=words["title"],
        active="registration",
        status=status,
    )


@page_get("/messages")
async def messages_page(
    request: Request[Any, Any, Any], principal: Caller, runtime: Runtime
) -> Template:
    """Messages given up (a 5xx, a long outage) or without an address, newest first."""
    return await _messages_page(request, principal, runtime)


@form_post("/messages/retry")
async def retry_message_form(
    request: Request[Any, Any, Any], principal: Caller, runtime: Runtime
) -> Template:
    """Send one stuck message again (``message_id``): due at once, attempts from zero."""
    lang, texts = texts_of(request)
    message_id = parse_uuid(first(await form_values(request), "message_id"))
    if message_id is None:
        exc = NotFound("message not found", field="message_id")
        return not_found_page(request, principal, exc)
    try:
        await runtime.write(
            partial(
                retry_message, message_id=message_id, principal=principal, now=datetime.now(UTC)
            )
        )
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    except AppError as exc:
        return await _messages_page(
            request, principal, runtime, problem=error_message(exc, texts), status=exc.status
        )
    return await _messages_page(request, principal, runtime, notice=MESSAGES_TEXTS[lang]["retried"])


MESSAGE_PAGES = [messages_page, retry_message_form]
