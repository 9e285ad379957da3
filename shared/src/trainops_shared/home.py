"""``GET /`` of a service: the page a signed-in browser lands on, with sign-out everywhere.

An anonymous browser opening it is sent to the identity service's sign-in page by the auth
middleware (like any page route) and comes back here afterwards. The page names the service
and the signed-in account, links to the API docs and the account page, and carries the
sign-out form (posted to the identity service with the session's CSRF value).
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType

from trainops_shared.auth import CSRF_FIELD, Principal
from trainops_shared.openapi_docs import error_responses

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:40rem;"
    "line-height:1.5}button{font:inherit;padding:.5rem 1rem}"
    ":focus-visible{outline:3px solid #f5a623;outline-offset:2px}"
)


def home_page(title: str, identity_url: str, principal: Principal) -> str:
    region = f", {escape(principal.region)}" if principal.region else ""
    sign_out = ""
    if principal.csrf:
        sign_out = (
            f'<footer><form id="sign-out-form" method="post" '
            f'action="{escape(identity_url)}/sign-out">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(principal.csrf)}">'
            '<button id="sign-out" type="submit">Sign out everywhere / Выйти везде / '
            "Барлық жерден шығу</button></form></footer>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1 id="service">{escape(title)}</h1>'
        f'<p id="who">Signed in as <strong id="username">{escape(principal.subject)}</strong> '
        f'(<span id="role">{escape(principal.role)}</span>{region})</p>'
        '<p><a href="/schema">API documentation</a> · '
        f'<a id="account" href="{escape(identity_url)}/">Your account</a></p>'
        f"{sign_out}</body></html>"
    )


def home_route(title: str, identity_url: str) -> Any:
    @get(
        "/",
        tags=["pages"],
        opt={"any_query": True},
        media_type=MediaType.HTML,
        responses=error_responses(401, 403),
        sync_to_thread=False,
    )
    def home(principal: NamedDependency[Principal]) -> Response[str]:
        """The service's page for a signed-in browser (anonymous: redirected to sign in)."""
        origin = identity_url.rstrip("/")
        return Response(
            content=home_page(title, origin, principal),
            media_type=MediaType.HTML,
            headers={
                "Content-Security-Policy": (
                    f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {origin}"
                )
            },
        )

    return home
