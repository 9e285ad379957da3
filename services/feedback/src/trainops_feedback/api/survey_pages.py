"""The console pages of survey and knowledge-test definitions: the list, a new survey's form,
a draft's form, publishing with a confirm step, and a new version from a published one.

They call the same use cases as the JSON API (:mod:`trainops_feedback.api.definitions`), so a
page and the API cannot disagree on what a valid definition is. The forms work without
JavaScript: they show every item plus one blank row, and "add a question" is a round trip
that re-shows what was typed with one more blank row, saving nothing. A refused form comes
back with every problem beside its field (:mod:`trainops_feedback.api.survey_form`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath
from litestar.response import Redirect, Template

from trainops_feedback.api.definitions import EDITORS, VersionNumber, publish_draft
from trainops_feedback.api.page_errors import NO_STORE, missing_page
from trainops_feedback.api.survey_form import (
    ItemRow,
    anchor_of,
    definition_from,
    field_errors,
    form_value,
    rows_from_form,
    rows_of,
    title_from,
)
from trainops_feedback.api.survey_texts import SURVEY_TEXTS
from trainops_feedback.domain.definitions import KINDS, LANGUAGES, VersionRow
from trainops_feedback.domain.errors import Conflict, InvalidAnswers, NotFound
from trainops_feedback.handlers import definitions as use_cases
from trainops_shared.auth import CSRF_FIELD, Principal
from trainops_shared.console.pages import page_language, render_console
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ANY_QUERY_OPT, ServiceRuntime
from trainops_shared.timeutil import utc_now

ACTIVE: Final = "surveys"
"""The console navigation's entry these pages belong to."""

ITEM_FIELDS: Final = (
    "title_kk/ru/en, rows, and per row n: item-n-key, item-n-kind, item-n-kk/ru/en, "
    "item-n-required, item-n-scored, item-n-options; action save or add; the session's csrf_token."
)
FORM_BODY: Final = (
    "application/x-www-form-urlencoded",
    f"The draft form: {ITEM_FIELDS}",
    Schema(type=OpenAPIType.OBJECT, properties={CSRF_FIELD: Schema(type=OpenAPIType.STRING)}),
)
CONFIRM_BODY: Final = (
    "application/x-www-form-urlencoded",
    "The confirm form: the session's csrf_token.",
    Schema(type=OpenAPIType.OBJECT, properties={CSRF_FIELD: Schema(type=OpenAPIType.STRING)}),
)
VERSION_PAGE: Final = "/{survey_id:uuid}/versions/{version:int}/page"
PUBLISH_PAGE: Final = "/{survey_id:uuid}/versions/{version:int}/publish/page"
REVISE_PAGE: Final = "/{survey_id:uuid}/versions/{version:int}/revise/page"
MISSING: Final = {
    **error_responses(401, 403),
    **error_responses(404, media_type=MediaType.HTML, limited=False),
}
"""An unknown survey or version is the console's "not found" page."""
UNMATCHED: Final = (404,)
"""A version that is no integer matches no route: the router's JSON 404, before any page."""
REFUSED: Final = error_responses(409, 422, media_type=MediaType.HTML, limited=False)
SEE_OTHER: Final = {303: ResponseSpec(None, description="Done: see the page it names")}


def _not_found(request: Request[Any, Any, Any], _: NotFound) -> Template:
    texts = SURVEY_TEXTS[page_language(request)]
    return missing_page(
        request, texts, back=f"/surveys/page?lang={page_language(request)}", active=ACTIVE
    )


def survey_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    template: str,
    context: Mapping[str, Any],
    title_key: str,
    status: int = 200,
) -> Template:
    texts = SURVEY_TEXTS[page_language(request)]
    return render_console(
        request,
        principal,
        template,
        {"r": texts, "text_languages": LANGUAGES, "kinds": KINDS, **context},
        title=texts[title_key],
        active=ACTIVE,
        status=status,
        headers=NO_STORE,
    )


def form_context(
    title: Mapping[str, str], rows: Sequence[ItemRow], problems: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "title_texts": title,
        "rows": [*rows, ItemRow()],
        "problems": problems,
        "errors": field_errors(problems),
        "anchor_of": anchor_of,
    }


async def _versions(
    runtime: ServiceRuntime, survey_id: uuid.UUID, version: int
) -> tuple[VersionRow, list[VersionRow]]:
    """The version asked for and every version of its survey (the page offers what is next)."""
    rows = await runtime.read(partial(use_cases.definition_versions, survey_id=survey_id))
    found = next((row for row in rows if row.version == version), None)
    if found is None:
        raise NotFound("version", f"survey {survey_id} has no version {version}")
    return found, rows


