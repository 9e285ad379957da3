"""The coordinators' console use cases about people: find them, see one with their
registrations, correct their details, cancel one of their registrations, and spot a probable
duplicate before registering.

Each runs in one transaction's ``Connection``. Reach is the principal's region throughout:
another region's person is "not found", and a possible duplicate is looked for only among the
people of the typed person's own city, which a coordinator must share.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace

from sqlalchemy.engine import Connection

from trainops_registration.adapters import participants, people, registrations, sessions
from trainops_registration.domain import ParticipantInput, validate_participant
from trainops_registration.domain.errors import Conflict, Invalid, NotFound
from trainops_registration.domain.participant import (
    canonical_participant,
    name_key,
    normalise_phone,
    validate_email,
    validate_full_name,
    validate_organisation,
)
from trainops_registration.domain.records import Person, Registration, SessionCopy
from trainops_registration.handlers.registering import ensure_may_register_in
from trainops_registration.handlers.registrations import cancel_and_promote
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.timeutil import utc_now

QUERY_MAX = 200
_PHONE_DIGITS_MIN = 3


def _person_not_found(participant_id: uuid.UUID) -> NotFound:
    return NotFound("participant_id", f"participant {participant_id} not found")


def search_people(conn: Connection, principal: Principal, *, query: str) -> list[Person]:
    """People of the principal's region matching ``query`` as a name (any spelling, any word
    order, parts of words), an e-mail or a phone (as typed: ``8 701…`` finds ``+7701…``)."""
    query = " ".join(query.split())[:QUERY_MAX]
    if not query:
        return []
    tokens = name_key(query).split()
    email = query.lower() if "@" in query or "." in query else None
    digits = re.sub(r"\D", "", query)
    phone: str | None = None
    if len(digits) >= _PHONE_DIGITS_MIN:
        try:
            normalised = normalise_phone(query, "q")
        except ValueError:
            normalised = None
        phone = normalised.removeprefix("+") if normalised else digits
    return people.search_people(
        conn, principal, name_tokens=tokens, email=email, phone_digits=phone
    )


@dataclass(frozen=True, slots=True)
class PersonRegistration:
    registration: Registration
    session: SessionCopy | None


@dataclass(frozen=True, slots=True)
class PersonPage:
    """One person with every registration of theirs the reader may see, newest first."""

    person: Person
    registrations: list[PersonRegistration]


def read_person(conn: Connection, participant_id: uuid.UUID, principal: Principal) -> PersonPage:
    person = people.get_person(conn, participant_id, principal)
    if person is None:
        raise _person_not_found(participant_id)
    found = people.registrations_of(conn, participant_id, principal)
    copies: dict[uuid.UUID, SessionCopy | None] = {}
    for r in found:
        if r.session_id not in copies:
            copies[r.session_id] = sessions.get_session(conn, r.session_id)
    return PersonPage(
        person=person,
        registrations=[PersonRegistration(r, copies[r.session_id]) for r in found],
    )


@dataclass(frozen=True, slots=True)
class PersonCorrection:
    """The personal details a coordinator may correct (the city is the person's region and
    the categories were recorded with each registration: neither changes here)."""

    participant_id: uuid.UUID
    full_name: str
    email: str | None
    phone: str | None
    organisation: str | None


def correct_person(conn: Connection, command: PersonCorrection, principal: Principal) -> Person:
    """Validate as registering does, refuse a contact another person of the city holds (409 at
    that field), store, and audit which fields changed (their names, never their values)."""
    stored = people.get_person(conn, command.participant_id, principal, for_update=True)
    if stored is None:
        raise _person_not_found(command.participant_id)
    full_name = validate_full_name(command.full_name, "full_name")
    email = validate_email(command.email, "email")
    phone = normalise_phone(command.phone, "phone")
    organisation = validate_organisation(command.organisation, "organisation")
    corrected = replace(
        stored,
        full_name=full_name,
        name_key=name_key(full_name),
        email=email.lower() if email is not None else None,
        phone=phone,
        organisation=organisation,
    )
    for column, value in (("email", corrected.email), ("phone", corrected.phone)):
        if value is None:
            continue
        holder = people.holder_of(conn, column, value, stored.city)
        if holder is not None and holder != stored.participant_id:
            raise Conflict(column, f"another participant of this city already has this {column}")
    changed = [
        name
        for name in ("full_name", "email", "phone", "organisation")
        if getattr(corrected, name) != getattr(stored, name)
    ]
    if not changed:
        return stored
    now = utc_now()
    if not people.update_person(conn, corrected, now):
        raise Conflict("email", "another participant of this city took this contact just now")
    record_audit(
        conn,
        principal,
        "participant.corrected",
        "participant",
        stored.participant_id,
        {"changed": ".".join(changed)},
        at=now,
    )
    return corrected


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A cancelled registration and the people its freed seat moved up (those the reader may
    see; their names are of the reader's region)."""

    registration: Registration
    promoted: list[Registration]


def cancel_for_person(
    conn: Connection,
    participant_id: uuid.UUID,
    registration_id: str,
    principal: Principal,
    correlation_id: uuid.UUID,
) -> Cancelled:
    """Cancel one of the person's registrations (another person's, or another region's: 404;
    the person is looked up first, so another region's person is 404 whatever the form says)."""
    if people.get_person(conn, participant_id, principal) is None:
        raise _person_not_found(participant_id)
    try:
        chosen = uuid.UUID(registration_id.strip())
    except ValueError:
        raise Invalid("registration_id", "choose a registration to cancel") from None
    found = registrations.get_registration(conn, chosen, principal)
    if found is None or found.participant_id != participant_id:
        raise NotFound("registration_id", f"registration {chosen} not found")
    cancelled, promoted = cancel_and_promote(conn, chosen, principal, correlation_id)
    shown = [
        visible
        for p in promoted
        if (
            visible := registrations.get_registration(
                conn, p.registration_id, principal, with_person=True
            )
        )
        is not None
    ]
    return Cancelled(registration=cancelled, promoted=shown)


def possible_duplicate(
    conn: Connection, raw: ParticipantInput, session_id: uuid.UUID, principal: Principal
) -> Person | None:
    """The stored person registering ``raw`` would be linked to, if any, found by the same
    matching rules and in the same match scope (the person's own city, the caller's region)
    as registering itself: a person of another region is never looked at."""
    person = canonical_participant(validate_participant(raw))
    scope = ensure_may_register_in(principal, person)
    match = participants.match_participant(conn, person, session_id, scope)
    return match.person if match is not None else None
