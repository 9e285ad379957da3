"""The two report use cases: cut a table out of the protected universe and shape the answer.

Every figure either report publishes is a cell of one universe (``domain.disclosure``) with one
suppression pattern, computed once per read-model generation and threshold, so no combination
of requests (breakdowns, margins, the summary, periods) proves a hidden small count.

The count unit is the **registration** (one person in one session) everywhere: ``registered``
counts confirmed registrations on sessions that were not cancelled, ``attended`` those recorded
as attended, ``feedback_responses`` responses (one per invitation, i.e. per registration).
A person in two sessions counts twice, in every breakdown alike, so every table of a period has
the same total as the summary. Distinct people are not published: a distinct count is not a sum
of the published cells, and differencing it against them would reveal who is in which cell.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

import msgspec
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.report_cache import PatternCache, Protected, ReportCache
from trainops_reporting.adapters.report_queries import mean, session_counts, training_labels
from trainops_reporting.domain import indicators
from trainops_reporting.domain.disclosure import (
    FEEDBACK_MEASURE,
    MEASURES,
    CellId,
    shape_of,
    shapes,
)
from trainops_reporting.handlers.evidence import (
    EvidenceRequest,
    comments_per_item,
    gain,
    item_figures,
)
from trainops_reporting.handlers.periods import period_window

UNIT: Final[str] = "registrations"
DEFINITIONS: Final[dict[str, str]] = {
    "unit": "every count is of registrations: one person in one session (a person in two "
    "sessions counts twice, in every breakdown alike), so every table of a period has the "
    "same total as the summary",
    "registered": "confirmed registrations on sessions that were not cancelled",
    "attended": "registrations recorded as attended",
    "feedback_responses": "feedback responses, at most one per invitation (per registration)",
    "satisfaction_mean": "mean of the 1-5 overall rating; hidden with feedback_responses",
    "primary": "a count from 1 to k-1, hidden (CSV: <k)",
    "complementary": "a count of k or more (zeros are never hidden), hidden so that no primary "
    "cell can be derived from the published ones (CSV: x)",
    "period": "sessions by their start (UTC): all, a year YYYY, a quarter YYYY-Qn or a month "
    "YYYY-MM, as the server offers",
    "sessions_scheduled": "sessions (not people) that were not cancelled; not suppressed",
    "cities_reached": "cities whose attended count is non-zero: shown, or hidden (a hidden count "
    "is never zero), as the by=city table tells",
}


class ReportRequest(msgspec.Struct, frozen=True):
    """A report asked for, as parsed and checked from the query string; hashable, it is the
    report cache's key."""

    period: str = "all"
    training_id: uuid.UUID | None = None
    by: tuple[str, ...] = ()
    k: int = 5


def evidence_section(conn: Connection, request: ReportRequest) -> dict[str, Any]:
    """Knowledge gain, every item's figures and each free-text item's comments of the
    report's window, under the same k and the same rules as the evidence routes
    (``domain.evidence``), so the summary, the donor answer and the downloads publish nothing
    those routes would hide (a comment never with who wrote it, a group below k not at all)."""
    asked = EvidenceRequest(period=request.period, training_id=request.training_id, k=request.k)
    section = {
        "knowledge_gain": gain(conn, asked),
        "items": item_figures(conn, asked),
        "comments": comments_per_item(conn, asked),
    }
    plain: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(section))
    return plain  # as JSON gives it back (lists, not tuples): equal to a frozen snapshot's


def filters_echo(request: ReportRequest) -> dict[str, str | None]:
    return {
        "period": request.period,
        "training_id": str(request.training_id) if request.training_id else None,
    }


def _training_label(conn: Connection, training_id: uuid.UUID | None) -> str | None:
    if training_id is None:
        return None
    return training_labels(conn).get(training_id, str(training_id))


def _counts(protected: Protected, cell: CellId) -> tuple[dict[str, Any], dict[str, str]]:
    """A cell's counts as published (``None`` where hidden) and the reasons."""
    out: dict[str, Any] = {}
    flags: dict[str, str] = {}
    for measure in MEASURES:
        reason = protected.pattern.reason(cell, measure)
        if reason is None:
            out[measure] = protected.universe.value(cell, measure)
        else:
            out[measure] = None
            flags[measure] = reason
    return out, flags


def _female_cell(protected: Protected, cell: CellId) -> dict[str, Any] | None:
    """The published counts of ``cell`` refined by ``sex=female``; ``None`` where that
    refinement is not a cell of the universe (not a requestable table)."""
    period, shape, values = cell
    dims = dict(zip(shape, values, strict=True))
    if dims.get("sex", "female") != "female":
        return {}  # a cell of another sex holds no women
    dims["sex"] = "female"
    refined = shape_of(dims)
    if refined not in set(shapes(protected.universe.max_by)):
        return None
    counts, flags = _counts(protected, (period, refined, tuple(dims[d] for d in refined)))
    return {**counts, "suppressed": flags}


