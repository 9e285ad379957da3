"""Registering one participant from the console: the form, a probable duplicate shown before
anything is saved, and the seat decision at once.

``POST /register`` runs the very use case of ``POST /registrations``; the form only adds the
question "is this the person you already have?" when the matching rules would link the input
to a stored participant of the coordinator's region.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from trainops_registration.api import views
from trainops_registration.api.console_forms import (
    PERSON_FIELDS,
    error_message,
    field_of,
    first,
    form_post,
    form_values,
    page_get,
    parse_uuid,
    participant_input,
    person_problems,
    texts_of,
)
from trainops_registration.domain.consent import PURPOSE_TEXTS, TAKING_PART, configured_purposes
from trainops_registration.domain.identity import region_code
from trainops_registration.domain.records import Person, Registration
from trainops_registration.handlers import registering
from trainops_registration.handlers.people import possible_duplicate
from trainops_registration.handlers.sessions import read_region_sessions
from trainops_shared.auth import Principal
from trainops_shared.console.labels import choices
from trainops_shared.console.pages import render_console
from trainops_shared.errors import AppError
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]
Caller = NamedDependency[Principal]
REGISTER_FIELDS = (*PERSON_FIELDS, "session_id")


async def _form_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    duplicate: Person | None = None,
    consents: tuple[str, ...] = (TAKING_PART,),
    status: int = 200,
) -> Template:
    lang, texts = texts_of(request)
    offered = configured_purposes(runtime.settings.consent_purposes)
    found = await runtime.read(
        partial(read_region_sessions, principal=principal, region=None, now=datetime.now(UTC))
    )
    open_sessions = [s for s in [*found.upcoming, *found.past] if s.status == "scheduled"]
    own = region_code(principal.region_scope)
    cities = [(code, word) for code, word in choices("city", lang) if own is None or code == own]
    if own is not None and not values.get("city"):
        values = {**values, "city": own}
    return render_console(
        request,
        principal,
        "registration/register.html",
        {
            "r": texts,
            "values": values,
            "errors": errors or {},
            "duplicate": duplicate,
            "consent_choices": [(p, PURPOSE_TEXTS[p][lang]) for p in offered],
            "chosen_consents": consents,
            "sessions": open_sessions,
            "cities": cities,
            "sectors": choices("sector", lang),
            "sexes": choices("sex", lang),
            "age_bands": choices("age_band", lang),
            "training_languages": choices("language", lang),
        },
        title=texts["register_title"],
        active="registration",
        status=status,
    )


@page_get("/register")
async def register_form(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    session_id: FromQuery[str | None] = None,
) -> Template:
    """The empty registration form (a session picked when ``session_id`` names one)."""
    values = dict.fromkeys(REGISTER_FIELDS, "")
    values["session_id"] = session_id or ""
    return await _form_page(request, principal, runtime, values)


@form_post("/register")
async def register_submit(
    request: Request[Any, Any, Any], principal: Caller, runtime: Runtime
) -> Template:
    """Validate every field (422: the form again, each error at its field, nothing saved);
    ask once about a probable duplicate in the region; then register and show the result."""
    _, texts = texts_of(request)
    submitted = await form_values(request)
    values = {name: first(submitted, name) for name in REGISTER_FIELDS}
    # The form always sends taking part (a required box); a form post naming no consent at all
    # is read as the API reads a body without one: taking part only.
    consents = tuple(submitted.get("consent", [])) or (TAKING_PART,)
    errors = person_problems(values, texts)
    session_id = parse_uuid(values["session_id"])
    if session_id is None:
        errors["session_id"] = texts["err_session_id"]
    if errors or session_id is None:
        return await _form_page(
            request, principal, runtime, values, errors=errors, consents=consents, status=422
        )
    raw = participant_input(values)
    try:
        if first(submitted, "confirm_duplicate") != "yes":
            match = await runtime.read(
                partial(
                    possible_duplicate,
                    raw=raw,
                    session_id=session_id,
                    principal=principal,
                )
            )
            if match is not None:
                return await _form_page(
                    request, principal, runtime, values, duplicate=match, consents=consents
                )
        result = await runtime.write(
            partial(
                registering.register_participant,
                command=registering.RegisterParticipant(
                    session_id=session_id,
                    participant=raw,
                    route="POST /register",
                    consents=consents,
                    offered_consents=configured_purposes(runtime.settings.consent_purposes),
                ),
                principal=principal,
                render=views.registration_json,
            )
        )
    except AppError as exc:
        field = field_of(exc).split("[")[0]
        at = field if field in (*REGISTER_FIELDS, "consents") else "session_id"
        return await _form_page(
            request,
            principal,
            runtime,
            values,
            errors={at: error_message(exc, texts)},
            consents=consents,
            status=exc.status,
        )
    assert isinstance(result, Registration)  # no idempotency key: never a replay
    return render_console(
        request,
        principal,
        "registration/register_result.html",
        {"r": texts, "registration": result, "name": values["full_name"].strip()},
        title=texts["result_title"],
        active="registration",
        status=201,
    )


REGISTER_PAGES = [register_form, register_submit]
