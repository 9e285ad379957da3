"""Rendering a staff page: the template engine, the shared context and the response headers.

Every console page extends ``console/base.html``: the header names the page and the signed-in
person, links to the other services' consoles the person's role uses, switches the language
(remembered host-wide in the ``trainops_lang`` cookie, like the sign-in page) and carries the
sign-out form, posted to the identity service with the session's CSRF value. Pages load only
the service's own stylesheet (:data:`CONSOLE_ASSETS_PATH`): no script, no font, nothing from
another origin, which the Content-Security-Policy of :func:`render_console` enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template

from trainops_shared.auth import CSRF_FIELD, Principal
from trainops_shared.console.labels import choices, label
from trainops_shared.events.vocabulary import LANGUAGES, Language
from trainops_shared.languages import LANG_COOKIE, choose_language, normalise_language

SHARED_TEMPLATES: Final = Path(str(resources.files("trainops_shared.console") / "templates"))
CONSOLE_ASSETS_PATH: Final = "/assets/console"
CONSOLE_ASSETS_VERSION: Final = "1"
STYLESHEET: Final = f"{CONSOLE_ASSETS_PATH}/{CONSOLE_ASSETS_VERSION}/console.css"

LANGUAGE_NAMES: Final[Mapping[Language, str]] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

SERVICE_ROLES: Final[Mapping[str, frozenset[str]]] = {
    "registration": frozenset({"admin", "coordinator"}),
    "scheduling": frozenset({"admin", "programme_staff", "coordinator", "reporting"}),
    "feedback": frozenset({"admin", "programme_staff", "coordinator"}),
    "reporting": frozenset({"admin", "programme_staff", "reporting"}),
    "identity": frozenset({"admin", "programme_staff", "coordinator", "reporting"}),
}
"""Whose navigation links to which console (the service's guards still decide access)."""

SECTIONS: Final[Mapping[str, tuple[str, str, frozenset[str]]]] = {
    "surveys": ("feedback", "/surveys/page", frozenset({"admin", "programme_staff"})),
}
"""A console's own sections in the navigation, after its home link: the service, the path,
and whose navigation shows it."""

TEXTS: Final[Mapping[Language, Mapping[str, str]]] = {
    "kk": {
        "language": "Тіл",
        "sign_out": "Барлық жерден шығу",
        "signed_in_as": "Сіз кірдіңіз:",
        "navigation": "Бөлімдер",
        "registration": "Тіркеу",
        "scheduling": "Кесте",
        "feedback": "Кері байланыс",
        "surveys": "Сауалнамалар",
        "reporting": "Есептер",
        "identity": "Тіркелгі",
        "skip": "Негізгі мазмұнға өту",
        "errors_title": "Түзетуді қажет етеді:",
        "api_docs": "API құжаттамасы",
    },
    "ru": {
        "language": "Язык",
        "sign_out": "Выйти везде",
        "signed_in_as": "Вы вошли как",
        "navigation": "Разделы",
        "registration": "Регистрация",
        "scheduling": "Расписание",
        "feedback": "Обратная связь",
        "surveys": "Анкеты и тесты",
        "reporting": "Отчёты",
        "identity": "Учётная запись",
        "skip": "К основному содержанию",
        "errors_title": "Нужно исправить:",
        "api_docs": "Документация API",
    },
    "en": {
        "language": "Language",
        "sign_out": "Sign out everywhere",
        "signed_in_as": "Signed in as",
        "navigation": "Sections",
        "registration": "Registration",
        "scheduling": "Schedule",
        "feedback": "Feedback",
        "surveys": "Surveys",
        "reporting": "Reports",
        "identity": "Account",
        "skip": "Skip to main content",
        "errors_title": "Please correct:",
        "api_docs": "API documentation",
    },
}

_DAY_FORMAT: Final = "%d.%m.%Y"


def _zone(timezone: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _offset(value: datetime) -> str:
    delta = value.utcoffset()
    if delta is None:
        return "UTC"
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(value: datetime, timezone: str, lang: Language = "ru") -> str:
    """``12.03.2026 10:00 UTC+5``: the wall clock of ``timezone`` with its offset, so a person
    in another city reads the session's own time and knows it is not theirs."""
    local = _in_zone(value, timezone)
    return f"{local.strftime(_DAY_FORMAT)} {local:%H:%M} {_offset(local)}"


def local_date(value: datetime, timezone: str, lang: Language = "ru") -> str:
    return _in_zone(value, timezone).strftime(_DAY_FORMAT)


def _in_zone(value: datetime, timezone: str) -> datetime:
    """``value`` on ``timezone``'s clock; an instant at the very edge of the calendar (31
    December 9999 in UTC is 1 January 10000 east of it) stays in UTC rather than fail the page."""
    zone = _zone(timezone)
    if zone is None:
        return value
    try:
        return value.astimezone(zone)
    except OverflowError:
        return value


def console_environment(*template_dirs: Path) -> Environment:
    """An autoescaped, strict Jinja environment finding ``template_dirs`` first, then the shared
    console templates; for a service that needs its own engine options (e.g. a ChoiceLoader
    with further loaders) to build on."""
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader([*template_dirs, SHARED_TEMPLATES])]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    environment.globals.update(
        label=label,
        choices=choices,
        local_time=local_time,
        local_date=local_date,
        csrf_field=CSRF_FIELD,
        stylesheet=STYLESHEET,
    )
    return environment


def console_engine(*template_dirs: Path) -> JinjaTemplateEngine:
    """The engine of a service's pages: its own templates, then the shared layout."""
    return JinjaTemplateEngine.from_environment(console_environment(*template_dirs))


def page_language(request: Request[Any, Any, Any]) -> Language:
    return choose_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language", ""),
    )


