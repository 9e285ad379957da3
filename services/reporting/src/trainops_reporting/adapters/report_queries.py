"""Every SQL query the reports run, in one place so that it can be tuned on its own.

Each report has two exact sources (see ``adapters.tables``):

* the **cube** (``report_cube``), whenever the window does not restrict anything: no ``from`` /
  ``to``, or bounds that include every session's start (checked against the smallest and largest
  ``starts_at`` of ``report_sessions``, two index probes). The grain is chosen from the request:
  with ``training`` in ``by`` or a ``training_id`` filter a person counts once per training; with
  ``mode`` in ``by`` once per mode; otherwise once. A report then aggregates at most a few
  thousand cube rows, whatever the number of registrations;
* the **fact table** otherwise: distinct participants over an arbitrary window are not
  decomposable into pre-computed parts, so the window of facts is scanned.

The fact path reads the window ``starts_at ∈ [start, end)`` (optionally one training) of the
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
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import (
    GRAIN_MODE,
    GRAIN_PERSON,
    GRAIN_TRAINING,
    GRAIN_TRAINING_MODE,
    cube,
    facts,
    sessions,
    trainings,
)
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

CUBE_COLUMNS: dict[str, sa.Column[Any]] = {
    "city": cube.c.city,
    "sector": cube.c.sector,
    "sex": cube.c.sex,
    "age_band": cube.c.age_band,
    "language": cube.c.language,
    "mode": cube.c.mode,
    "training": cube.c.training_id,
}
"""Report dimension → cube column."""

Source = Literal["auto", "cube", "facts"]
"""Where a report reads: ``auto`` takes the cube whenever it is exact (the default); ``facts``
forces the fact scan (tests, benchmarks); ``cube`` insists (a ``ValueError`` when not exact)."""


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


def _window(flt: ReportFilter, starts_at: sa.Column[Any], training: sa.Column[Any]) -> list[Any]:
    clauses: list[Any] = []
    if flt.start is not None:
        clauses.append(starts_at >= flt.start)
    if flt.end is not None:
        clauses.append(starts_at < flt.end)
    if flt.training_id is not None:
        clauses.append(training == flt.training_id)
    return clauses


def window_is_everything(conn: Connection, flt: ReportFilter) -> bool:
    """Whether ``[start, end)`` contains every session's start (so it restricts nothing)."""
    if flt.start is None and flt.end is None:
        return True
    bounds = conn.execute(
        sa.select(sa.func.min(sessions.c.starts_at), sa.func.max(sessions.c.starts_at))
    ).one()
    if bounds[0] is None:
        return True  # no session, hence no fact: every window is empty alike
    first, last = as_utc(bounds[0]), as_utc(bounds[1])
    return (flt.start is None or flt.start <= first) and (flt.end is None or last < flt.end)


def _use_cube(conn: Connection, flt: ReportFilter, source: Source) -> bool:
    if source == "facts":
        return False
    exact = window_is_everything(conn, flt)
    if source == "cube" and not exact:
        raise ValueError("the cube cannot answer a window that excludes some sessions")
    return exact


def cube_grain(flt: ReportFilter, by: Sequence[str]) -> int:
    """The de-duplication level the fact query implies: ``COUNT(DISTINCT participant_id)``
    within a group is per person, per training when training is grouped or filtered, per mode
    when mode is grouped."""
    per_training = "training" in by or flt.training_id is not None
    per_mode = "mode" in by
    if per_training and per_mode:
        return GRAIN_TRAINING_MODE
    if per_training:
        return GRAIN_TRAINING
    if per_mode:
        return GRAIN_MODE
    return GRAIN_PERSON


def _cube_scope(flt: ReportFilter, grain: int) -> list[Any]:
    clauses: list[Any] = [cube.c.grain == grain]
    if flt.training_id is not None:
        clauses.append(cube.c.training_id == flt.training_id)
    return clauses