def _version_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    found: tuple[VersionRow, list[VersionRow]],
    form: tuple[Mapping[str, str], Sequence[ItemRow], Mapping[str, str]] | None = None,
    status: int = 200,
    saved: str = "",
) -> Template:
    """A version's page: its form as typed (``form``: title, rows, problems) or as stored, and
    the survey's draft, if any, which is where a new version's edits go."""
    row, versions = found
    title, rows, problems = form or (row.definition.title, rows_of(row.definition), {})
    context = {
        **form_context(title, rows, problems),
        "version": row,
        "draft": next((v for v in versions if v.status == "draft"), None),
        "saved": saved,
        "refused": status == 409,
    }
    template = "edit_title" if row.status == "draft" else "view_title"
    return survey_page(request, principal, "feedback/survey_edit.html", context, template, status)


class SurveyPages(Controller):
    """The pages of programme staff and admins, beside the JSON routes under ``/surveys``."""

    path = "/surveys"
    tags = ["pages"]  # noqa: RUF012 - Litestar declares these as plain lists
    guards = [EDITORS]  # noqa: RUF012
    opt = {ANY_QUERY_OPT: True}  # noqa: RUF012
    exception_handlers = {NotFound: _not_found}  # noqa: RUF012

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
        return survey_page(
            request,
            principal,
            "feedback/survey_list.html",
            {"surveys": surveys, "done": notice if notice == "published" else ""},
            "list_title",
        )

    @get(
        VERSION_PAGE,
        summary="A version's form (a draft) or its content (published) (HTML)",
        media_type=MediaType.HTML,
        operation_class=operation_class(json_too=UNMATCHED),
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
        found = await _versions(runtime, survey_id, version)
        done = request.query_params.get("done", "")
        saved = done if done in ("saved", "created", "revised") else ""
        return _version_page(request, principal, found, saved=saved)

    @post(
        VERSION_PAGE,
        summary="Save a draft version from its form, or add a question row (HTML)",
        media_type=MediaType.HTML,
        status_code=200,
        operation_class=operation_class(body=FORM_BODY, json_too=UNMATCHED),
        responses={**MISSING, **SEE_OTHER, **error_responses(409, 413), **REFUSED},
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
        the draft (every problem beside its field, 422, the draft unchanged); published: 409."""
        lang = page_language(request)
        texts = SURVEY_TEXTS[lang]
        found = await _versions(runtime, survey_id, version)
        form = (await request.form()).dict()
        title = title_from(form)
        rows = rows_from_form(form)
        if form_value(form, "action") == "add":
            # Every row posted, blank ones too, so each press adds one more.
            return _version_page(request, principal, found, (title, rows, {}))
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
            except Conflict:
                found = await _versions(runtime, survey_id, version)
                return _version_page(request, principal, found, status=409)
            else:
                return Redirect(
                    f"/surveys/{survey_id}/versions/{version}/page?lang={lang}&done=saved",
                    status_code=303,
                )
        kept = [r for r in rows if not r.blank]
        return _version_page(request, principal, found, (title, kept, problems), 422)

    @post(
        REVISE_PAGE,
        summary="Start a new draft version from this published one (HTML)",
        media_type=MediaType.HTML,
        status_code=303,
        operation_class=operation_class(body=CONFIRM_BODY, json_too=UNMATCHED),
        responses={**MISSING, **error_responses(413), **REFUSED},
    )
    async def revise(
        self,
        survey_id: FromPath[uuid.UUID],
        version: VersionNumber,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template | Redirect:
        """303 to the new draft's form; while the survey has a draft, 409 and the version's
        page says which one to edit instead."""
        lang = page_language(request)
        try:
            new = await runtime.write(
                partial(use_cases.new_version, survey_id=survey_id, now=utc_now(), source=version)
            )
        except Conflict:
            found = await _versions(runtime, survey_id, version)
            return _version_page(request, principal, found, status=409)
        return Redirect(
            f"/surveys/{survey_id}/versions/{new.version}/page?lang={lang}&done=revised",
            status_code=303,
        )

    @get(
        PUBLISH_PAGE,
        summary="Confirm publishing a draft version (HTML)",
        media_type=MediaType.HTML,
        operation_class=operation_class(json_too=UNMATCHED),
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
        row, _ = await _versions(runtime, survey_id, version)
        return survey_page(
            request, principal, "feedback/survey_publish.html", {"version": row}, "publish_title"
        )

    @post(
        PUBLISH_PAGE,
        summary="Publish a draft version after its confirm step (HTML)",
        media_type=MediaType.HTML,
        status_code=303,
        operation_class=operation_class(body=CONFIRM_BODY, json_too=UNMATCHED),
        responses={**MISSING, **SEE_OTHER, **error_responses(413), **REFUSED},
    )
    async def publish(
        self,
        survey_id: FromPath[uuid.UUID],
        version: VersionNumber,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template | Redirect:
        """The same use case as the JSON publish: frozen, announced, due pre-tests issued; a
        version published already is a 409 page saying so (the first publishing stands)."""
        lang = page_language(request)
        try:
            await publish_draft(runtime, survey_id, version, principal)
        except Conflict:
            row, _ = await _versions(runtime, survey_id, version)
            context = {"version": row}
            return survey_page(
                request, principal, "feedback/survey_publish.html", context, "publish_title", 409
            )
        return Redirect(f"/surveys/page?lang={lang}&done=published", status_code=303)


ROUTES: Final = [SurveyPages]
