"""Thin HTTP routes of the reporting service: parse → read (cached) → JSON or CSV."""

from __future__ import annotations

import csv
import io
import os
import weakref
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from trainops_reporting.api.params import (
    ReportPolicy,
    load_policy,
    parse_dimensions,
    parse_format,
    parse_k,
    parse_period,
    parse_training,
    reject_window,
)
from trainops_reporting.api.schemas import DonorReportOut, SummaryOut
from trainops_reporting.domain.disclosure import MEASURES
from trainops_reporting.handlers.reports import ReportReader, ReportRequest
from trainops_shared.auth import requires
from trainops_shared.openapi_docs import operation_class, protected
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]
"""Explicitly injected (Litestar 2.23+ deprecates inferring dependencies from parameter names)."""

REPORT_ROLES = ("reporting", "programme_staff", "admin")
COMPLEMENTARY_MARK = "x"
CSV_MEDIA_TYPE = "text/csv"
"""Litestar appends ``; charset=utf-8`` to text media types itself."""

CACHE_ENV = "TRAINOPS_REPORT_CACHE"
"""``off`` (or ``0``/``false``/``no``) disables the report cache: every request runs its queries.
Read when the app's first report is served. The cache only ever serves exact answers; turning it
off is for measuring the queries themselves (the benchmark figures are taken with it off)."""


