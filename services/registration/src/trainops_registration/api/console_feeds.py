"""A participant's calendar feed: the coordinators' page that makes, shows and revokes it, and
the feed itself at its secret URL (no sign-in: the token in the URL is the credential)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from trainops_registration.api.console_forms import (
    form_post,
    form_values,
    not_found_page,
    page_get,
    texts_of,
)
from trainops_registration.handlers.feeds import (
    FeedPage,
    feed_tokens,
    read_feed,
    read_feed_page,
    renew_feed,
    revoke_feed,
)
from trainops_shared.auth import Principal
from trainops_shared.console.pages import render_console
from trainops_shared.errors import NotFound
from trainops_shared.openapi_docs import operation_class, public
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]
Caller = NamedDependency[Principal]
CALENDAR_MEDIA_TYPE = "text/calendar"
FEED_PATH = "/participant-feeds/"


def _page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    found: FeedPage,
    notice: str = "",
) -> Template:
    _, texts = texts_of(request)
    url = f"{runtime.settings.public_url}{FEED_PATH}{found.token}.ics" if found.token else None
    return render_console(
        request,
        principal,
        "registration/feed.html",
        {"r": texts, "person": found.person, "feed_url": url, "notice": notice},
        title=texts["feed_title"],
        active="registration",
    )


@page_get("/people/{participant_id:uuid}/calendar-feed", of_one=True)
async def feed_page(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    participant_id: FromPath[uuid.UUID],
) -> Template:
    """The person's calendar feed address (if there is one) and the forms to renew or revoke."""
    tokens = feed_tokens(runtime.settings.registration_link_key)
    try:
        found = await runtime.read(
            partial(
                read_feed_page, participant_id=participant_id, principal=principal, tokens=tokens
            )
        )
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    return _page(request, principal, runtime, found)


@form_post("/people/{participant_id:uuid}/calendar-feed")
async def feed_submit(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    participant_id: FromPath[uuid.UUID],
) -> Template:
    """``action=new``: a new address (the old one stops working); ``action=revoke``: none."""
    _, texts = texts_of(request)
    action = ((await form_values(request)).get("action") or [""])[0]
    now = datetime.now(UTC)
    tokens = feed_tokens(runtime.settings.registration_link_key)
    step = (
        partial(revoke_feed, participant_id=participant_id, principal=principal, now=now)
        if action == "revoke"
        else partial(
            renew_feed, participant_id=participant_id, principal=principal, tokens=tokens, now=now
        )
    )
    try:
        found = await runtime.write(step)
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    notice = texts["feed_revoked"] if action == "revoke" else texts["feed_made"]
    return _page(request, principal, runtime, found, notice)


@get(
    f"{FEED_PATH}{{token:str}}",
    tags=["participant pages"],
    summary="A participant's calendar feed (iCalendar, text/calendar) at its secret address",
    media_type=CALENDAR_MEDIA_TYPE,
    operation_class=operation_class(public=True),
    responses=public(404),
    opt={"any_query": True},
)
async def participant_feed(runtime: Runtime, token: FromPath[str]) -> Response[bytes]:
    """The participant's sessions as ``text/calendar``; 404 for an unknown or revoked address."""
    body = await runtime.read(
        partial(read_feed, token=token.removesuffix(".ics"), now=datetime.now(UTC))
    )
    return Response(content=body.encode("utf-8"), media_type=CALENDAR_MEDIA_TYPE)


FEED_PAGES = [feed_page, feed_submit, participant_feed]
