"""How the identity service's signed-in pages are routed and documented, said once.

A page answers HTML, accepts any query parameter (``?lang=``), and documents the refusals it
answers as JSON (no token, wrong role, body too large) apart from the ones it answers with the
page itself, re-rendered with the message next to the form (``page_errors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from litestar import get, post
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.types import Guard

from trainops_shared.openapi_docs import error_responses

HTML_OPT: Final = {"any_query": True}
"""Pages take ``?lang=`` and whatever a browser appends; the API's unknown-parameter check
does not apply to them."""


def page_get(path: str, *, tags: Sequence[str], guards: Sequence[Guard] = ()) -> HTTPRouteHandler:
    """A signed-in page: 401 without a session, 403 to a role that may not see it."""
    return get(
        path,
        opt=HTML_OPT,
        tags=list(tags),
        guards=list(guards),
        media_type=MediaType.HTML,
        responses=error_responses(401, 403),
    )


def form_post(
    path: str,
    *,
    tags: Sequence[str],
    status_code: int = 200,
    page_errors: Sequence[int] = (404, 422),
    json_errors: Sequence[int] = (),
    guards: Sequence[Guard] = (),
) -> HTTPRouteHandler:
    """A page's form target: the refusals in ``page_errors`` re-render the page with the
    message, the rest (and ``json_errors``) answer as the API does."""
    return post(
        path,
        tags=list(tags),
        guards=list(guards),
        status_code=status_code,
        media_type=MediaType.HTML,
        responses={
            **error_responses(401, 403, 413, *json_errors),
            **error_responses(*page_errors, media_type=MediaType.HTML, limited=False),
        },
    )
