"""Reading a batch's rows and writing its changes with multi-row statements.

A batch of a few hundred events costs a few ``IN`` reads and one ``executemany`` per table and
kind of change (``domain.batch_fold``), instead of three to five single-row statements per event.
Statements are built once at import (their cache keys are memoized) and every write is by primary
key, in key order, so two replicas on PostgreSQL take row locks in one order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import (
    facts,
    feedback_responses,
    item_answers,
    item_choices,
    participant_merges,
    participants,
    report_state,
    sessions,
)
from trainops_reporting.domain.batch_fold import (
    FACT_STATE_COLUMNS,
    Changes,
    FactRow,
    Keys,
    Loaded,
    ParticipantRow,
    ResponseRow,
    SessionContext,
)
from trainops_reporting.domain.projection import PROFILE_COLUMNS

_B = sa.bindparam
_CHUNK: Final = 500
"""Ids per ``IN`` list: well under SQLite's bound-variable limit on every build."""

_SESSIONS = sa.select(
    sessions.c.session_id,
    sessions.c.training_id,
    sessions.c.mode,
    sessions.c.starts_at,
    sessions.c.status,
).where(sessions.c.session_id.in_(_B("ids", expanding=True)))
_FACTS = sa.select(facts).where(facts.c.registration_id.in_(_B("ids", expanding=True)))
_PARTICIPANTS = sa.select(
    participants.c.participant_id,
    *(participants.c[name] for name in PROFILE_COLUMNS),
    participants.c.profile_at,
    participants.c.profile_event_id,
).where(participants.c.participant_id.in_(_B("ids", expanding=True)))
_MERGED = sa.select(participant_merges.c.merged_participant_id).where(
    participant_merges.c.merged_participant_id.in_(_B("ids", expanding=True))
)
_RESPONSES = sa.select(feedback_responses).where(
    feedback_responses.c.registration_id.in_(_B("ids", expanding=True))
)

_BUMP = (
    report_state.update()
    .where(report_state.c.id == 1)
    .values(generation=report_state.c.generation + _B("b_applied", type_=sa.BigInteger))
)
_PARTICIPANT_INSERT = participants.insert()
_PARTICIPANT_UPDATE = participants.update().where(participants.c.participant_id == _B("b_id"))
_RELABEL = facts.update().where(facts.c.participant_id == _B("b_id"))
_FACT_INSERT = facts.insert()
_FACT_UPDATE = facts.update().where(facts.c.registration_id == _B("b_id"))
_RESPONSE_DELETE = feedback_responses.delete().where(feedback_responses.c.response_id == _B("b_id"))
_RESPONSE_INSERT = feedback_responses.insert()
_ANSWERS_DELETE = item_answers.delete().where(item_answers.c.response_id == _B("b_id"))
_CHOICES_DELETE = item_choices.delete().where(item_choices.c.response_id == _B("b_id"))
_ANSWER_INSERT = item_answers.insert()
_CHOICE_INSERT = item_choices.insert()


def _chunks(ids: Iterable[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _rows(conn: Connection, statement: sa.Select[Any], ids: Iterable[uuid.UUID]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows.extend(conn.execute(statement, {"ids": chunk}))
    return rows


def merged_among(conn: Connection, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``ids`` that were merged into another participant."""
    return {row.merged_participant_id for row in _rows(conn, _MERGED, set(ids))}


def load(conn: Connection, keys: Keys) -> Loaded:
    """The stored rows a batch with these keys reads."""
    loaded = Loaded()
    for row in _rows(conn, _SESSIONS, keys.sessions):
        loaded.sessions[row.session_id] = SessionContext(
            row.training_id, row.mode, row.starts_at, row.status == "cancelled"
        )
    for row in _rows(conn, _FACTS, keys.registrations):
        loaded.facts[row.registration_id] = FactRow(
            **{name: getattr(row, name) for name in FactRow.__dataclass_fields__}
        )
    for row in _rows(conn, _PARTICIPANTS, keys.participants):
        loaded.participants[row.participant_id] = ParticipantRow(
            row.participant_id,
            (row.city, row.sector, row.sex, row.age_band, row.language),
            row.profile_at,
            row.profile_event_id,
        )
    for row in _rows(conn, _RESPONSES, keys.responses_of):
        loaded.responses[row.registration_id] = ResponseRow(
            **{name: getattr(row, name) for name in ResponseRow.__dataclass_fields__}
        )
    return loaded


def _profile(profile: Sequence[str]) -> dict[str, str]:
    return dict(zip(PROFILE_COLUMNS, profile, strict=True))


def _participant(row: ParticipantRow) -> dict[str, Any]:
    return {
        "profile_at": row.profile_at,
        "profile_event_id": row.profile_event_id,
        **_profile(row.profile),
    }


def _new_fact(row: FactRow, changes: Changes) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in FactRow.__dataclass_fields__}
    values.update(_profile(changes.profiles[row.participant_id]))
    return values


def bump_generation(conn: Connection, applied: int) -> None:
    """``report_state.generation`` counts applied events (see ``adapters.state``); the batch's
    first write, so the row lock order is the per-event handlers' one."""
    conn.execute(_BUMP, {"b_applied": applied})


def write(conn: Connection, changes: Changes) -> None:
    """Every change of the batch, one ``executemany`` per table and kind."""
    if changes.new_participants:
        conn.execute(
            _PARTICIPANT_INSERT,
            [
                {"participant_id": row.participant_id, **_participant(row)}
                for row in sorted(changes.new_participants, key=lambda r: r.participant_id)
            ],
        )
    if changes.changed_participants:
        conn.execute(
            _PARTICIPANT_UPDATE,
            [
                {"b_id": row.participant_id, **_participant(row)}
                for row in changes.changed_participants
            ],
        )
    if changes.relabelled:
        conn.execute(
            _RELABEL,
            [
                {"b_id": pid, **_profile(profile)}
                for pid, profile in sorted(changes.relabelled.items())
            ],
        )
    if changes.new_facts:
        conn.execute(
            _FACT_INSERT,
            [
                _new_fact(row, changes)
                for row in sorted(changes.new_facts, key=lambda r: r.registration_id)
            ],
        )
    if changes.changed_facts:
        conn.execute(
            _FACT_UPDATE,
            [
                {"b_id": row.registration_id, **{c: getattr(row, c) for c in FACT_STATE_COLUMNS}}
                for row in changes.changed_facts
            ],
        )
    if changes.dropped_responses:
        dropped = [{"b_id": rid} for rid in sorted(changes.dropped_responses)]
        conn.execute(_RESPONSE_DELETE, dropped)
        conn.execute(_ANSWERS_DELETE, dropped)
        conn.execute(_CHOICES_DELETE, dropped)
    if changes.new_responses:
        conn.execute(
            _RESPONSE_INSERT,
            [
                {name: getattr(row, name) for name in ResponseRow.__dataclass_fields__}
                for row in sorted(changes.new_responses, key=lambda r: r.response_id)
            ],
        )
    if changes.new_item_answers:
        conn.execute(
            _ANSWER_INSERT,
            [
                {"response_id": rid, "item": item, "value": value}
                for rid, item, value in sorted(changes.new_item_answers)
            ],
        )
    if changes.new_item_choices:
        conn.execute(
            _CHOICE_INSERT,
            [
                {"response_id": rid, "item": item, "option": option}
                for rid, item, option in sorted(changes.new_item_choices)
            ],
        )
