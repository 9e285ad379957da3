"""Duplicate flags, merges and the admin's candidate review: every query region-scoped like
the registration reads (a coordinator's view of another region is empty)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.common import execute_may_conflict, normalise_region
from trainops_registration.adapters.registrations import live_sessions_of
from trainops_registration.adapters.tables import (
    duplicate_flags,
    participant_merges,
    participants,
    registrations,
)
from trainops_registration.domain.identity import Candidate, MergePlan, MergeSide
from trainops_registration.domain.records import (
    DuplicateFlag,
    FlagStatus,
    Merge,
    ParticipantSummary,
)
from trainops_shared.auth import Principal, region_filter
from trainops_shared.errors import Conflict
from trainops_shared.timeutil import as_utc

_p = participants.c
_r = registrations.c
_f = duplicate_flags.c
_m = participant_merges.c


def get_participant_side(
    conn: Connection, participant_id: uuid.UUID, principal: Principal, *, for_update: bool = False
) -> MergeSide | None:
    """The participant as the flag and merge rules see it, if ``principal`` may see them;
    ``for_update`` locks the row (PostgreSQL) for the rest of the transaction."""
    principal = normalise_region(principal)
    query = sa.select(
        _p.participant_id, _p.city, _p.merged_into, _p.email, _p.phone, _p.organisation
    ).where(_p.participant_id == str(participant_id), region_filter(principal, _p.city))
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    fields = personal_data.open_fields(personal_data.cipher_for(conn, participant_id), row._mapping)
    return MergeSide(
        participant_id=row.participant_id,
        city=row.city,
        merged_into=row.merged_into,
        email=fields["email"],
        phone=fields["phone"],
        organisation=fields["organisation"],
        live_sessions=live_sessions_of(conn, participant_id),
    )


# --------------------------------------------------------------------------------------------
# Flags


def insert_flag(conn: Connection, flag: DuplicateFlag) -> None:
    other = flag.possible_duplicate_of
    conn.execute(
        duplicate_flags.insert(),
        {
            "flag_id": str(flag.flag_id),
            "participant_id": str(flag.participant_id),
            "city": flag.city,
            "possible_duplicate_of": str(other) if other is not None else None,
            "note": personal_data.seal_text(
                personal_data.cipher_for(conn, flag.participant_id),
                "duplicate_flags.note",
                flag.flag_id,
                flag.note,
            ),
            "status": flag.status,
            "flagged_by": flag.flagged_by,
            "flagged_by_role": flag.flagged_by_role,
            "created_at": flag.created_at,
            "resolved_by_merge": None,
        },
    )


def _flags(conn: Connection, rows: Sequence[Any]) -> list[DuplicateFlag]:
    """The flags of ``rows``, each note opened with the flagged person's key (empty once that
    person is erased or merged away: their key went, and the note with it)."""
    ciphers = personal_data.ciphers_for(conn, (r.participant_id for r in rows))
    return [_flag(r, ciphers.get(r.participant_id)) for r in rows]


def _flag(row: Any, cipher: personal_data.PersonCipher | None) -> DuplicateFlag:
    return DuplicateFlag(
        flag_id=row.flag_id,
        participant_id=row.participant_id,
        city=row.city,
        possible_duplicate_of=row.possible_duplicate_of,
        note=personal_data.open_text(cipher, "duplicate_flags.note", row.flag_id, row.note),
        status=row.status,
        flagged_by=row.flagged_by,
        flagged_by_role=row.flagged_by_role,
        created_at=as_utc(row.created_at),
        resolved_by_merge=row.resolved_by_merge,
    )


def get_flag(conn: Connection, flag_id: uuid.UUID, principal: Principal) -> DuplicateFlag | None:
    principal = normalise_region(principal)
    row = conn.execute(
        sa.select(duplicate_flags).where(
            _f.flag_id == str(flag_id), region_filter(principal, _f.city)
        )
    ).first()
    return _flags(conn, [row])[0] if row is not None else None


def list_flags(
    conn: Connection, principal: Principal, *, status: FlagStatus | None, limit: int, offset: int
) -> tuple[list[DuplicateFlag], int]:
    """Flags ``principal`` may see (a coordinator: those on their region's people), oldest first."""
    principal = normalise_region(principal)
    conditions: list[sa.ColumnElement[bool]] = [region_filter(principal, _f.city)]
    if status is not None:
        conditions.append(_f.status == status)
    total = conn.execute(
        sa.select(sa.func.count()).select_from(duplicate_flags).where(*conditions)
    ).scalar_one()
    rows = conn.execute(
        sa.select(duplicate_flags)
        .where(*conditions)
        .order_by(_f.created_at, _f.flag_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return _flags(conn, rows), int(total)


# --------------------------------------------------------------------------------------------
# Candidates (admin review)


def participant_summaries(
    conn: Connection, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ParticipantSummary]:
    """Summaries of those of ``ids`` that ``principal`` may see."""
    if not ids:
        return {}
    principal = normalise_region(principal)
    counts = (
        sa.select(sa.func.count())
        .where(_r.participant_id == _p.participant_id)
        .scalar_subquery()
        .label("n")
    )
    rows = conn.execute(
        sa.select(
            _p.participant_id,
            _p.full_name,
            _p.email,
            _p.phone,
            _p.organisation,
            _p.city,
            _p.merged_into,
            counts,
        ).where(_p.participant_id.in_([str(i) for i in ids]), region_filter(principal, _p.city))
    ).all()
    ciphers = personal_data.ciphers_for(conn, (r.participant_id for r in rows))
    summaries = {}
    for r in rows:
        fields = personal_data.open_fields(ciphers.get(r.participant_id), r._mapping)
        summaries[r.participant_id] = ParticipantSummary(
            participant_id=r.participant_id,
            full_name=fields["full_name"] or "",
            email=fields["email"],
            phone=fields["phone"],
            organisation=fields["organisation"],
            city=r.city,
            merged_into=r.merged_into,
            registrations=int(r.n),
        )
    return summaries


def shared_contact_candidates(
    conn: Connection, principal: Principal, *, limit: int
) -> list[Candidate]:
    """Live participants whose e-mail or phone another live participant has too (they are of
    different cities: within a city both are unique), at most ``limit`` values of each kind."""
    principal = normalise_region(principal)
    live = sa.and_(_p.merged_into.is_(None), region_filter(principal, _p.city))
    values: dict[str, list[str]] = {}
    for name, column in (("email", _p.email_index), ("phone", _p.phone_index)):
        values[name] = list(
            conn.execute(
                sa.select(column)
                .where(live, column.is_not(None))
                .group_by(column)
                .having(sa.func.count() > 1)
                .order_by(column)
                .limit(limit)
            ).scalars()
        )
    if not values["email"] and not values["phone"]:
        return []
    rows = conn.execute(
        sa.select(_p.participant_id, _p.city, _p.name_key, _p.email, _p.phone).where(
            live,
            sa.or_(_p.email_index.in_(values["email"]), _p.phone_index.in_(values["phone"])),
        )
    ).all()
    ciphers = personal_data.ciphers_for(conn, (r.participant_id for r in rows))
    candidates = []
    for r in rows:
        fields = personal_data.open_fields(ciphers.get(r.participant_id), r._mapping)
        candidates.append(
            Candidate(
                participant_id=r.participant_id,
                city=r.city,
                name_key=fields["name_key"] or "",
                email=fields["email"],
                phone=fields["phone"],
            )
        )
    return candidates


# --------------------------------------------------------------------------------------------
# Merges


def categories_of(conn: Connection, participant_id: uuid.UUID) -> dict[str, str]:
    """The participant's report categories (city, sector, sex, age band, language): what other
    services may know of a person besides the pseudonymous id."""
    row = conn.execute(
        sa.select(_p.city, _p.sector, _p.sex, _p.age_band, _p.language).where(
            _p.participant_id == str(participant_id)
        )
    ).one()
    return {str(name): str(value) for name, value in row._asdict().items()}


def apply_merge(
    conn: Connection, plan: MergePlan, *, keep_city: str, merge_id: uuid.UUID, now: datetime
) -> tuple[int, int]:
    """Fold ``plan.merge`` into ``plan.keep``: registrations relinked (and moved to the kept
    person's city), the merged row emptied of personal data and pointed at the kept one, the
    flags it answers resolved. Returns (registrations moved, flags resolved).

    The merged row is emptied first so that its e-mail or phone can move to the kept person
    within one city without tripping the per-city unique indexes.
    """
    keep, merge = str(plan.keep), str(plan.merge)
    count = conn.execute(sa.select(sa.func.count()).where(_r.participant_id == merge)).scalar_one()
    conn.execute(
        participants.update()
        .where(_p.participant_id == merge)
        .values(
            merged_into=keep,
            **personal_data.CLEARED,
            updated_at=now,
        )
    )
    # The merged person's key goes too: nothing of theirs is to be opened again.
    personal_data.destroy_person_key(conn, plan.merge)
    kept_cipher = personal_data.cipher_for(conn, plan.keep)
    if plan.fill and kept_cipher is not None:
        filled = execute_may_conflict(
            conn,
            participants.update()
            .where(_p.participant_id == keep)
            .values(**personal_data.sealed_values(kept_cipher, plan.fill), updated_at=now),
            {},
        )
        if not filled:
            raise Conflict(
                "another participant of the kept person's city has the e-mail or phone the "
                "merged one would bring; merge or correct that participant first",
                field="merge",
            )
    moved = execute_may_conflict(
        conn,
        registrations.update()
        .where(_r.participant_id == merge)
        .values(participant_id=keep, city=keep_city),
        {},
    )
    if not moved:
        raise Conflict(
            "a registration of the kept participant for a session of the merged one was made "
            "meanwhile; look again and retry",
            field="merge",
        )
    resolved = conn.execute(
        duplicate_flags.update()
        .where(
            _f.status == "open",
            sa.or_(
                _f.participant_id == merge,
                _f.possible_duplicate_of == merge,
                sa.and_(_f.participant_id == keep, _f.possible_duplicate_of.is_(None)),
            ),
        )
        .values(status="resolved", resolved_by_merge=str(merge_id))
    ).rowcount
    return int(count), int(resolved or 0)


def insert_merge(conn: Connection, merge: Merge) -> None:
    conn.execute(
        participant_merges.insert(),
        {
            "merge_id": str(merge.merge_id),
            "kept_participant_id": str(merge.kept_participant_id),
            "merged_participant_id": str(merge.merged_participant_id),
            "kept_city": merge.kept_city,
            "merged_city": merge.merged_city,
            "reason": personal_data.seal_text(
                personal_data.cipher_for(conn, merge.kept_participant_id),
                "participant_merges.reason",
                merge.merge_id,
                merge.reason,
            ),
            "merged_by": merge.merged_by,
            "merged_by_role": merge.merged_by_role,
            "merged_by_region": merge.merged_by_region,
            "merged_at": merge.merged_at,
            "registrations_moved": merge.registrations_moved,
            "flags_resolved": merge.flags_resolved,
        },
    )


def _merges(conn: Connection, rows: Sequence[Any]) -> list[Merge]:
    """The merges of ``rows``, each reason opened with the kept person's key."""
    ciphers = personal_data.ciphers_for(conn, (r.kept_participant_id for r in rows))
    return [_merge(r, ciphers.get(r.kept_participant_id)) for r in rows]


def _merge(row: Any, cipher: personal_data.PersonCipher | None) -> Merge:
    return Merge(
        merge_id=row.merge_id,
        kept_participant_id=row.kept_participant_id,
        merged_participant_id=row.merged_participant_id,
        kept_city=row.kept_city,
        merged_city=row.merged_city,
        reason=personal_data.open_text(
            cipher, "participant_merges.reason", row.merge_id, row.reason
        ),
        merged_by=row.merged_by,
        merged_by_role=row.merged_by_role,
        merged_by_region=row.merged_by_region,
        merged_at=as_utc(row.merged_at),
        registrations_moved=row.registrations_moved,
        flags_resolved=row.flags_resolved,
    )


def get_merge(conn: Connection, merge_id: uuid.UUID, principal: Principal) -> Merge | None:
    principal = normalise_region(principal)
    row = conn.execute(
        sa.select(participant_merges).where(
            _m.merge_id == str(merge_id),
            region_filter(principal, _m.kept_city),
            region_filter(principal, _m.merged_city),
        )
    ).first()
    return _merges(conn, [row])[0] if row is not None else None


def list_merges(
    conn: Connection, principal: Principal, *, limit: int, offset: int
) -> tuple[list[Merge], int]:
    """Merge audit records ``principal`` may see, newest first (both cities in their reach)."""
    principal = normalise_region(principal)
    conditions = [region_filter(principal, _m.kept_city), region_filter(principal, _m.merged_city)]
    total = conn.execute(
        sa.select(sa.func.count()).select_from(participant_merges).where(*conditions)
    ).scalar_one()
    rows = conn.execute(
        sa.select(participant_merges)
        .where(*conditions)
        .order_by(_m.merged_at.desc(), _m.merge_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return _merges(conn, rows), int(total)
