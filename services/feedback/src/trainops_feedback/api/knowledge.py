"""The participant's knowledge-test routes: the page, its form, JSON submission, the draft.

All public: the link's token is the credential, as for the feedback form. No answer here
carries a score: the participant learns that the answers arrived, and staff see aggregates
in reporting only.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Final

import msgspec
from litestar import Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, JSONBody
from litestar.response import Template

from trainops_feedback.api.controllers import LangQuery
from trainops_feedback.api.knowledge_views import render_test, render_test_done, render_test_used
from trainops_feedback.api.pages import (
    PAGE_HEADERS,
    MalformedForm,
    html_response,
    read_form,
    scripted_response,
)
from trainops_feedback.api.schemas import (
    Answers,
    DraftIn,
    DraftOut,
    LanguageCode,
    ResponseCreated,
    Token,
)
from trainops_feedback.api.views import render_error, render_not_found
from trainops_feedback.domain.definitions import MAX_ITEMS, MAX_OPTIONS, form_answers
from trainops_feedback.domain.errors import AlreadySubmitted, InvalidAnswers, InvitationNotFound
from trainops_feedback.domain.language import resolve_language
from trainops_feedback.domain.survey import LANG_FIELD
from trainops_feedback.handlers import knowledge
from trainops_shared.openapi_docs import error_responses, operation_class, public
from trainops_shared.service import ANY_QUERY_OPT, ServiceRuntime
from trainops_shared.timeutil import utc_now

Runtime = NamedDependency[ServiceRuntime]

ASSET_DIR: Final = Path(__file__).with_name("assets")
TEST_FORM_MAX_BYTES: Final = 64 * 1024
TEST_FORM_MAX_FIELDS: Final = MAX_ITEMS * MAX_OPTIONS + 2
TEST_FORM_BODY = (
    "application/x-www-form-urlencoded",
    "The test as a browser posts it: one field per item (a checkbox group repeats it), ``lang``.",
    Schema(type=OpenAPIType.OBJECT, additional_properties=Schema(type=OpenAPIType.STRING)),
)


class KnowledgeAnswersIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A knowledge test's answers as JSON: Likert ``1..5``, an option key, a list of option
    keys (multiple choice) or a short text per item."""

    token: Token
    answers: Answers = msgspec.field(default_factory=dict)
    language: LanguageCode | None = None


def _closed(exc: Exception, lang: str | None) -> Template:
    if isinstance(exc, AlreadySubmitted):
        return html_response(render_test_used(lang, None))
    return html_response(render_not_found(lang))


def _title(titles: dict[str, str], language: str) -> str:
    return titles.get(language) or titles.get("ru") or next(iter(titles.values()), "")


@get(
    "/t/{token:str}",
    tags=["participant pages"],
    summary="A knowledge test of an invitation (HTML)",
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(404, 409, media_type=MediaType.HTML),
    opt={ANY_QUERY_OPT: True},
)
async def test_page(token: FromPath[str], runtime: Runtime, lang: LangQuery = None) -> Template:
    """The test with the answers saved so far (the server-side draft of the link)."""
    try:
        current = await runtime.read(partial(knowledge.open_test, token=token, now=utc_now()))
    except (InvitationNotFound, AlreadySubmitted) as exc:
        return _closed(exc, lang)
    link = current.link
    language = resolve_language(lang, link.language)
    return scripted_response(
        render_test(
            token=token,
            phase=link.phase,
            definition=current.version.definition,
            training_title=_title(link.training_title, language),
            lang=language,
            participant_language=link.language,
            values=current.draft,
        )
    )


@post(
    "/t/{token:str}",
    tags=["participant pages"],
    summary="Submit a knowledge test (urlencoded; HTML answer)",
    status_code=201,
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True, body=TEST_FORM_BODY, json_too=(400, 422)),
    responses=error_responses(400, 404, 409, 413, 415, 422, media_type=MediaType.HTML),
)
async def submit_test_form(
    token: FromPath[str], request: Request[Any, Any, Any], runtime: Runtime, lang: LangQuery = None
) -> Template:
    """201 thank-you page; 422 the test again with each wrong answer marked and every other
    answer kept; 409 used link; 404 unknown or expired link."""
    try:
        form = await read_form(
            request, max_bytes=TEST_FORM_MAX_BYTES, max_fields=TEST_FORM_MAX_FIELDS
        )
    except MalformedForm as exc:
        return html_response(render_error(exc.status, lang))
    lang = (form.get(LANG_FIELD) or [lang or ""])[0] or lang
    now = utc_now()
    try:
        current = await runtime.read(partial(knowledge.open_test, token=token, now=now))
    except (InvitationNotFound, AlreadySubmitted) as exc:
        return _closed(exc, lang)
    link, definition = current.link, current.version.definition
    language = resolve_language(lang, link.language)
    answers = form_answers(form, definition)
    title = _title(link.training_title, language)
    try:
        await runtime.write(
            partial(knowledge.submit_test, token=token, answers=answers, language=language, now=now)
        )
    except InvalidAnswers as exc:
        page = render_test(
            token=token,
            phase=link.phase,
            definition=definition,
            training_title=title,
            lang=language,
            participant_language=link.language,
            values=answers,
            errors=exc,
        )
        return scripted_response(page)
    except (InvitationNotFound, AlreadySubmitted) as exc:
        return _closed(exc, language)
    return scripted_response(render_test_done(token=token, lang=language, training_title=title))


@post(
    "/tests",
    tags=["responses"],
    summary="Submit a knowledge test as JSON (public: the token is the credential)",
    status_code=201,
    operation_class=operation_class(public=True),
    responses=public(404, 409, 413),
)
async def submit_test_json(
    data: JSONBody[KnowledgeAnswersIn], runtime: Runtime
) -> Response[ResponseCreated]:
    """``{token, answers, language?}`` → 201 ``{id}`` (never the score); a second submission
    → 409; an unknown or expired token → 404; 422 lists every wrong answer."""
    submitted = await runtime.write(
        partial(
            knowledge.submit_test,
            token=data.token,
            answers=data.answers,
            language=data.language,
            now=utc_now(),
        )
    )
    return Response(
        ResponseCreated(id=submitted.response_id), status_code=201, headers=dict(PAGE_HEADERS)
    )


@put(
    "/t/{token:str}/draft",
    tags=["participant pages"],
    summary="Save the answers given so far (the link's server-side draft)",
    operation_class=operation_class(public=True),
    responses=public(404, 409, 413),
)
async def save_draft(
    token: FromPath[str], data: JSONBody[DraftIn], runtime: Runtime
) -> Response[DraftOut]:
    """``{answers}`` → 200 with what was kept (well-formed answers of known items); a used
    link is 409, an unknown or expired one 404; a malformed answer 422 naming it."""
    kept = await runtime.write(
        partial(knowledge.save_test_draft, token=token, answers=data.bounded(), now=utc_now())
    )
    return Response(DraftOut(answers=kept), headers=dict(PAGE_HEADERS))


ANSWERS_JS: Final = (ASSET_DIR / "answers.js").read_bytes()


@get(
    "/assets/answers.js",
    tags=["participant pages"],
    summary="The pages' answer-keeping script (this service's own, no third-party code)",
    media_type="text/javascript",
    operation_class=operation_class(public=True),
    responses=public(),
)
async def answers_script() -> Response[bytes]:
    return Response(
        ANSWERS_JS,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


ROUTES = [test_page, submit_test_form, submit_test_json, save_draft, answers_script]
