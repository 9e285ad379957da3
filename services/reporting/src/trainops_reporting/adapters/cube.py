"""Incremental maintenance of the pre-aggregated read model (:data:`people`, :data:`cube`).

The projection handlers describe what happened to facts as :class:`FactDelta` values (a fact's
``registered``/``attended`` flag flipped, a feedback response added) and call
:func:`apply_fact_deltas` in the same transaction as the fact change; a profile change calls
:func:`move_participant` before the facts take the new profile. Both keep two invariants:

* a :data:`people` row holds, for one participant and grain key, the sums over their facts at
  that key (``registered_n`` = how many of those facts are registered, …);
* a :data:`cube` row holds, for one grain key and profile cell, how many people of the cell have
  ``registered_n > 0`` / ``attended_n > 0`` and the sums of their additive measures.

Only transitions touch :data:`cube` counts: a participant's ``registered_n`` going 0→1 adds one,
1→0 removes one, 1→2 changes nothing. Rows whose counters are all zero are deleted, so both tables
are a function of the facts alone (a replay in any order gives identical rows) and
:func:`rebuild_cube` can recompute them from scratch (the v2 migration's backfill, and the oracle
of the tests).

Per event this costs two statements: one multi-row upsert of the participant's four
:data:`people` rows (``RETURNING`` their new counters, from which the transitions follow) and one
of the affected :data:`cube` rows, plus a rare ``DELETE`` of a row that fell to zero. The upsert
is ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, spelled identically on SQLite and PostgreSQL
(the only two the service supports). Projection transactions are serialized by the
``report_state`` row lock they all take first, so no two of them update the same rows at once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import (
    GRAIN_MODE,
    GRAIN_PERSON,
    GRAIN_TRAINING,
    GRAIN_TRAINING_MODE,
    NO_MODE,
    NO_TRAINING,
    cube,
    facts,
    participants,
    people,
)
from trainops_reporting.domain.projection import (
    PROFILE_COLUMNS,
    ZERO,
    Counts,
    FactDelta,
    Profile,
)

MEASURES = ("registered", "attended", "feedback", "overall_sum", "overall_count")
"""The five numbers of a cube row (``registered``/``attended`` count people)."""


def grain_keys(training_id: uuid.UUID, mode: str) -> tuple[tuple[int, uuid.UUID, str], ...]:
    """The four (grain, training, mode) keys a fact of this training and mode counts under."""
    return (
        (GRAIN_PERSON, NO_TRAINING, NO_MODE),
        (GRAIN_TRAINING, training_id, NO_MODE),
        (GRAIN_MODE, NO_TRAINING, mode),
        (GRAIN_TRAINING_MODE, training_id, mode),
    )


def _add(a: Counts, b: Counts) -> Counts:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4])


_KEYS = {
    "report_people": ("participant_id", "grain", "training_id", "mode"),
    "report_cube": ("grain", "training_id", "mode", *PROFILE_COLUMNS),
}
_AMOUNTS = {
    "report_people": ("registered_n", "attended_n", "feedback", "overall_sum", "overall_count"),
    "report_cube": MEASURES,
}
_PEOPLE_COUNTERS = _AMOUNTS["report_people"]
CHUNK = 50
"""Rows per upsert statement (a session cancellation can touch hundreds of people)."""
_statements: dict[tuple[str, str, int], Any] = {}


def _people_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A returned key as the caller spelled it (the grain as an ``int``)."""
    return (key[0], int(key[1]), key[2], key[3])


