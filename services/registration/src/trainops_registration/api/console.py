"""The coordinators' console: server-rendered pages over the same handlers as the JSON API.

A coordinator sees their own region's sessions only (the region comes from the token, never
from the request); an admin may pick a region. Other roles get the page without data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.response import Template
from litestar.template import TemplateConfig

from trainops_registration.api.console_messages_texts import MESSAGES_TEXTS
from trainops_registration.api.console_texts import TEXTS
from trainops_registration.domain.trainings import training_name
from trainops_registration.handlers.sessions import read_region_sessions
from trainops_shared.auth import Principal
from trainops_shared.console.labels import choices
from trainops_shared.console.pages import console_engine, page_language, render_console
from trainops_shared.openapi_docs import error_responses
from trainops_shared.service import ServiceRuntime

TEMPLATE_CONFIG: Final = TemplateConfig(
    instance=console_engine(Path(__file__).with_name("templates"))
)
REGISTRARS: Final = frozenset({"admin", "coordinator"})


@get(
    "/",
    tags=["pages"],
    opt={"any_query": True},
    media_type=MediaType.HTML,
    responses=error_responses(401, 403),
)
async def home(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    runtime: NamedDependency[ServiceRuntime],
) -> Template:
    """The coordinator's region's sessions, upcoming first (an admin: any or every region)."""
    lang = page_language(request)
    texts = TEXTS[lang]
    context: dict[str, Any] = {
        "r": texts,
        "registrar": principal.role in REGISTRARS,
        "messages_title": MESSAGES_TEXTS[lang]["title"],
    }
    if context["registrar"]:
        found = await runtime.read(
            partial(
                read_region_sessions,
                principal=principal,
                # Read like ``?lang=``, not declared: a page tolerates any query (bookmarks,
                # trackers), which a declared parameter list would promise to refuse.
                region=request.query_params.get("region") or None,
                now=datetime.now(UTC),
            )
        )
        context.update(
            sessions=found,
            training=partial(training_name, found.trainings, lang=lang),
            admin=principal.role == "admin",
            regions=choices("city", lang),
        )
    return render_console(
        request,
        principal,
        "registration/home.html",
        context,
        title=texts["home_title"],
        active="registration",
    )