def _distinct_where(flag: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count(sa.distinct(sa.case((flag, facts.c.participant_id))))


def _total(column: sa.ColumnElement[Any], label: str) -> sa.Label[Any]:
    return sa.func.coalesce(sa.func.sum(column), 0).label(label)


def _fact_sums() -> tuple[sa.Label[Any], ...]:
    """The additive measures of facts: feedback responses and the overall rating's sums."""
    return (
        _total(facts.c.feedback_count, "feedback"),
        _total(facts.c.overall_sum, "overall_sum"),
        _total(facts.c.overall_count, "overall_count"),
    )


def _cube_sums() -> tuple[sa.Label[Any], ...]:
    """Every measure of cube rows: people of a grain are disjoint across rows, so all add."""
    return (
        _total(cube.c.registered, "registered"),
        _total(cube.c.attended, "attended"),
        _total(cube.c.feedback, "feedback"),
        _total(cube.c.overall_sum, "overall_sum"),
        _total(cube.c.overall_count, "overall_count"),
    )


_RELEVANT = sa.or_(facts.c.registered, facts.c.attended, facts.c.feedback_count > 0)
"""Facts that count somewhere; waitlisted-only or cancelled registrations make no cell."""


def _donor_facts_query(flt: ReportFilter, by: Sequence[str]) -> sa.Select[Any]:
    dims = [DIMENSION_COLUMNS[d].label(f"d{i}") for i, d in enumerate(by)]
    return (
        sa.select(
            *dims,
            _distinct_where(facts.c.registered).label("registered"),
            _distinct_where(facts.c.attended).label("attended"),
            *_fact_sums(),
        )
        .where(*_window(flt, facts.c.starts_at, facts.c.training_id), _RELEVANT)
        .group_by(*dims)
    )


def _donor_cube_query(flt: ReportFilter, by: Sequence[str]) -> sa.Select[Any]:
    """The same figures from the cube: people of a grain are disjoint across its rows, so the
    distinct counts of a group are plain sums. Cube rows exist only with a non-zero measure,
    hence a group exists exactly when the fact query's ``_RELEVANT`` facts make it exist."""
    dims = [CUBE_COLUMNS[d].label(f"d{i}") for i, d in enumerate(by)]
    return (
        sa.select(
            *dims,
            *_cube_sums(),
        )
        .where(*_cube_scope(flt, cube_grain(flt, by)))
        .group_by(*dims)
    )


def donor_cells(
    conn: Connection, flt: ReportFilter, by: Sequence[str], source: Source = "auto"
) -> list[CellFigures]:
    """One row per combination of ``by`` values present in the window, ordered by key."""
    if _use_cube(conn, flt, source):
        query = _donor_cube_query(flt, by)
    else:
        query = _donor_facts_query(flt, by)
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


def _summary_people_from_cube(conn: Connection, flt: ReportFilter) -> sa.Row[Any]:
    """Distinct people once each (per training under a training filter); cities reached are the
    cities of cells with an attendee (a person's city is that of their one cell)."""
    grain = GRAIN_TRAINING if flt.training_id is not None else GRAIN_PERSON
    query: sa.Select[Any] = sa.select(
        *_cube_sums(),
        sa.func.count(sa.distinct(sa.case((cube.c.attended > 0, cube.c.city)))).label("cities"),
    ).where(*_cube_scope(flt, grain))
    return conn.execute(query).one()


def summary_figures(conn: Connection, flt: ReportFilter, source: Source = "auto") -> SummaryFigures:
    scheduled, delivered = session_counts(conn, flt.start, flt.end, flt.training_id)
    if _use_cube(conn, flt, source):
        people = _summary_people_from_cube(conn, flt)
    else:
        people = _summary_people_from_facts(conn, flt)
    return SummaryFigures(
        sessions_scheduled=scheduled,
        sessions_delivered=delivered,
        participants_registered=int(people.registered),
        participants_attended=int(people.attended),
        feedback_responses=int(people.feedback),
        overall_sum=int(people.overall_sum),
        overall_count=int(people.overall_count),
        cities_reached=int(people.cities),
    )


def _summary_people_from_facts(conn: Connection, flt: ReportFilter) -> sa.Row[Any]:
    return conn.execute(
        sa.select(
            _distinct_where(facts.c.registered).label("registered"),
            _distinct_where(facts.c.attended).label("attended"),
            *_fact_sums(),
            sa.func.count(sa.distinct(sa.case((facts.c.attended, facts.c.city)))).label("cities"),
        ).where(*_window(flt, facts.c.starts_at, facts.c.training_id))
    ).one()


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
    row = conn.execute(
        sa.select(
            sa.func.count().filter(sessions.c.status != "cancelled").label("scheduled"),
            sa.func.count().filter(sessions.c.status == "completed").label("delivered"),
        ).where(
            *_window(
                ReportFilter(start=start, end=end, training_id=training_id),
                sessions.c.starts_at,
                sessions.c.training_id,
            )
        )
    ).one()
    return int(row.scheduled), int(row.delivered)
