"""The two report use cases: read the figures, apply the disclosure rules, shape the answer.

These are plain functions of a Connection (run by ``runtime.read``); the SQL lives in
``adapters.report_queries`` and the small-cell rules in ``domain.suppression``.

Donor table semantics worth knowing:

* cells count *distinct participants*; with only profile dimensions (city, sector, sex, age_band,
  language) every person is in exactly one cell, so the grand total equals the distinct headcount
  of ``/reports/summary``. With a session dimension (``mode``, ``training``) a person who sat in
  two trainings counts once in each, and the totals (the sums of the cells, which suppression
  needs published margins to be) count person-trainings; the distinct headcount stays in the
  summary.
* the satisfaction mean of a cell whose ``feedback_responses`` is suppressed is withheld (null)
  with it: a mean over fewer than k answers can reveal one person's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from trainops_reporting.adapters.report_queries import (
    ReportFilter,
    Source,
    donor_cells,
    mean,
    summary_figures,
)
from trainops_reporting.domain.suppression import (
    MEASURES,
    CountTable,
    PublishedCell,
    TableRow,
    suppress,
)


def filters_echo(flt: ReportFilter) -> dict[str, str | None]:
    return {
        "from": flt.start.isoformat() if flt.start else None,
        "to": flt.end.isoformat() if flt.end else None,
        "training_id": str(flt.training_id) if flt.training_id else None,
    }


def summary_report(conn: Connection, flt: ReportFilter, source: Source = "auto") -> dict[str, Any]:
    """``source``: see ``adapters.report_queries.Source`` (both sources give the same figures)."""
    figures = summary_figures(conn, flt, source)
    return {
        "sessions_scheduled": figures.sessions_scheduled,
        "sessions_delivered": figures.sessions_delivered,
        "participants_registered": figures.participants_registered,
        "participants_attended": figures.participants_attended,
        "feedback_responses": figures.feedback_responses,
        "satisfaction_mean": mean(figures.overall_sum, figures.overall_count),
        "cities_reached": figures.cities_reached,
        "filters": filters_echo(flt),
    }


def _published(dims: Sequence[str], cell: PublishedCell, with_mean: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = dict(zip(dims, cell.key, strict=True))
    for measure in MEASURES:
        out[measure] = cell.values[measure]
    if with_mean:
        out["satisfaction_mean"] = cell.satisfaction_mean
    out["suppressed"] = dict(cell.flags)
    return out


def donor_report(
    conn: Connection, flt: ReportFilter, by: Sequence[str], k: int, source: Source = "auto"
) -> dict[str, Any]:
    cells = donor_cells(conn, flt, by, source)
    table = CountTable(
        dimensions=tuple(by),
        rows=tuple(
            TableRow(
                key=cell.key,
                counts={
                    "registered": cell.registered,
                    "attended": cell.attended,
                    "feedback_responses": cell.feedback_responses,
                },
                satisfaction_mean=mean(cell.overall_sum, cell.overall_count),
            )
            for cell in cells
        ),
        total_satisfaction_mean=mean(
            sum(c.overall_sum for c in cells), sum(c.overall_count for c in cells)
        ),
    )
    result = suppress(table, k)
    totals: dict[str, Any] = {m: result.totals[m] for m in MEASURES}
    totals["satisfaction_mean"] = result.total_satisfaction_mean
    totals["suppressed"] = dict(result.total_flags)
    return {
        "by": list(by),
        "k": k,
        "rows": [_published(by, cell) for cell in result.rows],
        "totals": totals,
        "row_totals": [_published(by[:1], c, with_mean=False) for c in result.row_totals],
        "column_totals": [_published(by[1:], c, with_mean=False) for c in result.column_totals],
        "suppressed_cells": len(result.suppressed),
        "filters": filters_echo(flt),
    }
