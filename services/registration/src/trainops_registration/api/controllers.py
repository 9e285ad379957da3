"""Thin HTTP routes: parse, run one use case in one transaction, answer.

Only ``admin`` and ``coordinator`` reach these routes (other roles: 403); a coordinator's reach
is then narrowed to their region inside the repository queries (another region's rows: 404).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import (
    FromPath,
    FromQuery,
    HeaderParameter,
    JSONBody,
    QueryParameter,
    RawBody,
)

from trainops_registration.api import views
from trainops_registration.api.responses import ImportBody, RegistrationBody, RegistrationPage
from trainops_registration.api.schemas import AttendanceRequest, RegistrationRequest
from trainops_registration.domain.consent import configured_purposes
from trainops_registration.domain.import_file import declared_kind
from trainops_registration.domain.seats import RegistrationStatus
from trainops_registration.handlers import registering, registrations
from trainops_registration.handlers.imports import ImportParticipants, import_participants
from trainops_registration.handlers.registering import Replay
from trainops_shared.auth import Principal, requires
from trainops_shared.events import uuid7
from trainops_shared.openapi_docs import operation_class, protected
from trainops_shared.service import ServiceRuntime
from trainops_shared.validation import MAX_OFFSET

Runtime = NamedDependency[ServiceRuntime]
Caller = NamedDependency[Principal]
RegistrationId = FromPath[uuid.UUID]
CSV_IMPORT_BODY = (
    "CSV (UTF-8, UTF-16 or cp1251; comma, semicolon or tab) or an XLSX workbook, one "
    "participant per row after a header row naming the columns "
    "full_name, email, phone, organisation, sector, sex, age_band, city, language "
    "(any order; email, phone and organisation may be empty; at most 1000 rows and 1 MB). "
    "All or nothing: any bad row fails the import with a 422 listing every problem by "
    "row number and field."
)
CSV_SCHEMA = Schema(
    type=OpenAPIType.STRING,
    example=(
        "full_name,email,phone,organisation,sector,sex,age_band,city,language\n"
        "Aigerim Seitkali,a.seitkali@example.kz,+77011234567,Almaty Weekly,media,female,"
        "25-34,almaty,kk\n"
    ),
)


class RegistrationController(Controller):
    path = "/registrations"
    tags = ["registrations"]  # noqa: RUF012 - Litestar declares these as plain lists
    guards = [requires("admin", "coordinator")]  # noqa: RUF012

    @post("", status_code=201, responses=protected(413, 404, 409))
    async def register(
        self,
        data: JSONBody[RegistrationRequest],
        runtime: Runtime,
        principal: Caller,
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                min_length=1,
                max_length=200,
                description=(
                    "Retry-safe key: the same principal retrying this POST with it gets the "
                    "first answer. A key belongs to its sender (subject, role, region) and "
                    "route; anyone else sending it makes a request of their own."
                ),
            ),
        ] = None,
    ) -> Response[RegistrationBody]:
        """Register a participant: confirmed while seats remain, then waitlisted in order."""
        command = registering.RegisterParticipant(
            session_id=data.session_id,
            participant=data.participant,
            idempotency_key=idempotency_key,
            # Only a keyed request is ever compared with an earlier one.
            request_hash=registering.request_fingerprint(data) if idempotency_key else "",
            consents=tuple(data.consents) if data.consents is not None else None,
            offered_consents=configured_purposes(runtime.settings.consent_purposes),
        )
        result = await runtime.write(
            partial(
                registering.register_participant,
                command=command,
                principal=principal,
                render=views.registration_json,
            )
        )
        if isinstance(result, Replay):
            body = views.replayed_registration(result.body)
            return Response(body, status_code=result.status_code)
        return Response(views.registration_body(result), status_code=201)

    @post(
        "/import",
        status_code=201,
        operation_class=operation_class(body=("text/csv", CSV_IMPORT_BODY, CSV_SCHEMA)),
        responses=protected(413, 404, 409),
    )
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        body: RawBody,
        runtime: Runtime,
        principal: Caller,
        session_id: FromQuery[uuid.UUID],
    ) -> ImportBody:
        """Register every participant of a CSV or XLSX file for one session, all or nothing.

        The body is CSV (``Content-Type: text/csv``; UTF-8, UTF-16 or cp1251, separated by
        commas, semicolons or tabs) or an XLSX workbook (its first sheet), with a header line
        naming the columns ``full_name, email, phone, organisation, sector, sex, age_band, city,
        language`` (or their titles in the import template, in kk, ru or en). Any bad row
        fails the whole import with a 422 listing every problem by row number and field.
        """
        command = ImportParticipants(
            session_id=session_id,
            file_bytes=bytes(body),
            declared=declared_kind(request.headers.get("content-type", "")),
        )
        imported = await runtime.write(
            partial(import_participants, command=command, principal=principal)
        )
        return views.import_body(imported)

    @post("/{registration_id:uuid}/cancel", status_code=200, responses=protected(404, 409))
    async def cancel(
        self, registration_id: RegistrationId, runtime: Runtime, principal: Caller
    ) -> RegistrationBody:
        """Cancel; a freed seat goes to the first waitlisted person at once."""
        cancelled = await runtime.write(
            partial(
                registrations.cancel_registration,
                registration_id=registration_id,
                principal=principal,
                correlation_id=uuid7(),
            )
        )
        return views.registration_body(cancelled)

    @post("/{registration_id:uuid}/attendance", status_code=200, responses=protected(413, 404, 409))
    async def attendance(
        self,
        registration_id: RegistrationId,
        data: JSONBody[AttendanceRequest],
        runtime: Runtime,
        principal: Caller,
    ) -> RegistrationBody:
        """Record whether a confirmed participant attended (again: the latest answer wins)."""
        recorded = await runtime.write(
            partial(
                registrations.record_attendance,
                registration_id=registration_id,
                attended=data.attended,
                principal=principal,
                correlation_id=uuid7(),
            )
        )
        return views.registration_body(recorded)

    @get("", responses=protected())
    async def list_registrations(
        self,
        runtime: Runtime,
        principal: Caller,
        session_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[RegistrationStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
    ) -> RegistrationPage:
        """Registrations the caller may see (a coordinator: their region's), oldest first."""

        page = await runtime.read(
            partial(
                registrations.read_registrations,
                principal=principal,
                session_id=session_id,
                status=status,
                limit=limit,
                offset=offset,
            )
        )
        return views.registration_page(page)

    @get("/{registration_id:uuid}", responses=protected(404))
    async def get_registration(
        self, registration_id: RegistrationId, runtime: Runtime, principal: Caller
    ) -> RegistrationBody:
        """One registration with the participant's personal data (404 outside your region)."""

        found = await runtime.read(
            partial(
                registrations.read_registration,
                registration_id=registration_id,
                principal=principal,
            )
        )
        return views.registration_body(found)
