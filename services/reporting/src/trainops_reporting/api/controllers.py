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

from trainops_reporting.adapters.report_cache import ReportCache
from trainops_reporting.api.params import parse_dimensions, parse_filter, parse_format, parse_k
from trainops_reporting.api.schemas import DonorReportOut, SummaryOut
from trainops_reporting.domain.suppression import MEASURES
from trainops_reporting.handlers.reports import donor_report, summary_report
from trainops_shared.auth import requires
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]
"""Explicitly injected (Litestar 2.23+ deprecates inferring dependencies from parameter names)."""

REPORT_ROLES = ("reporting", "programme_staff", "admin")
CSV_MEDIA_TYPE = "text/csv"
"""Litestar appends ``; charset=utf-8`` to text media types itself."""

CACHE_ENV = "TRAINOPS_REPORT_CACHE"
"""``off`` (or ``0``/``false``/``no``) disables the report cache: every request runs its queries.
Read when the app's first report is served. The cache only ever serves exact answers; turning it
off is for measuring the queries themselves (the benchmark figures are taken with it off)."""

_caches: weakref.WeakKeyDictionary[ServiceRuntime, ReportCache] = weakref.WeakKeyDictionary()


def cache_enabled(env: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get(CACHE_ENV, "on").strip().lower()
    return value not in ("off", "0", "false", "no")


def report_cache(runtime: ServiceRuntime) -> ReportCache:
    """The report cache of this app instance (one per runtime: generations are per database).

    Kept beside the runtime rather than injected through ``ServiceSpec.dependencies``, whose
    providers Litestar rejects in trainops_shared as of this writing (an unannotated lambda
    default); see the hand-over notes.
    """
    cache = _caches.get(runtime)
    if cache is None:
        cache = _caches[runtime] = ReportCache(enabled=cache_enabled())
    return cache


FromParam = Annotated[
    str | None,
    QueryParameter(
        name="from", description="Sessions starting at or after (ISO date/datetime, UTC)"
    ),
]
ToParam = Annotated[
    str | None, QueryParameter(description="Sessions starting before (ISO date/datetime, UTC)")
]
TrainingParam = Annotated[str | None, QueryParameter(description="Only this training (UUID)")]


@get(
    "/reports/summary",
    guards=[requires(*REPORT_ROLES)],
    tags=["reports"],
    summary="Programme summary over a window of sessions",
)
async def get_summary(
    runtime: Runtime,
    from_: FromParam = None,
    to: ToParam = None,
    training_id: TrainingParam = None,
) -> SummaryOut:
    """Headline figures of sessions starting in ``[from, to)``: not suppressed (no breakdown)."""
    flt = parse_filter(from_, to, training_id)
    data = await runtime.read(
        partial(
            report_cache(runtime).get_or_compute,
            key=("summary", flt),
            compute=partial(summary_report, flt=flt),
        )
    )
    return msgspec.convert(data, SummaryOut)


@get(
    "/reports/donor",
    guards=[requires(*REPORT_ROLES)],
    tags=["reports"],
    summary="Disaggregated donor table with small-cell suppression (JSON or CSV)",
    responses=None,
)
async def get_donor_report(
    runtime: Runtime,
    from_: FromParam = None,
    to: ToParam = None,
    training_id: TrainingParam = None,
    by: Annotated[
        str | None,
        QueryParameter(
            description="Comma-separated: city, sector, sex, age_band, language, mode, training"
        ),
    ] = None,
    k: Annotated[
        str | None, QueryParameter(description="Suppression threshold (>= 1, default 5)")
    ] = None,
    format_: Annotated[
        str | None, QueryParameter(name="format", description="json (default) or csv")
    ] = None,
) -> Response[Any]:
    """Distinct participants registered/attended, feedback responses and mean satisfaction per
    cell; counts from 1 to k-1 are hidden, with complementary hiding so none can be derived."""
    flt = parse_filter(from_, to, training_id)
    dims = parse_dimensions(by)
    threshold = parse_k(k)
    fmt = parse_format(format_)
    data = await runtime.read(
        partial(
            report_cache(runtime).get_or_compute,
            key=("donor", flt, dims, threshold),
            compute=partial(donor_report, flt=flt, by=dims, k=threshold),
        )
    )
    if fmt == "csv":
        return Response(
            content=donor_csv(data),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="donor-report.csv"'},
        )
    return Response(content=msgspec.convert(data, DonorReportOut))


def _csv_value(value: Any, suppressed: bool, k: int) -> str:
    if suppressed:
        return f"<{k}"
    return "" if value is None else str(value)


def donor_csv(report: dict[str, Any]) -> str:
    """Header, one line per row, then ``TOTAL``; hidden counts read ``<k``.

    Without dimensions the first column is ``scope`` so that the ``TOTAL`` line has a label.
    """
    dims: list[str] = list(report["by"]) or ["scope"]
    k = int(report["k"])
    columns = [*MEASURES, "satisfaction_mean"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*dims, *columns])

    def line(labels: list[str], entry: dict[str, Any]) -> list[str]:
        flags = entry.get("suppressed", {})
        return [*labels, *(_csv_value(entry[c], c in flags, k) for c in columns)]

    for row in report["rows"]:
        labels = [str(row.get(d, "")) for d in dims] if report["by"] else ["all"]
        writer.writerow(line(labels, row))
    writer.writerow(line(["TOTAL"] + [""] * (len(dims) - 1), report["totals"]))
    return out.getvalue()
