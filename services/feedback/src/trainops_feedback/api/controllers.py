"""Thin HTTP routes: parse, run one use case in one transaction, answer.

``/f/{token}`` (the participant's page) and ``/responses`` are public: the token in them is
the credential. The invitation listing is for staff and coordinators (region-scoped).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any

from litestar import Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Template

from trainops_feedback.api.pages import (
    PAGE_HEADERS,
    MalformedForm,
    echoed_values,
    first_values,
    html_response,
    read_form,
    scripted_response,
    session_date,
    training_title,
)
from trainops_feedback.api.schemas import (
    DraftIn,
    DraftOut,
    InvitationOut,
    ResponseCreated,
    ResponseIn,
)
from trainops_feedback.api.views import (
    render_already_submitted,
    render_error,
    render_form,
    render_form_with_errors,
    render_not_found,
    render_thanks,
)
from trainops_feedback.domain.errors import AlreadySubmitted, InvalidAnswers, InvitationNotFound
from trainops_feedback.domain.invitation import InvitationView, LinkState, link_state
from trainops_feedback.domain.language import resolve_language
from trainops_feedback.domain.survey import LANG_FIELD, parse_form, validate_answers
from trainops_feedback.domain.tokens import tokens_for
from trainops_feedback.handlers import commands
from trainops_shared import errors as app_errors
from trainops_shared.auth import Principal, requires
from trainops_shared.openapi_docs import error_responses, operation_class, protected, public
from trainops_shared.service import ANY_QUERY_OPT, ServiceRuntime
from trainops_shared.timeutil import utc_now

Runtime = NamedDependency[ServiceRuntime]
"""Injected by name: the shared runtime (the composition root provides it)."""

FORM_BODY = (
    "application/x-www-form-urlencoded",
    "The form as a browser posts it: one field per survey item (1..5), ``comment``, ``lang``.",
    Schema(type=OpenAPIType.OBJECT, additional_properties=Schema(type=OpenAPIType.STRING)),
)
LangQuery = Annotated[
    str | None,
    QueryParameter(
        name="lang", description="Page language: kk, ru or en (anything else: the registered one)."
    ),
]


def _form_page(
    view: InvitationView, token: str, lang: str | None, draft: dict[str, object]
) -> Template:
    language = resolve_language(lang, view.language)
    return scripted_response(
        render_form(
            token=token,
            training_title=training_title(view, language),
            session_date=session_date(view),
            lang=language,
            participant_language=view.language,
            values=draft,
        )
    )


def _state_page(view: InvitationView | None, state: LinkState, lang: str | None) -> Template:
    participant_language = view.language if view is not None else None
    if state == "used":
        language = resolve_language(lang, participant_language)
        return html_response(
            render_already_submitted(
                language,
                participant_language=participant_language,
                training_title=training_title(view, language) or None,
            )
        )
    return html_response(render_not_found(lang, participant_language=participant_language))


@get(
    "/f/{token:str}",
    tags=["participant pages"],
    summary="The feedback form of an invitation (HTML)",
    include_in_schema=True,
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True),
    responses=error_responses(404, 409, media_type=MediaType.HTML),
    opt={ANY_QUERY_OPT: True},
)
async def feedback_page(token: FromPath[str], runtime: Runtime, lang: LangQuery = None) -> Template:
    """The post-training survey in the participant's language (``?lang=kk|ru|en`` switches),
    with the answers saved so far (the link's server-side draft).

    An unknown, revoked or expired link shows the same "not found or expired" page (404); a used
    one the "already submitted" page (409).
    """
    now = utc_now()
    current = await runtime.read(partial(commands.open_form, token=token, now=now))
    view = current.view
    state = link_state(view, now)
    if state != "open" or view is None:
        return _state_page(view, state, lang)
    return _form_page(view, token, lang, current.draft)


@post(
    "/f/{token:str}",
    tags=["participant pages"],
    summary="Submit the feedback form (urlencoded; HTML answer)",
    status_code=201,
    media_type=MediaType.HTML,
    operation_class=operation_class(public=True, body=FORM_BODY, json_too=(400, 422)),
    responses=error_responses(400, 404, 409, 413, 415, 422, media_type=MediaType.HTML),
)
async def submit_feedback_form(
    token: FromPath[str], request: Request[Any, Any, Any], runtime: Runtime, lang: LangQuery = None
) -> Template:
    """201 with the thank-you page; 422 re-shows the form with each wrong answer marked; 409
    when the link was used already; 404 for an unknown or expired link."""
    try:
        form = first_values(await read_form(request))
    except MalformedForm as exc:
        return html_response(render_error(exc.status, lang))
    lang = form.get(LANG_FIELD) or lang

    now = utc_now()
    view = await runtime.read(partial(commands.find_invitation, token=token))
    state = link_state(view, now)
    if state != "open" or view is None:
        return _state_page(view, state, lang)
    language = resolve_language(lang, view.language)
    try:
        submission = parse_form(form)
    except InvalidAnswers as exc:
        return scripted_response(
            render_form_with_errors(
                token=token,
                training_title=training_title(view, language),
                session_date=session_date(view),
                lang=language,
                participant_language=view.language,
                error=exc,
                values=echoed_values(form),
            )
        )
    command = commands.SubmitFeedback(token=token, submission=submission, language=language)
    try:
        submitted = await runtime.write(partial(commands.submit_feedback, command=command, now=now))
    except AlreadySubmitted:
        return _state_page(view, "used", language)
    except InvitationNotFound:
        return _state_page(view, "not_found", language)
    return scripted_response(
        render_thanks(
            submitted.language,
            participant_language=submitted.participant_language,
            training_title=training_title(view, submitted.language) or None,
            token=token,
        ),
        status=201,
    )


@post(
    "/responses",
    tags=["responses"],
    summary="Submit feedback as JSON (public: the token is the credential)",
    status_code=201,
    operation_class=operation_class(public=True),
    responses=public(413, 404, 409),
)
async def submit_response(
    data: JSONBody[ResponseIn], runtime: Runtime
) -> Response[ResponseCreated]:
    """``{token, answers: {item: 1..5}, comment?, language?}`` → 201 ``{id}``; a second
    submission with the same token → 409; an unknown or expired token → 404."""
    if not data.token:
        raise app_errors.Invalid(
            "token is required (the code at the end of the link)", field="token"
        )
    submission = validate_answers(data.answers, data.comment)
    command = commands.SubmitFeedback(
        token=data.token, submission=submission, language=data.language
    )
    submitted = await runtime.write(
        partial(commands.submit_feedback, command=command, now=utc_now())
    )
    return Response(
        ResponseCreated(id=submitted.response_id), status_code=201, headers=dict(PAGE_HEADERS)
    )


@put(
    "/f/{token:str}/draft",
    tags=["participant pages"],
    summary="Save the feedback answers given so far (the link's server-side draft)",
    operation_class=operation_class(public=True),
    responses=public(404, 409, 413),
)
async def save_form_draft(
    token: FromPath[str], data: JSONBody[DraftIn], runtime: Runtime
) -> Response[DraftOut]:
    """``{answers: {item: 1..5 or "1".."5", comment?}}`` → 200 with what was kept; a used link
    is 409, an unknown or expired one 404; a malformed answer 422 naming it. The page sends
    it as the participant goes, so a reload or a lost connection keeps the answers."""
    kept = await runtime.write(
        partial(commands.save_form_draft, token=token, answers=data.bounded(), now=utc_now())
    )
    return Response(DraftOut(answers=dict(kept)), headers=dict(PAGE_HEADERS))


@get(
    "/sessions/{session_id:uuid}/invitations",
    tags=["invitations"],
    summary="The feedback links of a completed session",
    guards=[requires("admin", "programme_staff", "coordinator")],
    responses=protected(404),
)
async def list_invitations(
    session_id: FromPath[uuid.UUID],
    runtime: Runtime,
    principal: NamedDependency[Principal],
) -> Response[list[InvitationOut]]:
    """Every live invitation of the session with its link; a coordinator sees only the
    participants of their own region. Unknown session → 404; reporting → 403."""
    links = await runtime.read(
        partial(
            commands.list_invitations,
            session_id=session_id,
            principal=principal,
            tokens=tokens_for(runtime.settings.feedback_link_key),
            public_url=runtime.settings.public_url,
        )
    )
    body = [
        InvitationOut(
            registration_id=link.registration_id,
            url=link.url,
            language=link.language,
            expires_at=link.expires_at,
            submitted=link.submitted,
            kind=link.kind,
        )
        for link in links
    ]
    # The links are credentials: never let a cache keep them.
    return Response(body, headers={"Cache-Control": "no-store"})


ROUTES = [feedback_page, submit_feedback_form, save_form_draft, submit_response, list_invitations]
