"""The staff pages of the feedback service: who answered, and the links still to chase.

Server-rendered over the same region-scoped reads as the JSON invitation listing: a
coordinator sees only their own region's participants (the region comes from the token), and a
session without any of them is "not found" for them. Participants appear by a short
pseudonymous code; the service holds no names. A feedback link is a credential: the page that
shows links is never cached, and a link is shown only while it can still be used.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any, Final

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

from trainops_feedback.api.console_texts import TEXTS
from trainops_feedback.api.definitions import EDITOR_ROLES
from trainops_feedback.api.page_errors import NO_STORE, missing_page
from trainops_feedback.api.views import TEMPLATE_DIR
from trainops_feedback.domain.tokens import is_expired, tokens_for
from trainops_feedback.handlers.commands import InvitationLink
from trainops_feedback.handlers.staff import read_completed_sessions, read_session_links
from trainops_shared.auth import Principal, requires
from trainops_shared.console.pages import console_environment, page_language, render_console
from trainops_shared.errors import NotFound
from trainops_shared.openapi_docs import error_responses
from trainops_shared.service import ANY_QUERY_OPT, ServiceRuntime
from trainops_shared.timeutil import utc_now

INVITERS: Final = frozenset({"admin", "programme_staff", "coordinator"})
CODE_LENGTH: Final = 8
"""Hex digits of the participant id shown: the tail, random in UUIDv4 and UUIDv7 alike."""


def _environment() -> JinjaTemplateEngine:
    # The participant pages keep their trailing newline (their engine in views does too).
    environment = console_environment(TEMPLATE_DIR)
    environment.keep_trailing_newline = True
    return JinjaTemplateEngine.from_environment(environment)


TEMPLATE_CONFIG: Final = TemplateConfig(instance=_environment())
"""One engine for the participant pages and the staff pages (which extend the shared layout)."""


def title_in(titles: Mapping[str, str], lang: str) -> str:
    for code in (lang, "ru", "en", "kk"):
        if titles.get(code):
            return titles[code]
    return next(iter(titles.values()), "")


def participant_code(participant_id: uuid.UUID) -> str:
    return participant_id.hex[-CODE_LENGTH:]


def invitation_row(link: InvitationLink, *, expired: bool) -> dict[str, Any]:
    return {
        "code": participant_code(link.participant_id),
        "language": link.language,
        "answered": link.submitted,
        "expires_at": link.expires_at,
        "expired": expired,
        # An answered or expired link opens nothing: it is not shown at all.
        "url": None if link.submitted or expired else link.url,
    }


@get(
    "/",
    tags=["pages"],
    summary="Completed sessions and their response rates (HTML)",
    opt={ANY_QUERY_OPT: True},
    media_type=MediaType.HTML,
    responses=error_responses(401, 403),
)
async def home(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    runtime: NamedDependency[ServiceRuntime],
) -> Template:
    """Completed sessions, latest first, with invited, answered and the response rate."""
    lang = page_language(request)
    texts = TEXTS[lang]
    context: dict[str, Any] = {
        "r": texts,
        "inviter": principal.role in INVITERS,
        "editor": principal.role in EDITOR_ROLES,
        "title_in": title_in,
    }
    if context["inviter"]:
        context["sessions"] = await runtime.read(
            partial(read_completed_sessions, principal=principal)
        )
        context["region"] = principal.region_scope
    return render_console(
        request,
        principal,
        "feedback/staff_home.html",
        context,
        title=texts["home_title"],
        active="feedback",
    )


@get(
    "/sessions/{session_id:uuid}/page",
    tags=["pages"],
    summary="A session's invitations and the links still to send (HTML)",
    guards=[requires(*sorted(INVITERS))],
    opt={ANY_QUERY_OPT: True},
    media_type=MediaType.HTML,
    responses={
        **error_responses(401, 403),
        **error_responses(404, media_type=MediaType.HTML, limited=False),
    },
)
async def session_page(
    session_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    runtime: NamedDependency[ServiceRuntime],
) -> Template:
    """One row per live invitation: participant code, answered, link; 404 outside one's region."""
    lang = page_language(request)
    texts = TEXTS[lang]
    try:
        found = await runtime.read(
            partial(
                read_session_links,
                session_id=session_id,
                principal=principal,
                tokens=tokens_for(runtime.settings.feedback_link_key),
                public_url=runtime.settings.public_url,
            )
        )
    except NotFound:
        return missing_page(request, texts, back=f"/?lang={lang}", active="feedback")
    now = utc_now()
    rows = [invitation_row(link, expired=is_expired(link.expires_at, now)) for link in found.links]
    # The links still to send first: that is what the page is opened for.
    rows.sort(key=lambda row: (row["url"] is None, row["code"]))
    return render_console(
        request,
        principal,
        "feedback/staff_session.html",
        {
            "r": texts,
            "session": found.session,
            "uptake": found.uptake,
            "training": title_in(found.session.training_title, lang),
            "rows": rows,
            "region": principal.region_scope,
        },
        title=texts["session_title"],
        active="feedback",
        # The page carries live links (credentials): no cache may keep it.
        headers=NO_STORE,
    )


ROUTES: Final = [home, session_page]
