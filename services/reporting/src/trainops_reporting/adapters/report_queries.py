"""Every SQL query the reports run, in one place so that it can be tuned on its own.

Both reports read the window ``starts_at ∈ [start, end)`` (optionally one training) of the
denormalised fact table (one row per registration, see ``adapters.tables``) with a single
aggregate statement each; ``ix_report_facts_window`` serves the range. Distinct participants are
counted with ``COUNT(DISTINCT CASE WHEN <flag> THEN participant_id END)``, so one scan yields
``registered`` and ``attended`` together.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import facts, report_state, sessions, trainings

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


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """The window and scope of a report: sessions starting in ``[start, end)`` (UTC)."""

    start: datetime | None = None
    end: datetime | None = None
    training_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class CellFigures:
    """Raw (unsuppressed) figures of one cell of a donor table."""

    key: tuple[str, ...]
    registered: int
    attended: int
    feedback_responses: int
    overall_sum: int
    overall_count: int


@dataclass(frozen=True, slots=True)
class SummaryFigures:
    sessions_scheduled: int
    sessions_delivered: int
    participants_registered: int
    participants_attended: int
    feedback_responses: int
    overall_sum: int
    overall_count: int
    cities_reached: int


def read_generation(conn: Connection) -> int:
    """The read model's change counter (bumped by every projected event)."""
    return int(
        conn.execute(
            sa.select(report_state.c.generation).where(report_state.c.id == 1)
        ).scalar_one()
    )


def _window(flt: ReportFilter, starts_at: sa.Column[Any], training: sa.Column[Any]) -> list[Any]:
    clauses: list[Any] = []
    if flt.start is not None:
        clauses.append(starts_at >= flt.start)
    if flt.end is not None:
        clauses.append(starts_at < flt.end)
    if flt.training_id is not None:
        clauses.append(training == flt.training_id)
    return clauses


def _distinct_where(flag: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count(sa.distinct(sa.case((flag, facts.c.participant_id))))


_RELEVANT = sa.or_(facts.c.registered, facts.c.attended, facts.c.feedback_count > 0)
"""Facts that count somewhere; waitlisted-only or cancelled registrations make no cell."""


def donor_cells(conn: Connection, flt: ReportFilter, by: Sequence[str]) -> list[CellFigures]:
    """One row per combination of ``by`` values present in the window, ordered by key."""
    dims = [DIMENSION_COLUMNS[d].label(f"d{i}") for i, d in enumerate(by)]
    query = (
        sa.select(
            *dims,
            _distinct_where(facts.c.registered).label("registered"),
            _distinct_where(facts.c.attended).label("attended"),
            sa.func.coalesce(sa.func.sum(facts.c.feedback_count), 0).label("feedback"),
            sa.func.coalesce(sa.func.sum(facts.c.overall_sum), 0).label("overall_sum"),
            sa.func.coalesce(sa.func.sum(facts.c.overall_count), 0).label("overall_count"),
        )
        .where(*_window(flt, facts.c.starts_at, facts.c.training_id), _RELEVANT)
        .group_by(*dims)
    )
    result = conn.execute(query).all()
    labels = training_labels(conn) if "training" in by else {}
    cells = []
    for row in result:
        key = tuple(
            labels.get(value, str(value)) if dim == "training" else str(value)
            for dim, value in zip(by, row[: len(by)], strict=True)
        )
        if not by and int(row.registered) == int(row.attended) == int(row.feedback) == 0:
            continue  # an empty window: no cell at all rather than a row of zeros
        cells.append(
            CellFigures(
                key=key,
                registered=int(row.registered),
                attended=int(row.attended),
                feedback_responses=int(row.feedback),
                overall_sum=int(row.overall_sum),
                overall_count=int(row.overall_count),
            )
        )
    cells.sort(key=lambda cell: cell.key)
    return cells


def training_labels(conn: Connection) -> dict[Any, str]:
    """Training id → code, or the id itself where codes are not unique (keys must be)."""
    rows = conn.execute(sa.select(trainings.c.training_id, trainings.c.code)).all()
    codes = [row.code for row in rows]
    return {
        row.training_id: row.code if codes.count(row.code) == 1 else str(row.training_id)
        for row in rows
    }


def summary_figures(conn: Connection, flt: ReportFilter) -> SummaryFigures:
    session_counts = conn.execute(
        sa.select(
            sa.func.count().filter(sessions.c.status != "cancelled").label("scheduled"),
            sa.func.count().filter(sessions.c.status == "completed").label("delivered"),
        ).where(*_window(flt, sessions.c.starts_at, sessions.c.training_id))
    ).one()
    people = conn.execute(
        sa.select(
            _distinct_where(facts.c.registered).label("registered"),
            _distinct_where(facts.c.attended).label("attended"),
            sa.func.coalesce(sa.func.sum(facts.c.feedback_count), 0).label("feedback"),
            sa.func.coalesce(sa.func.sum(facts.c.overall_sum), 0).label("overall_sum"),
            sa.func.coalesce(sa.func.sum(facts.c.overall_count), 0).label("overall_count"),
            sa.func.count(sa.distinct(sa.case((facts.c.attended, facts.c.city)))).label("cities"),
        ).where(*_window(flt, facts.c.starts_at, facts.c.training_id))
    ).one()
    return SummaryFigures(
        sessions_scheduled=int(session_counts.scheduled),
        sessions_delivered=int(session_counts.delivered),
        participants_registered=int(people.registered),
        participants_attended=int(people.attended),
        feedback_responses=int(people.feedback),
        overall_sum=int(people.overall_sum),
        overall_count=int(people.overall_count),
        cities_reached=int(people.cities),
    )


def mean(total: int, count: int) -> float | None:
    """A satisfaction mean rounded to 2 decimals; ``None`` when nobody answered."""
    return round(total / count, 2) if count else None
