"""``GET /`` of a service: the page a signed-in browser lands on, with sign-out everywhere.

An anonymous browser opening it is sent to the identity service's sign-in page by the auth
middleware (like any page route) and comes back here afterwards. The page names the service
and the signed-in account in the browser's language (kk/ru/en, chosen as on the sign-in page),
links to the API docs and the account page, and carries the sign-out form (posted to the
identity service with the session's CSRF value).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any, Final

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType

from trainops_shared.auth import CSRF_FIELD, Principal
from trainops_shared.events.vocabulary import Language
from trainops_shared.languages import LANG_COOKIE, choose_language
from trainops_shared.openapi_docs import error_responses

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:40rem;"
    "line-height:1.5}button{font:inherit;padding:.5rem 1rem}"
    ":focus-visible{outline:3px solid #f5a623;outline-offset:2px}"
)


_TEXTS: Final[Mapping[Language, Mapping[str, str]]] = {
    "kk": {
        "signed_in_as": "Сіз кірдіңіз:",
        "api_docs": "API құжаттамасы",
        "account": "Сіздің тіркелгіңіз",
        "sign_out": "Барлық жерден шығу",
        "languages": "Тіл",
    },
    "ru": {
        "signed_in_as": "Вы вошли как",
        "api_docs": "Документация API",
        "account": "Ваша учётная запись",
        "sign_out": "Выйти везде",
        "languages": "Язык",
    },
    "en": {
        "signed_in_as": "Signed in as",
        "api_docs": "API documentation",
        "account": "Your account",
        "sign_out": "Sign out everywhere",
        "languages": "Language",
    },
}
_NAMES: Final[Mapping[Language, str]] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def home_page(title: str, identity_url: str, principal: Principal, lang: Language = "ru") -> str:
    text = _TEXTS[lang]
    region = f", {escape(principal.region)}" if principal.region else ""
    switch = " ".join(
        f'<a href="?lang={code}" hreflang="{code}" lang="{code}"'
        + (' aria-current="true"' if code == lang else "")
        + f">{name}</a>"
        for code, name in _NAMES.items()
    )
    sign_out = ""
    if principal.csrf:
        sign_out = (
            f'<footer><form id="sign-out-form" method="post" '
            f'action="{escape(identity_url)}/sign-out">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(principal.csrf)}">'
            f'<button id="sign-out" type="submit">{text["sign_out"]}</button></form></footer>'
        )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<nav aria-label="{text["languages"]}">{switch}</nav>'
        f'<h1 id="service">{escape(title)}</h1>'
        f'<p id="who">{text["signed_in_as"]} <strong id="username">'
        f"{escape(principal.subject)}</strong> "
        f'(<span id="role">{escape(principal.role)}</span>{region})</p>'
        f'<p><a href="/schema">{text["api_docs"]}</a> · '
        f'<a id="account" href="{escape(identity_url)}/">{text["account"]}</a></p>'
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
    def home(
        request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Response[str]:
        """The service's page for a signed-in browser (anonymous: redirected to sign in)."""
        origin = identity_url.rstrip("/")
        lang = choose_language(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language", ""),
        )
        return Response(
            content=home_page(title, origin, principal, lang),
            media_type=MediaType.HTML,
            headers={
                "Content-Security-Policy": (
                    f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {origin}"
                )
            },
        )

    return home