def _published(
    protected: Protected, cell: CellId, labels: dict[str, str], with_mean: bool = True
) -> dict[str, Any]:
    """A cell as published: dimension labels, counts (``None`` where hidden), reasons, and
    the ratios of ``domain.indicators`` computed from those published counts only."""
    out: dict[str, Any] = dict(labels)
    counts, flags = _counts(protected, cell)
    out.update(counts)
    if with_mean:
        sums = protected.universe.sums.get(cell)
        hidden_mean = FEEDBACK_MEASURE in flags or sums is None
        out["satisfaction_mean"] = None if hidden_mean or sums is None else mean(sums[3], sums[4])
    out["suppressed"] = flags
    out["indicators"], out["indicators_hidden"] = indicators.ratios(
        out, _female_cell(protected, cell)
    )
    return out


def _cell_id(request: ReportRequest, training: str | None, values: dict[str, str]) -> CellId:
    dims = dict(values)
    if training is not None:
        dims["training"] = training
    shape = shape_of(dims)
    return (request.period, shape, tuple(dims[d] for d in shape))


def _present(
    protected: Protected, request: ReportRequest, training: str | None
) -> list[dict[str, str]]:
    """Every combination of ``by`` values with something counted in the period (and training)."""
    dims = dict.fromkeys(request.by, "")
    if training is not None:
        dims["training"] = training
    shape = shape_of(dims)
    out = []
    for period, cell_shape, values in protected.universe.sums:
        if period != request.period or cell_shape != shape:
            continue
        labels = dict(zip(shape, values, strict=True))
        if training is not None and labels.get("training") != training:
            continue
        out.append({d: labels[d] for d in request.by})
    return sorted(out, key=lambda labels: tuple(labels[d] for d in request.by))


def donor_report(
    conn: Connection, request: ReportRequest, patterns: PatternCache
) -> dict[str, Any]:
    protected = patterns.get(conn, request.k)
    training = _training_label(conn, request.training_id)
    by = request.by
    rows = [
        _published(protected, _cell_id(request, training, labels), labels)
        for labels in _present(protected, request, training)
    ]
    row_totals: list[dict[str, Any]] = []
    column_totals: list[dict[str, Any]] = []
    if len(by) == 2:
        for position, out in ((0, row_totals), (1, column_totals)):
            dim = by[position]
            seen = sorted({row[dim] for row in rows})
            for value in seen:
                labels = {dim: value}
                out.append(
                    _published(protected, _cell_id(request, training, labels), labels, False)
                )
    total = _published(protected, _cell_id(request, training, {}), {})
    hidden = sum(len(entry["suppressed"]) for entry in (*rows, *row_totals, *column_totals, total))
    return {
        "by": list(by),
        "k": request.k,
        "unit": UNIT,
        "definitions": DEFINITIONS,
        "rows": rows,
        "totals": total,
        "row_totals": row_totals,
        "column_totals": column_totals,
        "suppressed_cells": hidden,
        "filters": filters_echo(request),
        "evidence": evidence_section(conn, request),
        "indicators_version": indicators.VERSION,
        "indicator_definitions": indicators.definitions(),
    }


def summary_report(
    conn: Connection, request: ReportRequest, patterns: PatternCache
) -> dict[str, Any]:
    """Headline figures of the period: the universe's total (or the training's) cell, so the
    summary obeys the same pattern as every donor table and equals their totals."""
    protected = patterns.get(conn, request.k)
    training = _training_label(conn, request.training_id)
    total = _published(protected, _cell_id(request, training, {}), {})
    start, end = period_window(request.period)
    scheduled, delivered = session_counts(conn, start, end, request.training_id)
    city_request = ReportRequest(request.period, request.training_id, ("city",), request.k)
    cities = 0
    for labels in _present(protected, city_request, training):
        cell = _cell_id(city_request, training, labels)
        if protected.universe.value(cell, "attended") > 0:  # hidden or not: zeros are shown
            cities += 1
    return {
        "sessions_scheduled": scheduled,
        "sessions_delivered": delivered,
        "registered": total["registered"],
        "attended": total["attended"],
        "feedback_responses": total["feedback_responses"],
        "satisfaction_mean": total["satisfaction_mean"],
        "cities_reached": cities,
        "suppressed": total["suppressed"],
        "k": request.k,
        "unit": UNIT,
        "definitions": DEFINITIONS,
        "filters": filters_echo(request),
        "indicators": total["indicators"],
        "indicators_hidden": total["indicators_hidden"],
        "evidence": evidence_section(conn, request),
        "indicators_version": indicators.VERSION,
        "indicator_definitions": indicators.definitions(),
    }


class ReportReader:
    """The two reports of one app instance, with its caches: one per runtime, since the
    generations the caches are keyed by are those of one database.

    ``cache`` off computes every request (for measuring the queries themselves); the pattern
    cache is always on, being exact per generation and costly to recompute.
    """

    def __init__(self, levels: Sequence[str], *, cache: bool = True) -> None:
        self.reports = ReportCache(enabled=cache)
        self.patterns = PatternCache(levels)

    def summary(self, conn: Connection, request: ReportRequest) -> dict[str, Any]:
        return self.reports.get_or_compute(
            conn,
            key=("summary", request),
            compute=lambda c: summary_report(c, request, self.patterns),
        )

    def donor(self, conn: Connection, request: ReportRequest) -> dict[str, Any]:
        return self.reports.get_or_compute(
            conn,
            key=("donor", request),
            compute=lambda c: donor_report(c, request, self.patterns),
        )
