"""The console page of a new survey or knowledge test: code, purpose, the training a test
belongs to, its title and items; saving it creates version 1 as a draft and opens its form.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.response import Redirect, Template

from trainops_feedback.api.definitions import EDITORS
from trainops_feedback.api.survey_form import (
    ItemRow,
    definition_from,
    form_value,
    rows_from_form,
    title_from,
)
from trainops_feedback.api.survey_pages import (
    ITEM_FIELDS,
    REFUSED,
    SEE_OTHER,
    form_context,
    survey_page,
)
from trainops_feedback.api.survey_texts import SURVEY_TEXTS
from trainops_feedback.domain.definitions import Purpose
from trainops_feedback.domain.errors import InvalidAnswers
from trainops_feedback.handlers import definitions as use_cases
from trainops_shared.auth import CSRF_FIELD, Principal
from trainops_shared.console.pages import page_language
from trainops_shared.errors import AppError
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ANY_QUERY_OPT, ServiceRuntime
from trainops_shared.timeutil import utc_now

PURPOSES: Final[tuple[Purpose, ...]] = ("feedback", "knowledge_test")
NEW_PAGE: Final = "/new/page"
NEW_BODY: Final = (
    "application/x-www-form-urlencoded",
    f"The new survey form: code, purpose, training_id (a knowledge test), {ITEM_FIELDS}",
    Schema(type=OpenAPIType.OBJECT, properties={CSRF_FIELD: Schema(type=OpenAPIType.STRING)}),
)


async def _new_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    fields: Mapping[str, str],
    form: tuple[Mapping[str, str], Sequence[ItemRow], Mapping[str, str]] = ({}, [], {}),
    status: int = 200,
) -> Template:
    """The form as typed (``form``: title, rows, problems), with the trainings to choose from."""
    texts = SURVEY_TEXTS[page_language(request)]
    context = {
        **form_context(*form),
        "fields": fields,
        "purpose_choices": [(p, texts["purpose_" + p]) for p in PURPOSES],
        "trainings": await runtime.read(use_cases.training_choices),
    }
    return survey_page(request, principal, "feedback/survey_new.html", context, "new_title", status)


class NewSurveyPage(Controller):
    """Programme staff and admins start a survey here; its versions live in :class:`SurveyPages`."""

    path = "/surveys"
    tags = ["pages"]  # noqa: RUF012 - Litestar declares these as plain lists
    guards = [EDITORS]  # noqa: RUF012
    opt = {ANY_QUERY_OPT: True}  # noqa: RUF012

    @get(
        NEW_PAGE,
        summary="The form of a new survey or knowledge test (HTML)",
        media_type=MediaType.HTML,
        responses=error_responses(401, 403),
    )
    async def new_form(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template:
        purpose = request.query_params.get("purpose", "feedback")
        fields = {
            "code": "",
            "training_id": "",
            "purpose": purpose if purpose in PURPOSES else "feedback",
        }
        return await _new_page(request, principal, runtime, fields)

    @post(
        NEW_PAGE,
        summary="Create a survey from its form (version 1, a draft), or add a question row (HTML)",
        media_type=MediaType.HTML,
        status_code=200,
        operation_class=operation_class(body=NEW_BODY),
        responses={**SEE_OTHER, **error_responses(401, 403, 413), **REFUSED},
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template | Redirect:
        """``add`` re-shows the form with one more row; ``save`` creates the survey and opens
        its draft (303), or re-shows the form with every problem beside its field (422; 409
        for a code or training taken), creating nothing."""
        lang = page_language(request)
        texts = SURVEY_TEXTS[lang]
        form = (await request.form()).dict()
        title = title_from(form)
        rows = rows_from_form(form)
        fields = {name: form_value(form, name) for name in ("code", "purpose", "training_id")}
        if form_value(form, "action") == "add":
            return await _new_page(request, principal, runtime, fields, (title, rows, {}))
        definition, problems = definition_from(title, rows, texts["options_format"])
        purpose = fields["purpose"]
        if purpose not in PURPOSES:
            problems["purpose"] = texts["purpose_unknown"]
        training_id: uuid.UUID | None = None
        if fields["training_id"]:
            try:
                training_id = uuid.UUID(fields["training_id"])
            except ValueError:
                problems["training_id"] = texts["training_unknown"]
        status = 422
        if definition is not None and not problems:
            command = use_cases.CreateDefinition(
                code=fields["code"],
                purpose="knowledge_test" if purpose == "knowledge_test" else "feedback",
                training_id=training_id,
                definition=definition,
            )
            try:
                row = await runtime.write(
                    partial(
                        use_cases.create_definition,
                        command=command,
                        principal=principal,
                        now=utc_now(),
                    )
                )
            except InvalidAnswers as exc:
                problems = {error.field: error.message for error in exc.errors}
            except AppError as exc:
                problems = {exc.field or "code": exc.detail}
                status = exc.status
            else:
                return Redirect(
                    f"/surveys/{row.survey_id}/versions/1/page?lang={lang}&done=created",
                    status_code=303,
                )
        kept = [r for r in rows if not r.blank]
        return await _new_page(request, principal, runtime, fields, (title, kept, problems), status)


ROUTES: Final = [NewSurveyPage]
