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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from trainops_registration.adapters import repository as repo
from trainops_registration.domain import RegistrationError
from trainops_registration.domain.identity import (
    NOTE_MAX,
    REASON_MAX,
    duplicate_groups,
    plan_merge,
    validate_note,
)
from trainops_registration.handlers.commands import Outcome
from trainops_shared.auth import Principal
from trainops_shared.errors import AppError, Conflict, Forbidden, Invalid, NotFound
from trainops_shared.events import uuid7
from trainops_shared.validation import check_text

_SHARED_ERRORS: dict[int, type[AppError]] = {
    404: NotFound,
    409: Conflict,
    403: Forbidden,
    422: Invalid,
}


def _shared(exc: RegistrationError) -> AppError:
    """A domain error as the one error shape of the HTTP layer (the field kept)."""
    return _SHARED_ERRORS.get(exc.status_code, Invalid)(exc.message, field=exc.field)


def _participant_not_found(participant_id: uuid.UUID, field: str) -> NotFound:
    return NotFound(f"participant {participant_id} not found", field=field)


def _text(value: str, field: str, limit: int) -> str:
    try:
        text = validate_note(value, field, limit)
    except RegistrationError as exc:
        raise _shared(exc) from None
    return check_text(text, field, multiline=True)


# --------------------------------------------------------------------------------------------
# Flags


@dataclass(frozen=True, slots=True)
class FlagDuplicate:
    participant_id: uuid.UUID
    note: str
    possible_duplicate_of: uuid.UUID | None = None


def flag_duplicate(conn: Connection, command: FlagDuplicate, principal: Principal) -> Outcome:
    """Flag one of the caller's own participants as a possible duplicate (of another one of
    theirs, or of someone they cannot see: the note says who, for an admin to find)."""
    note = _text(command.note, "note", NOTE_MAX)
    side = repo.get_participant_side(conn, command.participant_id, principal)
    if side is None or side.merged_into is not None:
        raise _participant_not_found(command.participant_id, "participant_id")
    other = command.possible_duplicate_of
    if other is not None:
        if other == command.participant_id:
            raise Invalid(
                "a participant cannot be a duplicate of itself", field="possible_duplicate_of"
            )
        found = repo.get_participant_side(conn, other, principal)
        if found is None or found.merged_into is not None:
            raise _participant_not_found(other, "possible_duplicate_of")
    flag_id = uuid7()
    now = datetime.now(UTC)
    repo.insert_flag(
        conn,
        {
            "flag_id": str(flag_id),
            "participant_id": str(side.participant_id),
            "city": side.city,
            "possible_duplicate_of": str(other) if other is not None else None,
            "note": note,
            "status": "open",
            "flagged_by": principal.subject,
            "flagged_by_role": principal.role,
            "created_at": now,
            "resolved_by_merge": None,
        },
    )
    view = repo.get_flag(conn, flag_id, principal)
    assert view is not None
    return Outcome(201, view)


def read_flags(
    conn: Connection, principal: Principal, *, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    items, total = repo.list_flags(conn, principal, status=status, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# --------------------------------------------------------------------------------------------
# Candidates (admin)


def read_candidates(conn: Connection, principal: Principal, *, limit: int) -> dict[str, Any]:
    """Groups of participants of different cities with one e-mail or phone, and open flags,
    each with the participants' details (an admin's view: every region)."""
    groups = duplicate_groups(repo.shared_contact_candidates(conn, principal, limit=limit))
    flags, _ = repo.list_flags(conn, principal, status="open", limit=limit, offset=0)
    ids: set[uuid.UUID] = {i for g in groups for i in g.participant_ids}
    for flag in flags:
        ids.add(uuid.UUID(flag["participant_id"]))
        if flag["possible_duplicate_of"]:
            ids.add(uuid.UUID(flag["possible_duplicate_of"]))
    people = repo.participant_summaries(conn, principal, sorted(ids, key=str))

    def summary(pid: str | uuid.UUID | None) -> dict[str, Any] | None:
        if pid is None:
            return None
        found = people.get(uuid.UUID(str(pid)))
        return found.view() if found is not None else None

    return {
        "groups": [
            {
                "reason": g.reason,
                "participants": [s for s in (summary(i) for i in g.participant_ids) if s],
            }
            for g in groups
        ],
        "flags": [
            {
                **flag,
                "participant": summary(flag["participant_id"]),
                "possible_duplicate": summary(flag["possible_duplicate_of"]),
            }
            for flag in flags
        ],
        "limit": limit,
    }


# --------------------------------------------------------------------------------------------
# Merge (admin)


@dataclass(frozen=True, slots=True)
class MergeParticipants:
    keep: uuid.UUID
    merge: uuid.UUID
    reason: str


def merge_participants(
    conn: Connection, command: MergeParticipants, principal: Principal
) -> Outcome:
    """Fold ``merge`` into ``keep`` and write the audit record, in one transaction.

    Rows are locked in id order (PostgreSQL) so that two merges of one pair cannot deadlock.
    """
    if principal.role != "admin":
        # The route's guard already says so; this keeps the rule true for any other caller.
        raise Forbidden("merging participants is an admin action", field="role")
    reason = _text(command.reason, "reason", REASON_MAX)
    sides = {}
    for pid in sorted({command.keep, command.merge}, key=str):
        sides[pid] = repo.get_participant_side(conn, pid, principal, for_update=True)
    keep, merge = sides.get(command.keep), sides.get(command.merge)
    if command.keep == command.merge:
        merge = keep
    try:
        plan = plan_merge(keep, merge)
    except RegistrationError as exc:
        raise _shared(exc) from None
    assert keep is not None and merge is not None
    merge_id = uuid7()
    now = datetime.now(UTC)
    moved, resolved = repo.apply_merge(conn, plan, keep_city=keep.city, merge_id=merge_id, now=now)
    repo.insert_merge(
        conn,
        {
            "merge_id": str(merge_id),
            "kept_participant_id": str(keep.participant_id),
            "merged_participant_id": str(merge.participant_id),
            "kept_city": keep.city,
            "merged_city": merge.city,
            "reason": reason,
            "merged_by": principal.subject,
            "merged_by_role": principal.role,
            "merged_by_region": principal.region,
            "merged_at": now,
            "registrations_moved": moved,
            "flags_resolved": resolved,
        },
    )
    view = repo.get_merge(conn, merge_id, principal)
    assert view is not None
    return Outcome(201, view)


def read_merges(
    conn: Connection, principal: Principal, *, limit: int, offset: int
) -> dict[str, Any]:
    items, total = repo.list_merges(conn, principal, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}
