"""Rendering of the identity pages (Jinja2, autoescaped) with their headers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import jinja2
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType

from trainops_identity.api.texts import LANG_COOKIE, LANGUAGES, NAMES, TEXTS, Language, choose

_env: Final = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def page_csp(form_targets: Iterable[str]) -> str:
    """No scripts, nothing foreign; forms post here, and (after a sign-in) the browser may be
    redirected to one of our other services: browsers apply ``form-action`` to that too."""
    targets = " ".join(sorted(set(form_targets)))
    return f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {targets}".strip()


def language_of(request: Request[Any, Any, Any]) -> Language:
    requested = request.query_params.get("lang")
    return choose(
        requested, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", "")
    )


def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    title_key: str,
    origins: Iterable[str],
    status: int = 200,
    cookies: list[Cookie] | None = None,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> Response[str]:
    lang = language_of(request)
    texts = TEXTS[lang]
    context: dict[str, Any] = {
        "lang": lang,
        "t": texts,
        "title": texts[title_key],
        "languages": [(code, NAMES[code]) for code in LANGUAGES],
        "next": "",
        "csrf": "",
        "sign_out_url": "/sign-out",
        "notice": "",
        "error": "",
    }
    context.update(values)
    body = _env.get_template(template).render(context)
    all_cookies = list(cookies or [])
    if request.query_params.get("lang") is not None:
        all_cookies.append(
            Cookie(key=LANG_COOKIE, value=lang, path="/", max_age=365 * 24 * 3600, samesite="lax")
        )
    return Response(
        content=body,
        status_code=status,
        media_type=MediaType.HTML,
        cookies=all_cookies,
        headers={"Content-Security-Policy": page_csp(origins), **(headers or {})},
    )


def text(request: Request[Any, Any, Any], key: str, **values: Any) -> str:
    return TEXTS[language_of(request)][key].format(**values)
