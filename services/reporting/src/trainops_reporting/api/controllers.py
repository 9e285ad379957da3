"""Thin HTTP routes of the reporting service: parse → read (cached) → JSON or a download
(CSV, XLSX, PDF) rendered from that same answer."""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.params import QueryParameter

from trainops_reporting.api.export_pdf import PDF_MEDIA_TYPE, pdf_bytes
from trainops_reporting.api.export_xlsx import XLSX_MEDIA_TYPE, xlsx_bytes
from trainops_reporting.api.exports import (
    ExportTable,
    donor_csv,
    donor_table,
    summary_table,
)
from trainops_reporting.api.params import (
    SUMMARY_FORMATS,
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
from trainops_reporting.handlers.reports import ReportReader, ReportRequest
from trainops_shared.auth import requires
from trainops_shared.events.vocabulary import Language
from trainops_shared.languages import LANG_COOKIE, choose_language
from trainops_shared.openapi_docs import protected
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
        description="The suppression threshold is the server's setting (`REPORT_MIN_CELL`, "
        "default 5; counts from 1 to k-1 are hidden), not a choice of the request: leave it out "
        "or send the server's value; any other value answers 422. Tables at two thresholds "
        "together would prove more than either, so every table uses the server's."
    ),
]
CSV_DESCRIPTION = (
    "The same table as CSV (`format=csv`): header, one line per row, then TOTAL; a primary "
    "suppressed count (1..k-1) reads `<k`, a complementary one (k or more) `x`."
)
XLSX_DESCRIPTION = (
    "The same figures as an XLSX workbook (`format=xlsx`): one sheet with a title block "
    "(period, training, breakdown, k, when generated, the disclosure note), a frozen header "
    "row, the rows and the total; counts are numbers, a hidden count the text `<k` or `x`."
)
PDF_DESCRIPTION = (
    "The same figures as an A4 PDF (`format=pdf`): title, parameters, the table (its header "
    "repeated on every page), hidden counts as `<k` or `x`, page numbers and the disclosure "
    "note in the footer."
)
LangParam = Annotated[
    str | None,
    QueryParameter(
        name="lang",
        description="Language of the XLSX and PDF headings and category names: kk, ru or en. "
        "Without it: the `trainops_lang` cookie, then `Accept-Language`, then ru. JSON and CSV "
        "carry codes and are the same in every language.",
    ),
]


@dataclass(frozen=True, slots=True)
class Download:
    """A representation of a 200 answer beside JSON: media type, what it holds, binary or text."""

    media_type: str
    description: str
    binary: bool = True


def downloads_operation(*downloads: Download) -> type[Operation]:
    """An OpenAPI operation whose 200 answer lists every download beside the JSON body."""

    @dataclass
    class DownloadOperation(Operation):
        def __post_init__(self) -> None:
            answer = (self.responses or {}).get("200")
            if not isinstance(answer, OpenAPIResponse):
                return
            content = dict(answer.content or {})
            for download in downloads:
                schema = Schema(type=OpenAPIType.STRING, description=download.description)
                if download.binary:
                    schema.format = OpenAPIFormat.BINARY
                content[download.media_type] = OpenAPIMediaType(schema=schema)
            answer.content = content

    return DownloadOperation


DOCUMENTS = (
    Download(XLSX_MEDIA_TYPE, XLSX_DESCRIPTION),
    Download(PDF_MEDIA_TYPE, PDF_DESCRIPTION),
)
RENDERERS: Mapping[str, tuple[str, Callable[[ExportTable], bytes]]] = {
    "xlsx": (XLSX_MEDIA_TYPE, xlsx_bytes),
    "pdf": (PDF_MEDIA_TYPE, pdf_bytes),
}


def _language(request: Request[Any, Any, Any], lang: str | None) -> Language:
    return choose_language(
        lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", "")
    )


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


async def document(table: ExportTable, fmt: str) -> Response[bytes]:
    """The file of ``table`` in ``fmt`` (xlsx or pdf), rendered off the event loop: laying out
    a long PDF takes long enough to hold up every other request of the service."""
    media_type, render = RENDERERS[fmt]
    content = await asyncio.to_thread(render, table)
    return Response(
        content=content,
        media_type=media_type,
        headers=attachment(f"{table.filename}.{fmt}"),
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
    operation_class=downloads_operation(*DOCUMENTS),
)
async def get_summary(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    from_: FromParam = None,
    to: ToParam = None,
    period: PeriodParam = None,
    training_id: TrainingParam = None,
    k: KParam = None,
    format_: Annotated[
        str | None,
        QueryParameter(name="format", description="json (default), xlsx or pdf"),
    ] = None,
    lang: LangParam = None,
) -> SummaryOut:
    """Headline figures of the sessions starting in ``period``. The counts are the total cell
    of the donor tables of the same period (registrations, see ``definitions``) and obey the
    same suppression: a count from 1 to k-1 is never published."""
    asked, reader = _request(runtime, from_, to, period, training_id, k)
    fmt = parse_format(format_, SUMMARY_FORMATS)
    data = await runtime.read(partial(reader.summary, request=asked))
    if fmt in RENDERERS:
        table = summary_table(data, _language(request, lang), datetime.now(UTC))
        return await document(table, fmt)  # type: ignore[return-value]  # documented download
    return msgspec.convert(data, SummaryOut)


@get(
    "/reports/donor",
    guards=[requires(*REPORT_ROLES)],
    tags=["reports"],
    summary="Disaggregated donor table with small-cell suppression (JSON, CSV, XLSX or PDF)",
    responses=protected(),
    operation_class=downloads_operation(
        Download(CSV_MEDIA_TYPE, CSV_DESCRIPTION, binary=False), *DOCUMENTS
    ),
)
async def get_donor_report(
    request: Request[Any, Any, Any],
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
        str | None,
        QueryParameter(name="format", description="json (default), csv, xlsx or pdf"),
    ] = None,
    lang: LangParam = None,
) -> DonorReportOut:
    """Registrations registered/attended, feedback responses and mean satisfaction per cell.

    Every table is cut from one suppression pattern over everything requestable (all
    breakdowns, margins, totals, the summary and periods), proven by linear programming, so
    no combination of requests recovers a count from 1 to k-1. ``suppressed`` gives the
    reason of each hidden count: ``primary`` (1..k-1) or ``complementary`` (k or more)."""
    asked, reader = _request(runtime, from_, to, period, training_id, k, by)
    fmt = parse_format(format_)
    data = await runtime.read(partial(reader.donor, request=asked))
    if fmt == "csv":
        return Response(  # type: ignore[return-value]  # the CSV representation, documented
            content=donor_csv(data),
            media_type=CSV_MEDIA_TYPE,
            headers=attachment("donor-report.csv"),
        )
    if fmt in RENDERERS:
        table = donor_table(data, _language(request, lang), datetime.now(UTC))
        return await document(table, fmt)  # type: ignore[return-value]  # documented download
    return msgspec.convert(data, DonorReportOut)