def _upsert_statement(dialect_name: str, table: sa.Table, rows: int) -> Any:
    """``INSERT … VALUES (row 0), …, (row n-1) ON CONFLICT (key) DO UPDATE SET c = c + new.c
    RETURNING key, counters``, built once per table and row count; parameters ``<column>_<row>``.

    Written as text because this exact spelling is valid on SQLite and PostgreSQL alike, and
    because SQLAlchemy does not cache the compilation of multi-row ``VALUES`` constructs (it
    cost more than running the statement); the typed bind parameters and result columns still
    convert UUIDs per dialect.
    """
    slot = ("text", table.name, rows)
    stmt = _statements.get(slot)
    if stmt is None:
        keys, amounts = _KEYS[table.name], _AMOUNTS[table.name]
        columns = (*keys, *amounts)
        values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(rows))
        updates = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in amounts)
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {values} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates} "
            f"RETURNING {', '.join(columns)}"
        )
        stmt = (
            sa.text(sql)
            .bindparams(
                *(
                    sa.bindparam(f"{c}_{i}", type_=table.c[c].type)
                    for i in range(rows)
                    for c in columns
                )
            )
            .columns(*(table.c[c] for c in columns))
        )
        _statements[slot] = stmt
    return stmt


def _delete_statement(table: sa.Table) -> Any:
    slot = ("any", table.name, 0)
    stmt = _statements.get(slot)
    if stmt is None:
        stmt = table.delete().where(*(table.c[c] == sa.bindparam(c) for c in _KEYS[table.name]))
        _statements[slot] = stmt
    return stmt


def _upsert_add(
    conn: Connection, table: sa.Table, changes: Mapping[tuple[Any, ...], Counts]
) -> dict[tuple[Any, ...], Counts]:
    """``row(key) += counts`` for every key (inserted when missing), in one statement; returns
    each row's new counters. Rows left at zero everywhere are deleted."""
    keys, amounts = _KEYS[table.name], _AMOUNTS[table.name]
    items = list(changes.items())
    width = len(keys)
    result: dict[tuple[Any, ...], Counts] = {}
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        params: dict[str, Any] = {}
        for i, (key, counts) in enumerate(chunk):
            for name, value in zip(keys, key, strict=True):
                params[f"{name}_{i}"] = value
            for name, value in zip(amounts, counts, strict=True):
                params[f"{name}_{i}"] = value
        stmt = _upsert_statement(conn.dialect.name, table, len(chunk))
        result.update(_returned(conn, table, conn.execute(stmt, params).all(), width))
    return result


def _returned(
    conn: Connection, table: sa.Table, rows: Sequence[Any], width: int
) -> dict[tuple[Any, ...], Counts]:
    result: dict[tuple[Any, ...], Counts] = {}
    for row in rows:
        counts = (
            int(row[width]),
            int(row[width + 1]),
            int(row[width + 2]),
            int(row[width + 3]),
            int(row[width + 4]),
        )
        key = tuple(row[:width])
        result[key] = counts
        if counts == ZERO:
            conn.execute(_delete_statement(table), dict(zip(_KEYS[table.name], key, strict=True)))
    return result


def _apply_cube(conn: Connection, deltas: Mapping[tuple[Any, ...], Counts]) -> None:
    """Add per-cell deltas to :data:`cube` (keys: grain, training, mode, *profile)."""
    changes = {key: delta for key, delta in deltas.items() if delta != ZERO}
    if changes:
        _upsert_add(conn, cube, changes)


def apply_fact_deltas(conn: Connection, deltas: Iterable[FactDelta]) -> None:
    """Fold fact changes into :data:`people`, then the resulting transitions into :data:`cube`.

    Deltas of one participant are summed per grain key first, so a session cancellation that
    uncounts many facts costs one upsert per person and key, not per fact.
    """
    per_key: dict[tuple[Any, ...], Counts] = defaultdict(lambda: ZERO)
    profiles: dict[uuid.UUID, Profile] = {}
    for delta in deltas:
        if delta.counts() == ZERO:
            continue
        profiles[delta.participant_id] = delta.profile
        for grain, training_id, mode in grain_keys(delta.training_id, delta.mode):
            slot = (delta.participant_id, grain, training_id, mode)
            per_key[slot] = _add(per_key[slot], delta.counts())
    changes = {key: change for key, change in per_key.items() if change != ZERO}
    if not changes:
        return
    cells: dict[tuple[Any, ...], Counts] = defaultdict(lambda: ZERO)
    for key, new in _upsert_add(conn, people, changes).items():
        participant_id, grain, training_id, mode = key
        change = changes[_people_key(key)]
        transition = (
            int(new[0] > 0) - int(new[0] - change[0] > 0),
            int(new[1] > 0) - int(new[1] - change[1] > 0),
            change[2],
            change[3],
            change[4],
        )
        cell = (grain, training_id, mode, *profiles[participant_id])
        cells[cell] = _add(cells[cell], transition)
    _apply_cube(conn, cells)


