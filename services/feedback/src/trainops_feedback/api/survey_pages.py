"""The console pages of survey and knowledge-test definitions: the list, a draft's form, and
publishing with a confirm step.

They call the same use cases as the JSON API (:mod:`trainops_feedback.api.definitions`), so a
page and the API cannot disagree on what a valid definition is. The form works without
JavaScript: it shows every item plus one blank row, and "add a question" is a round trip that
re-shows what was typed with one more blank row, saving nothing. Options are one a line
(``key | kk | ru | en``, a leading ``*`` marks a correct one), which keeps a 412 px form short.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath
from litestar.response import Redirect, Template

from trainops_feedback.api.definitions import VersionNumber, publish_draft
from trainops_feedback.api.survey_texts import SURVEY_TEXTS
from trainops_feedback.domain.definitions import (
    KINDS,
    LANGUAGES,
    Definition,
    Item,
    Option,
    VersionRow,
)
from trainops_feedback.domain.errors import InvalidAnswers, NotFound
from trainops_feedback.handlers import definitions as use_cases
from trainops_shared.auth import CSRF_FIELD, Principal, requires
from trainops_shared.console.pages import page_language, render_console
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ANY_QUERY_OPT, ServiceRuntime
from trainops_shared.timeutil import utc_now

EDITORS: Final = requires("admin", "programme_staff")
BLANK_ROWS: Final = 1
"""Empty item rows under the existing ones: room for one more question without JavaScript."""

FORM_BODY: Final = (
    "application/x-www-form-urlencoded",
    "The draft form: title_kk/ru/en, rows, and per row n: item-n-key, item-n-kind, "
    "item-n-kk/ru/en, item-n-required, item-n-scored, item-n-options; action save or add; "
    "the session's csrf_token.",
    Schema(type=OpenAPIType.OBJECT, properties={CSRF_FIELD: Schema(type=OpenAPIType.STRING)}),
)
CONFIRM_BODY: Final = (
    "application/x-www-form-urlencoded",
    "The confirm form: the session's csrf_token.",
    Schema(type=OpenAPIType.OBJECT, properties={CSRF_FIELD: Schema(type=OpenAPIType.STRING)}),
)


@dataclass(slots=True)
class ItemRow:
    """One item row of the form as typed (kept verbatim to re-show it)."""

    key: str = ""
    kind: str = "likert"
    text: dict[str, str] = field(default_factory=dict)
    required: bool = True
    scored: bool = False
    options: str = ""

    @property
    def blank(self) -> bool:
        return not self.key.strip() and not any(v.strip() for v in self.text.values())


def option_lines(item: Item) -> str:
    return "\n".join(
        ("*" if option.correct else "")
        + " | ".join([option.key, *(option.text.get(lang, "") for lang in LANGUAGES)])
        for option in item.options
    )


def rows_of(definition: Definition) -> list[ItemRow]:
    return [
        ItemRow(
            key=item.key,
            kind=item.kind,
            text=dict(item.text),
            required=item.required,
            scored=item.scored,
            options=option_lines(item),
        )
        for item in definition.items
    ]


def _last(form: Mapping[str, Sequence[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[-1]


def rows_from_form(form: Mapping[str, Sequence[str]]) -> list[ItemRow]:
    """The rows posted, in order; ``rows`` says how many the form had (at most 60 + blanks)."""
    count_text = _last(form, "rows")
    count = int(count_text) if count_text.isdigit() else 0
    rows = []
    for n in range(min(count, 80)):
        prefix = f"item-{n}-"
        rows.append(
            ItemRow(
                key=_last(form, prefix + "key").strip(),
                kind=_last(form, prefix + "kind"),
                text={lang: _last(form, prefix + lang).strip() for lang in LANGUAGES},
                required=bool(form.get(prefix + "required")),
                scored=bool(form.get(prefix + "scored")),
                options=_last(form, prefix + "options").replace("\r\n", "\n"),
            )
        )
    return rows


def parse_options(text: str, where: str, problems: dict[str, str], wrong: str) -> list[Option]:
    options = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        correct = line.lstrip().startswith("*")
        parts = [part.strip() for part in line.lstrip().removeprefix("*").split("|")]
        if len(parts) != 1 + len(LANGUAGES):
            problems[f"{where}.options"] = wrong
            continue
        options.append(
            Option(key=parts[0], text=dict(zip(LANGUAGES, parts[1:], strict=True)), correct=correct)
        )
    return options


def definition_from(
    title: dict[str, str], rows: list[ItemRow], wrong_options: str
) -> tuple[Definition | None, dict[str, str]]:
    """The definition the form describes, or the problems only the form can have (an option
    line without its four parts, an unknown kind); the domain checks the rest."""
    problems: dict[str, str] = {}
    items = []
    for index, row in enumerate(row for row in rows if not row.blank):
        where = f"items[{index}]"
        if row.kind not in KINDS:
            problems[f"{where}.kind"] = f"one of {', '.join(KINDS)}"
            continue
        items.append(
            Item(
                key=row.key,
                kind=row.kind,
                text=row.text,
                required=row.required,
                scored=row.scored,
                options=tuple(parse_options(row.options, where, problems, wrong_options)),
            )
        )
    if problems:
        return None, problems
    return Definition(title=title, items=tuple(items)), {}


def _page(
    request: Request[Any, Any, Any],
    principal: Principal,
    template: str,
    context: dict[str, Any],
    title_key: str,
    status: int = 200,
) -> Template:
    lang = page_language(request)
    texts = SURVEY_TEXTS[lang]
    return render_console(
        request,
        principal,
        template,
        {"r": texts, "text_languages": LANGUAGES, "kinds": KINDS, **context},
        title=texts[title_key],
        active="feedback",
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def _edit_context(
    row: VersionRow,
    title: dict[str, str],
    rows: list[ItemRow],
    problems: dict[str, str],
    blanks: int = BLANK_ROWS,
) -> dict[str, Any]:
    shown = [*rows, *(ItemRow() for _ in range(blanks))]
    return {
        "version": row,
        "title_texts": title,
        "rows": shown,
        "problems": problems,
        "saved": False,
    }


async def _version(runtime: ServiceRuntime, survey_id: uuid.UUID, version: int) -> VersionRow:
    rows = await runtime.read(partial(use_cases.definition_versions, survey_id=survey_id))
    found = next((row for row in rows if row.version == version), None)
    if found is None:
        raise NotFound("version", f"survey {survey_id} has no version {version}")
    return found


VERSION_PAGE: Final = "/{survey_id:uuid}/versions/{version:int}/page"
PUBLISH_PAGE: Final = "/{survey_id:uuid}/versions/{version:int}/publish/page"
MISSING: Final = error_responses(401, 403, 404)
"""An unknown survey or version is the shared error answer, as on the JSON routes."""


class SurveyPages(Controller):
    """The pages of programme staff and admins, beside the JSON routes under ``/surveys``."""

    path = "/surveys"
    tags = ["pages"]  # noqa: RUF012 - Litestar declares these as plain lists
    guards = [EDITORS]  # noqa: RUF012
    opt = {ANY_QUERY_OPT: True}  # noqa: RUF012

    @get(
        "/page",
        summary="Surveys and knowledge tests with their versions and states (HTML)",
        media_type=MediaType.HTML,
        responses=error_responses(401, 403),
    )
    async def survey_list(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template:
        """Every survey with every version; a draft links to its form, a published one to a view."""

        def read(conn: Any) -> list[tuple[VersionRow, list[VersionRow]]]:
            return [
                (row, use_cases.definition_versions(conn, row.survey_id))
                for row in use_cases.list_definitions(conn)
            ]

        surveys = await runtime.read(read)
        notice = request.query_params.get("done", "")
        return _page(
            request,
            principal,
            "feedback/survey_list.html",
            {"surveys": surveys, "done": notice if notice in ("saved", "published") else ""},
            "list_title",
        )

    @get(
        VERSION_PAGE,
        summary="A version's form (a draft) or its content (published) (HTML)",
        media_type=MediaType.HTML,
        responses=MISSING,
    )
    async def version_page(
        self,
        survey_id: FromPath[uuid.UUID],
        version: VersionNumber,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template:
        row = await _version(runtime, survey_id, version)
        context = _edit_context(row, dict(row.definition.title), rows_of(row.definition), {})
        if request.query_params.get("done") == "saved":
            context["saved"] = True
        title = "edit_title" if row.status == "draft" else "view_title"
        return _page(request, principal, "feedback/survey_edit.html", context, title)

    @post(
        VERSION_PAGE,
        summary="Save a draft version from its form, or add a question row (HTML)",
        media_type=MediaType.HTML,
        status_code=200,
        operation_class=operation_class(body=FORM_BODY),
        responses={
            **MISSING,
            **error_responses(409),
            **error_responses(422, media_type=MediaType.HTML, limited=False),
        },
    )
    async def save_version(
        self,
        survey_id: FromPath[uuid.UUID],
        version: VersionNumber,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template | Redirect:
        """``add`` re-shows the form with one more row and saves nothing; ``save`` replaces
        the draft (every problem listed at once, 422, the draft unchanged); published: 409."""
        lang = page_language(request)
        texts = SURVEY_TEXTS[lang]
        row = await _version(runtime, survey_id, version)
        form = (await request.form()).dict()
        title = {lang_: _last(form, f"title_{lang_}").strip() for lang_ in LANGUAGES}
        rows = rows_from_form(form)
        if _last(form, "action") == "add":
            # Every row posted, blank ones too, so each press adds one more.
            context = _edit_context(row, title, rows, {}, blanks=1)
            return _page(request, principal, "feedback/survey_edit.html", context, "edit_title")
        definition, problems = definition_from(title, rows, texts["options_format"])
        if definition is not None:
            try:
                await runtime.write(
                    partial(
                        use_cases.edit_draft,
                        survey_id=survey_id,
                        version=version,
                        definition=definition,
                        now=utc_now(),
                    )
                )
            except InvalidAnswers as exc:
                problems = {error.field: error.message for error in exc.errors}
            else:
                return Redirect(
                    f"/surveys/{survey_id}/versions/{version}/page?lang={lang}&done=saved",
                    status_code=303,
                )
        kept = [r for r in rows if not r.blank]
        context = _edit_context(row, title, kept, problems)
        return _page(request, principal, "feedback/survey_edit.html", context, "edit_title", 422)

    @get(
        PUBLISH_PAGE,
        summary="Confirm publishing a draft version (HTML)",
        media_type=MediaType.HTML,
        responses=MISSING,
    )
    async def publish_confirm(
        self,
        survey_id: FromPath[uuid.UUID],
        version: VersionNumber,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template:
        row = await _version(runtime, survey_id, version)
        return _page(
            request, principal, "feedback/survey_publish.html", {"version": row}, "publish_title"
        )

    @post(
        PUBLISH_PAGE,
        summary="Publish a draft version after its confirm step (HTML)",
        media_type=MediaType.HTML,
        status_code=303,
        operation_class=operation_class(body=CONFIRM_BODY),
        responses={**MISSING, **error_responses(409)},
    )
    async def publish(
        self,
        survey_id: FromPath[uuid.UUID],
        version: VersionNumber,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Redirect:
        """The same use case as the JSON publish: frozen, announced, due pre-tests issued."""
        lang = page_language(request)
        await publish_draft(runtime, survey_id, version, principal)
        return Redirect(f"/surveys/page?lang={lang}&done=published", status_code=303)


ROUTES: Final = [SurveyPages]