def cache_enabled(env: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get(CACHE_ENV, "on").strip().lower()
    return value not in ("off", "0", "false", "no")


_readers: weakref.WeakKeyDictionary[ServiceRuntime, tuple[ReportPolicy, ReportReader]] = (
    weakref.WeakKeyDictionary()
)


def reader_of(runtime: ServiceRuntime) -> tuple[ReportPolicy, ReportReader]:
    """The disclosure settings (checked at start-up by ``app.build_spec``) and the report
    reader of this app instance, made at its first report: one per runtime, since the caches'
    generations are those of its database.
    """
    entry = _readers.get(runtime)
    if entry is None:
        policy = load_policy()
        entry = _readers[runtime] = (policy, ReportReader(policy.levels, cache=cache_enabled()))
    return entry


WINDOW_REFUSED = (
    "Not accepted (422): reports cover whole reporting periods, use `period`. Two arbitrary "
    "windows one session apart would give hidden counts away by subtraction."
)
FromParam = Annotated[str | None, QueryParameter(name="from", description=WINDOW_REFUSED)]
ToParam = Annotated[str | None, QueryParameter(description=WINDOW_REFUSED)]
PeriodParam = Annotated[
    str | None,
    QueryParameter(
        description=(
            "Sessions starting in this reporting period (UTC): `all` (default), a year `YYYY`, "
            "a quarter `YYYY-Qn` or a month `YYYY-MM`, among the levels the server offers "
            "(`REPORT_PERIODS`, default `all` only); others answer 422."
        )
    ),
]
TrainingParam = Annotated[
    str | None,
    QueryParameter(
        description="Only this training (UUID). Counts as a training dimension: with it, "
        "`by` has at most one dimension."
    ),
]
KParam = Annotated[
    str | None,
    QueryParameter(
        description="Suppression threshold: counts from 1 to k-1 are hidden. Defaults to the "
        "server's minimum cell size (`REPORT_MIN_CELL`, default 5); a larger k may be asked "
        "for, a smaller one answers 422."
    ),
]
CSV_DESCRIPTION = (
    "The same table as CSV (`format=csv`): header, one line per row, then TOTAL; a primary "
    "suppressed count (1..k-1) reads `<k`, a complementary one (k or more) `x`."
)


def _request(
    runtime: ServiceRuntime,
    start: str | None,
    end: str | None,
    period: str | None,
    training_id: str | None,
    k: str | None,
    by: str | None = None,
) -> tuple[ReportRequest, ReportReader]:
    policy, reader = reader_of(runtime)
    reject_window(start, end)
    training = parse_training(training_id)
    request = ReportRequest(
        period=parse_period(period, policy.levels),
        training_id=training,
        by=parse_dimensions(by, training),
        k=parse_k(k, policy.min_cell),
    )
    return request, reader


@get(
    "/reports/summary",
    guards=[requires(*REPORT_ROLES)],
    tags=["reports"],
    summary="Programme summary of a reporting period (same suppression as the donor tables)",
    responses=protected(),
)
async def get_summary(
    runtime: Runtime,
    from_: FromParam = None,
    to: ToParam = None,
    period: PeriodParam = None,
    training_id: TrainingParam = None,
    k: KParam = None,
) -> SummaryOut:
    """Headline figures of the sessions starting in ``period``. The counts are the total cell
    of the donor tables of the same period (registrations, see ``definitions``) and obey the
    same suppression: a count from 1 to k-1 is never published."""
    request, reader = _request(runtime, from_, to, period, training_id, k)
    data = await runtime.read(partial(reader.summary, request=request))
    return msgspec.convert(data, SummaryOut)


@get(
    "/reports/donor",
    guards=[requires(*REPORT_ROLES)],
    tags=["reports"],
    summary="Disaggregated donor table with small-cell suppression (JSON or CSV)",
    responses=protected(),
    operation_class=operation_class(also_200=(CSV_MEDIA_TYPE, CSV_DESCRIPTION)),
)
async def get_donor_report(
    runtime: Runtime,
    from_: FromParam = None,
    to: ToParam = None,
    period: PeriodParam = None,
    training_id: TrainingParam = None,
    by: Annotated[
        str | None,
        QueryParameter(
            description=(
                "Comma-separated, at most two: city, sector, sex, age_band, language, mode, "
                "training; two only when one is city (e.g. `city,sex`)."
            )
        ),
    ] = None,
    k: KParam = None,
    format_: Annotated[
        str | None, QueryParameter(name="format", description="json (default) or csv")
    ] = None,
) -> DonorReportOut:
    """Registrations registered/attended, feedback responses and mean satisfaction per cell.

    Every table is cut from one suppression pattern over everything requestable (all
    breakdowns, margins, totals, the summary and periods), proven by linear programming, so
    no combination of requests recovers a count from 1 to k-1. ``suppressed`` gives the
    reason of each hidden count: ``primary`` (1..k-1) or ``complementary`` (k or more)."""
    request, reader = _request(runtime, from_, to, period, training_id, k, by)
    fmt = parse_format(format_)
    data = await runtime.read(partial(reader.donor, request=request))
    if fmt == "csv":
        return Response(  # type: ignore[return-value]  # the CSV representation, documented
            content=donor_csv(data),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="donor-report.csv"'},
        )
    return msgspec.convert(data, DonorReportOut)


def _csv_value(value: Any, reason: str | None, k: int) -> str:
    if reason == "primary":
        return f"<{k}"
    if reason is not None:
        return COMPLEMENTARY_MARK
    return "" if value is None else str(value)


def donor_csv(report: dict[str, Any]) -> str:
    """Header, one line per row, then ``TOTAL``; hidden counts read ``<k`` (primary) or ``x``
    (complementary: it holds k or more, so it is never shown as ``<k``).

    Without dimensions the first column is ``scope`` so that the ``TOTAL`` line has a label.
    A satisfaction mean hidden with its responses is ``x`` too.
    """
    dims: list[str] = list(report["by"]) or ["scope"]
    k = int(report["k"])
    columns = [*MEASURES, "satisfaction_mean"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*dims, *columns])

    def line(labels: list[str], entry: dict[str, Any]) -> list[str]:
        flags = entry.get("suppressed", {})
        cells = [_csv_value(entry[m], flags.get(m), k) for m in MEASURES]
        mean_hidden = "feedback_responses" in flags
        cells.append(
            COMPLEMENTARY_MARK if mean_hidden else _csv_value(entry["satisfaction_mean"], None, k)
        )
        return [*labels, *cells]

    for row in report["rows"]:
        labels = [str(row.get(d, "")) for d in dims] if report["by"] else ["all"]
        writer.writerow(line(labels, row))
    writer.writerow(line(["TOTAL"] + [""] * (len(dims) - 1), report["totals"]))
    return out.getvalue()
