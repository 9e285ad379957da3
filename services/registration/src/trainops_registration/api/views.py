"""Records as the API answers them: the one place a response body is put together."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from trainops_registration.api.responses import (
    CandidateGroupBody,
    CandidatesBody,
    ConsentBody,
    ConsentsBody,
    FlagBody,
    FlagPage,
    FlagWithPeopleBody,
    ImportBody,
    MergeBody,
    MergePage,
    PersonBody,
    RegistrationBody,
    RegistrationPage,
    SummaryBody,
)
from trainops_registration.domain.consent import ConsentRecord
from trainops_registration.domain.records import (
    DuplicateFlag,
    Merge,
    ParticipantSummary,
    Registration,
)
from trainops_registration.handlers.identity import Candidates
from trainops_registration.handlers.imports import Imported
from trainops_registration.handlers.pages import Page
from trainops_shared.timeutil import as_utc


def registration_body(record: Registration) -> RegistrationBody:
    """The registration, with the person's details only where the reader may see them."""
    person = record.person
    return RegistrationBody(
        id=record.registration_id,
        participant_id=record.participant_id,
        session_id=record.session_id,
        status=record.status,
        city=record.city,
        sector=record.sector,
        sex=record.sex,
        age_band=record.age_band,
        language=record.language,
        attended=record.attended,
        version=record.version,
        created_at=record.created_at.isoformat(),
        updated_at=record.updated_at.isoformat(),
        waitlist_position=record.waitlist_position,
        cancel_cause=record.cancel_cause,
        participant=(
            PersonBody(
                full_name=person.full_name,
                email=person.email,
                phone=person.phone,
                organisation=person.organisation,
                city=person.city,
            )
            if person is not None
            else None
        ),
    )


def registration_json(record: Registration) -> dict[str, Any]:
    """:func:`registration_body` as plain JSON values (what an idempotency key keeps)."""
    body: dict[str, Any] = msgspec.to_builtins(registration_body(record))
    return body


def replayed_registration(body: dict[str, Any]) -> RegistrationBody:
    """A kept answer (:func:`registration_json`) as the struct it was made from."""
    return msgspec.convert(body, RegistrationBody)


def registration_page(page: Page[Registration]) -> RegistrationPage:
    return RegistrationPage(
        items=[registration_body(r) for r in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


def import_body(imported: Imported) -> ImportBody:
    bodies = [registration_body(r) for r in imported.registrations]
    return ImportBody(
        session_id=imported.session_id,
        imported=len(bodies),
        confirmed=sum(1 for b in bodies if b.status == "confirmed"),
        waitlisted=sum(1 for b in bodies if b.status == "waitlisted"),
        registrations=bodies,
    )


def flag_body(flag: DuplicateFlag) -> FlagBody:
    return FlagBody(
        flag_id=flag.flag_id,
        participant_id=flag.participant_id,
        city=flag.city,
        possible_duplicate_of=flag.possible_duplicate_of,
        note=flag.note,
        status=flag.status,
        flagged_by=flag.flagged_by,
        flagged_by_role=flag.flagged_by_role,
        created_at=flag.created_at.isoformat(),
        resolved_by_merge=flag.resolved_by_merge,
    )


def flag_page(page: Page[DuplicateFlag]) -> FlagPage:
    return FlagPage(
        items=[flag_body(f) for f in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


def summary_body(summary: ParticipantSummary | None) -> SummaryBody | None:
    if summary is None:
        return None
    return SummaryBody(
        participant_id=summary.participant_id,
        full_name=summary.full_name,
        email=summary.email,
        phone=summary.phone,
        organisation=summary.organisation,
        city=summary.city,
        registrations=summary.registrations,
    )


def candidates_body(candidates: Candidates) -> CandidatesBody:
    return CandidatesBody(
        groups=[
            CandidateGroupBody(
                reason=g.reason,
                participants=[s for s in map(summary_body, g.participants) if s is not None],
            )
            for g in candidates.groups
        ],
        flags=[
            FlagWithPeopleBody(
                **msgspec.structs.asdict(flag_body(f.flag)),
                participant=summary_body(f.participant),
                possible_duplicate=summary_body(f.possible_duplicate),
            )
            for f in candidates.flags
        ],
        limit=candidates.limit,
    )


def merge_body(merge: Merge) -> MergeBody:
    return MergeBody(
        merge_id=merge.merge_id,
        kept_participant_id=merge.kept_participant_id,
        merged_participant_id=merge.merged_participant_id,
        kept_city=merge.kept_city,
        merged_city=merge.merged_city,
        reason=merge.reason,
        merged_by=merge.merged_by,
        merged_by_role=merge.merged_by_role,
        merged_by_region=merge.merged_by_region,
        merged_at=merge.merged_at.isoformat(),
        registrations_moved=merge.registrations_moved,
        flags_resolved=merge.flags_resolved,
    )


def merge_page(page: Page[Merge]) -> MergePage:
    return MergePage(
        items=[merge_body(m) for m in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


def instant(at: datetime) -> str:
    return as_utc(at).isoformat()


def consents_body(participant_id: uuid.UUID, found: list[ConsentRecord]) -> ConsentsBody:
    return ConsentsBody(
        participant_id=participant_id,
        consents=[
            ConsentBody(
                purpose=c.purpose,
                granted_at=instant(c.granted_at),
                withdrawn_at=instant(c.withdrawn_at) if c.withdrawn_at is not None else None,
                source=c.source,
            )
            for c in found
        ],
    )
