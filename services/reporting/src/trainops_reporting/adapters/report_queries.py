"""Every SQL query the reports run, in one place so that it can be tuned on its own.

Every published figure is a cell of the disclosure universe (``domain.disclosure``), built once
per read-model generation from :func:`finest_cells`: one aggregate over the denormalised fact
table (one row per registration, see ``adapters.tables``) grouped by session start and every
report dimension, folded into months. :func:`session_counts` counts the sessions of a window.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import facts, sessions, trainings
from trainops_reporting.domain.categories import DIMENSIONS
from trainops_reporting.domain.disclosure import FinestCell
from trainops_shared.timeutil import as_utc

DIMENSION_COLUMNS: dict[str, sa.Column[Any]] = {
    "city": facts.c.city,
    "sector": facts.c.sector,
    "sex": facts.c.sex,
    "age_band": facts.c.age_band,
    "language": facts.c.language,
    "mode": facts.c.mode,
    "training": facts.c.training_id,
}
"""Report dimension → fact column (``training`` is grouped by id and labelled by its code)."""


def _total(column: sa.ColumnElement[Any], label: str) -> sa.Label[Any]:
    return sa.func.coalesce(sa.func.sum(column), 0).label(label)


def _fact_sums() -> tuple[sa.Label[Any], ...]:
    """The additive measures of facts: feedback responses and the overall rating's sums."""
    return (
        _total(facts.c.feedback_count, "feedback"),
        _total(facts.c.overall_sum, "overall_sum"),
        _total(facts.c.overall_count, "overall_count"),
    )


_RELEVANT = sa.or_(facts.c.registered, facts.c.attended, facts.c.feedback_count > 0)
"""Facts that count somewhere; waitlisted-only or cancelled registrations make no cell."""


def training_labels(conn: Connection) -> dict[Any, str]:
    """Training id → code, or the id itself where codes are not unique (keys must be)."""
    rows = conn.execute(sa.select(trainings.c.training_id, trainings.c.code)).all()
    codes = [row.code for row in rows]
    return {
        row.training_id: row.code if codes.count(row.code) == 1 else str(row.training_id)
        for row in rows
    }


def mean(total: int, count: int) -> float | None:
    """A satisfaction mean rounded to 2 decimals; ``None`` when nobody answered."""
    return round(total / count, 2) if count else None


def finest_cells(conn: Connection) -> list[FinestCell]:
    """Registrations per month of session start and combination of every report dimension.

    One aggregate over the facts (grouped by start instant, then folded into months here so
    the SQL stays the same on SQLite and PostgreSQL); the disclosure pattern is computed from
    these once per read-model generation.
    """
    dims = [DIMENSION_COLUMNS[d] for d in DIMENSIONS]
    as_int = {
        name: sa.func.sum(sa.case((facts.c[name], 1), else_=0))
        for name in ("registered", "attended")
    }
    query = (
        sa.select(
            facts.c.starts_at,
            *dims,
            as_int["registered"].label("registered"),
            as_int["attended"].label("attended"),
            *_fact_sums(),
        )
        .where(_RELEVANT)
        .group_by(facts.c.starts_at, *dims)
    )
    labels = training_labels(conn)
    training_at = DIMENSIONS.index("training")
    sums: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for row in conn.execute(query):
        month = as_utc(row[0]).strftime("%Y-%m")
        values = [str(v) for v in row[1 : 1 + len(DIMENSIONS)]]
        values[training_at] = labels.get(row[1 + training_at], str(row[1 + training_at]))
        slot = (month, tuple(values))
        counts = (
            int(row.registered),
            int(row.attended),
            int(row.feedback),
            int(row.overall_sum),
            int(row.overall_count),
        )
        total = sums.get(slot)
        if total is None:
            sums[slot] = list(counts)
        else:
            for i, value in enumerate(counts):
                total[i] += value
    return [FinestCell(month, key, *values) for (month, key), values in sorted(sums.items())]


def session_counts(
    conn: Connection, start: datetime | None, end: datetime | None, training_id: uuid.UUID | None
) -> tuple[int, int]:
    """Sessions scheduled (not cancelled) and delivered (completed) starting in the window."""
    window: list[Any] = []
    if start is not None:
        window.append(sessions.c.starts_at >= start)
    if end is not None:
        window.append(sessions.c.starts_at < end)
    if training_id is not None:
        window.append(sessions.c.training_id == training_id)
    row = conn.execute(
        sa.select(
            sa.func.count().filter(sessions.c.status != "cancelled").label("scheduled"),
            sa.func.count().filter(sessions.c.status == "completed").label("delivered"),
        ).where(*window)
    ).one()
    return int(row.scheduled), int(row.delivered)