def move_participant(
    conn: Connection, participant_id: uuid.UUID, old: Profile, new: Profile
) -> None:
    """Move every contribution of a participant from cell ``old`` to cell ``new``.

    Called when a newer registration changes their profile, before their facts are relabelled.
    """
    if old == new:
        return
    cells: dict[tuple[Any, ...], Counts] = defaultdict(lambda: ZERO)
    rows = conn.execute(sa.select(people).where(people.c.participant_id == participant_id))
    for row in rows:
        counts: Counts = (
            int(row.registered_n > 0),
            int(row.attended_n > 0),
            row.feedback,
            row.overall_sum,
            row.overall_count,
        )
        minus: Counts = (-counts[0], -counts[1], -counts[2], -counts[3], -counts[4])
        out_cell = (row.grain, row.training_id, row.mode, *old)
        in_cell = (row.grain, row.training_id, row.mode, *new)
        cells[out_cell] = _add(cells[out_cell], minus)
        cells[in_cell] = _add(cells[in_cell], counts)
    _apply_cube(conn, cells)


def rebuild_cube(conn: Connection) -> None:
    """Recompute :data:`people` and :data:`cube` from the facts (set-based, any size).

    The incremental maintenance must always leave exactly these rows; the tests compare the two.
    """
    conn.execute(cube.delete())
    conn.execute(people.delete())
    as_int = {
        "registered": sa.cast(facts.c.registered, sa.Integer),
        "attended": sa.cast(facts.c.attended, sa.Integer),
    }
    for grain, by_training, by_mode in (
        (GRAIN_PERSON, False, False),
        (GRAIN_TRAINING, True, False),
        (GRAIN_MODE, False, True),
        (GRAIN_TRAINING_MODE, True, True),
    ):
        training = facts.c.training_id if by_training else sa.literal(NO_TRAINING, sa.Uuid)
        mode = facts.c.mode if by_mode else sa.literal(NO_MODE, sa.String)
        sums = (
            sa.func.sum(as_int["registered"]),
            sa.func.sum(as_int["attended"]),
            sa.func.sum(facts.c.feedback_count),
            sa.func.sum(facts.c.overall_sum),
            sa.func.sum(facts.c.overall_count),
        )
        group = [facts.c.participant_id]
        if by_training:
            group.append(facts.c.training_id)
        if by_mode:
            group.append(facts.c.mode)
        select = (
            sa.select(
                facts.c.participant_id,
                sa.literal(grain, sa.SmallInteger),
                training,
                mode,
                *sums,
            )
            .group_by(*group)
            .having(sa.or_(sums[0] > 0, sums[1] > 0, sums[2] > 0))
        )
        conn.execute(
            people.insert().from_select(
                ["participant_id", "grain", "training_id", "mode", *_PEOPLE_COUNTERS], select
            )
        )
    dims = [participants.c[name] for name in PROFILE_COLUMNS]
    cell_select = (
        sa.select(
            people.c.grain,
            people.c.training_id,
            people.c.mode,
            *dims,
            sa.func.sum(sa.case((people.c.registered_n > 0, 1), else_=0)),
            sa.func.sum(sa.case((people.c.attended_n > 0, 1), else_=0)),
            sa.func.sum(people.c.feedback),
            sa.func.sum(people.c.overall_sum),
            sa.func.sum(people.c.overall_count),
        )
        .join_from(people, participants, people.c.participant_id == participants.c.participant_id)
        .group_by(people.c.grain, people.c.training_id, people.c.mode, *dims)
    )
    conn.execute(
        cube.insert().from_select(
            ["grain", "training_id", "mode", *PROFILE_COLUMNS, *MEASURES], cell_select
        )
    )
