"""The console's "not found" page of the feedback service, for every staff page.

A page asked for something that is not there (another region's session, an unknown survey or
version) answers 404 as an HTML page in the reader's language with a way back, never the
API's JSON body: the reader is a person in a browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Request
from litestar.response import Template

from trainops_shared.auth import Principal
from trainops_shared.console.pages import render_console

NO_STORE: Final[Mapping[str, str]] = {"Cache-Control": "no-store"}


def missing_page(
    request: Request[Any, Any, Any],
    texts: Mapping[str, str],
    *,
    back: str,
    active: str,
) -> Template:
    """404 with ``texts``' ``not_found_title`` and ``not_found`` and a link to ``back`` (its
    text ``back``); it says nothing about what was asked for."""
    user = request.scope.get("user")
    return render_console(
        request,
        user if isinstance(user, Principal) else None,
        "feedback/staff_missing.html",
        {"message": texts["not_found"], "back_href": back, "back_text": texts["back"]},
        title=texts["not_found_title"],
        active=active,
        status=404,
        headers=NO_STORE,
    )
