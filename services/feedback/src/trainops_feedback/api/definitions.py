"""Programme staff's JSON API of survey and knowledge-test definitions.

A version is edited while it is a draft and frozen when published; a revision is a new
version. The answers include the correct options (staff write them); no route here or
anywhere returns a participant's answers or score.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Annotated, Final

import msgspec
from litestar import Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter

from trainops_feedback.domain.definitions import (
    Definition,
    Item,
    Purpose,
    Status,
    Texts,
    VersionRow,
)
from trainops_feedback.domain.tokens import tokens_for
from trainops_feedback.handlers import definitions as use_cases
from trainops_feedback.handlers.events import FeedbackProjection
from trainops_shared.auth import Principal, requires
from trainops_shared.openapi_docs import protected
from trainops_shared.service import ServiceRuntime
from trainops_shared.timeutil import utc_now

VersionNumber = Annotated[int, PathParameter(ge=1, le=1_000_000)]
"""A survey's version in a path: bounded, so that no value past 64 bits reaches SQL."""

Runtime = NamedDependency[ServiceRuntime]
EDITOR_ROLES: Final = frozenset({"admin", "programme_staff"})
"""Who writes surveys and knowledge tests, through the API and the console pages."""
EDITORS: Final = requires(*sorted(EDITOR_ROLES))


class DefinitionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new survey (``purpose: feedback``) or knowledge test (with its ``training_id``)."""

    code: str
    purpose: Purpose = "feedback"
    training_id: uuid.UUID | None = None
    title: Texts
    items: tuple[Item, ...]


class VersionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The new content of a draft version."""

    title: Texts
    items: tuple[Item, ...]


class VersionOut(msgspec.Struct, kw_only=True):
    survey_id: uuid.UUID
    code: str
    purpose: Purpose
    training_id: uuid.UUID | None
    version: int
    status: Status
    published_at: datetime | None
    title: Texts
    items: tuple[Item, ...]
    max_score: int


def _out(row: VersionRow) -> VersionOut:
    return VersionOut(
        survey_id=row.survey_id,
        code=row.code,
        purpose=row.purpose,
        training_id=row.training_id,
        version=row.version,
        status=row.status,
        published_at=row.published_at,
        title=row.definition.title,
        items=row.definition.items,
        max_score=row.definition.max_score,
    )


@post(
    "/surveys",
    tags=["surveys"],
    summary="Create a survey or knowledge test (its version 1, a draft)",
    guards=[EDITORS],
    status_code=201,
    responses=protected(409, 422),
)
async def create_survey(
    data: JSONBody[DefinitionIn], runtime: Runtime, principal: NamedDependency[Principal]
) -> VersionOut:
    """422 lists every problem of the definition at once; 409 for a taken code or a training
    that has a knowledge test already."""
    command = use_cases.CreateDefinition(
        code=data.code,
        purpose=data.purpose,
        training_id=data.training_id,
        definition=Definition(title=data.title, items=data.items),
    )
    row = await runtime.write(
        partial(use_cases.create_definition, command=command, principal=principal, now=utc_now())
    )
    return _out(row)


@get(
    "/surveys",
    tags=["surveys"],
    summary="Every survey, newest version",
    guards=[EDITORS],
    responses=protected(),
)
async def list_surveys(runtime: Runtime) -> list[VersionOut]:
    return [_out(row) for row in await runtime.read(use_cases.list_definitions)]


@get(
    "/surveys/{survey_id:uuid}/versions",
    tags=["surveys"],
    summary="Every version of a survey",
    guards=[EDITORS],
    responses=protected(404),
)
async def survey_versions(survey_id: FromPath[uuid.UUID], runtime: Runtime) -> list[VersionOut]:
    rows = await runtime.read(partial(use_cases.definition_versions, survey_id=survey_id))
    return [_out(row) for row in rows]


@put(
    "/surveys/{survey_id:uuid}/versions/{version:int}",
    tags=["surveys"],
    summary="Edit a draft version",
    guards=[EDITORS],
    responses=protected(404, 409, 422),
)
async def edit_version(
    survey_id: FromPath[uuid.UUID],
    version: VersionNumber,
    data: JSONBody[VersionIn],
    runtime: Runtime,
) -> VersionOut:
    """A published version is immutable: 409, and it stays exactly as it was."""
    definition = Definition(title=data.title, items=data.items)
    row = await runtime.write(
        partial(
            use_cases.edit_draft,
            survey_id=survey_id,
            version=version,
            definition=definition,
            now=utc_now(),
        )
    )
    return _out(row)


@post(
    "/surveys/{survey_id:uuid}/versions",
    tags=["surveys"],
    summary="Start a new draft version from the newest published one",
    guards=[EDITORS],
    status_code=201,
    responses=protected(404, 409),
)
async def start_version(survey_id: FromPath[uuid.UUID], runtime: Runtime) -> VersionOut:
    row = await runtime.write(partial(use_cases.new_version, survey_id=survey_id, now=utc_now()))
    return _out(row)


@post(
    "/surveys/{survey_id:uuid}/versions/{version:int}/publish",
    tags=["surveys"],
    summary="Publish a draft version (it never changes again)",
    guards=[EDITORS],
    status_code=200,
    responses=protected(404, 409),
)
async def publish_version(
    survey_id: FromPath[uuid.UUID],
    version: VersionNumber,
    runtime: Runtime,
    principal: NamedDependency[Principal],
) -> Response[VersionOut]:
    """Publishing a knowledge test issues the pre-tests now due to registered people."""
    return Response(_out(await publish_draft(runtime, survey_id, version, principal)))


async def publish_draft(
    runtime: ServiceRuntime, survey_id: uuid.UUID, version: int, principal: Principal
) -> VersionRow:
    """Publish through the one use case the JSON route and the console page share."""
    projection = FeedbackProjection(tokens=tokens_for(runtime.settings.feedback_link_key))
    return await runtime.write(
        partial(
            use_cases.publish_version,
            survey_id=survey_id,
            version=version,
            principal=principal,
            now=utc_now(),
            issue_due_tests=projection.issue_tests,
        )
    )


ROUTES = [
    create_survey,
    list_surveys,
    survey_versions,
    edit_version,
    start_version,
    publish_version,
]
