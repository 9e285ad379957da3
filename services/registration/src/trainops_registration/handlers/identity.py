"""Possible duplicates and merges: a coordinator flags, an admin reviews and merges.

Identity matching never leaves a city (see :mod:`trainops_registration.domain.identity`), so a
person who moved, or was registered in two cities, is two participants. A coordinator who
suspects that flags their own participant with a note; an admin sees candidate pairs across
cities (same normalised e-mail or phone, plus the flags) and merges two participants, which
leaves an audit record in this service's database. Every read and write goes through the
region-scoped queries of the repository: a coordinator's view of another region is empty.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec
from sqlalchemy.engine import Connection

from trainops_registration.adapters import identity as store
from trainops_registration.domain.identity import (
    NOTE_MAX,
    REASON_MAX,
    CandidateReason,
    duplicate_groups,
    plan_merge,
    validate_note,
)
from trainops_registration.domain.records import (
    DuplicateFlag,
    FlagStatus,
    Merge,
    ParticipantSummary,
)
from trainops_registration.handlers.pages import Page
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.errors import Forbidden, Invalid, NotFound
from trainops_shared.events import ParticipantProfile, ParticipantsMerged, uuid7
from trainops_shared.outbox import record_events
from trainops_shared.timeutil import utc_now
from trainops_shared.validation import check_text


def _participant_not_found(participant_id: uuid.UUID, field: str) -> NotFound:
    return NotFound(f"participant {participant_id} not found", field=field)


def _text(value: str, field: str, limit: int) -> str:
    return check_text(validate_note(value, field, limit), field, multiline=True)


# --------------------------------------------------------------------------------------------
# Flags


@dataclass(frozen=True, slots=True)
class FlagDuplicate:
    participant_id: uuid.UUID
    note: str
    possible_duplicate_of: uuid.UUID | None = None


def flag_duplicate(conn: Connection, command: FlagDuplicate, principal: Principal) -> DuplicateFlag:
    """Flag one of the caller's own participants as a possible duplicate (of another one of
    theirs, or of someone they cannot see: the note says who, for an admin to find)."""
    note = _text(command.note, "note", NOTE_MAX)
    side = store.get_participant_side(conn, command.participant_id, principal)
    if side is None or side.merged_into is not None:
        raise _participant_not_found(command.participant_id, "participant_id")
    other = command.possible_duplicate_of
    if other is not None:
        if other == command.participant_id:
            raise Invalid(
                "a participant cannot be a duplicate of itself", field="possible_duplicate_of"
            )
        found = store.get_participant_side(conn, other, principal)
        if found is None or found.merged_into is not None:
            raise _participant_not_found(other, "possible_duplicate_of")
    flag = DuplicateFlag(
        flag_id=uuid7(),
        participant_id=side.participant_id,
        city=side.city,
        possible_duplicate_of=other,
        note=note,
        status="open",
        flagged_by=principal.subject,
        flagged_by_role=principal.role,
        created_at=utc_now(),
    )
    store.insert_flag(conn, flag)
    record_audit(
        conn,
        principal,
        "participant.duplicate_flagged",
        "duplicate_flag",
        flag.flag_id,
        {
            "participant_id": flag.participant_id,
            "possible_duplicate_of": flag.possible_duplicate_of,
            "city": flag.city,
        },
        at=flag.created_at,
    )
    return flag


def read_flags(
    conn: Connection, principal: Principal, *, status: FlagStatus | None, limit: int, offset: int
) -> Page[DuplicateFlag]:
    items, total = store.list_flags(conn, principal, status=status, limit=limit, offset=offset)
    return Page(items, total, limit, offset)


# --------------------------------------------------------------------------------------------
# Candidates (admin)


@dataclass(frozen=True, slots=True)
class CandidateGroupView:
    reason: CandidateReason
    participants: list[ParticipantSummary]


@dataclass(frozen=True, slots=True)
class FlagWithPeople:
    flag: DuplicateFlag
    participant: ParticipantSummary | None
    possible_duplicate: ParticipantSummary | None


@dataclass(frozen=True, slots=True)
class Candidates:
    groups: list[CandidateGroupView]
    flags: list[FlagWithPeople]
    limit: int


def read_candidates(conn: Connection, principal: Principal, *, limit: int) -> Candidates:
    """Groups of participants of different cities with one e-mail or phone, and open flags,
    each with the participants' details (an admin's view: every region)."""
    groups = duplicate_groups(store.shared_contact_candidates(conn, principal, limit=limit))
    flags, _ = store.list_flags(conn, principal, status="open", limit=limit, offset=0)
    ids: set[uuid.UUID] = {i for g in groups for i in g.participant_ids}
    for flag in flags:
        ids.add(flag.participant_id)
        if flag.possible_duplicate_of is not None:
            ids.add(flag.possible_duplicate_of)
    people = store.participant_summaries(conn, principal, sorted(ids, key=str))

    def summary(pid: uuid.UUID | None) -> ParticipantSummary | None:
        return people.get(pid) if pid is not None else None

    return Candidates(
        groups=[
            CandidateGroupView(
                reason=g.reason,
                participants=[s for s in (summary(i) for i in g.participant_ids) if s],
            )
            for g in groups
        ],
        flags=[
            FlagWithPeople(
                flag=flag,
                participant=summary(flag.participant_id),
                possible_duplicate=summary(flag.possible_duplicate_of),
            )
            for flag in flags
        ],
        limit=limit,
    )


# --------------------------------------------------------------------------------------------
# Merge (admin)


@dataclass(frozen=True, slots=True)
class MergeParticipants:
    keep: uuid.UUID
    merge: uuid.UUID
    reason: str


def merge_participants(conn: Connection, command: MergeParticipants, principal: Principal) -> Merge:
    """Fold ``merge`` into ``keep``, write the audit record and queue
    ``registration.participants_merged.v1`` (pseudonymous ids and the kept one's categories,
    so reporting can count the person once), in one transaction.

    Rows are locked in id order (PostgreSQL) so that two merges of one pair cannot deadlock.
    """
    if principal.role != "admin":
        # The route's guard already says so; this keeps the rule true for any other caller.
        raise Forbidden("merging participants is an admin action", field="role")
    reason = _text(command.reason, "reason", REASON_MAX)
    sides = {}
    for pid in sorted({command.keep, command.merge}, key=str):
        sides[pid] = store.get_participant_side(conn, pid, principal, for_update=True)
    keep, merge = sides.get(command.keep), sides.get(command.merge)
    if command.keep == command.merge:
        merge = keep
    plan = plan_merge(keep, merge)
    assert keep is not None and merge is not None  # plan_merge refused a missing side
    merge_id = uuid7()
    now = utc_now()
    moved, resolved = store.apply_merge(conn, plan, keep_city=keep.city, merge_id=merge_id, now=now)
    record = Merge(
        merge_id=merge_id,
        kept_participant_id=keep.participant_id,
        merged_participant_id=merge.participant_id,
        kept_city=keep.city,
        merged_city=merge.city,
        reason=reason,
        merged_by=principal.subject,
        merged_by_role=principal.role,
        merged_by_region=principal.region,
        merged_at=now,
        registrations_moved=moved,
        flags_resolved=resolved,
    )
    store.insert_merge(conn, record)
    categories = store.categories_of(conn, keep.participant_id)
    record_events(
        conn,
        [
            ParticipantsMerged(
                aggregate_id=merge_id,
                occurred_at=now,
                correlation_id=merge_id,
                actor=principal.subject,
                merge_id=merge_id,
                kept_participant_id=keep.participant_id,
                merged_participant_id=merge.participant_id,
                profile=msgspec.convert(categories, ParticipantProfile),
            )
        ],
    )
    record_audit(
        conn,
        principal,
        "participant.merged",
        "participant_merge",
        merge_id,
        {
            "kept_participant_id": record.kept_participant_id,
            "merged_participant_id": record.merged_participant_id,
            "kept_city": record.kept_city,
            "merged_city": record.merged_city,
            "registrations_moved": moved,
            "flags_resolved": resolved,
        },
        at=now,
    )
    return record


def read_merges(conn: Connection, principal: Principal, *, limit: int, offset: int) -> Page[Merge]:
    items, total = store.list_merges(conn, principal, limit=limit, offset=offset)
    return Page(items, total, limit, offset)
