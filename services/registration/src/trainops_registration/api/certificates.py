"""The public certificate verification page: anyone holding a certificate opens the URL
printed on it and learns whether it is genuine.

It needs no sign-in (the URL's random code is what a holder has) and shows what the paper
can be checked against — the training, its dates and place, the certificate's number and
issue date — never the holder's name or contacts: the page is public, and personal data is
shown only to the coordinators of the person's region. An unknown code is a 404 page that
says the certificate is not genuine, the same for a malformed one.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Template

from trainops_registration.domain.followup_messages import training_name
from trainops_registration.domain.messages import local_span
from trainops_registration.handlers.certificates import verify_certificate
from trainops_shared.console.labels import label
from trainops_shared.console.pages import page_language, render_console
from trainops_shared.events.vocabulary import Language
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ANY_QUERY_OPT, ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]

PUBLIC_PATHS: Final = ["^/certificates/"]

TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "title": "Certificate check",
        "genuine": "This certificate is genuine.",
        "not_genuine": (
            "No certificate has this number: the certificate is not genuine, or its address "
            "was mistyped."
        ),
        "number": "Certificate number",
        "training": "Training",
        "when": "When",
        "where": "Where",
        "issued": "Issued",
        "online": "online",
        "privacy": ("The holder's name is not shown here: compare it with an identity document."),
    },
    "ru": {
        "title": "Проверка сертификата",
        "genuine": "Этот сертификат подлинный.",
        "not_genuine": (
            "Сертификата с таким номером нет: сертификат не подлинный, или адрес набран с ошибкой."
        ),
        "number": "Номер сертификата",
        "training": "Тренинг",
        "when": "Когда",
        "where": "Где",
        "issued": "Выдан",
        "online": "онлайн",
        "privacy": "Имя владельца здесь не показывается: сверьте его с удостоверением личности.",
    },
    "kk": {
        "title": "Сертификатты тексеру",
        "genuine": "Бұл сертификат түпнұсқа.",
        "not_genuine": (
            "Мұндай нөмірлі сертификат жоқ: сертификат түпнұсқа емес немесе мекенжайы қате "
            "терілген."
        ),
        "number": "Сертификат нөмірі",
        "training": "Тренинг",
        "when": "Қашан",
        "where": "Қайда",
        "issued": "Берілген күні",
        "online": "онлайн",
        "privacy": "Иесінің аты мұнда көрсетілмейді: оны жеке куәлікпен салыстырыңыз.",
    },
}


@get(
    "/certificates/{code:str}",
    tags=["public pages"],
    summary="Whether a certificate is genuine (HTML; no sign-in)",
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(404, media_type=MediaType.HTML),
    opt={ANY_QUERY_OPT: True},
)
async def certificate_page(
    request: Request[Any, Any, Any], code: FromPath[str], runtime: Runtime
) -> Template:
    """200 with the certificate's training, dates and place; 404 when no certificate has it."""
    lang = page_language(request)
    texts = TEXTS[lang]
    found = await runtime.read(partial(verify_certificate, code=code))
    context: dict[str, Any] = {"c": texts, "found": found is not None}
    if found is not None:
        _, span = local_span(found.starts_at, found.ends_at, found.timezone)
        issued, _ = local_span(found.issued_at, found.issued_at, found.timezone)
        place = texts["online"] if found.mode == "online" else label("city", found.city, lang)
        context["facts"] = [
            ("number", texts["number"], str(found.certificate_id)),
            ("training", texts["training"], training_name(found.training_title, lang)),
            ("when", texts["when"], span),
            ("where", texts["where"], place),
            ("issued", texts["issued"], issued),
        ]
    return render_console(
        request,
        None,
        "registration/certificate.html",
        context,
        title=texts["title"],
        status=200 if found is not None else 404,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


CERTIFICATE_PAGES = [certificate_page]
