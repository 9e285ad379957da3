"""What the staff pages read: the published reports, several at once, in one transaction.

Every figure comes from :class:`ReportReader` (the same summary and donor tables as the JSON
API, hence the same suppression pattern); nothing here counts anything itself. The periods and
trainings offered in the pages' forms are only names of what exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy.engine import Connection

from trainops_reporting.adapters.report_queries import training_labels
from trainops_reporting.handlers.reports import ReportReader, ReportRequest

CHART_DIMENSIONS: Final = ("city", "sex", "age_band", "sector")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_LEVEL_OF: Final = (
    ("month", _MONTH),
    ("quarter", re.compile(r"^\d{4}-Q[1-4]$")),
    ("year", re.compile(r"^\d{4}$")),
)


def _level(period: str) -> str:
    for level, pattern in _LEVEL_OF:
        if pattern.match(period):
            return level
    return "all"


def periods_present(conn: Connection, reader: ReportReader, k: int) -> list[str]:
    """The reporting periods with anything counted, ``all`` first, then newest first."""
    protected = reader.patterns.get(conn, k)
    named = {period for period, shape, _ in protected.universe.sums if shape == ()}
    named.discard("all")
    return ["all", *sorted(named, reverse=True)]


def dashboard(
    conn: Connection, reader: ReportReader, *, period: str, k: int, levels: Sequence[str]
) -> dict[str, Any]:
    """The summary of ``period``, its donor tables by each charted dimension, and, where the
    server reports by month, the summary of every month with sessions (satisfaction over time)."""
    summary = reader.summary(conn, ReportRequest(period=period, k=k))
    tables = {
        dim: reader.donor(conn, ReportRequest(period=period, by=(dim,), k=k))
        for dim in CHART_DIMENSIONS
    }
    months: list[dict[str, Any]] | None = None
    if "month" in levels:
        names = [p for p in periods_present(conn, reader, k) if _level(p) == "month"]
        months = [
            {"month": name, **reader.summary(conn, ReportRequest(period=name, k=k))}
            for name in sorted(names)
        ]
    return {"summary": summary, "tables": tables, "months": months}


def builder_choices(conn: Connection, reader: ReportReader, k: int) -> dict[str, Any]:
    """The periods and trainings the donor report form offers."""
    trainings = sorted(
        ((str(training_id), code) for training_id, code in training_labels(conn).items()),
        key=lambda item: item[1],
    )
    return {"periods": periods_present(conn, reader, k), "trainings": trainings}