def _settings(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.runtime.settings


def console_csp(identity_url: str) -> str:
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"form-action 'self' {identity_url}; frame-ancestors 'none'; base-uri 'none'"
    )


def _language_links(request: Request[Any, Any, Any], lang: Language) -> list[dict[str, Any]]:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES[code],
            "href": "?" + urlencode([*kept, ("lang", code)]),
            "current": code == lang,
        }
        for code in LANGUAGES
    ]


def _navigation(
    settings: Any, principal: Principal, lang: Language, active: str
) -> list[dict[str, Any]]:
    urls: Mapping[str, str] = getattr(settings, "service_urls", {}) or {}
    own = settings.service
    current = active or own
    links = []
    for name, roles in SERVICE_ROLES.items():
        if principal.role not in roles:
            continue
        base = "" if name == own else urls.get(name, "")
        if name != own and not base:
            continue
        links.append(_link(name, lang, f"{base}/", current))
        for section, (service, path, readers) in SECTIONS.items():
            if service == name and principal.role in readers:
                links.append(_link(section, lang, f"{base}{path}", current))
    return links


def _link(name: str, lang: Language, href: str, current: str) -> dict[str, Any]:
    return {"name": name, "text": TEXTS[lang][name], "href": href, "current": name == current}


def console_context(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    *,
    title: str,
    active: str = "",
) -> dict[str, Any]:
    """What ``console/base.html`` needs, for a service's template context (``principal``
    ``None``: a public page, with no navigation and no account footer)."""
    settings = _settings(request)
    lang = page_language(request)
    identity = settings.identity_url.rstrip("/")
    return {
        "lang": lang,
        "t": TEXTS[lang],
        "title": title,
        "principal": principal,
        "csrf": (principal.csrf or "") if principal else "",
        "sign_out_url": f"{identity}/sign-out",
        "account_url": f"{identity}/",
        "nav": _navigation(settings, principal, lang, active) if principal else [],
        "languages": _language_links(request, lang),
        "path": request.url.path,
        "query": dict(request.query_params),
    }


def render_console(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    template: str,
    context: Mapping[str, Any],
    *,
    title: str,
    active: str = "",
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Template:
    """A console page: the service's ``template`` with the shared layout's context, a strict
    Content-Security-Policy, and the picked language remembered."""
    settings = _settings(request)
    full = {**console_context(request, principal, title=title, active=active), **context}
    cookies = []
    picked = normalise_language(request.query_params.get("lang"))
    if picked is not None and picked != normalise_language(request.cookies.get(LANG_COOKIE)):
        cookies.append(
            Cookie(
                key=LANG_COOKIE,
                value=picked,
                max_age=365 * 24 * 3600,
                path="/",
                samesite="lax",
                httponly=True,
                secure=bool(getattr(settings, "cookie_secure", False)),
            )
        )
    return Template(
        template_name=template,
        context=full,
        status_code=status,
        cookies=cookies,
        headers={
            "Content-Security-Policy": console_csp(settings.identity_url.rstrip("/")),
            "Content-Language": full["lang"],
            **(headers or {}),
        },
    )
