"""Response bodies of the registration API: what the OpenAPI document shows of every answer.

Fields that are absent when empty (``waitlist_position``, ``cancel_cause``, ``participant``,
``resolved_by_merge``) default to ``None`` in a struct with ``omit_defaults``; every other field
is always sent, ``null`` included. Instants are ISO 8601 strings with a ``+00:00`` offset.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from trainops_registration.domain.identity import CandidateReason
from trainops_registration.domain.records import CancelCause, FlagStatus
from trainops_registration.domain.seats import RegistrationStatus
from trainops_shared.events.vocabulary import AgeBand, Language, Sector, Sex

Instant = Annotated[str, msgspec.Meta(description="ISO 8601 instant in UTC (+00:00)")]


class PersonBody(msgspec.Struct, kw_only=True, frozen=True):
    """The participant's personal data, shown only to staff of the participant's region."""

    full_name: str
    email: str | None
    phone: str | None
    organisation: str | None
    city: str


class RegistrationBody(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """One registration; ``participant`` where the caller may see the person."""

    id: uuid.UUID
    participant_id: uuid.UUID
    session_id: uuid.UUID
    status: RegistrationStatus
    city: str
    sector: Sector
    sex: Sex
    age_band: AgeBand
    language: Language
    attended: bool | None
    version: int
    created_at: Instant
    updated_at: Instant
    waitlist_position: int | None = None
    cancel_cause: CancelCause | None = None
    participant: PersonBody | None = None


class RegistrationPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[RegistrationBody]
    total: int
    limit: int
    offset: int


class ImportBody(msgspec.Struct, kw_only=True, frozen=True):
    """What one CSV import registered, in file order."""

    session_id: uuid.UUID
    imported: int
    confirmed: int
    waitlisted: int
    registrations: list[RegistrationBody]


class FlagBody(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """A possible duplicate, flagged by a coordinator or an admin."""

    flag_id: uuid.UUID
    participant_id: uuid.UUID
    city: str
    possible_duplicate_of: uuid.UUID | None
    note: str
    status: FlagStatus
    flagged_by: str
    flagged_by_role: str
    created_at: Instant
    resolved_by_merge: uuid.UUID | None = None


class FlagPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[FlagBody]
    total: int
    limit: int
    offset: int


class SummaryBody(msgspec.Struct, kw_only=True, frozen=True):
    """A participant as an admin reviewing duplicates sees them."""

    participant_id: uuid.UUID
    full_name: str
    email: str | None
    phone: str | None
    organisation: str | None
    city: str
    registrations: int


class CandidateGroupBody(msgspec.Struct, kw_only=True, frozen=True):
    reason: CandidateReason
    participants: list[SummaryBody]


class FlagWithPeopleBody(FlagBody, kw_only=True, frozen=True, omit_defaults=True):
    """An open flag with both participants it names (``null`` where not visible or absent)."""

    participant: SummaryBody | None
    possible_duplicate: SummaryBody | None


class CandidatesBody(msgspec.Struct, kw_only=True, frozen=True):
    groups: list[CandidateGroupBody]
    flags: list[FlagWithPeopleBody]
    limit: int


class MergeBody(msgspec.Struct, kw_only=True, frozen=True):
    """The audit record of one merge: ids, cities, who and why; no personal data."""

    merge_id: uuid.UUID
    kept_participant_id: uuid.UUID
    merged_participant_id: uuid.UUID
    kept_city: str
    merged_city: str
    reason: str
    merged_by: str
    merged_by_role: str
    merged_by_region: str | None
    merged_at: Instant
    registrations_moved: int
    flags_resolved: int


class MergePage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[MergeBody]
    total: int
    limit: int
    offset: int


class ConsentBody(msgspec.Struct, kw_only=True, frozen=True):
    """One purpose the person agreed to; ``withdrawn_at`` once withdrawn."""

    purpose: str
    granted_at: Instant
    withdrawn_at: Instant | None
    source: str


class ConsentsBody(msgspec.Struct, kw_only=True, frozen=True):
    participant_id: uuid.UUID
    consents: list[ConsentBody]


class ErasureBody(msgspec.Struct, kw_only=True, frozen=True):
    """The receipt of an erasure: the pseudonymous id stays, nothing personal is left."""

    participant_id: uuid.UUID
    erased_at: Instant


class MovedRegistration(msgspec.Struct, kw_only=True, frozen=True):
    """One moved person: the registration they had, and the one they have now."""

    from_registration_id: uuid.UUID
    registration: RegistrationBody


class MovedBody(msgspec.Struct, kw_only=True, frozen=True):
    moved: list[MovedRegistration]
