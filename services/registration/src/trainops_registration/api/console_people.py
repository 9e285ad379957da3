"""The console's people: search the region, one person's page with their registrations, the
correction of their details, and cancelling one of their registrations.

The paths are ``/people``: ``/participants/...`` holds the JSON routes of duplicate flags and
merges. Another region's person does not exist here (404), as in the JSON API.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.engine import Connection

from trainops_registration.api.console_forms import (
    error_message,
    field_of,
    first,
    form_post,
    form_values,
    not_found_page,
    page_get,
    texts_of,
)
from trainops_registration.domain.consent import PURPOSE_TEXTS, TAKING_PART, configured_purposes
from trainops_registration.domain.records import Person
from trainops_registration.handlers import lifecycle, people
from trainops_shared.auth import Principal
from trainops_shared.console.pages import render_console
from trainops_shared.errors import AppError, NotFound
from trainops_shared.events import uuid7
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]
Caller = NamedDependency[Principal]
ParticipantId = FromPath[uuid.UUID]
DETAIL_FIELDS = ("full_name", "email", "phone", "organisation")
T = TypeVar("T")


@page_get("/people")
async def search_page(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    q: FromQuery[str | None] = None,
) -> Template:
    """Find people of your region by name (any spelling or word order), phone or e-mail."""
    _, texts = texts_of(request)
    query = (q or "").strip()
    found: list[Person] = []
    if query:
        found = await runtime.read(partial(people.search_people, principal=principal, query=query))
    return render_console(
        request,
        principal,
        "registration/people.html",
        {"r": texts, "q": query, "people": found, "searched": bool(query), "notice": ""},
        title=texts["people_title"],
        active="registration",
    )


def _values_of(person: Person) -> dict[str, str]:
    return {
        "full_name": person.full_name,
        "email": person.email or "",
        "phone": person.phone or "",
        "organisation": person.organisation or "",
    }


async def _person_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    participant_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    problem: str = "",
    status: int = 200,
) -> Template:
    _, texts = texts_of(request)
    lang = texts_of(request)[0]
    try:
        page = await runtime.read(
            partial(people.read_person, participant_id=participant_id, principal=principal)
        )
        consents = await runtime.read(
            partial(lifecycle.read_consents, participant_id=participant_id, principal=principal)
        )
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    return render_console(
        request,
        principal,
        "registration/person.html",
        {
            "r": texts,
            "page": page,
            "values": values or _values_of(page.person),
            "errors": errors or {},
            "notice": notice,
            "problem": problem,
            "taking_part": TAKING_PART,
            "consents": [
                (c, PURPOSE_TEXTS.get(c.purpose, {}).get(lang, c.purpose)) for c in consents
            ],
        },
        title=f"{texts['person_title']}: {page.person.full_name}",
        active="registration",
        status=status,
    )


@page_get("/people/{participant_id:uuid}", of_one=True)
async def person_page(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    participant_id: ParticipantId,
) -> Template:
    """One person of your region: details, a form to correct them, their registrations."""
    return await _person_page(request, principal, runtime, participant_id)


@form_post("/people/{participant_id:uuid}")
async def correct_details(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    participant_id: ParticipantId,
) -> Template:
    """Correct name, e-mail, phone or organisation, validated as registering validates them."""
    _, texts = texts_of(request)
    submitted = await form_values(request)
    values = {name: first(submitted, name) for name in DETAIL_FIELDS}
    command = people.PersonCorrection(
        participant_id=participant_id,
        full_name=values["full_name"],
        email=values["email"] or None,
        phone=values["phone"] or None,
        organisation=values["organisation"] or None,
    )
    try:
        await runtime.write(partial(people.correct_person, command=command, principal=principal))
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    except AppError as exc:
        at = field_of(exc)
        return await _person_page(
            request,
            principal,
            runtime,
            participant_id,
            values=values,
            errors={at if at in DETAIL_FIELDS else "full_name": error_message(exc, texts)},
            status=exc.status,
        )
    return await _person_page(
        request, principal, runtime, participant_id, notice=texts["corrected"]
    )


async def _change_person(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    participant_id: uuid.UUID,
    change: Callable[[Connection], T],
) -> tuple[T | None, Template | None]:
    """Run ``change`` in one write; on a refusal, the page that answers it instead (another
    region's person: the not-found page; any other: the person's page naming the problem)."""
    _, texts = texts_of(request)
    try:
        return await runtime.write(change), None
    except NotFound as exc:
        return None, not_found_page(request, principal, exc)
    except AppError as exc:
        page = await _person_page(
            request,
            principal,
            runtime,
            participant_id,
            problem=error_message(exc, texts),
            status=exc.status,
        )
        return None, page


@form_post("/people/{participant_id:uuid}/cancel")
async def cancel_registration(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    participant_id: ParticipantId,
) -> Template:
    """Cancel one of the person's registrations; the page then says who moved up."""
    _, texts = texts_of(request)
    submitted = await form_values(request)
    done, refused = await _change_person(
        request,
        principal,
        runtime,
        participant_id,
        partial(
            people.cancel_for_person,
            participant_id=participant_id,
            registration_id=first(submitted, "registration_id"),
            principal=principal,
            correlation_id=uuid7(),
        ),
    )
    if refused is not None:
        return refused
    assert done is not None
    names = [r.person.full_name for r in done.promoted if r.person is not None]
    moved = texts["promoted"].format(names=", ".join(names)) if names else texts["no_promotion"]
    return await _person_page(
        request,
        principal,
        runtime,
        participant_id,
        notice=f"{texts['cancelled']} {moved}",
    )


@form_post("/people/{participant_id:uuid}/consents")
async def withdraw_consent(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    participant_id: ParticipantId,
) -> Template:
    """Withdraw one of the person's consents on their behalf (taking part: erase instead)."""
    _, texts = texts_of(request)
    submitted = await form_values(request)
    command = lifecycle.WithdrawConsent(
        participant_id=participant_id,
        purpose=first(submitted, "purpose"),
        offered=configured_purposes(runtime.settings.consent_purposes),
    )
    _, refused = await _change_person(
        request,
        principal,
        runtime,
        participant_id,
        partial(lifecycle.withdraw_consent, command=command, principal=principal),
    )
    if refused is not None:
        return refused
    return await _person_page(
        request, principal, runtime, participant_id, notice=texts["consent_withdrawn"]
    )


@form_post("/people/{participant_id:uuid}/erase")
async def erase_person(
    request: Request[Any, Any, Any],
    principal: Caller,
    runtime: Runtime,
    participant_id: ParticipantId,
) -> Template:
    """Erase the person's personal data for good, once the box saying so is ticked."""
    _, texts = texts_of(request)
    submitted = await form_values(request)
    if first(submitted, "confirm_erase") != "yes":
        return await _person_page(
            request,
            principal,
            runtime,
            participant_id,
            problem=texts["erase_unconfirmed"],
            status=422,
        )
    try:
        await runtime.write(
            partial(lifecycle.erase_participant, participant_id=participant_id, principal=principal)
        )
    except NotFound as exc:
        return not_found_page(request, principal, exc)
    return render_console(
        request,
        principal,
        "registration/people.html",
        {"r": texts, "q": "", "people": [], "searched": False, "notice": texts["erased"]},
        title=texts["people_title"],
        active="registration",
    )


PEOPLE_PAGES = [
    search_page,
    person_page,
    correct_details,
    cancel_registration,
    withdraw_consent,
    erase_person,
]
